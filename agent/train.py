"""Train an agent (Dynalang, or the IMPALA / R2D2 baselines) on any env of the observation contract.

    python -m agent.train --env HomeGrid-Task-v0 --steps 200000 --preset small --logdir runs/hg
    python -m agent.train --agent impala --env Messenger-S1-v0 --preset tiny --logdir runs/s1
    python -m agent.train --logdir runs/hg --resume     # continue from the last checkpoint
    python -m agent.train ... --init-wm runs/pretrain   # Dynalang: a pretrained world model
    python -m agent.train --agent r2d2 --help           # that agent's config fields

Every env step of every env counts toward ``--steps`` (read steps included; the real-step
counter, which leaves them out, is logged beside it).  Each agent learns at its own pace (Dynalang
and R2D2 at ``--train-ratio`` replayed steps per env step, IMPALA once per rollout).  Metrics go to
``LOGDIR/metrics.jsonl`` and TensorBoard event files in LOGDIR; a checkpoint (parameters,
optimisers, replay, counters, RNG, with checksums) is written atomically every
``--checkpoint-every`` env steps and at the end, and the last ``--keep-checkpoints`` are kept.
``--resume`` continues from the newest intact one (a damaged one is named and set aside): the envs
start new episodes (episodes in flight are not saved), everything else is as it was, and so are
the run's settings (``--steps``, the intervals, the checkpoints kept) unless given again.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

import jax
import numpy as np

from agent import checkpoint, cli, config_flags
from agent.logger import Logger
from agent.registry import AGENTS, agent_package
from agent.runner import EnvConfig, Trainer, config_differences, parameter_count

PROG = "python -m agent.train"

#: the run's own settings: flags that are not part of the agent's or the env's config, saved in
#: the checkpoint so that ``--resume`` keeps them; each is None when not given
RUN_DEFAULTS: dict[str, Any] = {"steps": 100_000, "checkpoint_every": 20_000,
                                "log_every": 1_000, "keep_checkpoints": checkpoint.KEEP}


def recipe_note(package: ModuleType) -> str:
    """For agents with per-env recipes: which fields they set, whatever the preset says."""
    recipes = getattr(package, "RECIPES", None)
    if not recipes:
        return ""
    return (" For the project's envs, batch_length and train_ratio come from the env family's "
            "recipe instead of the preset (unless given): " + ", ".join(
                f"{r.prefix}* {r.batch_length} and {r.train_ratio:g}" for r in recipes) + ".")


def resumed_checkpoint(logdir: str | Path) -> dict[str, Any]:
    """The checkpoint ``--resume`` continues: the newest intact one, its buffers verified; a
    damaged one is named and set aside (so that it is reported once, and never used).  Read
    once per process: the flags, the config and the trainer all take it from here."""
    newest = checkpoint.path_of(logdir)
    stamp = newest.stat().st_mtime_ns if newest.is_file() else 0
    return _read_resumed(str(Path(logdir).absolute()), str(newest), stamp)


@functools.lru_cache(maxsize=1)
def _read_resumed(logdir: str, newest: str, stamp: int) -> dict[str, Any]:
    return checkpoint.load(logdir, verify_buffers=True, set_aside_damaged=True)


def pad_side(text: str) -> str:
    """An argparse type for ``--pad-to``: "auto", "none", or an image side of 4 to 1024."""
    if text in ("auto", "none"):
        return text
    try:
        return str(cli.number(int, cli.Range(4, 1024))(text))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be auto, none or an int in [4, 1024], got {text!r}") from None


def add_env_arguments(parser: argparse.ArgumentParser, default_id: str = EnvConfig.id) -> None:
    """``--env``, ``--image-key``, ``--pad-to``, ``--vector``, ``--hide-language``,
    ``--sentence-context`` and ``--env-arg`` (None when not given, so that a resumed run can
    tell a flag given from a default)."""
    parser.add_argument("--env", default=None, help=f"Gymnasium env id (default {default_id})")
    parser.add_argument("--image-key", default=None, help="image, grid or auto (default)")
    parser.add_argument("--pad-to", default=None, type=pad_side,
                        help="image side to pad to: auto (default), none, or 4 to 1024")
    parser.add_argument("--vector", default=None, choices=["auto", "sync", "async"],
                        help="how envs are batched: auto (default: the env's own vector entry "
                             "point), sync (one process), async (a subprocess per env)")
    parser.add_argument("--hide-language", default=None, nargs="?", const=True,
                        type=config_flags.boolean, metavar="BOOL",
                        help="replace every token by <pad>: the agent hears nothing (ablation)")
    parser.add_argument("--sentence-context", default=None, nargs="?", const=True,
                        type=config_flags.boolean, metavar="BOOL",
                        help="add each token's utterance as a bag of words (the stand-in for "
                             "the paper's T5 token vectors; Dynalang reads it)")
    cli.add_env_arg_flag(parser, "recorded in the checkpoint")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The flags; the config flags are those of the agent named by ``--agent`` (or, on
    ``--resume``, of the checkpoint's agent)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    first = cli.Parser(prog=PROG, add_help=False)
    first.add_argument("--agent", default=None)
    first.add_argument("--logdir", default=None)
    first.add_argument("--resume", action="store_true")
    known, _ = first.parse_known_args(argv)
    name = known.agent or "dynalang"
    if known.resume and known.agent is None and known.logdir and checkpoint.exists(known.logdir):
        with cli.user_errors(PROG):
            name = resumed_checkpoint(known.logdir).get("agent", name)
    if name not in AGENTS:
        cli.fail(PROG, f"unknown agent {name!r}; agents: {', '.join(AGENTS)}")
    package = agent_package(name)
    parser = cli.Parser(
        prog=PROG, description=__doc__.splitlines()[0],
        epilog=f"The flags from --preset on are {name}'s config fields; each overrides the "
               f"preset, whose values are in brackets.{recipe_note(package)}",
        formatter_class=cli.HelpFormatter)
    parser.add_argument("--agent", default="dynalang", choices=list(AGENTS),
                        help="which agent learns (its config fields follow)")
    add_env_arguments(parser)
    kept = "default: on --resume the checkpoint's, else"
    parser.add_argument("--steps", type=cli.positive_int, default=None,
                        help=f"train until this many env steps, read steps included ({kept} "
                             f"{RUN_DEFAULTS['steps']:,})")
    parser.add_argument("--logdir", default=f"runs/{name}", help="metrics and checkpoints")
    parser.add_argument("--checkpoint-every", type=cli.positive_int, default=None,
                        help=f"env steps ({kept} {RUN_DEFAULTS['checkpoint_every']:,})")
    parser.add_argument("--log-every", type=cli.positive_int, default=None,
                        help=f"env steps ({kept} {RUN_DEFAULTS['log_every']:,})")
    parser.add_argument("--keep-checkpoints", type=cli.positive_int, default=None,
                        help=f"newest checkpoints kept, each with its replay ({kept} "
                             f"{RUN_DEFAULTS['keep_checkpoints']})")
    parser.add_argument("--resume", action="store_true", help="continue from LOGDIR's checkpoint")
    parser.add_argument("--init-wm", default=None,
                        help="Dynalang: run directory whose world model to start from")
    parser.add_argument("--devices", type=cli.positive_int, default=1,
                        help="learn data-parallel on this many devices: the batch split "
                             "across them, the parameters replicated (agent/devices.py)")
    parser.add_argument("--no-tensorboard", action="store_true", help="JSONL metrics only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    config_flags.add_arguments(parser, package.Config)
    args = parser.parse_args(argv)
    args.agent = name
    if args.init_wm and name != "dynalang":
        parser.error("--init-wm loads a Dynalang world model; it needs --agent dynalang")
    if getattr(args, "sentence_context", None) and name != "dynalang":
        parser.error("--sentence-context is read by Dynalang's world model only; it needs "
                     "--agent dynalang")
    return args


def _env_overrides(args: argparse.Namespace) -> dict[str, Any]:
    given = {"id": args.env, "image_key": args.image_key, "pad_to": args.pad_to,
             "vector": getattr(args, "vector", None),
             "hide_language": getattr(args, "hide_language", None),
             "sentence_context": getattr(args, "sentence_context", None)}
    out: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if getattr(args, "env_args", None):
        out["kwargs"] = cli.env_kwargs(args.env_args)
    return out


def configs(args: argparse.Namespace, cls: Any = None, recipe: bool = True
            ) -> tuple[Any, EnvConfig]:
    """The run's configuration (an instance of ``cls``, by default the config of
    ``args.agent``): from the flags over the agent's recipe for the env (if it has recipes and
    ``recipe``), or on ``--resume`` from the checkpoint, with any flag given that contradicts
    the checkpoint refused."""
    package = agent_package(getattr(args, "agent", "dynalang"))
    cls = cls or package.Config
    recipe_of = getattr(package, "recipe_overrides", None)

    def recipe_fields(env_id: str) -> dict[str, Any]:
        return recipe_of(env_id) if recipe and recipe_of else {}

    if not args.resume:
        env = EnvConfig(**_env_overrides(args))
        return config_flags.from_args(args, cls, recipe_fields(env.id)), env
    blob = resumed_checkpoint(args.logdir)
    name = getattr(args, "agent", "dynalang")
    if blob.get("agent") != name:
        raise ValueError(f"cannot resume {checkpoint.path_of(args.logdir)} as a {name!r} run: "
                         f"it is a {blob.get('agent')!r} run (leave --agent out to continue it)")
    cfg, env = blob["config"], EnvConfig(**blob["env"])
    overrides = config_flags.overrides_of(args, cls)
    given = _env_overrides(args)
    if "kwargs" in given:  # env arguments given again add to the run's, as in agent.eval
        given["kwargs"] = {**env.kwargs, **given["kwargs"]}
    asked_env = dataclasses.replace(env, **given)
    # A preset named again means the same as when the run began: the preset, then the recipe.
    asked = (cls.preset(args.preset, **{**recipe_fields(asked_env.id), **overrides})
             if args.preset else dataclasses.replace(cfg, **overrides))
    differences = [f"{name}: checkpoint {old!r}, asked {new!r}"
                   for name, old, new in (config_differences(cfg, asked)
                                          + config_differences(env, asked_env))]
    if differences:
        raise ValueError(f"cannot resume {checkpoint.path_of(args.logdir)} with a different "
                         f"configuration ({'; '.join(differences)}); leave those flags out to "
                         f"continue the run as it was, or start a new --logdir")
    return cfg, env


def run_settings(args: argparse.Namespace) -> tuple[dict[str, Any], str | None]:
    """The run's settings: each flag given, else (on ``--resume``) the checkpoint's, else the
    default; and on ``--resume`` a line that says which were kept from the checkpoint."""
    saved = resumed_checkpoint(args.logdir).get("run", {}) if args.resume else {}
    settings, kept = {}, []
    for name, default in RUN_DEFAULTS.items():
        given = getattr(args, name)
        if given is not None:
            settings[name] = given
        elif name in saved:
            settings[name] = saved[name]
            kept.append(f"--{name.replace('_', '-')} {saved[name]}")
        else:
            settings[name] = default
    if not args.resume:
        return settings, None
    if not saved:  # written by a version that did not record them
        return settings, ("resume: the checkpoint records no run settings (an older version "
                          "wrote it): the defaults are used where no flag is given")
    return settings, (f"resume: kept {', '.join(kept)} from the checkpoint (give a flag to "
                      f"change it)" if kept else None)


def check_logdir(logdir: Path, resume: bool) -> Path | None:
    """Refuse a run directory that holds another run (without ``--resume``), holds none (with
    it), or cannot be written, before any work is done; returns the outermost folder it had to
    create (None if the directory existed), to remove if the run is refused later."""
    set_aside = checkpoint.damaged(logdir)
    if resume and not checkpoint.exists(logdir):
        if set_aside:
            raise ValueError(f"--resume: every checkpoint in {logdir} is damaged (set aside as "
                             f"{', '.join(p.name for p in set_aside)}); start a new --logdir")
        raise FileNotFoundError(f"--resume: no checkpoint in {logdir} to continue; leave "
                                f"--resume out to start a run there")
    if not resume and (checkpoint.exists(logdir) or set_aside):
        raise FileExistsError(f"{logdir} already holds a run: add --resume to continue it, or "
                              f"choose another --logdir")
    missing = [p for p in (logdir.absolute(), *logdir.absolute().parents) if not p.exists()]
    try:
        logdir.mkdir(parents=True, exist_ok=True)
        probe = logdir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise PermissionError(f"cannot write to --logdir {logdir} ({error.strerror or error}); "
                              f"choose a directory you can write to") from None
    return missing[-1] if missing else None


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    logdir = Path(args.logdir)
    with cli.user_errors(PROG):
        created = check_logdir(logdir, args.resume)
        try:
            settings, said = run_settings(args)
            cfg, env_cfg = configs(args)
            trainer: Any = agent_package(args.agent).Trainer(cfg, env_cfg, logdir)
            trainer.run_settings = settings
            if args.resume:
                trainer.load(resumed_checkpoint(logdir))
                _read_resumed.cache_clear()  # the trainer holds its state now
            elif args.init_wm:
                trainer.init_world_model(args.init_wm)
            trainer.use_devices(args.devices)
        except cli.USER_ERRORS:
            if created is not None:  # a refused run leaves no empty folders behind
                shutil.rmtree(created, ignore_errors=True)
            raise
    if said:
        print(said, file=sys.stderr)
    where = jax.devices()[0].platform + (f" x {args.devices}" if args.devices > 1 else "")
    print(f"{args.agent}: {parameter_count(trainer.params) / 1e6:.2f}M parameters on "
          f"{where}; env {env_cfg.id} x {cfg.num_envs} "
          f"(image {trainer.spec.image_shape}, vocab {trainer.spec.vocab_size}); "
          f"{trainer.describe()}", file=sys.stderr)
    if trainer.env_steps >= settings["steps"]:
        print(f"the run is at {trainer.env_steps:,} env steps, already past --steps "
              f"{settings['steps']:,}: nothing to do (give a larger --steps to train on)",
              file=sys.stderr)
        trainer.env.close()
        return
    run(trainer, settings["steps"], settings["log_every"], settings["checkpoint_every"],
        tensorboard=not args.no_tensorboard, progress=not args.no_progress)


def run(trainer: Trainer, steps: int, log_every: int, checkpoint_every: int, *,
        tensorboard: bool = True, progress: bool = True) -> None:
    """Act and learn until ``steps`` env steps, logging every ``log_every`` and checkpointing
    every ``checkpoint_every`` env steps and at the end."""
    num_envs = trainer.cfg.num_envs
    logger = Logger(trainer.logdir, steps, trainer.env_steps, tensorboard=tensorboard,
                    progress=progress)
    clock, steps_then, updates_then = time.time(), trainer.env_steps, trainer.updates
    next_log = (trainer.env_steps // log_every + 1) * log_every
    next_ckpt = (trainer.env_steps // checkpoint_every + 1) * checkpoint_every
    episodes: list[dict] = []
    metrics: dict[str, Any] = {}
    saved_at = -1
    try:
        while trainer.env_steps < steps:
            trainer.act()
            metrics = trainer.train() or metrics
            episodes += trainer.env.take_completed()
            logger.advance(num_envs)
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
                next_log = (trainer.env_steps // log_every + 1) * log_every
            if trainer.env_steps >= next_ckpt:
                trainer.save()
                # A step of many env steps (an IMPALA rollout) may cross several intervals.
                next_ckpt = (trainer.env_steps // checkpoint_every + 1) * checkpoint_every
                saved_at = trainer.env_steps
        if saved_at != trainer.env_steps:
            trainer.save()
    finally:
        logger.close()
        trainer.env.close()


if __name__ == "__main__":
    main()
