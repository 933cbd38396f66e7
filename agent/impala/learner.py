"""IMPALA (Espeholt et al., 2018): an LSTM actor-critic trained with V-trace targets.

Read top to bottom:

1. :func:`build` makes the networks: the shared :class:`agent.torso.Torso` (CNN on the image, a
   learned token embedding and MLP, previous action and reward, an LSTM) with a linear policy
   head and a linear value head on the LSTM output, as in the IMPALA paper.
2. :func:`vtrace` computes the V-trace targets v_s and policy-gradient advantages, a reverse
   ``lax.scan`` over time.
3. :func:`forward` unrolls the torso over a rollout; :func:`loss` scores it against the
   behaviour policy with V-trace: policy gradient + value regression - entropy bonus.
4. :func:`make_update` jits gradient, clipping and Adam into one function;
   :func:`init_train_state` makes fresh parameters and optimiser state.
5. :func:`policy` is acting, as pure functions.

Rollout convention (what :class:`agent.impala.trainer.Trainer` hands to the update): T + 1 rows
of observations per env, batch-major (N, T + 1, ...) like every agent's batch (:func:`loss`
turns them time-major for the scans over time).  Row t holds the observation x_t (``image``,
``token``), the ``reward`` r_t received on arriving at x_t, ``is_first``, ``is_terminal``, and
``prev_action`` (the action that led to x_t; the torso zeroes it and the reward where
``is_first``).  The first T rows also hold ``action`` a_t, taken at x_t, and ``logits``, the
behaviour policy's logits there.  Row T is only the bootstrap observation: it becomes row 0 of
the next rollout.  ``state`` is the LSTM state (c, h) before row 0, so the learner's unroll sees
exactly what acting saw.

Transition t (x_t, a_t -> x_{t+1}) earns r_{t+1} and is discounted by
``gamma * (1 - is_terminal[t+1])``.  Episode boundaries, in the adapter's layout (an episode's
last row is followed by the next episode's ``is_first`` row, whose reward is 0 and whose
predecessor's action the env ignored):

* termination (``is_terminal[t+1]``): discount 0, so nothing bootstraps past the end;
* truncation (a time limit: ``is_last`` without ``is_terminal``): the discount stays gamma and
  the target bootstraps from the value of the last row's own observation, V(x_{t+1}), which the
  torso computes like any other (the episode has not ended for the world, only for us);
* the transition INTO an ``is_first`` row (out of the last row) is not a real one: it is left out
  of every loss, and the V-trace recursion is cut there (its target is the value itself, so the
  step before it bootstraps from V(last row) undisturbed).

Read steps are ordinary steps: the action is ignored by the env, but the LSTM must read the
token, and the value and the discount run through them like through any step.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from agent import dists, nets, torso
from agent.envs import Spec
from agent.impala.config import Config
from agent.optim import clipped_adam
from agent.runner import Policy
from agent.torso import Carry, Torso, act_step, initial_carry, unroll

Batch = dict[str, Any]
Params = dict[str, Any]


# ------------------------------------------------------------------ 1. networks
class Networks(NamedTuple):
    torso: Torso
    policy: nets.Head
    value: nets.Head


def build(cfg: Config, spec: Spec) -> Networks:
    """The torso and the two heads for an env's spaces.  The heads are linear (``layers=0``) and
    zero-initialised: the first policy is uniform and the first values are 0."""
    dtype = jnp.bfloat16 if cfg.bf16 else jnp.float32
    return Networks(torso=torso.build(cfg, spec),
                    policy=nets.Head(spec.n_actions, cfg.lstm, 0, zero_init=True, dtype=dtype),
                    value=nets.Head(1, cfg.lstm, 0, zero_init=True, dtype=dtype))


def init_params(net: Networks, spec: Spec, key: jax.Array) -> Params:
    k_torso, k_policy, k_value = jax.random.split(key, 3)
    h = jnp.zeros((1, net.torso.lstm))
    return {"torso": torso.init(net.torso, k_torso, spec.image_shape),
            "policy": net.policy.init(k_policy, h), "value": net.value.init(k_value, h)}


# ------------------------------------------------------------------ 2. V-trace
def vtrace(values: jnp.ndarray, bootstrap_value: jnp.ndarray, rewards: jnp.ndarray,
           discounts: jnp.ndarray, log_rhos: jnp.ndarray, mask: jnp.ndarray | None = None,
           rho_bar: float = 1.0, c_bar: float = 1.0) -> tuple[jnp.ndarray, jnp.ndarray]:
    """V-trace targets and policy-gradient advantages (IMPALA paper, section 4.1, lambda = 1).

    Time is the leading axis, any batch axes follow.  For s = 0..T-1:

    * ``values[s]`` = V(x_s); ``bootstrap_value`` = V(x_T);
    * ``rewards[s]`` = r earned by the transition s -> s+1, ``discounts[s]`` its gamma (0 where
      x_{s+1} is terminal);
    * ``log_rhos[s]`` = log pi(a_s|x_s) - log mu(a_s|x_s), target over behaviour policy;
    * ``mask[s]`` = 0 where the transition s -> s+1 is not a real one (into the next episode's
      first row): its delta and its trace are cut, so its target is v_s = V(x_s).

    With rho_s = min(rho_bar, pi/mu), c_s = min(c_bar, pi/mu) and
    delta_s = rho_s (r_s + gamma_s V(x_{s+1}) - V(x_s)), the targets are

        v_s = V(x_s) + delta_s + gamma_s c_s (v_{s+1} - V(x_{s+1})),   v_T = V(x_T),

    computed as a reverse ``lax.scan`` of the correction v_s - V(x_s).  The advantage of the
    policy gradient at s is rho_s (r_s + gamma_s v_{s+1} - V(x_s)).  Inputs are treated as
    constants (the caller stops their gradients).  Returns ``(vs, pg_advantages)``, both like
    ``values``.
    """
    values, bootstrap_value, rewards, discounts, log_rhos = (
        jnp.asarray(x, jnp.float32) for x in (values, bootstrap_value, rewards, discounts,
                                              log_rhos))
    mask = jnp.ones_like(values) if mask is None else jnp.asarray(mask, jnp.float32)
    discounts = discounts * mask  # a cut transition carries nothing back either
    rhos = jnp.exp(log_rhos)
    clipped_rhos = jnp.minimum(rho_bar, rhos)
    cs = jnp.minimum(c_bar, rhos)
    next_values = jnp.concatenate([values[1:], bootstrap_value[None]], 0)
    deltas = mask * clipped_rhos * (rewards + discounts * next_values - values)

    def backward(correction: jnp.ndarray, step: tuple) -> tuple[jnp.ndarray, jnp.ndarray]:
        delta, discount, c = step
        correction = delta + discount * c * correction  # v_s - V(x_s)
        return correction, correction

    _, corrections = jax.lax.scan(backward, jnp.zeros_like(bootstrap_value),
                                  (deltas, discounts, cs), reverse=True)
    vs = values + corrections
    next_vs = jnp.concatenate([vs[1:], bootstrap_value[None]], 0)
    pg_advantages = clipped_rhos * (rewards + discounts * next_vs - values)
    return vs, pg_advantages


# ------------------------------------------------------------------ 3. the loss
def _masked_mean(x: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
    return (x * mask).sum() / jnp.maximum(mask.sum(), 1.0)


def time_major(batch: Batch) -> Batch:
    """The rollout's rows (N, T (+ 1), ...) as (T (+ 1), N, ...); the LSTM ``state`` stays
    (N, ...)."""
    return {k: v if k == "state" else jnp.swapaxes(v, 0, 1) for k, v in batch.items()}


def forward(params: Params, net: Networks, batch: Batch, scan_unroll: int = 1
            ) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The target policy's logits (T, N, A) on the acting rows and the values (T + 1, N) of all
    rows (the last bootstraps) of a :func:`time_major` rollout: the torso unrolled from the
    rollout's stored LSTM state."""
    inputs = {"image": batch["image"], "token": batch["token"],
              "prev_action": batch["prev_action"], "prev_reward": batch["reward"],
              "is_first": batch["is_first"]}
    _, h = unroll(net.torso, params["torso"], batch["state"], inputs, scan_unroll)
    logits = net.policy.apply(params["policy"], h[:-1])
    values = net.value.apply(params["value"], h)[..., 0]
    return logits, values


