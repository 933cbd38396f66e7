"""Train and evaluate every agent x env x seed, writing one result file per run.

Each trained run goes through the shared CLI, ``agent.train.main(argv)``, into its own run
directory (``RUNS/ENV/AGENT-PRESET-STEPS-seedS``), then ``agent.eval.evaluate`` plays the
fixed-seed evaluation episodes (episode k on an env seeded ``eval_seed + k``, the same for every
agent), and the result (schema in :mod:`benchmarks.leaderboard.results`) is written atomically.
The ``random`` agent is not trained: ``agent.eval.evaluate_random`` plays the same episodes with
a uniform-random policy, once per env (the evaluation seeds are fixed, so more seeds would
repeat it).

A run whose result file exists is skipped (``force`` redoes it from scratch; the random
policy is evaluated again when asked for more episodes than its result has).  A run directory
that holds a finished training run (``leaderboard.json`` written beside the checkpoint) is
evaluated without training again; one that holds only a checkpoint (a killed run) is continued
with ``--resume``.

:func:`add_run` (``python -m benchmarks.leaderboard add RUN_DIR ...``) evaluates a run directory
trained with ``python -m agent.train`` directly and writes its result the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import io
import json
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from tqdm import tqdm

from benchmarks.leaderboard import results as results_lib
from benchmarks.leaderboard.results import ENV_PREFIX, EVAL_PREFIX

RANDOM = "random"
"""the agent name of the uniform-random policy (evaluated, never trained)."""

RESERVED = ("agent", "env", "steps", "logdir", "seed", "preset", "resume", "init_wm",
            "no_progress")
"""flags the runner sets itself, which ``--set`` may not."""

MARKER = "leaderboard.json"
"""written in a run directory once its training finished: the seconds it took, its argv."""


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of the leaderboard."""

    agent: str
    env: str
    seed: int
    steps: int
    preset: str | None
    overrides: tuple[tuple[str, str], ...] = ()

    @property
    def overrides_dict(self) -> dict[str, str]:
        return dict(self.overrides)

    def _prefixed(self, prefix: str) -> dict[str, Any]:
        from agent.cli import env_kwargs

        return env_kwargs([f"{k[len(prefix):]}={v}" for k, v in self.overrides
                           if k.startswith(prefix)])

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """The env's arguments for training and evaluation (``env.KEY`` overrides)."""
        return self._prefixed(ENV_PREFIX)

    @property
    def eval_env_kwargs(self) -> dict[str, Any]:
        """Env arguments for the evaluation only (``eval.KEY`` overrides), e.g. a split."""
        return self._prefixed(EVAL_PREFIX)

    def result_name(self) -> str:
        """The result file, relative to the results directory."""
        return results_lib.result_name(self.agent, self.env, self.seed, self.steps,
                                       self.preset, self.overrides_dict)

    def run_dir(self, runs: Path) -> Path:
        """The training run's directory under ``runs`` (shared by evaluations on other env
        arguments)."""
        trained = dataclasses.replace(self, overrides=tuple(
            (k, v) for k, v in self.overrides if not k.startswith(EVAL_PREFIX)))
        return runs / Path(trained.result_name()).with_suffix("")

    def describe(self) -> str:
        return f"{self.agent} on {self.env}, seed {self.seed}" + (
            "" if self.agent == RANDOM else f", {self.steps:,} steps, preset {self.preset}")


@dataclasses.dataclass
class Outcome:
    """What happened to one run."""

    spec: RunSpec
    status: str  # "done", "skipped" or "failed"
    path: Path | None = None
    error: str | None = None


# ------------------------------------------------------------------ checking the request
def known_agents() -> list[str]:
    """The trained agents ``agent.train`` knows, then ``random``."""
    from agent.registry import AGENTS

    return list(AGENTS) + [RANDOM]


