"""Optimisers shared by the agents: Adam after a global gradient-norm clip."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax


def clip_by_global_norm(max_norm: float) -> optax.GradientTransformation:
    """Scale the updates down to a global norm of at most ``max_norm``.

    The same maths as ``optax.clip_by_global_norm``, with the norm taken as dot products of
    flattened leaves: XLA on GPU (jax 0.11) failed to compile optax's form for the xl preset
    ("Expected instruction to have shape equal to f32[]").
    """

    def update(updates: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        leaves = [x.reshape(-1).astype(jnp.float32) for x in jax.tree.leaves(updates)]
        norm = jnp.sqrt(sum(jnp.dot(x, x) for x in leaves))
        scale = jnp.minimum(1.0, max_norm / jnp.maximum(norm, 1e-6))
        return jax.tree.map(lambda u: (u * scale).astype(u.dtype), updates), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def clipped_adam(lr: float, eps: float, clip: float) -> optax.GradientTransformation:
    """Clip the gradient's global norm to ``clip``, then Adam with ``lr`` and ``eps``."""
    return optax.chain(clip_by_global_norm(clip), optax.adam(lr, eps=eps))
