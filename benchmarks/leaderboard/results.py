"""The leaderboard's result files: one JSON object per (agent, env, seed, budget) run.

Schema (version :data:`SCHEMA_VERSION`); every key is required, ``null`` only where noted::

    schema        int      SCHEMA_VERSION
    agent         str      "dynalang", "impala", "r2d2", "random", ...
    env           str      Gymnasium env id, e.g. "Messenger-S1-v0"
    seed          int      the training seed (random: the first --seeds value)
    steps         int      env steps asked for (--steps, read steps included; for a run added
                           with `add`, the env steps its checkpoint reached; random: 0)
    preset        str|null the agent's preset (random: null)
    overrides     dict     config fields set with --set, name -> value as a string (a config
                           field's value as its type prints it: "8", "0.0006", "True"), and
                           env arguments: "env.KEY" (--env-arg), "eval.KEY" (--eval-env-arg)
    config        dict|null dataclasses.asdict of the checkpoint's config (random: null)
    env_config    dict     how the envs were made (the checkpoint's "env"; random: {"id": ...})
    versions      dict     python, langgrid, jax, jaxlib, flax, optax, numpy, gymnasium (null
                           where not installed)
    device        dict     kind (jax device_kind; random: "cpu"), platform, note (--device-note
                           or null)
    budget        dict     env_steps (read steps included), real_steps (read steps left out),
                           updates: the checkpoint's counters (random: all 0)
    training      dict     seconds (time of training; 0 for random), timing (how seconds was
                           measured: "wall clock" of the agent.train call(s) the runner made,
                           "logged": the loop time summed from metrics.jsonl, for a run added
                           with `add`; "none" for random), env_steps_per_s (training throughput
                           from the metrics, null for random), resumed (bool: a killed run was
                           continued), argv (the flags given to agent.train, or for `add` the
                           equivalent ones; [] for random)
    curve         list     [env_steps, real_steps, episode_return] per metrics record whose
                           return is not null, in order (random: [])
    eval          dict     score (the final score: mean return over the fixed-seed episodes),
                           std (population std over those episodes), returns, lengths,
                           real_lengths, seeds (one per episode), episodes, success_rate (null
                           when the env reports none), greedy
    started       str      ISO 8601 UTC time the run began (not used by the markdown)
    finished      str      ISO 8601 UTC time the result was written

Files are written atomically (:func:`write_result`), and :func:`load_results` validates every
file, naming each bad one with what is wrong, so that no average ever includes a partial result.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from agent.files import atomic_open

ENV_PREFIX, EVAL_PREFIX = "env.", "eval."
"""overrides named ``env.KEY`` are env arguments (``--env-arg``); ``eval.KEY`` ones are env
arguments of the evaluation only (``--eval-env-arg``)."""

SCHEMA_VERSION = 1

PACKAGES = ("langgrid", "jax", "jaxlib", "flax", "optax", "numpy", "gymnasium")
"""the packages whose versions a result records (importlib.metadata names)."""


def default_setting(overrides: dict[str, str]) -> bool:
    """Whether a run with these overrides measures its env as the paper did: the env's default
    games and arguments (no ``env.`` or ``eval.`` override), the language on."""
    return (not any(k.startswith((ENV_PREFIX, EVAL_PREFIX)) for k in overrides)
            and overrides.get("hide_language", "False") == "False")


TIMINGS = ("wall clock", "logged", "none")
"""how ``training.seconds`` was measured."""


class ResultError(ValueError):
    """A result file that cannot be used; the message names the file and every problem."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = Path(path), reason


@dataclass(frozen=True)
class Loaded:
    """A valid result and the file it came from."""

    path: Path
    data: dict[str, Any]


@dataclass(frozen=True)
class Skipped:
    """A result file left out, and why (the reason does not repeat the path)."""

    path: Path
    reason: str

    def warning(self) -> str:
        """``warning: skipping PATH: REASON``, for stderr."""
        return f"warning: skipping {self.path}: {self.reason}"


# ------------------------------------------------------------------ validation
_NUMBER = (int, float)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# key -> (check, description); each check gets the value
_TOP: dict[str, tuple[Any, str]] = {
    "schema": (lambda v: v == SCHEMA_VERSION, f"the schema version {SCHEMA_VERSION}"),
    "agent": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "env": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "seed": (_is_int, "an integer"),
    "steps": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "preset": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "overrides": (lambda v: isinstance(v, dict), "an object"),
    "config": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "env_config": (lambda v: isinstance(v, dict), "an object"),
    "versions": (lambda v: isinstance(v, dict), "an object"),
    "device": (lambda v: isinstance(v, dict), "an object"),
    "budget": (lambda v: isinstance(v, dict), "an object"),
    "training": (lambda v: isinstance(v, dict), "an object"),
    "curve": (lambda v: isinstance(v, list), "a list"),
    "eval": (lambda v: isinstance(v, dict), "an object"),
    "started": (lambda v: isinstance(v, str), "a string"),
    "finished": (lambda v: isinstance(v, str), "a string"),
}

