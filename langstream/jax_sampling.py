"""The random choices of :mod:`langstream.sampling`, written for ``jax.jit``.

A JAX twin makes its draws from a vector of uniform floats, as the numpy engine makes them from
a stream of ``Uniform.random()`` calls, and maps each to an item the same way
(``floor(u * n)``), so that given the same uniforms both engines make the same choices:

* :class:`Draws` when the number of draws is fixed by the env's arguments (Messenger's episode
  start): the index is a Python int counted while the function is traced;
* :class:`Stream` when it depends on values (HomeGrid's steps: a teleport draws an object and
  a cell only when it happens): the index is a traced cursor that advances only where a draw
  is made, and tells afterwards how many were.
"""

from __future__ import annotations

from typing import Protocol

import jax
import jax.numpy as jnp


class Source(Protocol):
    """Anything that hands out uniforms: :class:`Draws` or :class:`Stream`."""

    def random(self) -> jax.Array: ...


class Draws:
    """Hands out ``u[0]``, ``u[1]``, ... in call order (the index is a Python int, counted at
    trace time).  ``used`` says how many an episode start took, to size ``u``."""

    def __init__(self, u: jax.Array):
        self.u, self.used = u, 0

    def random(self) -> jax.Array:
        if self.used >= self.u.shape[0]:
            raise ValueError(f"an episode start needs more than {self.u.shape[0]} uniform draws")
        x = self.u[self.used]
        self.used += 1
        return x


def choice_index(u: jax.Array, n: jax.Array | int) -> jax.Array:
    """``int(u * n)`` as :func:`langstream.sampling.choice` takes it (clipped for u near 1 in
    float32)."""
    n = jnp.asarray(n, jnp.int32)
    return jnp.clip(jnp.floor(u * n.astype(u.dtype)).astype(jnp.int32), 0, n - 1)


def sample_indices(draws: Source, n: int, k: int) -> jax.Array:
    """Indices of ``k`` distinct items of ``n`` in random order, by the partial Fisher-Yates
    of :func:`langstream.sampling.sample` (one draw per item)."""
    pool = jnp.arange(n, dtype=jnp.int32)
    for i in range(k):
        j = i + choice_index(draws.random(), n - i)
        a, b = pool[i], pool[j]
        pool = pool.at[i].set(b).at[j].set(a)
    return pool[:k]


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


def kth(mask: jax.Array, k: jax.Array) -> jax.Array:
    """Index of the ``k``-th true entry of ``mask`` (0-based), as a list comprehension's
    ``[i for i in range(n) if mask[i]][k]`` would give; -1 when there are not that many."""
    hit = mask & (jnp.cumsum(mask) == k + 1)
    return jnp.where(hit.any(), jnp.argmax(hit), -1)
