"""The leaderboard's command line: ``run`` trains and evaluates, ``show`` renders the page.

    python -m benchmarks.leaderboard run --agents dynalang impala r2d2 random \\
        --envs HomeGrid-Task-v0 Messenger-S1-v0 --seeds 0 1 --steps 20000 --preset tiny
    python -m benchmarks.leaderboard add runs/s1 runs/hg   # runs trained with agent.train
    python -m benchmarks.leaderboard show          # benchmarks/LEADERBOARD.md and its plots
    python -m benchmarks.leaderboard show --html   # also benchmarks/LEADERBOARD.html
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from agent import cli
from agent.cli import non_negative_int, positive_float, positive_int
from benchmarks.leaderboard import tracks

RESULTS = "benchmarks/leaderboard/results"
PAGE = "benchmarks/LEADERBOARD.md"
HTML_PAGE = "benchmarks/LEADERBOARD.html"
PROG = "python -m benchmarks.leaderboard"
_EVAL_ENV_ARG = ("an env argument of the evaluation only, e.g. --eval-env-arg split=test (the "
                 "same trained run)")
RUNS = "runs/leaderboard"
EPISODES = 20
STEPS = 20_000


def parser() -> argparse.ArgumentParser:
    """The ``run``, ``add`` and ``show`` subcommands."""
    top = cli.Parser(prog=PROG, description=__doc__, formatter_class=cli.HelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    _add_parser(sub)
    show = sub.add_parser("show", help="validate the results and render the page and plots",
                          formatter_class=cli.HelpFormatter)
    show.add_argument("--results", default=RESULTS, help="the result files")
    show.add_argument("--out", default=PAGE, help="the markdown page")
    show.add_argument("--plots", default=None,
                      help="where the PNGs go (default: plots/ beside the results directory)")
    show.add_argument("--html", nargs="?", const=HTML_PAGE, default=None, metavar="PATH",
                      help=f"also write the page as one static HTML file with sortable tables "
                           f"(default path {HTML_PAGE}); it opens from disk")
    return top


def _evaluation_flags(command: argparse.ArgumentParser, side_by_side: str) -> None:
    """The evaluation flags ``run`` and ``add`` share."""
    command.add_argument("--episodes", type=positive_int, default=None,
                         help=f"evaluation episodes (default {EPISODES}; run --track: the "
                              f"track's)")
    command.add_argument("--eval-seed", type=non_negative_int, default=10_000,
                         help="evaluation episode k is seeded eval-seed + k")
    command.add_argument("--eval-envs", type=positive_int, default=8, help=side_by_side)
    command.add_argument("--out", default=RESULTS, help="where result files go")


def _run_parser(sub: Any) -> None:
    run = sub.add_parser("run", help="train and evaluate every agent x env x seed",
                         formatter_class=cli.HelpFormatter,
                         description="Train (agent.train) and evaluate (agent.eval) every "
                                     "agent x env x seed, one result JSON per run; runs whose "
                                     "result exists are skipped (the random policy is "
                                     "evaluated again when asked for more --episodes).")
    run.add_argument("--agents", nargs="+", required=True,
                     help="dynalang, impala, r2d2 (trained) and random (evaluated only, once per "
                          "env, with the first seed)")
    run.add_argument("--envs", nargs="+", required=True, help="env ids, e.g. Messenger-S1-v0")
    run.add_argument("--seeds", nargs="+", type=non_negative_int, default=[0],
                     help="training seeds")
    run.add_argument("--steps", type=positive_int, default=None,
                     help=f"env steps of training, read steps included (default {STEPS:,}; "
                          f"with --track, the track's)")
    run.add_argument("--track", choices=sorted(tracks.TRACKS), default=None,
                     help="train and evaluate at a track's budgets: its env steps, "
                          "observation and evaluation episodes for each env "
                          "(benchmarks/leaderboard/tracks.py); not with --steps or --episodes")
    run.add_argument("--preset", default=None,
                     help="the agents' preset (None: agent.train's default preset, small)")
    _evaluation_flags(run, "evaluation episodes played side by side (results do not depend "
                           "on it)")
    run.add_argument("--runs", default=RUNS, help="where training run directories go")
    run.add_argument("--log-every", type=positive_int, default=None,
                     help="env steps between learning-curve points (default: steps / 200, at "
                          "least 1000)")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="FIELD=VALUE",
                     help="a config field for every trained agent, e.g. --set num_envs=16 "
                          "(repeatable)")
    for flag, what in (("env-arg", "an argument of every env, for training and evaluation, "
                                   "e.g. --env-arg p_language=0.5"),
                       ("eval-env-arg", _EVAL_ENV_ARG)):
        run.add_argument(f"--{flag}", dest=flag.replace("-", "_") + "s", action="append",
                         default=[], metavar="KEY=VALUE",
                         help=f"{what} (repeatable; a row of its own)")
    run.add_argument("--device-note", default=None,
                     help="a note on the machine, stored in each result (e.g. 'shared 2-core "
                          "CPU')")
    run.add_argument("--force", action="store_true",
                     help="redo runs whose result exists (and train them from scratch)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--launcher", choices=["serial", "ray"], default="serial",
                     help="run one after the other, or each run as a Ray task (a local Ray, "
                          "or the cluster at --address; benchmarks/leaderboard/ray_launcher.py)")
    run.add_argument("--address", default=None, metavar="HOST:PORT",
                     help="with --launcher ray: the Ray cluster to use (default: start a local "
                          "one)")
    run.add_argument("--cpus-per-run", type=positive_float, default=1.0, metavar="N",
                     help="with --launcher ray: CPUs each run reserves")


def _add_parser(sub: Any) -> None:
    add = sub.add_parser("add", formatter_class=cli.HelpFormatter,
                         help="evaluate run directories trained with agent.train and add them",
                         description="Evaluate run directories trained outside the runner "
                                     "(python -m agent.train ...) and write their results. "
                                     "Agent, env, seed and budget come from each checkpoint; "
                                     "the config fields that differ from the preset become "
                                     "the overrides; the training time is the loop time "
                                     "logged in metrics.jsonl.")
    add.add_argument("run_dirs", nargs="+", help="run directories (each with a checkpoint)")
    add.add_argument("--preset", default=None,
                     help="the preset the runs started from (None: the closest preset)")
    _evaluation_flags(add, "evaluation episodes played side by side")
    add.add_argument("--eval-env-arg", dest="eval_env_args", action="append", default=[],
                     metavar="KEY=VALUE", help=f"{_EVAL_ENV_ARG} (repeatable)")
    add.add_argument("--device-note", default=None,
                     help="a note on the machine the runs trained on (the device recorded is "
                          "this machine's)")
    add.add_argument("--force", action="store_true", help="replace results that exist")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 when a run failed)."""
    args = parser().parse_args(argv)
    if args.command == "show":
        from benchmarks.leaderboard.show import show

        try:
            page = show(args.results, args.out, args.plots, html=args.html)
        except FileNotFoundError as error:
            cli.fail(PROG, str(error))
        print(f"wrote {page}" + (f" and {args.html}" if args.html else ""))
        return 0

    from benchmarks.leaderboard import run as run_lib

    if args.command == "add":
        return _add(args)
    try:
        overrides = (run_lib.parse_overrides(args.overrides)
                     + run_lib.env_arg_overrides(args.env_args)
                     + run_lib.env_arg_overrides(args.eval_env_args, run_lib.EVAL_PREFIX))
        preset = args.preset
        if preset is None:
            from agent.config_flags import DEFAULT_PRESET

            preset = DEFAULT_PRESET
        groups = [(run_lib.plan(args.agents, envs, args.seeds, steps, preset,
                                overrides + observation), episodes)
                  for envs, steps, episodes, observation in _budgets(args, overrides)]
        # Every pending run's flags are checked before the first one trains, whatever its
        # budget.
        todo = [spec for specs, episodes in groups
                for spec in run_lib.pending(specs, args.out, episodes, args.force)]
        if todo:
            run_lib.check_flags(todo, Path(args.runs), args.log_every)
        outcomes = []
        for specs, episodes in groups:
            outcomes += run_lib.run_all(
                specs, args.out, args.runs, episodes=episodes, eval_seed=args.eval_seed,
                num_envs=args.eval_envs, log_every=args.log_every, force=args.force,
                device_note=args.device_note, progress=not args.no_progress, check=False,
                launcher=args.launcher, address=args.address, cpus_per_run=args.cpus_per_run)
    except ValueError as error:
        cli.fail(PROG, str(error))
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    print(f"{counts['done']} run(s) done, {counts['skipped']} skipped (result exists), "
          f"{counts['failed']} failed; results in {Path(args.out)}. Render the page with: "
          f"python -m benchmarks.leaderboard show --results {args.out}")
    for outcome in outcomes:
        if outcome.status == "failed":
            print(f"  failed: {outcome.spec.describe()}: {outcome.error}", file=sys.stderr)
    return 1 if counts["failed"] else 0