_NESTED: dict[str, dict[str, tuple[Any, str]]] = {
    "device": {
        "kind": (lambda v: isinstance(v, str), "a string"),
        "platform": (lambda v: isinstance(v, str), "a string"),
        "note": (lambda v: v is None or isinstance(v, str), "a string or null"),
    },
    "budget": {
        "env_steps": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
        "real_steps": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
        "updates": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    },
    "training": {
        "seconds": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
        "timing": (lambda v: v in TIMINGS, f"one of {', '.join(TIMINGS)}"),
        "env_steps_per_s": (lambda v: v is None or (_is_number(v) and v >= 0),
                            "a number >= 0 or null"),
        "resumed": (lambda v: isinstance(v, bool), "true or false"),
        "argv": (lambda v: isinstance(v, list) and all(isinstance(a, str) for a in v),
                 "a list of strings"),
    },
    "eval": {
        "score": (_is_number, "a finite number"),
        "std": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
        "returns": (lambda v: isinstance(v, list) and len(v) > 0 and all(map(_is_number, v)),
                    "a non-empty list of finite numbers"),
        "lengths": (lambda v: isinstance(v, list) and all(map(_is_int, v)), "a list of ints"),
        "real_lengths": (lambda v: isinstance(v, list) and all(map(_is_int, v)),
                         "a list of ints"),
        "seeds": (lambda v: isinstance(v, list) and all(map(_is_int, v)), "a list of ints"),
        "episodes": (lambda v: _is_int(v) and v > 0, "an integer > 0"),
        "success_rate": (lambda v: v is None or (_is_number(v) and 0 <= v <= 1),
                         "a number in [0, 1] or null"),
        "greedy": (lambda v: isinstance(v, bool), "true or false"),
    },
}


def problems(data: Any) -> list[str]:
    """Everything wrong with a parsed result (empty when it is valid)."""
    if not isinstance(data, dict):
        return [f"the top level is {_type_name(data)}, not a JSON object"]
    found: list[str] = []
    for key, (check, what) in _TOP.items():
        if key not in data:
            found.append(f"missing key {key!r}")
        elif not check(data[key]):
            found.append(f"{key!r} must be {what}, got {_short(data[key])}")
    for section, fields in _NESTED.items():
        value = data.get(section)
        if not isinstance(value, dict):
            continue
        for key, (check, what) in fields.items():
            if key not in value:
                found.append(f"missing key {section}.{key}")
            elif not check(value[key]):
                found.append(f"{section}.{key} must be {what}, got {_short(value[key])}")
    if found:
        return found
    # Consistency, once the shapes are right.
    ev, budget = data["eval"], data["budget"]
    n = ev["episodes"]
    for key in ("returns", "lengths", "real_lengths", "seeds"):
        if len(ev[key]) != n:
            found.append(f"eval.{key} has {len(ev[key])} entries but eval.episodes is {n}")
    if len(ev["returns"]) == n and n > 0:
        mean = math.fsum(ev["returns"]) / n
        if not math.isclose(mean, ev["score"], rel_tol=1e-6, abs_tol=1e-6):
            found.append(f"eval.score {ev['score']!r} is not the mean of eval.returns ({mean!r})")
    if len(set(ev["seeds"])) != len(ev["seeds"]):
        found.append("eval.seeds repeats a seed")
    if budget["real_steps"] > budget["env_steps"]:
        found.append(f"budget.real_steps {budget['real_steps']} exceeds budget.env_steps "
                     f"{budget['env_steps']}")
    for i, point in enumerate(data["curve"]):
        if not (isinstance(point, list) and len(point) == 3 and all(map(_is_number, point))):
            found.append(f"curve[{i}] must be [env_steps, real_steps, episode_return] "
                         f"(numbers), got {_short(point)}")
            break
    else:
        xs = [p[0] for p in data["curve"]]
        if any(b < a for a, b in zip(xs, xs[1:])):
            found.append("curve env_steps go backwards")
        if xs and xs[-1] > budget["env_steps"]:
            found.append(f"curve reaches {xs[-1]} env steps, beyond budget.env_steps "
                         f"{budget['env_steps']}")
    if data["agent"] != "random" and (data["config"] is None or data["preset"] is None):
        found.append(f"a trained agent ({data['agent']!r}) needs its config and preset")
    if data["env_config"].get("id") != data["env"]:
        found.append(f"env_config.id {data['env_config'].get('id')!r} is not env "
                     f"{data['env']!r}")
    return found


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value) if _jsonable(value) else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def validate(data: Any, path: str | os.PathLike = "<result>") -> dict[str, Any]:
    """``data`` if it is a valid result; otherwise :class:`ResultError` naming ``path`` and
    every problem found."""
    found = problems(data)
    if found:
        raise ResultError(path, "; ".join(found))
    return data


