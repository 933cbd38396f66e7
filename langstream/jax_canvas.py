""":func:`langstream.canvas.over` for JAX: the twins draw their pixels with the numpy envs'
integer arithmetic, so images agree byte for byte."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def over(bottom: jax.Array, top_rgba: jax.Array) -> jax.Array:
    """Straight-alpha ``top * a + bottom * (1 - a)`` rounded half up, in int32 (``bottom``
    an int32 RGB array, ``top_rgba`` uint8 RGBA of the same height and width)."""
    a = top_rgba[..., 3:4].astype(jnp.int32)
    mixed = top_rgba[..., :3].astype(jnp.int32) * a + bottom * (255 - a)
    return (mixed + 127) // 255