def check_agents(agents: Sequence[str]) -> None:
    """ValueError naming any unknown agent and listing the known ones."""
    known = known_agents()
    unknown = [a for a in agents if a not in known]
    if unknown:
        raise ValueError(f"unknown agent(s) {', '.join(map(repr, unknown))}; agents: "
                         f"{', '.join(known)}")


def check_envs(envs: Sequence[str]) -> None:
    """ValueError naming any env id that is not registered and listing the project's ids."""
    import gymnasium

    from agent.envs import project_env_ids

    ids = project_env_ids()  # importing the packages registers them
    unknown = [e for e in envs if e not in gymnasium.registry and ":" not in e]
    if unknown:
        raise ValueError(f"unknown env id(s) {', '.join(map(repr, unknown))}; the project's "
                         f"ids: {', '.join(ids)} (other registered ids, or module:Id, also "
                         f"work)")


def env_arg_overrides(items: Sequence[str] | None, prefix: str = ENV_PREFIX
                      ) -> tuple[tuple[str, str], ...]:
    """``--env-arg split=val`` items as overrides ``(("env.split", "val"),)`` (checked as
    ``agent.train`` checks them, values written as Python prints them)."""
    from agent.cli import env_kwargs

    # Each value as Python prints it, so ".5" and "0.5" (or "'val'" and "val") are one row.
    return tuple(sorted((prefix + key, str(value)) for key, value in env_kwargs(items).items()))


