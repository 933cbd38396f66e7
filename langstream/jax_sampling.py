"""The random choices of :mod:`langstream.sampling`, written for ``jax.jit``.

An env's JAX twin draws an episode's start from a vector of uniform floats, as the numpy engine
draws it from a stream of ``Uniform.random()`` calls.  The number of draws an episode start
takes is fixed by the env's arguments (never by the draws themselves), so :class:`Draws` hands
them out by an index counted while the function is traced: the i-th choice of the JAX twin
reads the same uniform as the i-th choice of the numpy engine, and both map it to the same item
(``floor(u * n)``).  Given the same uniforms, the two engines start the same episode.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


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


def sample_indices(draws: Draws, n: int, k: int) -> jax.Array:
    """Indices of ``k`` distinct items of ``n`` in random order, by the partial Fisher-Yates
    of :func:`langstream.sampling.sample` (one draw per item)."""
    pool = jnp.arange(n, dtype=jnp.int32)
    for i in range(k):
        j = i + choice_index(draws.random(), n - i)
        a, b = pool[i], pool[j]
        pool = pool.at[i].set(b).at[j].set(a)
    return pool[:k]
