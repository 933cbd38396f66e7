"""IMPALA's trainer: synchronous batched actors fill a rollout of ``unroll_length`` steps per env,
then one V-trace update learns from the whole (T, N) rollout.

The actors act with the learner's current parameters, so the behaviour and target policies
differ only by float rounding (the importance weights are ~1 and V-trace reduces to n-step
bootstrapped returns); the correction matters when the acting parameters lag, as with the
paper's distributed actors.  The behaviour logits are stored all the same, so the learner is
the full off-policy IMPALA learner.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from agent import runner
from agent.envs import Spec
from agent.files import format_size
from agent.impala import learner
from agent.impala.config import Config

_OBS_KEYS = ("image", "token", "reward", "is_first", "is_terminal")


class Rollout:
    """Host buffers of one rollout: T + 1 observation rows (the last one bootstraps, and is the
    next rollout's first), T actions and behaviour logits, and the LSTM state before row 0."""

    def __init__(self, length: int, num_envs: int, spec: Spec):
        rows, n = length + 1, num_envs
        self.length = length
        # Fresh buffers for every rollout: the update may still be reading the last ones (jax
        # can use host numpy memory without copying it on CPU).
        self.data: dict[str, np.ndarray] = {
            "image": np.zeros((rows, n, *spec.image_shape), np.uint8),
            "token": np.zeros((rows, n), np.int32),
            "reward": np.zeros((rows, n), np.float32),
            "is_first": np.zeros((rows, n), bool),
            "is_terminal": np.zeros((rows, n), bool),
            "prev_action": np.zeros((rows, n), np.int32),
            "action": np.zeros((length, n), np.int32),
            "logits": np.zeros((length, n, spec.n_actions), np.float32),
        }
        self.state: Any = None  # the LSTM state (c, h) before row 0
        self.t = 0  # rows 0..t-1 are written

    def add_observation(self, obs: runner.Obs, prev_action: np.ndarray) -> None:
        """Row ``t``'s observation and the action that led to it."""
        for key in _OBS_KEYS:
            self.data[key][self.t] = obs[key]
        self.data["prev_action"][self.t] = prev_action

    def add_action(self, action: np.ndarray, logits: np.ndarray) -> None:
        """Row ``t``'s action and behaviour logits; the row is complete."""
        self.data["action"][self.t] = action
        self.data["logits"][self.t] = logits
        self.t += 1

    @property
    def full(self) -> bool:
        """All T actions are taken (the bootstrap row T is then written too)."""
        return self.t == self.length

    def batch(self) -> learner.Batch:
        return {**self.data, "state": self.state}

    @property
    def nbytes(self) -> int:
        return sum(x.nbytes for x in self.data.values())


@functools.lru_cache(maxsize=8)
def _acting_step(cfg: Config, spec: Spec):
    """``step(params, obs, carry, key) -> (action, carry, logits, key)``, jitted (cached like
    the update): one sampled action per env and the behaviour logits to store."""
    act = learner.make_act(cfg, spec)

    def step(params: Any, obs: runner.Obs, carry: learner.Carry, key: jax.Array
             ) -> tuple[jnp.ndarray, learner.Carry, jnp.ndarray, jax.Array]:
        key, k = jax.random.split(key)  # inside the jit: one dispatch per env step
        return (*act(params, obs, carry, k, False), key)

    return jax.jit(step)


class Trainer(runner.Trainer):
    """Batched synchronous actors and one V-trace update per full rollout."""

    name = "impala"
    # The rollout is time-major (T + 1, N, ...); the LSTM state before it is (N, ...).
    batch_axes = {**{key: 1 for key in (*_OBS_KEYS, "prev_action", "action", "logits")},
                  "state": 0}
    batch_field = "num_envs"

    def __init__(self, cfg: Config, env: runner.EnvConfig, logdir: str | Path):
        super().__init__(cfg, env, logdir)
        key, k_init = jax.random.split(jax.random.PRNGKey(cfg.seed))
        self.state = learner.init_train_state(cfg, self.spec, k_init)
        self.update = learner.make_update(cfg, self.spec)
        self.initial = learner.policy(cfg, self.spec).initial
        self._act = _acting_step(cfg, self.spec)
        self.key = key
        self.start_episodes()

    def start_episodes(self) -> None:
        self.obs = self.env.reset()
        self.carry = self.initial(self.state.params, self.cfg.num_envs)
        self.prev_action = np.zeros(self.cfg.num_envs, np.int32)
        self.rollout = Rollout(self.cfg.unroll_length, self.cfg.num_envs, self.spec)

    def describe(self) -> str:
        cfg = self.cfg
        return (f"rollouts of {cfg.unroll_length} steps x {cfg.num_envs} envs "
                f"({format_size(self.rollout.nbytes)} on the host), one V-trace update each")

    # ------------------------------------------------------------------ acting and learning
    def act(self) -> None:
        """One step of every env; the step goes into the rollout (and, when that completes it,
        the observation reached is written as its bootstrap row)."""
        rollout = self.rollout
        if rollout.full:
            raise RuntimeError("the rollout is full: call train() after every act()")
        if rollout.t == 0:
            rollout.state = self.carry.lstm
        rollout.add_observation(self.obs, self.prev_action)
        obs = {k: self.obs[k] for k in runner.POLICY_INPUTS}
        action, self.carry, logits, self.key = self._act(self.state.params, obs, self.carry,
                                                         self.key)
        action = np.asarray(action)
        rollout.add_action(action, np.asarray(logits))
        self.step_envs(action)
        self.prev_action = action
        if rollout.full:
            rollout.add_observation(self.obs, self.prev_action)  # row T

    def train(self) -> dict[str, Any]:
        """One update when the rollout is full (its last row starts the next one)."""
        if not self.rollout.full:
            return {}
        self.state, metrics = self.learn(self.rollout.batch())
        self.updates += 1
        self.rollout = Rollout(self.cfg.unroll_length, self.cfg.num_envs, self.spec)
        return metrics

