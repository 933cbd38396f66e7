"""R2D2's maths as pure functions: value rescaling, n-step double-Q targets, sequence
priorities and the actors' epsilon ladder.

Step layout (``agent.envs``, time-major ``(T, B)`` arrays): row t holds the observation of step
t, the ``reward`` received on arriving there, ``is_last`` / ``is_terminal`` flags of that
observation and the ``action`` taken after it.  The transition from row t is therefore (action
t, reward t+1, observation t+1).  A row with ``is_last`` ends its episode: its action is ignored
by the env and row t+1 is the next episode's first observation, so no target ever looks past an
``is_last`` row.  There the value of the last observation is bootstrapped unless the episode
really terminated (``is_terminal``); a time limit keeps bootstrapping.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

Array = jnp.ndarray


# ------------------------------------------------------------------ value rescaling
def value_rescale(x: Array, eps: float = 1e-3) -> Array:
    """h(x) = sign(x) (sqrt(|x| + 1) - 1) + eps x: squashes large returns, strictly monotone,
    so one network fits returns of very different scales (R2D2, after Pohlen et al. 2018).

    Computed as x / (sqrt(|x| + 1) + 1) + eps x, the same value without the cancellation of
    sqrt(|x| + 1) - 1 near 0 (which costs float32 ~4 digits at |x| = 1e-3)."""
    x = jnp.asarray(x, jnp.float32)
    return x / (jnp.sqrt(jnp.abs(x) + 1.0) + 1.0) + eps * x


def value_rescale_inv(y: Array, eps: float = 1e-3) -> Array:
    """h^-1(y), the exact closed form, written without cancellation.

    The textbook form sign(y) (((sqrt(1 + 4 eps (|y| + 1 + eps)) - 1) / (2 eps))^2 - 1) subtracts
    nearly equal numbers twice near y = 0 and loses ~4 digits in float32.  With r = sqrt(1 + 4 eps
    (a + 1 + eps)), a = |y| and s = (r - 1) / (2 eps) the same value is s^2 - 1 = (s - 1)(s + 1),
    where s = 2 (a + 1 + eps) / (1 + r) and s - 1 = 4 a (a + 1 + eps) / ((1 + 2 eps + 2 a + r)
    (1 + r)): sums of positive terms only.
    """
    y = jnp.asarray(y, jnp.float32)
    a = jnp.abs(y)
    r = jnp.sqrt(1.0 + 4.0 * eps * (a + 1.0 + eps))
    s = 2.0 * (a + 1.0 + eps) / (1.0 + r)
    s_minus_1 = 4.0 * a * (a + 1.0 + eps) / ((1.0 + 2.0 * eps + 2.0 * a + r) * (1.0 + r))
    return jnp.sign(y) * s_minus_1 * (s + 1.0)


# ------------------------------------------------------------------ targets
def double_q_values(q_online: Array, q_target: Array) -> Array:
    """Q_target(s, argmax_a Q_online(s, a)) over the last axis: double Q-learning's bootstrap
    (the online network picks the action, the target network values it)."""
    best = jnp.argmax(q_online, -1)
    return jnp.take_along_axis(q_target, best[..., None], -1)[..., 0]


def n_step_returns(reward: Array, is_last: Array, is_terminal: Array, value: Array,
                   discount: float, n: int) -> tuple[Array, Array]:
    """n-step returns from every row of a (T, B) sequence, and where they are defined.

    G_t = sum_{k=1}^{j} discount^(k-1) reward[t+k] + discount^j (1 - is_terminal[t+j]) value[t+j]
    where j <= n is the first of: n, the first ``is_last`` row after t, the sequence's last row.
    So a return never reaches into the next episode, never bootstraps from a true termination,
    and near the end of the sequence uses fewer steps (a shorter but still valid target).

    ``value[t]`` is the (unrescaled) value bootstrapped at row t.  Returns ``(G, valid)``, both
    (T, B); ``valid`` is false on ``is_last`` rows (their action did nothing) and on the last
    row (it has no successor).  The loop is over the n steps of the window, not over time.
    """
    reward = jnp.asarray(reward, jnp.float32)
    value = jnp.asarray(value, jnp.float32)
    is_last = jnp.asarray(is_last, bool)
    is_terminal = jnp.asarray(is_terminal, bool)
    T = reward.shape[0]
    rows = jnp.arange(T).reshape((T,) + (1,) * (reward.ndim - 1))

    def ahead(x: Array, k: int, fill: float | bool) -> Array:
        """x[t + k] at row t (``fill`` past the end)."""
        pad = jnp.full((k,) + x.shape[1:], fill, x.dtype)
        return jnp.concatenate([x[k:], pad], 0)[:T]

    valid = ~is_last & (rows < T - 1)
    running = valid  # no episode end or sequence end yet between t and t + k - 1
    G = jnp.zeros_like(reward)
    for k in range(1, n + 1):
        last_k = ahead(is_last, k, True)
        G = G + jnp.where(running, discount ** (k - 1) * ahead(reward, k, 0.0), 0.0)
        stop = running & (last_k | (rows + k >= T - 1) | (k == n))
        bootstrap = jnp.where(ahead(is_terminal, k, False), 0.0, ahead(value, k, 0.0))
        G = G + jnp.where(stop, discount ** k * bootstrap, 0.0)
        running = running & ~stop
    return G, valid


def n_step_double_q_targets(reward: Array, is_last: Array, is_terminal: Array,
                            q_online: Array, q_target: Array, discount: float, n: int,
                            eps: float = 1e-3) -> tuple[Array, Array]:
    """R2D2's targets in the rescaled space: h(G) where G is the n-step return bootstrapped
    with h^-1(Q_target(s, argmax Q_online(s))).  ``q_online`` and ``q_target`` are the
    networks' (rescaled) outputs, (T, B, A).  Returns ``(targets, valid)``, (T, B)."""
    value = value_rescale_inv(double_q_values(q_online, q_target), eps)
    G, valid = n_step_returns(reward, is_last, is_terminal, value, discount, n)
    return value_rescale(G, eps), valid


# ------------------------------------------------------------------ priorities
def sequence_priorities(delta: Array, valid: Array, eta: float = 0.9) -> Array:
    """eta max_t |delta_t| + (1 - eta) mean_t |delta_t| over the valid rows of each sequence
    ((T, B) in, (B,) out; 0 for a sequence without valid rows).  Mixing the max in keeps a
    long sequence with one large error from being averaged away."""
    err = jnp.where(valid, jnp.abs(delta), 0.0)
    count = valid.sum(0)
    mean = err.sum(0) / jnp.maximum(count, 1)
    return eta * err.max(0) + (1.0 - eta) * mean


# ------------------------------------------------------------------ exploration
def actor_epsilons(n: int, epsilon: float = 0.4, alpha: float = 7.0) -> np.ndarray:
    """The Ape-X / R2D2 ladder epsilon_i = epsilon^(1 + alpha i / (n - 1)), i = 0..n-1: env 0
    explores most (epsilon), env n-1 least (epsilon^(1 + alpha)).  One env gets epsilon."""
    if n < 1:
        raise ValueError(f"need at least one env, got {n}")
    if n == 1:
        return np.array([epsilon], np.float32)
    i = np.arange(n)
    return (epsilon ** (1.0 + alpha * i / (n - 1))).astype(np.float32)