def loss(params: Params, net: Networks, cfg: Config, batch: Batch
         ) -> tuple[jnp.ndarray, dict[str, jnp.ndarray]]:
    """Policy gradient + ``value_coef`` x value regression - ``entropy_coef`` x entropy, each a
    mean over the real transitions of the (N, T) rollout."""
    batch = time_major(batch)
    logits, values = forward(params, net, batch, cfg.scan_unroll)

    # Transition t -> t+1: its reward and discount live on row t+1 (see the module doc).
    rewards = batch["reward"][1:].astype(jnp.float32)
    if cfg.reward_clip > 0:
        rewards = jnp.clip(rewards, -cfg.reward_clip, cfg.reward_clip)
    valid = 1.0 - batch["is_first"][1:].astype(jnp.float32)
    discounts = cfg.discount * (1.0 - batch["is_terminal"][1:].astype(jnp.float32))

    log_probs = jax.nn.log_softmax(logits)
    action = batch["action"][..., None]
    log_pi = jnp.take_along_axis(log_probs, action, -1)[..., 0]
    log_mu = jnp.take_along_axis(jax.nn.log_softmax(batch["logits"].astype(jnp.float32)),
                                 action, -1)[..., 0]
    log_rhos = jax.lax.stop_gradient(log_pi - log_mu)

    sg_values = jax.lax.stop_gradient(values)
    vs, pg_advantages = vtrace(sg_values[:-1], sg_values[-1], rewards, discounts, log_rhos,
                               valid, cfg.rho_bar, cfg.c_bar)

    pg_loss = _masked_mean(-log_pi * pg_advantages, valid)
    value_loss = _masked_mean(0.5 * (vs - values[:-1]) ** 2, valid)
    entropy = _masked_mean(dists.categorical_entropy(logits), valid)
    total = pg_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy
    rhos = jnp.exp(log_rhos)
    metrics = {"loss": total, "pg_loss": pg_loss, "value_loss": value_loss,
               "policy_entropy": entropy, "value": _masked_mean(values[:-1], valid),
               "vtrace_target": _masked_mean(vs, valid),
               "advantage": _masked_mean(pg_advantages, valid),
               "rho": _masked_mean(rhos, valid),
               # (beyond float rounding: synchronous actors give rho = 1 up to ~1e-6)
               "rho_clipped": _masked_mean(
                   (log_rhos > jnp.log(cfg.rho_bar) + 1e-3).astype(jnp.float32), valid),
               "real_transitions": valid.mean()}
    return total, metrics


