"""R2D2 (Kapturowski et al. 2019): a recurrent Q-network learned from prioritised sequences.

Read top to bottom:

1. :class:`Dueling` is the head on the LSTM output: Q = V + A - mean_a A.  The body is the
   baselines' shared :class:`agent.torso.Torso` (image CNN + token embedding and MLP, previous
   action and reward, an LSTM); :func:`build` makes both for an env's spec.
2. :func:`make_update` jits one learner step over a replayed batch of sequences: the burn-in
   unrolls of the online and target networks from the stored LSTM state (no gradient), the
   unrolls over the trained part, n-step double-Q targets with value rescaling
   (:mod:`agent.r2d2.maths`), the squared TD error, Adam, the periodic target copy, and the new
   sequence priorities.
3. :func:`policy` is epsilon-greedy acting as pure functions (:class:`agent.runner.Policy`).

Batch convention (what :class:`agent.r2d2.replay.SequenceReplay` returns, batch-major): step
values ``image``, ``token``, ``reward`` (received on arriving at the step), ``is_first``,
``is_last``, ``is_terminal`` and ``action`` (taken after the step's observation), each
(B, burn_in + train_length, ...); the stored state ``lstm_c``, ``lstm_h`` (B, lstm) and
``prev_action`` (B,) from before the sequence's first step; and ``weight`` (B,), the importance
weights (all 1 by default).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from agent import nets, torso
from agent.envs import Spec
from agent.optim import clipped_adam
from agent.r2d2 import maths
from agent.r2d2.config import Config
from agent.runner import Policy
from agent.torso import Carry, LSTMState, Torso

Batch = dict[str, jnp.ndarray]
Params = dict[str, Any]

STEP_KEYS = ("image", "token", "reward", "is_first", "is_last", "is_terminal", "action")
"""the per-step values a sequence holds."""


class Dueling(nn.Module):
    """Value and advantage streams (an MLP each) -> Q = V + A - mean(A), in float32.

    Subtracting the mean advantage makes V and A identifiable, and lets every update of V move
    all actions' values at once (Wang et al. 2016)."""

    n_actions: int
    units: int
    layers: int = 1
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, h: jnp.ndarray) -> jnp.ndarray:
        v = nets.MLP(self.units, self.layers, self.dtype)(h).astype(jnp.float32)
        a = nets.MLP(self.units, self.layers, self.dtype)(h).astype(jnp.float32)
        v = nn.Dense(1, dtype=jnp.float32)(v)
        a = nn.Dense(self.n_actions, dtype=jnp.float32)(a)
        return v + a - a.mean(-1, keepdims=True)


class Networks(NamedTuple):
    torso: Torso
    head: Dueling


class TrainState(NamedTuple):
    params: Params  # the online network: {"torso", "head"}
    target: Params  # the target network (same structure), copied every target_period updates
    opt: Any
    updates: jnp.ndarray  # int32 scalar: updates done (drives the target copies)


def build(cfg: Config, spec: Spec) -> Networks:
    """The networks for an env's spec (image shape, vocabulary, actions)."""
    dtype = jnp.bfloat16 if cfg.bf16 else jnp.float32
    return Networks(torso.build(cfg, spec), Dueling(spec.n_actions, cfg.head_units, 1, dtype))


def init_params(net: Networks, spec: Spec, key: jax.Array) -> Params:
    k_torso, k_head = jax.random.split(key)
    return {"torso": torso.init(net.torso, k_torso, spec.image_shape),
            "head": net.head.init(k_head, jnp.zeros((1, net.torso.lstm)))}


def optimizer(cfg: Config) -> optax.GradientTransformation:
    """Global-norm clipping, then Adam (constant learning rate)."""
    return clipped_adam(cfg.lr, cfg.adam_eps, cfg.grad_clip)


def init_train_state(cfg: Config, spec: Spec, key: jax.Array) -> TrainState:
    """Fresh online parameters, the target network as their copy, and the optimiser state
    (one jitted call: run eagerly, the many small initialisers each compile on their own)."""
    return _jitted_init(cfg, spec)(key)


@functools.lru_cache(maxsize=8)
def _jitted_init(cfg: Config, spec: Spec) -> Any:
    # Cached so that a second trainer of the same model in one process compiles nothing.
    def init(key: jax.Array) -> TrainState:
        params = init_params(build(cfg, spec), spec, key)
        target = jax.tree.map(jnp.copy, params)  # its own buffers (the state is donated)
        return TrainState(params, target, optimizer(cfg).init(params), jnp.zeros((), jnp.int32))

    return jax.jit(init)


def q_unroll(net: Networks, params: Params, state: LSTMState, inputs: Batch, unroll: int = 1
             ) -> tuple[LSTMState, jnp.ndarray]:
    """The Q-values (T, B, A) of a time-major sequence from LSTM ``state``, and the last state.
    ``inputs`` holds what :func:`agent.torso.unroll` reads."""
    last, h = torso.unroll(net.torso, params["torso"], state, inputs, unroll)
    return last, net.head.apply(params["head"], h)


# ------------------------------------------------------------------ one jitted update
def sequence_inputs(batch: Batch) -> tuple[dict[str, jnp.ndarray], dict[str, jnp.ndarray]]:
    """The sampled sequences time-major (L, B, ...), and the LSTM's inputs at every step (at
    step t it reads the action of step t - 1: the stored one at the first step)."""
    seq = {k: jnp.swapaxes(batch[k], 0, 1) for k in STEP_KEYS}
    prev_action = jnp.concatenate([batch["prev_action"][None], seq["action"][:-1]], 0)
    inputs = {"image": seq["image"], "token": seq["token"], "prev_action": prev_action,
              "prev_reward": seq["reward"], "is_first": seq["is_first"]}
    return seq, inputs


