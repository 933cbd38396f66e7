"""Train Dynalang on any Gymnasium env that follows the observation contract.

    python -m agent.train --env HomeGrid-Task-v0 --steps 200000 --preset small --logdir runs/hg
    python -m agent.train --env Messenger-S1-v0 --preset tiny --logdir runs/s1
    python -m agent.train --logdir runs/hg --resume     # continue from the last checkpoint
    python -m agent.train ... --init-wm runs/pretrain   # start from a pretrained world model

Every env step of every env counts toward ``--steps`` (read steps included; the real-step
counter, which leaves them out, is logged beside it).  Updates run at ``--train-ratio`` replayed
steps per env step.  Metrics go to ``LOGDIR/metrics.jsonl`` and TensorBoard event files in
LOGDIR; a checkpoint (parameters, optimisers, replay, counters, RNG) is written atomically every
``--checkpoint-every`` env steps and at the end.  ``--resume`` continues from it: the envs start
new episodes (episodes in flight are not saved), everything else is as it was.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import jax
import numpy as np
from gymnasium.vector import VectorEnv

from agent import checkpoint
from agent.dynalang import agent as dynalang
from agent.dynalang import config as config_lib
from agent.envs import EnvAdapter
from agent.logger import Logger
from agent.replay import Replay


@dataclasses.dataclass(frozen=True)
class EnvConfig:
    """How the training envs are made (saved in the checkpoint, so eval makes the same)."""

    id: str = "HomeGrid-Task-v0"
    """Gymnasium env id (project ids need no import; others as "module:Id")."""
    image_key: str = "auto"
    """observation the world model sees: "image", "grid", or "auto" (grid if the env has one)."""
    pad_to: str = "auto"
    """pad the image to this side ("auto": next power of two, as Dynalang pads Messenger)."""

    def adapter(self, num_envs: int, seed: int, env: VectorEnv | None = None) -> EnvAdapter:
        """``num_envs`` envs made from the id, or the given vector ``env``, seen as the agent
        sees them."""
        pad: int | str | None = self.pad_to
        if pad not in ("auto", "none"):
            pad = int(pad)
        return EnvAdapter(self.id if env is None else env, num_envs, image_key=self.image_key,
                          pad_grid_to=None if pad == "none" else pad, seed=seed)


class Trainer:
    """Env stepping, replay and updates at the train ratio; checkpoints for exact resume."""

    def __init__(self, cfg: config_lib.Config, env: EnvConfig, logdir: str | Path):
        self.cfg, self.env_cfg, self.logdir = cfg, env, Path(logdir)
        self.env = env.adapter(cfg.num_envs, cfg.seed)
        self.spec = dynalang.Spec(tuple(self.env.image_shape), self.env.vocab_size,
                                  self.env.n_actions, binary_image=self.env.image_key == "grid")
        self.net = dynalang.build(cfg, self.spec)
        key, k_init = jax.random.split(jax.random.PRNGKey(cfg.seed))
        self.state = dynalang.init_train_state(self.net, cfg, self.spec, k_init)
        self.update = dynalang.make_update(self.net, cfg, self.spec)
        self.policy = dynalang.make_policy(self.net, cfg, self.spec)
        self.replay = Replay(cfg.replay_capacity, cfg.num_envs, seed=cfg.seed)
        self.key = key
        self.env_steps = self.real_steps = self.updates = 0
        self.update_credit = 0.0
        self._start_episodes()

    def _start_episodes(self) -> None:
        self.obs = self.env.reset()
        self.carry = dynalang.initial_carry(self.net, self.state.params, self.cfg.num_envs,
                                            self.spec.n_actions)

    # ------------------------------------------------------------------ one env step
    def act(self) -> None:
        """One step of every env with the current policy; the step goes into the replay."""
        self.key, k = jax.random.split(self.key)
        obs = {key: self.obs[key] for key in ("image", "token", "is_first")}
        action, self.carry = self.policy(self.state.params, obs, self.carry, k)
        action = np.asarray(action).astype(np.int32)
        self.replay.add({**{k: self.obs[k] for k in ("image", "token", "reward", "is_first",
                                                        "is_terminal")}, "action": action})
        self.real_steps += int((~self.obs["is_read_step"]).sum())
        self.obs = self.env.step(action)
        self.env_steps += self.cfg.num_envs

    def train(self) -> dict[str, Any]:
        """The updates owed at the train ratio (once the replay holds a batch); the metrics of
        the last one as device arrays (fetched only when logged: a fetch waits for the
        update), or {} if none ran."""
        cfg = self.cfg
        self.update_credit += cfg.num_envs * cfg.train_ratio / (cfg.batch_size * cfg.batch_length)
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
    def save(self) -> None:
        """Checkpoint and replay, each written atomically (replay first: a checkpoint never
        points at a replay older than itself)."""
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.replay.save(self.logdir / "replay.npz")
        checkpoint.save(self.logdir, {
            "agent": "dynalang", "config": self.cfg, "spec": self.spec,
            "env": dataclasses.asdict(self.env_cfg), "state": self.state, "key": self.key,
            "counters": {"env_steps": self.env_steps, "real_steps": self.real_steps,
                         "updates": self.updates, "update_credit": self.update_credit}})

    def load(self) -> None:
        """Continue from the run's checkpoint; refuses one from a different configuration."""
        blob = checkpoint.load(self.logdir)
        differences = [f"{name}: checkpoint {old!r}, this run {new!r}"
                       for name, old, new in config_differences(blob["config"], self.cfg)]
        if blob["env"] != dataclasses.asdict(self.env_cfg) or blob["spec"] != self.spec:
            differences.append(f"env: checkpoint {blob['env']} {blob['spec']}, this run "
                               f"{dataclasses.asdict(self.env_cfg)} {self.spec}")
        if differences:
            raise ValueError(f"the checkpoint at {checkpoint.path_of(self.logdir)} comes from "
                             f"a different configuration, so it cannot be resumed; "
                             f"differences: " + "; ".join(differences))
        self.state = jax.device_put(blob["state"])
        self.key = jax.device_put(blob["key"])
        counters = blob["counters"]
        self.env_steps, self.real_steps = counters["env_steps"], counters["real_steps"]
        self.updates, self.update_credit = counters["updates"], counters["update_credit"]
        self.replay = Replay.load(self.logdir / "replay.npz")
        # New episodes, seeded apart from the first run's (the envs' own state is not saved).
        self.env.close()
        self.env = self.env_cfg.adapter(self.cfg.num_envs, self.cfg.seed + self.env_steps)
        self._start_episodes()

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


