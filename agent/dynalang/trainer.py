"""Dynalang's trainer: every env step goes into the replay; updates run at the train ratio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np

from agent import checkpoint, runner
from agent.dynalang import agent as dynalang
from agent.dynalang.config import Config
from agent.dynalang.recipes import warn_batch_length
from agent.replay import Replay


class Trainer(runner.Trainer):
    """Env stepping, replay and updates at the train ratio (replayed steps per env step)."""

    name = "dynalang"

    def __init__(self, cfg: Config, env: runner.EnvConfig, logdir: str | Path):
        super().__init__(cfg, env, logdir)
        warn_batch_length(cfg.batch_length, env.id)
        self.net = dynalang.build(cfg, self.spec)
        key, k_init = jax.random.split(jax.random.PRNGKey(cfg.seed))
        self.state = dynalang.init_train_state(self.net, cfg, self.spec, k_init)
        self.update = dynalang.make_update(self.net, cfg, self.spec)
        policy = dynalang.policy(cfg, self.spec)
        self.initial = policy.initial
        self.policy = jax.jit(lambda *args: policy.step(*args)[:2])  # no next-token guess
        self.replay = Replay(cfg.replay_capacity, cfg.num_envs, seed=cfg.seed)
        self.key = key
        self.start_episodes()

    def start_episodes(self) -> None:
        self.obs = self.env.reset()
        self.carry = self.initial(self.state.params, self.cfg.num_envs)

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
        owed = self.owe_updates(cfg.batch_size * cfg.batch_length,
                                ready=self.replay.steps_per_env >= cfg.batch_length)
        metrics = None
        for _ in range(owed):
            batch = self.replay.sample(cfg.batch_size, cfg.batch_length)
            if self.updates == 0 and not self._image_decoder_trained():
                params = dynalang.with_image_prior(self.state.params, batch["image"], self.spec)
                self.state = self.state._replace(params=params)
            self.state, metrics = self.learn(batch)
            self.update_credit -= 1
            self.updates += 1
        return metrics or {}

    def _image_decoder_trained(self) -> bool:
        """Whether the image decoder's output bias has left its zero start: a world model
        loaded with ``--init-wm`` from an earlier RL stage keeps what it learned (text
        pretraining never touches the decoder, so it still gets the data-dependent start)."""
        return bool(np.asarray(self.state.params["wm"]["image"]["params"]["bias"]).any())

    # ------------------------------------------------------------------ checkpoints
    def save_files(self, directory: Path) -> None:
        self.replay.save(directory / "replay.npz")

    def load_files(self, directory: Path) -> None:
        self.replay = Replay.load(directory / "replay.npz")

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