def _budgets(args: argparse.Namespace, overrides: tuple[tuple[str, str], ...]
             ) -> list[tuple[list[str], int, int, tuple[tuple[str, str], ...]]]:
    """The envs of ``run`` grouped by budget: (envs, env steps, evaluation episodes, config
    fields every agent is given), one group without ``--track``.  ValueError on a flag that
    would take a run out of the track."""
    if args.track is None:
        return [(args.envs, args.steps or STEPS, args.episodes or EPISODES, ())]
    if args.steps is not None or args.episodes is not None:
        raise ValueError(f"--track {args.track} sets the env steps and evaluation episodes of "
                         f"each env; leave out --steps and --episodes")
    if args.env_args or args.eval_env_args or args.eval_seed != tracks.EVAL_SEED:
        raise ValueError(f"--track {args.track} plays each env's default games on its fixed "
                         f"episodes; leave out --env-arg, --eval-env-arg and --eval-seed")
    fixed = [f"{name}={value}" for name, value in overrides if name in tracks.OBSERVATION_FIELDS]
    if fixed:
        raise ValueError(f"--track {args.track} fixes what agents observe; leave out --set "
                         f"{' '.join(fixed)}")
    track = tracks.get(args.track)
    groups: dict[tracks.Budget, list[str]] = {}
    for env in dict.fromkeys(args.envs):
        groups.setdefault(track.budget(env), []).append(env)
    return [(envs, b.steps, b.episodes, b.observation) for b, envs in groups.items()]


def _add(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from benchmarks.leaderboard import run as run_lib

    failed = 0
    for run_dir in tqdm(args.run_dirs, desc="add", unit="run", file=sys.stderr):
        try:
            outcome = run_lib.add_run(run_dir, args.out, preset=args.preset,
                                      eval_env_args=args.eval_env_args,
                                      episodes=args.episodes or EPISODES,
                                      eval_seed=args.eval_seed,
                                      num_envs=args.eval_envs, device_note=args.device_note,
                                      force=args.force)
        except (Exception, SystemExit) as error:  # the other runs still get added
            failed += 1
            tqdm.write(f"leaderboard: {run_dir} failed: {type(error).__name__}: {error}",
                       file=sys.stderr)
            continue
        verb = "wrote" if outcome.status == "done" else "exists (use --force to replace):"
        tqdm.write(f"{run_dir}: {verb} {outcome.path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