def config_differences(a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    """(field, a's value, b's value) for every field where two dataclasses differ."""
    return [(f.name, getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
            if getattr(a, f.name) != getattr(b, f.name)]


def add_env_arguments(parser: argparse.ArgumentParser, default_id: str = EnvConfig.id) -> None:
    """``--env``, ``--image-key`` and ``--pad-to`` (None when not given, so that a resumed run
    can tell a flag given from a default)."""
    parser.add_argument("--env", default=None, help=f"Gymnasium env id (default {default_id})")
    parser.add_argument("--image-key", default=None, help="image, grid or auto (default)")
    parser.add_argument("--pad-to", default=None, help="image side, auto (default) or none")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog="Config fields (override the preset):",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_env_arguments(parser)
    parser.add_argument("--steps", type=int, default=100_000,
                        help="train until this many env steps (read steps included)")
    parser.add_argument("--logdir", default="runs/dynalang", help="metrics and checkpoints")
    parser.add_argument("--checkpoint-every", type=int, default=20_000, help="env steps")
    parser.add_argument("--log-every", type=int, default=1_000, help="env steps")
    parser.add_argument("--resume", action="store_true", help="continue from LOGDIR's checkpoint")
    parser.add_argument("--init-wm", default=None,
                        help="run directory whose world model to start from")
    parser.add_argument("--no-tensorboard", action="store_true", help="JSONL metrics only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    config_lib.add_arguments(parser)
    return parser.parse_args(argv)


def _env_overrides(args: argparse.Namespace) -> dict[str, str]:
    given = {"id": args.env, "image_key": args.image_key, "pad_to": args.pad_to}
    return {k: v for k, v in given.items() if v is not None}


def configs(args: argparse.Namespace) -> tuple[config_lib.Config, EnvConfig]:
    """The run's configuration: from the flags, or on ``--resume`` from the checkpoint, with
    any flag given that contradicts the checkpoint refused."""
    if not args.resume:
        return config_lib.from_args(args), EnvConfig(**_env_overrides(args))
    blob = checkpoint.load(args.logdir)
    cfg, env = blob["config"], EnvConfig(**blob["env"])
    asked = config_lib.Config.preset(args.preset, **config_lib.overrides_of(args)) if (
        args.preset) else dataclasses.replace(cfg, **config_lib.overrides_of(args))
    asked_env = dataclasses.replace(env, **_env_overrides(args))
    differences = [f"{name}: checkpoint {old!r}, asked {new!r}"
                   for name, old, new in (config_differences(cfg, asked)
                                          + config_differences(env, asked_env))]
    if differences:
        raise SystemExit(f"cannot resume {checkpoint.path_of(args.logdir)} with a different "
                         f"configuration ({'; '.join(differences)}); leave those flags out to "
                         f"continue the run as it was, or start a new --logdir")
    return cfg, env


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    logdir = Path(args.logdir)
    if not args.resume and checkpoint.path_of(logdir).exists():
        sys.exit(f"{logdir} already holds a run: add --resume to continue it, or choose "
                 f"another --logdir")
    cfg, env_cfg = configs(args)
    trainer = Trainer(cfg, env_cfg, logdir)
    if args.resume:
        trainer.load()
    elif args.init_wm:
        trainer.init_world_model(args.init_wm)
    params = sum(int(np.size(x)) for x in jax.tree.leaves(trainer.state.params))
    print(f"dynalang: {params / 1e6:.2f}M parameters on "
          f"{jax.devices()[0].platform}; env {env_cfg.id} x {cfg.num_envs} "
          f"(image {trainer.spec.image_shape}, vocab {trainer.spec.vocab_size}); "
          f"{trainer.replay.describe()}", file=sys.stderr)
    logger = Logger(logdir, args.steps, trainer.env_steps,
                    tensorboard=not args.no_tensorboard, progress=not args.no_progress)
    clock, steps_then, updates_then = time.time(), trainer.env_steps, trainer.updates
    next_log = (trainer.env_steps // args.log_every + 1) * args.log_every
    next_ckpt = (trainer.env_steps // args.checkpoint_every + 1) * args.checkpoint_every
    episodes: list[dict] = []
    metrics: dict[str, Any] = {}
    try:
        while trainer.env_steps < args.steps:
            trainer.act()
            metrics = trainer.train() or metrics
            episodes += trainer.env.take_completed()
            logger.advance(cfg.num_envs)
            if trainer.env_steps >= next_log:
                now = time.time()
                logger.write({
                    "env_steps": trainer.env_steps, "real_steps": trainer.real_steps,
                    "updates": trainer.updates,
                    "env_steps_per_s": (trainer.env_steps - steps_then) / (now - clock),
                    "updates_per_s": (trainer.updates - updates_then) / (now - clock),
                    "episode_return": (float(np.mean([e["return"] for e in episodes]))
                                       if episodes else None),
                    "episode_length": (float(np.mean([e["length"] for e in episodes]))
                                       if episodes else None),
                    "episodes": len(episodes), **jax.device_get(metrics)})
                clock, steps_then, updates_then = now, trainer.env_steps, trainer.updates
                episodes = []
                next_log += args.log_every
            if trainer.env_steps >= next_ckpt:
                trainer.save()
                next_ckpt += args.checkpoint_every
        trainer.save()
    finally:
        logger.close()
        trainer.env.close()


if __name__ == "__main__":
    main()