# ------------------------------------------------------------------ 4. one jitted update
class TrainState(NamedTuple):
    params: Params
    opt: Any


def optimizer(cfg: Config) -> optax.GradientTransformation:
    """Global-norm clip, then Adam at a constant learning rate (see the config's doc for why)."""
    return clipped_adam(cfg.lr, cfg.adam_eps, cfg.grad_clip)


@functools.lru_cache(maxsize=8)
def make_update(cfg: Config, spec: Spec):
    """``update(state, batch) -> (state, metrics)``: one gradient step on a whole rollout,
    jitted as one function (``state`` is donated).  Cached per (cfg, spec): a second trainer
    of the same model in one process compiles nothing."""
    net = build(cfg, spec)
    opt = optimizer(cfg)

    def update(ts: TrainState, batch: Batch) -> tuple[TrainState, dict[str, jnp.ndarray]]:
        return gradient_step(net, opt, cfg, ts, batch)

    return jax.jit(update, donate_argnums=0)


def gradient_step(net: Networks, opt: optax.GradientTransformation, cfg: Config,
                  ts: TrainState, batch: Batch) -> tuple[TrainState, dict[str, jnp.ndarray]]:
    """One gradient step of :func:`loss` on a rollout (the body of :func:`make_update`, for
    callers that build their own jitted function around it)."""
    grads, metrics = jax.grad(loss, has_aux=True)(ts.params, net, cfg, batch)
    updates, opt_state = opt.update(grads, ts.opt, ts.params)
    params = optax.apply_updates(ts.params, updates)
    return TrainState(params, opt_state), {**metrics, "grad_norm": optax.tree.norm(grads)}


def init_train_state(cfg: Config, spec: Spec, key: jax.Array) -> TrainState:
    """Fresh parameters and optimiser state (one jitted call: run eagerly, the many small
    initialisers would each compile on their own)."""
    return _jitted_init(cfg, spec)(key)


@functools.lru_cache(maxsize=8)
def _jitted_init(cfg: Config, spec: Spec) -> Any:
    # Cached so that a second trainer of the same model in one process compiles nothing.
    net = build(cfg, spec)

    def init(key: jax.Array) -> TrainState:
        params = init_params(net, spec, key)
        return TrainState(params, optimizer(cfg).init(params))

    return jax.jit(init)


# ------------------------------------------------------------------ 5. acting
def policy(cfg: Config, spec: Spec) -> Policy:
    """Acting as pure functions (:class:`agent.runner.Policy`): the torso steps from the carry
    (reset where ``is_first``), and the policy head's action is sampled, or its argmax where
    ``greedy``.  ``aux`` holds the ``logits``: the trainer keeps them as the behaviour policy of
    the V-trace correction."""
    net = build(cfg, spec)

    def initial(params: Params, n: int) -> Carry:
        return initial_carry(net.torso, n)

    def step(params: Params, obs: Batch, carry: Carry, key: jax.Array, greedy: Any = False
             ) -> tuple[jnp.ndarray, Carry, dict[str, jnp.ndarray]]:
        lstm, h = act_step(net.torso, params["torso"], carry, obs)
        logits = net.policy.apply(params["policy"], h)
        action = jnp.where(greedy, jnp.argmax(logits, -1),
                           jax.random.categorical(key, logits)).astype(jnp.int32)
        return action, Carry(lstm, action), {"logits": logits}

    return Policy(initial, step)
