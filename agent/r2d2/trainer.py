"""R2D2's trainer: epsilon-greedy actors fill a prioritised sequence replay; updates run at the
train ratio and write the sequences' new priorities back.

Acting.  Env i of N explores with its own epsilon_i = 0.4^(1 + 7 i / (N - 1)) (the Ape-X / R2D2
ladder), passed to the policy as ``obs["epsilon"]``.  Every step goes into the replay; every
``seq_period`` steps the LSTM state and previous action of each env (the carry *before* that
step) are stored as the start of a new sequence: R2D2's stored state, refreshed by the burn-in.

Learning.  Updates are owed at ``train_ratio`` trained steps per env step (one update trains
``batch_size * train_length`` steps; the burn-in is not counted), once the replay holds
``min_replay`` sequences.  Each update samples by priority, runs the jitted learner step and
writes the priorities it returns back before the next sample.

Resuming.  The envs' own state is not saved, so a resumed run starts new episodes; the replay
ends each env's interrupted episode at its newest stored step as a time limit would
(``is_last`` without ``is_terminal``), so no target runs from one episode into the next.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np

from agent import runner
from agent.r2d2 import learner as r2d2
from agent.r2d2 import maths
from agent.r2d2.replay import SequenceReplay
from agent.torso import Carry

REPLAY_FILE = "replay.npz"


class Trainer(runner.Trainer):
    """Epsilon-greedy actors, prioritised sequence replay and the R2D2 learner."""

    name = "r2d2"
    learner = r2d2

    def setup(self) -> None:
        cfg = self.cfg
        self.epsilons = maths.actor_epsilons(cfg.num_envs, cfg.epsilon, cfg.epsilon_alpha)
        self.replay = SequenceReplay(cfg.replay_capacity, cfg.num_envs, cfg.sequence_length,
                                     cfg.seq_period, seed=cfg.seed,
                                     priority_exponent=cfg.priority_exponent,
                                     importance_exponent=cfg.importance_exponent)

    def episodes_started(self) -> None:
        # Episodes in progress were dropped without an is_last step (a resumed run): end them
        # in the replay as a time limit would, so no sequence joins them to the new ones.  A
        # no-op on an empty replay.
        self.replay.end_episodes("is_last")

    def describe(self) -> str:
        return self.replay.describe()

    # ------------------------------------------------------------------ acting and learning
    def policy_extras(self) -> dict[str, Any]:
        return {"epsilon": self.epsilons}

    def remember(self, carry: Carry, action: np.ndarray, aux: dict[str, Any]) -> None:
        start = None
        if self.replay.wants_start:
            # The state this step starts from (fetched only every seq_period steps).
            (c, h), prev_action = jax.device_get(carry)  # (LSTM state, the action taken last)
            start = {"lstm_c": c, "lstm_h": h, "prev_action": prev_action}
        self.replay.add({**{k: self.obs[k] for k in r2d2.STEP_KEYS if k != "action"},
                         "action": action}, start)

    def updates_owed(self) -> int:
        cfg = self.cfg
        return self.owe_updates(cfg.batch_size * cfg.train_length,
                                ready=len(self.replay) >= max(cfg.min_replay, 1))

    def update_once(self) -> dict[str, Any]:
        batch, sampled = self.replay.sample(self.cfg.batch_size)
        self.state, metrics, priorities = self.learn(batch)
        # The next sample must see these priorities, so this waits for the update.
        self.replay.update_priorities(sampled, np.asarray(priorities))
        return metrics

    # ------------------------------------------------------------------ checkpoints
    def save_files(self, directory: Path) -> None:
        self.replay.save(directory / REPLAY_FILE)

    def load_files(self, directory: Path) -> None:
        self.replay = SequenceReplay.load(directory / REPLAY_FILE)
