"""A stream of uniforms read at a traced cursor, for JAX twins whose draws depend on values.

Messenger's episode start takes a fixed number of draws (:class:`langstream.jax_sampling.Draws`
counts them at trace time).  HomeGrid's steps do not: a teleport draws an object and a cell
only when it happens, a new task draws two or three arguments only when one is done.  The
numpy engine reads such draws one after another from one stream per episode; the twin reads
them from a vector ``u`` at a cursor that only advances where a draw is made (``when``), so
that fed the same stream both engines make the same choices.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from langstream.jax_sampling import choice_index


class Stream:
    """``u`` read from ``cursor`` on; :attr:`cursor` after the draws says how many were made."""

    def __init__(self, u: jax.Array, cursor: jax.Array | int = 0):
        self.u, self.cursor = u, jnp.asarray(cursor, jnp.int32)

    def random(self, when: jax.Array | bool = True) -> jax.Array:
        """The next uniform; the cursor advances only where ``when`` holds."""
        x = self.u[jnp.minimum(self.cursor, self.u.shape[0] - 1)]
        self.cursor = self.cursor + jnp.asarray(when, jnp.int32)
        return x

    def choice(self, n: jax.Array | int, when: jax.Array | bool = True) -> jax.Array:
        """An index in [0, n) as ``langstream.sampling.choice`` picks it (drawn where
        ``when``)."""
        return choice_index(self.random(when), jnp.maximum(n, 1))

    def shuffle(self, n: int) -> jax.Array:
        """A permutation of ``range(n)`` by ``langstream.sampling.shuffle`` (n draws)."""
        pool = jnp.arange(n, dtype=jnp.int32)
        for i in range(n):
            j = i + self.choice(n - i)
            a, b = pool[i], pool[j]
            pool = pool.at[i].set(b).at[j].set(a)
        return pool


def kth(mask: jax.Array, k: jax.Array) -> jax.Array:
    """Index of the ``k``-th true entry of ``mask`` (0-based), as a list comprehension's
    ``[i for i in range(n) if mask[i]][k]`` would give; -1 when there are not that many."""
    hit = mask & (jnp.cumsum(mask) == k + 1)
    return jnp.where(hit.any(), jnp.argmax(hit), -1)