def parse_overrides(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``["batch_size=8", "model-lr=6e-4"]`` -> ``(("batch_size", "8"), ("model_lr", "6e-4"))``
    (sorted); ValueError on a malformed item or a flag the runner sets itself."""
    parsed: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().lstrip("-").replace("-", "_")
        if not sep or not name or not value:
            raise ValueError(f"--set takes field=value (e.g. batch_size=8), got {item!r}")
        if name in RESERVED:
            raise ValueError(f"--set {name}=... is not allowed: the leaderboard sets "
                             f"{', '.join(RESERVED)} itself (use its own flags)")
        parsed[name] = value
    return tuple(sorted(parsed.items()))


def canonical_overrides(agent: str, overrides: Sequence[tuple[str, str]]
                        ) -> tuple[tuple[str, str], ...]:
    """``overrides`` with each value of a field of the agent's config written as that field's
    type prints it ("8" for an int, "8.0" for a float, "True"), so that the same setting always
    gives the same result file and table row (runs added with ``add`` included).  Values of
    other flags stay as given; ValueError on a value the field's type cannot take."""
    try:
        from agent import config_flags
        from agent.registry import agent_package

        config = agent_package(agent).Config()
    except (ImportError, ValueError):
        return tuple(sorted(overrides))
    names = {f.name for f in dataclasses.fields(config)}
    canonical = {}
    for name, value in overrides:
        if name in names:
            try:
                value = str(config_flags.field_value(config, name, value))
            except ValueError as error:
                raise ValueError(f"--set {name}={value}: {agent}'s {error}") from None
        canonical[name] = value
    return tuple(sorted(canonical.items()))


def plan(agents: Sequence[str], envs: Sequence[str], seeds: Sequence[int], steps: int,
         preset: str | None, overrides: Sequence[tuple[str, str]] = ()) -> list[RunSpec]:
    """Every agent x env x seed, in that order; ``random`` once per env, with the first seed."""
    if not agents or not envs or not seeds:
        raise ValueError("give at least one agent, one env and one seed")
    if steps < 1:
        raise ValueError(f"--steps must be positive, got {steps}")
    check_agents(agents)
    check_envs(envs)
    specs: list[RunSpec] = []
    for agent in dict.fromkeys(agents):
        for env in dict.fromkeys(envs):
            if agent == RANDOM:
                env_args = tuple(o for o in overrides
                                 if o[0].startswith((ENV_PREFIX, EVAL_PREFIX)))
                specs.append(RunSpec(RANDOM, env, int(seeds[0]), 0, None, env_args))
                continue
            mine = canonical_overrides(agent, overrides)
            specs += [RunSpec(agent, env, int(seed), int(steps), preset, mine)
                      for seed in dict.fromkeys(seeds)]
    return specs


# ------------------------------------------------------------------ one run
def default_log_every(steps: int) -> int:
    """About 200 learning-curve points per run, never more often than every 1,000 env steps."""
    return max(1_000, steps // 200)


def train_argv(spec: RunSpec, run_dir: Path, log_every: int) -> list[str]:
    """The flags given to ``agent.train.main`` for ``spec``."""
    argv = ["--agent", spec.agent, "--env", spec.env, "--steps", str(spec.steps),
            "--logdir", str(run_dir), "--seed", str(spec.seed), "--preset", str(spec.preset),
            "--no-progress", "--no-tensorboard", "--log-every", str(log_every)]
    return argv + override_flags(spec)


def override_flags(spec: RunSpec) -> list[str]:
    """``agent.train`` flags of the spec's overrides (config fields and env arguments)."""
    argv: list[str] = []
    for name, value in spec.overrides:
        if name.startswith(ENV_PREFIX):
            argv += ["--env-arg", f"{name[len(ENV_PREFIX):]}={value}"]
        elif not name.startswith(EVAL_PREFIX):
            argv += [f"--{name.replace('_', '-')}", value]
    return argv


def check_flags(specs: Sequence[RunSpec], runs: Path, log_every: int | None) -> None:
    """Make every env once with the runs' env arguments (training and evaluation), and parse
    every trained run's flags with ``agent.train.parse``, before anything trains, so that a bad
    env argument, a wrong preset or a --set field fails at once (ValueError naming it)."""
    from agent import train
    from agent.runner import EnvConfig

    checked: set[str] = set()
    for spec in specs:  # the env arguments of training and of evaluation
        for kwargs in (spec.env_kwargs, {**spec.env_kwargs, **spec.eval_env_kwargs}):
            made = f"{spec.env} {sorted(kwargs.items())}"
            if made not in checked:
                checked.add(made)
                EnvConfig(spec.env, kwargs=kwargs).adapter(1, 0).close()
    for spec in specs:
        if spec.agent == RANDOM:
            continue
        argv = train_argv(spec, spec.run_dir(runs), log_every or default_log_every(spec.steps))
        said = io.StringIO()
        try:
            with contextlib.redirect_stderr(said):
                train.parse(argv)
        except SystemExit:
            reason = said.getvalue().strip().split(": error: ")[-1]
            raise ValueError(f"agent.train refuses the flags of {spec.describe()}: {reason} "
                             f"(flags: {' '.join(argv)})") from None
        except ImportError as error:
            raise ValueError(f"agent {spec.agent!r} cannot be imported yet: {error}") from None


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """JSON-ready: tuples to lists, numpy scalars to Python, non-finite floats to strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


def device_info(note: str | None) -> dict[str, Any]:
    """The first JAX device's kind and platform, and the user's note."""
    import jax

    device = jax.devices()[0]
    return {"kind": str(device.device_kind), "platform": str(device.platform), "note": note}


def eval_section(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The ``eval`` part of a result from ``agent.eval``'s dict."""
    returns = [float(r) for r in evaluation["returns"]]
    return {
        "score": float(evaluation["mean_return"]), "std": float(evaluation["std_return"]),
        "returns": returns, "lengths": [int(v) for v in evaluation["lengths"]],
        "real_lengths": [int(v) for v in evaluation["real_lengths"]],
        "seeds": [int(s) for s in evaluation["seeds"]], "episodes": len(returns),
        "success_rate": (None if evaluation.get("success_rate") is None
                         else float(evaluation["success_rate"])),
        "greedy": bool(evaluation.get("greedy", False)),
        "env_kwargs": _plain(evaluation.get("env_kwargs", {})),
    }


def curve_of(records: Sequence[dict[str, Any]]) -> list[list[float]]:
    """[env_steps, real_steps, episode_return] of each record with a return."""
    return [[int(r["env_steps"]), int(r.get("real_steps") or 0), float(r["episode_return"])]
            for r in records if r.get("episode_return") is not None]


def throughput(records: Sequence[dict[str, Any]]) -> float | None:
    """Training env steps per second over the whole run: the env steps logged divided by the
    time the log intervals took (:func:`logged_seconds`), so a run continued after a kill
    counts every session's loop time (not start-up)."""
    seconds, steps, previous = 0.0, 0, 0
    for record in records:
        rate, now = record.get("env_steps_per_s"), int(record["env_steps"])
        if rate and rate > 0 and now > previous:
            seconds += (now - previous) / rate
            steps += now - previous
        previous = now
    return steps / seconds if seconds > 0 else None


def train(spec: RunSpec, run_dir: Path, log_every: int, force: bool,
          train_main: Callable[[list[str]], Any]) -> dict[str, Any]:
    """Train ``spec`` into ``run_dir`` (or reuse/continue what is there); returns the marker:
    ``{"seconds", "resumed", "argv"}``."""
    from agent import checkpoint

    marker = run_dir / MARKER
    if force and run_dir.exists():
        shutil.rmtree(run_dir)
    argv = train_argv(spec, run_dir, log_every)
    if marker.exists() and checkpoint.exists(run_dir):
        done = json.loads(marker.read_text())
        if done.get("argv") == argv:
            return done
        raise RuntimeError(f"{run_dir} holds a finished run made with other flags "
                           f"({' '.join(done.get('argv', []))}); rerun with --force to replace it")
    resumed = checkpoint.exists(run_dir)
    start = time.perf_counter()
    train_main(argv + (["--resume"] if resumed else []))
    done = {"seconds": time.perf_counter() - start, "resumed": resumed, "argv": argv}
    with results_lib.atomic_open(marker, "w") as f:
        f.write(json.dumps(done, indent=1) + "\n")
    return done


def run_trained(spec: RunSpec, runs: Path, *, episodes: int, eval_seed: int, num_envs: int,
                log_every: int | None, force: bool, device_note: str | None,
                train_main: Callable[[list[str]], Any] | None = None,
                evaluate: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """Train (through ``agent.train.main``) and evaluate one run; its result dict."""
    if train_main is None:
        from agent.train import main as train_main
    started = _now()
    run_dir = spec.run_dir(runs)
    done = train(spec, run_dir, log_every or default_log_every(spec.steps), force, train_main)
    training = {"seconds": float(done["seconds"]), "timing": "wall clock",
                "resumed": bool(done["resumed"]), "argv": list(done["argv"])}
    return trained_result(spec, run_dir, training, started, episodes=episodes,
                          eval_seed=eval_seed, num_envs=num_envs,
                          device=device_info(device_note), evaluate=evaluate)


def trained_result(spec: RunSpec, run_dir: Path, training: dict[str, Any], started: str, *,
                   episodes: int, eval_seed: int, num_envs: int, device: dict[str, Any],
                   evaluate: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """Check the run directory's checkpoint against ``spec``, evaluate it, and assemble the
    result (``training`` gives seconds, timing, resumed and argv)."""
    from agent import checkpoint, logger

    if evaluate is None:
        from agent.eval import evaluate
    blob = checkpoint.load(run_dir)
    counters = blob["counters"]
    if blob.get("agent", spec.agent) != spec.agent or blob["env"].get("id") != spec.env:
        raise RuntimeError(f"{checkpoint.path_of(run_dir)} holds agent {blob.get('agent')!r} on "
                           f"{blob['env'].get('id')!r}, not {spec.agent!r} on {spec.env!r}")
    if int(counters["env_steps"]) < spec.steps:
        raise RuntimeError(f"training stopped at {counters['env_steps']:,} of {spec.steps:,} "
                           f"env steps ({run_dir})")
    records = logger.read(run_dir)
    evaluation = evaluate(run_dir, episodes=episodes, seed=eval_seed, num_envs=num_envs,
                          **({"env_kwargs": spec.eval_env_kwargs} if spec.eval_env_kwargs
                             else {}))
    return {
        "schema": results_lib.SCHEMA_VERSION, "agent": spec.agent, "env": spec.env,
        "seed": spec.seed, "steps": spec.steps, "preset": spec.preset,
        "overrides": spec.overrides_dict, "config": _plain(dataclasses.asdict(blob["config"])),
        "env_config": _plain(dict(blob["env"])), "versions": results_lib.package_versions(),
        "device": device,
        "budget": {"env_steps": int(counters["env_steps"]),
                   "real_steps": int(counters["real_steps"]),
                   "updates": int(counters.get("updates", 0))},
        "training": {**training, "env_steps_per_s": throughput(records)},
        "curve": curve_of(records), "eval": eval_section(evaluation),
        "started": started, "finished": _now(),
    }


# ------------------------------------------------------------------ runs made elsewhere
def infer_preset(agent: str, config: Any, env_id: str) -> tuple[str, dict[str, str]]:
    """The agent's preset closest to ``config`` (fewest differing fields; the seed ignored)
    and the differing fields as ``--set`` overrides (values as strings)."""
    from agent.registry import agent_package

    presets = agent_package(agent).Config.presets
    best = min(presets, key=lambda name: len(preset_overrides(agent, config, name, env_id)))
    return best, preset_overrides(agent, config, best, env_id)


def preset_overrides(agent: str, config: Any, preset: str, env_id: str) -> dict[str, str]:
    """The fields where ``config`` differs from what ``agent.train --preset PRESET`` gives on
    ``env_id`` (the preset, then the agent's recipe for the env; the seed left out), as
    strings: a run made by the runner and the same run added by hand get the same row."""
    from agent.registry import agent_package

    package = agent_package(agent)
    recipe_of = getattr(package, "recipe_overrides", None)
    base = package.Config.preset(preset, **(recipe_of(env_id) if recipe_of else {}))
    return {f.name: str(getattr(config, f.name)) for f in dataclasses.fields(config)
            if f.name != "seed" and getattr(config, f.name) != getattr(base, f.name)}


def env_overrides(env: dict[str, Any]) -> dict[str, str]:
    """The env settings of a checkpoint (its ``env`` dict) that differ from ``EnvConfig``'s
    defaults, as ``agent.train`` flags' values (``--image-key grid``, ``--hide-language
    True``): a run on the grid or without language is another row.  The id has a row of its own
    and the batching mode changes only speed (the batched envs replay the single ones)."""
    from agent.runner import EnvConfig

    default = dataclasses.asdict(EnvConfig())
    out = {name: str(value) for name, value in env.items()
           if name not in ("id", "vector", "kwargs") and name in default
           and value != default[name]}
    out.update({ENV_PREFIX + name: str(value) for name, value in env.get("kwargs", {}).items()})
    return out


def logged_seconds(records: Sequence[dict[str, Any]]) -> float:
    """The training loop's time as the metrics record it (each interval's env steps over its
    ``env_steps_per_s``); start-up and time after the last record are not in it."""
    seconds, previous = 0.0, 0
    for record in records:
        rate, now = record.get("env_steps_per_s"), int(record["env_steps"])
        if rate and rate > 0 and now > previous:
            seconds += (now - previous) / rate
        previous = now
    return seconds


def add_run(run_dir: str | Path, out: str | Path, *, preset: str | None = None,
            eval_env_args: Sequence[str] = (),
            episodes: int = 20, eval_seed: int = 10_000, num_envs: int = 8,
            device_note: str | None = None, force: bool = False,
            evaluate: Callable[..., dict[str, Any]] | None = None) -> Outcome:
    """Evaluate a run directory trained outside the runner (``python -m agent.train ...``) and
    write its result into ``out``.  Agent, env, seed and budget come from the checkpoint (the
    budget is the env steps it reached); the preset is ``preset`` or the closest one, and the
    config fields that differ from it, with the env settings that differ from the defaults
    (:func:`env_overrides`), become the overrides.  The training time is the loop time
    the metrics record (``timing: "logged"``), and ``argv`` the equivalent flags."""
    from agent import checkpoint, logger

    run_dir = Path(run_dir)
    blob = checkpoint.load(run_dir)
    agent, config = blob.get("agent", "dynalang"), blob["config"]
    if preset is None:
        preset, overrides = infer_preset(agent, config, blob["env"]["id"])
    else:
        overrides = preset_overrides(agent, config, preset, blob["env"]["id"])
    overrides.update(env_overrides(blob["env"]))
    overrides.update(env_arg_overrides(eval_env_args, EVAL_PREFIX))
    spec = RunSpec(agent, blob["env"]["id"], int(config.seed),
                   int(blob["counters"]["env_steps"]), preset, tuple(sorted(overrides.items())))
    path = Path(out) / spec.result_name()
    if path.exists() and not force:
        return Outcome(spec, "skipped", path)
    argv = ["--agent", agent, "--env", spec.env, "--steps", str(spec.steps), "--logdir",
            str(run_dir), "--seed", str(spec.seed), "--preset", preset, *override_flags(spec)]
    training = {"seconds": logged_seconds(logger.read(run_dir)), "timing": "logged",
                "resumed": False, "argv": argv}
    result = trained_result(spec, run_dir, training, _now(), episodes=episodes,
                            eval_seed=eval_seed, num_envs=num_envs,
                            device=device_info(device_note), evaluate=evaluate)
    results_lib.write_result(path, result)
    return Outcome(spec, "done", path)


def run_random(spec: RunSpec, *, episodes: int, eval_seed: int, num_envs: int,
               device_note: str | None,
               evaluate_random: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """Evaluate the uniform-random policy on ``spec.env``; its result dict."""
    from agent.runner import EnvConfig

    if evaluate_random is None:
        from agent import eval as eval_lib

        evaluate_random = getattr(eval_lib, "evaluate_random", None)
        if evaluate_random is None:
            raise RuntimeError("agent.eval.evaluate_random is not there yet: the random agent "
                               "needs it")
    started = _now()
    env_cfg = EnvConfig(id=spec.env, kwargs=spec.env_kwargs)
    evaluation = evaluate_random(env_cfg.with_kwargs(**spec.eval_env_kwargs), episodes=episodes,
                                 seed=eval_seed, num_envs=num_envs)
    return {
        "schema": results_lib.SCHEMA_VERSION, "agent": RANDOM, "env": spec.env,
        "seed": spec.seed, "steps": 0, "preset": None, "overrides": spec.overrides_dict,
        "config": None,
        "env_config": _plain(dataclasses.asdict(env_cfg)),
        "versions": results_lib.package_versions(),
        "device": {"kind": "cpu", "platform": "cpu", "note": device_note},
        "budget": {"env_steps": 0, "real_steps": 0, "updates": 0},
        "training": {"seconds": 0.0, "timing": "none", "env_steps_per_s": None,
                     "resumed": False, "argv": []},
        "curve": [], "eval": eval_section(evaluation), "started": started, "finished": _now(),
    }


# ------------------------------------------------------------------ all runs
#: how ``run`` executes its runs: one after the other here, or as Ray tasks
LAUNCHERS = ("serial", "ray")


def execute(spec: RunSpec, runs: str | Path, *, episodes: int = 20, eval_seed: int = 10_000,
            num_envs: int = 8, log_every: int | None = None, force: bool = False,
            device_note: str | None = None) -> dict[str, Any]:
    """Train and evaluate one run (or only evaluate, for ``random``): its result dict.  A run
    directory left by an interrupted run is resumed."""
    if spec.agent == RANDOM:
        return run_random(spec, episodes=episodes, eval_seed=eval_seed, num_envs=num_envs,
                          device_note=device_note)
    return run_trained(spec, Path(runs), episodes=episodes, eval_seed=eval_seed,
                       num_envs=num_envs, log_every=log_every, force=force,
                       device_note=device_note)


def run_all(specs: Sequence[RunSpec], out: str | Path, runs: str | Path, *, episodes: int = 20,
            eval_seed: int = 10_000, num_envs: int = 8, log_every: int | None = None,
            force: bool = False, device_note: str | None = None, progress: bool = True,
            check: bool = True, launcher: str = "serial", address: str | None = None,
            cpus_per_run: float = 1.0) -> list[Outcome]:
    """Run every spec not done yet (a tqdm bar over runs on stderr); a run that fails is
    reported and the others go on.  ``launcher="ray"`` runs them as Ray tasks of
    ``cpus_per_run`` CPUs each, on a local Ray or the cluster at ``address``
    (:mod:`benchmarks.leaderboard.ray_launcher`); the result files are the same.  Returns one
    :class:`Outcome` per spec, in the order of ``specs``."""
    out, runs = Path(out), Path(runs)
    if episodes < 1 or num_envs < 1:
        raise ValueError(f"episodes and num_envs must be positive, got {episodes}, {num_envs}")
    if launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launcher!r}; launchers: {', '.join(LAUNCHERS)}")
    todo = pending(specs, out, episodes, force)
    if check and todo:
        check_flags(todo, runs, log_every)
    settings = {"episodes": episodes, "eval_seed": eval_seed, "num_envs": num_envs,
                "log_every": log_every, "force": force, "device_note": device_note}
    if launcher == "ray":
        from benchmarks.leaderboard import ray_launcher

        done = ray_launcher.run(todo, out, runs, settings, address=address,
                                cpus_per_run=cpus_per_run, progress=progress)
    else:
        done = {}
        with tqdm(total=len(todo), desc="leaderboard", unit="run", file=sys.stderr,
                  disable=not progress, dynamic_ncols=True) as bar:
            for spec in todo:
                bar.set_postfix_str(spec.describe(), refresh=True)
                done[spec] = finish(spec, out, lambda: execute(spec, runs, **settings))
                bar.update()
    return [done.get(spec) or Outcome(spec, "skipped", out / spec.result_name())
            for spec in specs]


def pending(specs: Sequence[RunSpec], out: str | Path, episodes: int, force: bool = False
            ) -> list[RunSpec]:
    """The specs ``run_all`` would run: those without a result in ``out`` (all with
    ``force``), and the random policy's where its result has fewer than ``episodes``."""
    out = Path(out)
    return [s for s in specs if force or not (out / s.result_name()).exists()
            or (s.agent == RANDOM and _episodes_of(out / s.result_name()) < episodes)]


def _episodes_of(path: Path) -> int:
    """The evaluation episodes of the result at ``path`` (0: unreadable).  The random policy's
    evaluation takes seconds, so one asked for more episodes than its result has is redone:
    the longer one begins with the same episodes, so rows made with fewer still compare."""
    try:
        return int(json.loads(path.read_text())["eval"]["episodes"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def finish(spec: RunSpec, out: Path, result: Callable[[], dict[str, Any]]) -> Outcome:
    """Write the result ``result()`` returns, or report why it failed (the other runs go on)."""
    path = out / spec.result_name()
    try:
        results_lib.write_result(path, result())
        return Outcome(spec, "done", path)
    except (Exception, SystemExit) as error:
        message = f"{type(error).__name__}: {error}"
        tqdm.write(f"leaderboard: {spec.describe()} failed: {message}", file=sys.stderr)
        return Outcome(spec, "failed", path, message)
