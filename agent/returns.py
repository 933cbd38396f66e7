"""Returns for the imagination actor-critic: λ-returns and percentile return normalisation.

Conventions (DreamerV3 2023, as Dynalang uses it):

- Time is the **leading** axis; any trailing batch axes are carried along unchanged.
- ``rewards[t]`` is received on the transition t -> t+1 and ``discounts[t] = gamma *
  continue_{t+1}``, so a termination at t+1 cuts the bootstrap from ``values[t + 1]`` on.
  ``values`` has one more step than the rewards: ``values[T]`` bootstraps the tail.
- λ-returns are the DreamerV3 (2023) recursion
  ``R_T = v_T``, ``R_t = r_t + d_t * ((1 - λ) * v_{t+1} + λ * R_{t+1})``;
  λ = 1 gives discounted Monte-Carlo returns bootstrapped at the end, λ = 0 one-step TD targets.
- The return scale ``S = max(1, EMA(P95) - EMA(P5))`` of the λ-returns divides the actor's
  advantages; the max with 1 keeps small returns from being amplified.  As in DreamerV3, the
  EMAs start at 0 and are updated as ``decay * state + (1 - decay) * percentile``.
- Everything is float32 and jit-friendly; the time recursion is a reverse ``jax.lax.scan``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


def lambda_returns(rewards, discounts, values, lam: float) -> Array:
    """λ-returns R_0..R_{T-1}, shape ``(T, ...)``.

    ``rewards`` and ``discounts`` have shape ``(T, ...)``, ``values`` shape ``(T + 1, ...)``.
    """
    rewards = jnp.asarray(rewards, jnp.float32)
    discounts = jnp.asarray(discounts, jnp.float32)
    values = jnp.asarray(values, jnp.float32)
    if values.shape[0] != rewards.shape[0] + 1:
        raise ValueError(
            f"values needs T + 1 steps: got {values.shape[0]} for T = {rewards.shape[0]}"
        )

    def step(next_return, inputs):
        reward, discount, next_value = inputs
        ret = reward + discount * ((1.0 - lam) * next_value + lam * next_return)
        return ret, ret

    # Scanning in reverse from the bootstrap R_T = values[T]; `reverse=True` also stacks the
    # outputs back in forward time order.
    _, returns = jax.lax.scan(step, values[-1], (rewards, discounts, values[1:]), reverse=True)
    return returns


class Percentiles(NamedTuple):
    """EMA state of the return percentiles (float32 scalars)."""

    low: Array
    """EMA of the low (5th) percentile."""
    high: Array
    """EMA of the high (95th) percentile."""


def percentiles_init() -> Percentiles:
    """Zero state, as in DreamerV3 (the EMA is not bias-corrected)."""
    return Percentiles(low=jnp.zeros((), jnp.float32), high=jnp.zeros((), jnp.float32))


def percentiles_update(
    state: Percentiles, x, decay: float = 0.99, low_q: float = 5, high_q: float = 95
) -> tuple[Percentiles, Array]:
    """Update the EMAs with the percentiles of all of ``x`` and return ``(state, scale)``.

    ``scale = max(1, high - low)`` from the *updated* state.  ``x`` (the batch's λ-returns) is
    treated as data: no gradient flows through the percentiles or the scale.
    """
    x = jax.lax.stop_gradient(jnp.asarray(x, jnp.float32))
    low_now = jnp.percentile(x, low_q)
    high_now = jnp.percentile(x, high_q)
    low = decay * state.low + (1.0 - decay) * low_now
    high = decay * state.high + (1.0 - decay) * high_now
    scale = jnp.maximum(1.0, high - low)
    return Percentiles(low=low, high=high), scale
