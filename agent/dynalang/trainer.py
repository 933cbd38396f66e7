"""Dynalang's trainer: every env step goes into the replay; updates run at the train ratio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np

from agent import checkpoint, runner
from agent.dynalang import agent as dynalang
from agent.dynalang.config import Config
from agent.replay import Replay


class Trainer(runner.Trainer):
    """Env stepping, replay and updates at the train ratio (replayed steps per env step)."""

    name = "dynalang"

    def __init__(self, cfg: Config, env: runner.EnvConfig, logdir: str | Path):
        super().__init__(cfg, env, logdir)
        self.net = dynalang.build(cfg, self.spec)
        key, k_init = jax.random.split(jax.random.PRNGKey(cfg.seed))
        self.state = dynalang.init_train_state(self.net, cfg, self.spec, k_init)
        self.update = dynalang.make_update(self.net, cfg, self.spec)
        policy = dynalang.policy(cfg, self.spec)
        self.initial = policy.initial
        self.policy = jax.jit(lambda *args: policy.step(*args)[:2])  # no next-token guess
        self.replay = Replay(cfg.replay_capacity, cfg.num_envs, seed=cfg.seed)
        self.key = key
        self.update_credit = 0.0
        self.start_episodes()

    def start_episodes(self) -> None:
        self.obs = self.env.reset()
        self.carry = self.initial(self.state.params, self.cfg.num_envs)

    @property
    def params(self) -> Any:
        return self.state.params

    @staticmethod
    def params_of(blob: dict[str, Any]) -> Any:
        return blob["state"].params

    def describe(self) -> str:
        return self.replay.describe()

    # ------------------------------------------------------------------ acting and learning
    def act(self) -> None:
        self.key, k = jax.random.split(self.key)
        obs = {key: self.obs[key] for key in ("image", "token", "is_first")}
        action, self.carry = self.policy(self.state.params, obs, self.carry, k)
        action = np.asarray(action).astype(np.int32)
        self.replay.add({**{k: self.obs[k] for k in ("image", "token", "reward", "is_first",
                                                        "is_terminal")}, "action": action})
        self.step_envs(action)

    def train(self) -> dict[str, Any]:
        cfg = self.cfg
        self.update_credit = runner.owed_updates(self.update_credit, cfg.num_envs,
                                                 cfg.train_ratio,
                                                 cfg.batch_size * cfg.batch_length)
        if self.replay.steps_per_env < cfg.batch_length:
            self.update_credit = min(self.update_credit, 1.0)  # no debt piles up while filling
            return {}
        metrics = None
        while self.update_credit >= 1:
            batch = self.replay.sample(cfg.batch_size, cfg.batch_length)
            self.state, metrics = self.update(self.state, batch)
            self.update_credit -= 1
            self.updates += 1
        return metrics or {}

    # ------------------------------------------------------------------ checkpoints
    def agent_state(self) -> dict[str, Any]:
        return {"state": self.state, "key": self.key}

    def load_agent_state(self, blob: dict[str, Any]) -> None:
        self.state = jax.device_put(blob["state"])
        self.key = jax.device_put(blob["key"])

    def counters(self) -> dict[str, Any]:
        return {**super().counters(), "update_credit": self.update_credit}

    def load_counters(self, counters: dict[str, Any]) -> None:
        super().load_counters(counters)
        self.update_credit = counters["update_credit"]

    def save_files(self) -> None:
        self.replay.save(self.logdir / "replay.npz")

    def load_files(self) -> None:
        self.replay = Replay.load(self.logdir / "replay.npz")

    def init_world_model(self, source: str | Path) -> None:
        """Start from the world model of another run (``agent.pretrain_text`` or an earlier
        stage); the actor and critic start fresh, as in the paper's fine-tuning."""
        blob = checkpoint.load(source)
        wm = blob["state"].params["wm"]
        mine = self.state.params["wm"]
        shapes = jax.tree.map(np.shape, wm)
        if jax.tree.structure(shapes) != jax.tree.structure(jax.tree.map(np.shape, mine)) or (
                shapes != jax.tree.map(np.shape, mine)):
            raise ValueError(f"the world model in {checkpoint.path_of(source)} (config "
                             f"{blob['config']}, env {blob['spec']}) does not fit this one "
                             f"({self.cfg}, {self.spec}): sizes and the vocabulary must match")
        params = {**self.state.params, "wm": jax.device_put(wm)}
        self.state = self.state._replace(params=params)