def read_result(path: str | os.PathLike) -> dict[str, Any]:
    """Parse and validate one result file; :class:`ResultError` (with the path) if it is not
    JSON, is truncated, or is not a valid result."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ResultError(path, f"cannot be read ({error})") from error
    if not text.strip():
        raise ResultError(path, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        at_end = error.pos >= len(text.rstrip())
        what = "truncated (the JSON ends early)" if at_end else "not valid JSON"
        raise ResultError(path, f"{what}: {error.msg} at line {error.lineno} column "
                                f"{error.colno}") from error
    return validate(data, path)


def result_files(directory: str | os.PathLike) -> list[Path]:
    """Every ``*.json`` under ``directory`` (recursively, sorted; hidden temporaries left out)."""
    directory = Path(directory)
    return sorted(p for p in directory.rglob("*.json")
                  if p.is_file() and not any(part.startswith(".")
                                             for part in p.relative_to(directory).parts))


def load_results(directory: str | os.PathLike) -> tuple[list[Loaded], list[Skipped]]:
    """The valid results under ``directory`` and the files skipped, each with its reason.

    A file is skipped (and named in its warning) when it is not valid JSON, is truncated, is
    not a valid result, or repeats the (agent, env, seed, steps, preset, overrides) of a file
    that sorts before it: the leaderboard never averages a partial or doubled result.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no results directory at {directory}: run `python -m "
                                f"benchmarks.leaderboard run ... --out {directory}` first")
    loaded: list[Loaded] = []
    skipped: list[Skipped] = []
    seen: dict[tuple, Path] = {}
    for path in result_files(directory):
        try:
            data = read_result(path)
        except ResultError as error:
            skipped.append(Skipped(path, error.reason))
            continue
        key = (run_key(data), data["seed"])
        if key in seen:
            first = seen[key].relative_to(directory).as_posix()
            skipped.append(Skipped(path, f"the same run (agent {data['agent']}, env "
                                         f"{data['env']}, seed {data['seed']}, {data['steps']} "
                                         f"steps) as {first}"))
            continue
        seen[key] = path
        loaded.append(Loaded(path, data))
    return loaded, skipped


def run_key(data: dict[str, Any]) -> tuple:
    """What makes runs comparable seeds of one entry: env, agent, budget, preset, overrides."""
    return (data["env"], data["agent"], data["steps"], data["preset"] or "",
            json.dumps(data["overrides"], sort_keys=True))


# ------------------------------------------------------------------ writing
def write_result(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Validate ``data`` and write it as JSON, atomically: the whole text is serialised first
    and a temporary file is renamed over ``path``, so ``path`` never holds a partial result
    (an error leaves any previous file as it was)."""
    path = Path(path)
    validate(data, path)
    text = json.dumps(data, indent=1, sort_keys=False, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "w") as f:
        f.write(text)
    return path


def result_name(agent: str, env: str, seed: int, steps: int, preset: str | None,
                overrides: dict[str, str] | None = None) -> str:
    """The file a run's result goes to, relative to the results directory:
    ``ENV/AGENT-PRESET-STEPS-seedS[-set<hash>].json`` (random: ``ENV/random-seedS.json``)."""
    if agent == "random":
        stem = f"random-seed{seed}"
    else:
        stem = f"{agent}-{preset}-{steps}-seed{seed}"
    if overrides:
        stem += f"-set{overrides_tag(overrides)}"
    return f"{env}/{stem}.json"


def overrides_tag(overrides: dict[str, str]) -> str:
    """8 hex digits that identify a set of --set overrides."""
    import hashlib

    text = json.dumps(dict(sorted(overrides.items())), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Python's version and each installed package's (None where it is not installed)."""
    import importlib.metadata
    import platform

    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions
