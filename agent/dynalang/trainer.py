"""Dynalang's trainer: every env step goes into the replay; updates run at the train ratio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np

from agent import checkpoint, runner
from agent.dynalang import learner as dynalang
from agent.dynalang.recipes import warn_batch_length
from agent.replay import Replay

#: what the replay keeps of each step besides the action (and ``sentence`` where the envs give
#: sentence context)
STEP_KEYS = ("image", "token", "reward", "is_first", "is_terminal")


class Trainer(runner.Trainer):
    """Env stepping, replay and updates at the train ratio (replayed steps per env step)."""

    name = "dynalang"
    learner = dynalang

    def setup(self) -> None:
        warn_batch_length(self.cfg.batch_length, self.env_cfg.id)
        self.replay = Replay(self.cfg.replay_capacity, self.cfg.num_envs, seed=self.cfg.seed)

    def describe(self) -> str:
        return self.replay.describe()

    # ------------------------------------------------------------------ acting and learning
    def remember(self, carry: Any, action: np.ndarray, aux: dict[str, Any]) -> None:
        keys = (STEP_KEYS + ("sentence",)) if self.spec.sentence_size else STEP_KEYS
        self.replay.add({**{k: self.obs[k] for k in keys}, "action": action})

    def updates_owed(self) -> int:
        cfg = self.cfg
        return self.owe_updates(cfg.batch_size * cfg.batch_length,
                                ready=self.replay.steps_per_env >= cfg.batch_length)

    def update_once(self) -> dict[str, Any]:
        batch = self.replay.sample(self.cfg.batch_size, self.cfg.batch_length)
        if self.updates == 0 and not self._image_decoder_trained():
            params = dynalang.with_image_prior(self.state.params, batch["image"], self.spec)
            self.state = self.state._replace(params=params)
        self.state, metrics = self.learn(batch)
        return metrics

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
        # Nested dicts of shapes: unequal when a part is missing, extra or of another size.
        if jax.tree.map(np.shape, wm) != jax.tree.map(np.shape, mine):
            raise ValueError(f"the world model in {checkpoint.path_of(source)} (config "
                             f"{blob['config']}, env {blob['spec']}) does not fit this one "
                             f"({self.cfg}, {self.spec}): sizes and the vocabulary must match, "
                             f"and sentence context")
        params = {**self.state.params, "wm": jax.device_put(wm)}
        self.state = self.state._replace(params=params)