def burn_in(net: Any, params: Params, start: Any, inputs: dict[str, jnp.ndarray],
            cfg: Config) -> Any:
    """The LSTM state after unrolling ``params`` from ``start`` over the burn-in steps."""
    if not cfg.burn_in:
        return start
    warm = {k: v[:cfg.burn_in] for k, v in inputs.items()}
    state, _ = torso.unroll(net.torso, params["torso"], start, warm, cfg.scan_unroll)
    return state


@functools.lru_cache(maxsize=8)
def make_update(cfg: Config, spec: Spec):
    """``update(train_state, batch) -> (train_state, metrics, priorities)``, jitted as one
    function (the train state is donated).  ``priorities`` (B,) are the sequences' new
    priorities eta max|delta| + (1 - eta) mean|delta| over their trained steps.  Cached per
    (cfg, spec): a second trainer of the same model in one process compiles nothing."""
    net = build(cfg, spec)
    opt = optimizer(cfg)
    burn = cfg.burn_in

    def update(ts: TrainState, batch: Batch) -> tuple[TrainState, dict[str, jnp.ndarray],
                                                      jnp.ndarray]:
        seq, inputs = sequence_inputs(batch)
        start = (batch["lstm_c"], batch["lstm_h"])
        # Burn-in: both networks unroll from the stored (stale) state over the first steps, so
        # that the trained part starts from a state their current weights produced.  No
        # gradient flows through it (it is outside the differentiated function).
        online_start = burn_in(net, ts.params, start, inputs, cfg)
        target_start = burn_in(net, ts.target, start, inputs, cfg)
        trained = {k: v[burn:] for k, v in inputs.items()}
        part = {k: seq[k][burn:] for k in ("action", "reward", "is_last", "is_terminal")}
        _, q_target = q_unroll(net, ts.target, target_start, trained, cfg.scan_unroll)

        def loss_fn(params: Params) -> tuple[jnp.ndarray, tuple]:
            _, q = q_unroll(net, params, online_start, trained, cfg.scan_unroll)
            q_taken = jnp.take_along_axis(q, part["action"][..., None], -1)[..., 0]
            # Double Q: the online network (as it is now) picks the bootstrap action.
            targets, valid = maths.n_step_double_q_targets(
                part["reward"], part["is_last"], part["is_terminal"], jax.lax.stop_gradient(q),
                q_target, cfg.discount, cfg.n_step, cfg.value_eps)
            delta = jax.lax.stop_gradient(targets) - q_taken
            weight = valid * batch["weight"][None]
            loss = (weight * delta ** 2).sum() / jnp.maximum(valid.sum(), 1)
            return loss, (delta, valid, q, targets)

        (loss, (delta, valid, q, targets)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            ts.params)
        updates, opt_state = opt.update(grads, ts.opt, ts.params)
        params = optax.apply_updates(ts.params, updates)
        count = ts.updates + 1
        copy = count % cfg.target_period == 0
        target = jax.tree.map(lambda t, p: jnp.where(copy, p, t), ts.target, params)
        priorities = maths.sequence_priorities(delta, valid, cfg.priority_eta)

        n_valid = jnp.maximum(valid.sum(), 1)
        mean = lambda x: jnp.where(valid, x, 0.0).sum() / n_valid  # noqa: E731
        metrics = {"loss": loss, "td_abs": mean(jnp.abs(delta)),
                   "q_mean": mean(q.max(-1)), "target_mean": mean(targets),
                   "priority_mean": priorities.mean(), "priority_max": priorities.max(),
                   "valid_fraction": valid.mean(), "grad_norm": optax.tree.norm(grads)}
        return TrainState(params, target, opt_state, count), metrics, priorities

    return jax.jit(update, donate_argnums=0)


# ------------------------------------------------------------------ acting
def policy(cfg: Config, spec: Spec) -> Policy:
    """Epsilon-greedy acting as pure functions (:class:`agent.runner.Policy`).

    The carry is each env's LSTM state and previous action (``is_first`` resets both inside the
    torso).  The exploration rate comes from ``obs["epsilon"]`` (n,) when the observation holds
    it: the trainer passes the per-env ladder of :func:`agent.r2d2.maths.actor_epsilons` there,
    which keeps the carry a plain recurrent state (``initial`` takes no epsilon) and lets the
    same step serve any batch.  Without it every row uses ``cfg.eval_epsilon``.  ``greedy``
    (bool scalar) takes the argmax everywhere.  ``aux`` is ``{}``.
    """
    net = build(cfg, spec)

    def initial(params: Params, n: int) -> Carry:
        return torso.initial_carry(net.torso, n)

    def step(params: Params, obs: Batch, carry: Carry, key: jax.Array, greedy: Any = False
             ) -> tuple[jnp.ndarray, Carry, dict[str, jnp.ndarray]]:
        state, h = torso.act_step(net.torso, params["torso"], carry, obs)
        q = net.head.apply(params["head"], h)
        n = q.shape[0]
        epsilon = obs["epsilon"] if "epsilon" in obs else jnp.full((n,), cfg.eval_epsilon)
        k_explore, k_random = jax.random.split(key)
        explore = jax.random.uniform(k_explore, (n,)) < epsilon
        random = jax.random.randint(k_random, (n,), 0, spec.n_actions)
        action = jnp.where(explore & ~jnp.asarray(greedy), random, jnp.argmax(q, -1))
        action = action.astype(jnp.int32)
        return action, Carry(state, action), {}

    return Policy(initial, step)
