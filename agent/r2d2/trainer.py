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

import functools
from pathlib import Path
from typing import Any, Callable

import jax
import numpy as np

from agent import runner
from agent.envs import Spec
from agent.r2d2 import learner, maths
from agent.r2d2.config import Config
from agent.r2d2.replay import SequenceReplay

REPLAY_FILE = "replay.npz"


@functools.lru_cache(maxsize=8)
def _jitted_step(cfg: Config, spec: Spec) -> Callable:
    """The policy step, jitted without its (empty) aux; cached like the update."""
    step = learner.policy(cfg, spec).step
    return jax.jit(lambda *args: step(*args)[:2])


class Trainer(runner.Trainer):
    """Epsilon-greedy actors, prioritised sequence replay and the R2D2 learner."""

    name = "r2d2"

    def __init__(self, cfg: Config, env: runner.EnvConfig, logdir: str | Path):
        super().__init__(cfg, env, logdir)
        key, k_init = jax.random.split(jax.random.PRNGKey(cfg.seed))
        self.state = learner.init_train_state(cfg, self.spec, k_init)
        self.update = learner.make_update(cfg, self.spec)
        self.initial = learner.policy(cfg, self.spec).initial
        self.policy = _jitted_step(cfg, self.spec)
        self.epsilons = maths.actor_epsilons(cfg.num_envs, cfg.epsilon, cfg.epsilon_alpha)
        self.replay = self._new_replay()
        self.key = key
        self.start_episodes()

    def _new_replay(self) -> SequenceReplay:
        cfg = self.cfg
        return SequenceReplay(cfg.replay_capacity, cfg.num_envs, cfg.sequence_length,
                              cfg.seq_period, seed=cfg.seed,
                              priority_exponent=cfg.priority_exponent,
                              importance_exponent=cfg.importance_exponent)

    def start_episodes(self) -> None:
        self.obs = self.env.reset()
        self.carry = self.initial(self.state.params, self.cfg.num_envs)
        # Episodes in progress were dropped without an is_last step (a resumed run): end them
        # in the replay as a time limit would, so no sequence joins them to the new ones.  A
        # no-op on an empty replay.
        self.replay.end_episodes("is_last")

    def describe(self) -> str:
        return self.replay.describe()

    # ------------------------------------------------------------------ acting and learning
    def act(self) -> None:
        self.key, k = jax.random.split(self.key)
        obs = {key: self.obs[key] for key in ("image", "token", "reward", "is_first")}
        obs["epsilon"] = self.epsilons
        start = None
        if self.replay.wants_start:
            # The state this step starts from (fetched only every seq_period steps).
            (c, h), prev_action = jax.device_get(self.carry)
            start = {"lstm_c": c, "lstm_h": h, "prev_action": prev_action}
        action, self.carry = self.policy(self.state.params, obs, self.carry, k, False)
        action = np.asarray(action).astype(np.int32)
        self.replay.add({**{k: self.obs[k] for k in learner.STEP_KEYS if k != "action"},
                         "action": action}, start)
        self.step_envs(action)

    def train(self) -> dict[str, Any]:
        cfg = self.cfg
        owed = self.owe_updates(cfg.batch_size * cfg.train_length,
                                ready=len(self.replay) >= max(cfg.min_replay, 1))
        metrics = None
        for _ in range(owed):
            batch, sampled = self.replay.sample(cfg.batch_size)
            self.state, metrics, priorities = self.learn(batch)
            # The next sample must see these priorities, so this waits for the update.
            self.replay.update_priorities(sampled, np.asarray(priorities))
            self.update_credit -= 1
            self.updates += 1
        return metrics or {}

    # ------------------------------------------------------------------ checkpoints
    def save_files(self, directory: Path) -> None:
        self.replay.save(directory / REPLAY_FILE)

    def load_files(self, directory: Path) -> None:
        self.replay = SequenceReplay.load(directory / REPLAY_FILE)
