"""IMPALA's trainer: synchronous batched actors fill a rollout of ``unroll_length`` steps per env,
then one V-trace update learns from the whole (T, N) rollout.

The actors act with the learner's current parameters, so the behaviour and target policies
differ only by float rounding (the importance weights are ~1 and V-trace reduces to n-step
bootstrapped returns); the correction matters when the acting parameters lag, as with the
paper's distributed actors.  The behaviour logits are stored all the same, so the learner is
the full off-policy IMPALA learner.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agent import runner
from agent.envs import Spec
from agent.files import format_size
from agent.impala import learner as impala
from agent.torso import Carry

_OBS_KEYS = ("image", "token", "reward", "is_first", "is_terminal")


class Rollout:
    """Host buffers of one rollout, batch-major (N, ...): per env T + 1 observation rows (the
    last one bootstraps, and is the next rollout's first), T actions and behaviour logits, and
    the LSTM state before row 0."""

    def __init__(self, length: int, num_envs: int, spec: Spec):
        rows, n = length + 1, num_envs
        self.length = length
        # Fresh buffers for every rollout: the update may still be reading the last ones (jax
        # can use host numpy memory without copying it on CPU).
        self.data: dict[str, np.ndarray] = {
            "image": np.zeros((n, rows, *spec.image_shape), np.uint8),
            "token": np.zeros((n, rows), np.int32),
            "reward": np.zeros((n, rows), np.float32),
            "is_first": np.zeros((n, rows), bool),
            "is_terminal": np.zeros((n, rows), bool),
            "prev_action": np.zeros((n, rows), np.int32),
            "action": np.zeros((n, length), np.int32),
            "logits": np.zeros((n, length, spec.n_actions), np.float32),
        }
        self.state: Any = None  # the LSTM state (c, h) before row 0
        self.t = 0  # rows 0..t-1 are written

    def add_observation(self, obs: runner.Obs, prev_action: Any) -> None:
        """Row ``t``'s observation and the action that led to it."""
        for key in _OBS_KEYS:
            self.data[key][:, self.t] = obs[key]
        self.data["prev_action"][:, self.t] = prev_action

    def add_action(self, action: np.ndarray, logits: np.ndarray) -> None:
        """Row ``t``'s action and behaviour logits; the row is complete."""
        self.data["action"][:, self.t] = action
        self.data["logits"][:, self.t] = logits
        self.t += 1

    @property
    def full(self) -> bool:
        """All T actions are taken (the bootstrap row T is then written too)."""
        return self.t == self.length

    def batch(self) -> impala.Batch:
        return {**self.data, "state": self.state}

    @property
    def nbytes(self) -> int:
        return sum(x.nbytes for x in self.data.values())


class Trainer(runner.Trainer):
    """Batched synchronous actors and one V-trace update per full rollout."""

    name = "impala"
    learner = impala
    aux_kept = ("logits",)
    batch_field = "num_envs"  # the rollout's rows are envs

    def episodes_started(self) -> None:
        self.rollout = Rollout(self.cfg.unroll_length, self.cfg.num_envs, self.spec)

    def describe(self) -> str:
        cfg = self.cfg
        return (f"rollouts of {cfg.unroll_length} steps x {cfg.num_envs} envs "
                f"({format_size(self.rollout.nbytes)} on the host), one V-trace update each")

    # ------------------------------------------------------------------ acting and learning
    def act(self) -> None:
        if self.rollout.full:
            raise RuntimeError("the rollout is full: call train() after every act()")
        super().act()

    def remember(self, carry: Carry, action: np.ndarray, aux: dict[str, Any]) -> None:
        """The step goes into the rollout, with the LSTM state it started from when it is the
        rollout's first."""
        if self.rollout.t == 0:
            self.rollout.state = carry.lstm
        self.rollout.add_observation(self.obs, carry.action)
        self.rollout.add_action(action, np.asarray(aux["logits"]))

    def stepped(self) -> None:
        if self.rollout.full:  # the observation reached is the rollout's bootstrap row T
            self.rollout.add_observation(self.obs, self.carry.action)

    def updates_owed(self) -> int:
        """One update when the rollout is full (its last row starts the next one)."""
        self.update_credit = float(self.rollout.full)
        return int(self.update_credit)

    def update_once(self) -> dict[str, Any]:
        self.state, metrics = self.learn(self.rollout.batch())
        self.rollout = Rollout(self.cfg.unroll_length, self.cfg.num_envs, self.spec)
        return metrics
