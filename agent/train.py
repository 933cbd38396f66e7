"""Train Dynalang on any env that follows the observation contract.

    python -m agent.train --env HomeGrid-Task-v0 --steps 200000 --preset small --logdir runs/hg
    python -m agent.train --env Messenger-S1-v0 --image-key grid --pad-grid 16 --preset tiny ...
    python -m agent.train --logdir runs/hg --resume          # continue from the last checkpoint

Every env step of every env counts toward ``--steps`` (read steps included; the real-step
counter is logged beside it).  Updates run at ``train_ratio`` replayed steps per env step.
Metrics go to ``LOGDIR/metrics.jsonl``; checkpoints (parameters, optimisers, replay, counters,
RNG) to ``LOGDIR/checkpoint`` every ``--checkpoint-every`` env steps, written atomically.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import jax
import numpy as np

from agent.dynalang import agent as dynalang
from agent.dynalang import config as config_lib
from agent.envs import EnvAdapter
from agent.replay import Replay


def parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, config_lib.Config]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HomeGrid-Task-v0", help="Gymnasium env id")
    parser.add_argument("--steps", type=int, default=100_000, help="env steps to train for")
    parser.add_argument("--logdir", default="runs/dynalang", help="metrics and checkpoints")
    parser.add_argument("--image-key", default="image", help="'grid' for Messenger's symbols")
    parser.add_argument("--pad-grid", type=int, default=None, help="pad the grid to this side")
    parser.add_argument("--checkpoint-every", type=int, default=10_000, help="env steps")
    parser.add_argument("--log-every", type=int, default=1_000, help="env steps")
    parser.add_argument("--resume", action="store_true", help="continue from LOGDIR/checkpoint")
    config_lib.add_arguments(parser)
    args = parser.parse_args(argv)
    return args, config_lib.from_args(args)


class Trainer:
    """Env stepping, replay and updates at the train ratio; checkpointing for exact resume."""

    def __init__(self, cfg: config_lib.Config, env_id: str, logdir: str | Path,
                 image_key: str = "image", pad_grid: int | None = None):
        self.cfg, self.logdir = cfg, Path(logdir)
        self.env = EnvAdapter(env_id, cfg.num_envs, image_key=image_key, pad_grid_to=pad_grid,
                              seed=cfg.seed)
        self.spec = dynalang.Spec(tuple(self.env.image_shape), self.env.vocab_size,
                                  self.env.n_actions, binary_image=image_key == "grid")
        self.net = dynalang.build(cfg, self.spec)
        key = jax.random.PRNGKey(cfg.seed)
        key, k_init = jax.random.split(key)
        self.state = dynalang.init_train_state(self.net, cfg, self.spec, k_init)
        self.update = dynalang.make_update(self.net, cfg, self.spec)
        self.policy = dynalang.make_policy(self.net, cfg, self.spec)
        self.replay = Replay(cfg.replay_capacity, cfg.num_envs, seed=cfg.seed)
        self.key = key
        self.env_steps = self.real_steps = self.updates = 0
        self.update_credit = 0.0
        self.obs = self.env.reset()
        self.carry = dynalang.initial_carry(self.net, self.state.params, cfg.num_envs,
                                            self.spec.n_actions)

    # ------------------------------------------------------------------ one env step
    def act(self) -> None:
        self.key, k = jax.random.split(self.key)
        obs = {key: self.obs[key] for key in ("image", "token", "is_first")}
        action, self.carry = self.policy(self.state.params, obs, self.carry, k)
        action = np.asarray(action)
        self.replay.add({**{k: self.obs[k] for k in ("image", "token", "reward", "is_first",
                                                        "is_terminal")},
                         "action": action.astype(np.int32)})
        self.real_steps += int((~self.obs["is_read_step"]).sum())
        self.obs = self.env.step(action)
        self.env_steps += self.cfg.num_envs

    def train(self) -> dict[str, float]:
        """Updates owed at the train ratio (once the replay holds a batch)."""
        cfg = self.cfg
        self.update_credit += cfg.num_envs * cfg.train_ratio / (cfg.batch_size * cfg.batch_length)
        metrics: dict[str, float] = {}
        if len(self.replay) < cfg.num_envs * (cfg.batch_length + 1):
            return metrics
        while self.update_credit >= 1:
            batch = self.replay.sample(cfg.batch_size, cfg.batch_length)
            self.state, m = self.update(self.state, batch)
            self.update_credit -= 1
            self.updates += 1
            metrics = m
        return {k: float(v) for k, v in metrics.items()}

    # ------------------------------------------------------------------ checkpoints
    def save(self) -> None:
        self.logdir.mkdir(parents=True, exist_ok=True)
        path = self.logdir / "checkpoint"
        blob = {"config": self.cfg, "spec": self.spec, "state": jax.device_get(self.state),
                "key": jax.device_get(self.key), "counters": (self.env_steps, self.real_steps,
                                                             self.updates, self.update_credit)}
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(blob, f)
        self.replay.save(self.logdir / "replay.npz")
        os.replace(tmp, path)  # the checkpoint only appears once complete

    def load(self) -> None:
        path = self.logdir / "checkpoint"
        if not path.exists():
            raise FileNotFoundError(f"no checkpoint at {path} to resume from")
        with open(path, "rb") as f:
            blob = pickle.load(f)
        differences = [f"{name}: checkpoint {old!r}, this run {new!r}"
                       for name, old, new in _differences(blob["config"], self.cfg)]
        if blob["spec"] != self.spec:
            differences.append(f"env: checkpoint {blob['spec']}, this run {self.spec}")
        if differences:
            raise ValueError(f"the checkpoint at {path} comes from a different run; "
                             + "; ".join(differences))
        self.state = jax.device_put(blob["state"])
        self.key = blob["key"]
        self.env_steps, self.real_steps, self.updates, self.update_credit = blob["counters"]
        self.replay = Replay.load(self.logdir / "replay.npz")


def _differences(a: config_lib.Config, b: config_lib.Config) -> list[tuple[str, Any, Any]]:
    return [(f.name, getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
            if getattr(a, f.name) != getattr(b, f.name)]


def main(argv: Sequence[str] | None = None) -> None:
    args, cfg = parse(argv)
    trainer = Trainer(cfg, args.env, args.logdir, args.image_key, args.pad_grid)
    if args.resume:
        trainer.load()
    print(trainer.replay.describe(), file=sys.stderr)
    Path(args.logdir).mkdir(parents=True, exist_ok=True)
    log = open(Path(args.logdir) / "metrics.jsonl", "a")
    start, start_steps = time.time(), trainer.env_steps
    next_log = trainer.env_steps + args.log_every
    next_ckpt = trainer.env_steps + args.checkpoint_every
    returns: list[float] = []
    metrics: dict[str, Any] = {}
    while trainer.env_steps < args.steps:
        trainer.act()
        metrics = trainer.train() or metrics
        returns += [ep["return"] for ep in trainer.env.take_completed()]
        if trainer.env_steps >= next_log:
            rate = (trainer.env_steps - start_steps) / (time.time() - start)
            record = {"env_steps": trainer.env_steps, "real_steps": trainer.real_steps,
                      "updates": trainer.updates, "env_steps_per_s": rate,
                      "episode_return": float(np.mean(returns)) if returns else None,
                      "episodes": len(returns), **metrics}
            log.write(json.dumps(record) + "\n")
            log.flush()
            print(f"\rsteps {trainer.env_steps:,}/{args.steps:,}  {rate:,.0f} env steps/s  "
                  f"updates {trainer.updates:,}  return "
                  f"{record['episode_return'] if returns else float('nan'):.3f}",
                  end="", file=sys.stderr)
            returns = []
            next_log += args.log_every
        if trainer.env_steps >= next_ckpt:
            trainer.save()
            next_ckpt += args.checkpoint_every
    trainer.save()
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
