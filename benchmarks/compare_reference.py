#!/usr/bin/env python3
"""Side-by-side throughput benchmark: our HomeGrid vs. the reference `homegrid==0.1.1`.

What is measured
----------------
For each environment id, in ONE run on the same machine:

* **reference** -- the original PyPI package ``homegrid==0.1.1`` (old ``gym`` 0.26
  API), installed into an isolated virtual environment (default
  ``~/.cache/homegrid-reference-venv``; created on first use, reused afterwards).
  Ids: ``homegrid-task``, ``homegrid-future``, ``homegrid-dynamics``,
  ``homegrid-corrections``. The reference always renders a 96x96 view.
* **ours, single** -- ``gymnasium.make(our_id, image_size=S)``.
* **ours, batched** -- ``gymnasium.make_vec(our_id, num_envs=64,
  vectorization_mode="vector_entry_point", image_size=S)``; throughput is counted
  in env-steps (batch steps x 64, ``--vec-steps`` env-steps per run, default
  10 x ``--steps``). The vector env autoresets itself.

Single envs on both sides are made with ``disable_env_checker=True`` (as the
reference's own ``benchmark.py`` does), so both go through just the
``OrderEnforcing`` wrapper (plus ``TimeLimit`` where an id registers one).

Ours is measured at every image size in ``--image-sizes`` (default ``64,96``;
96 matches the reference's view).  ``HomeGrid-v0`` has no reference counterpart
and is measured for ours only.

Every measurement runs in its own fresh subprocess (the reference ones with the
venv's interpreter, ours with the current interpreter), so the reported peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that measurement
alone.  The timed loop is identical for both sides and as small as possible:
a uniformly random policy whose actions are pre-generated with a seeded numpy
RNG, ``step`` bound to a local, and ``reset()`` when ``terminated or truncated``
(resets inside the loop are included in steps/s).  Each timing loop runs
``--repeats`` times in the same process after a short warm-up; the best run is
reported.  Reset time is measured separately as the mean over a number of
back-to-back ``reset()`` calls.

How to run
----------
From the repository root::

    python benchmarks/compare_reference.py                      # everything
    python benchmarks/compare_reference.py --skip-reference     # ours only
    python benchmarks/compare_reference.py --steps 5000 --repeats 1 --json out.json

Caveats when reading the ratios: the reference's observation also carries a
512-d float32 ``token_embed`` and a log string; and its future/dynamics/
corrections settings start each episode with up to 28 "read" steps that return
a cached observation without simulating, which is why they step faster than
the task setting.

The first run needs access to a package index (PyPI) to build the reference
venv.  The reference reads its bundled pickle of pre-tokenised sentences; the
workers run with ``HF_HUB_OFFLINE=1`` so nothing is fetched from a model hub.

The script itself only needs the standard library at import time (it re-runs
itself as the worker, also inside the reference venv); numpy and gymnasium are
imported inside the worker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

try:
    from langstream.cli import Parser
except ImportError:  # the code of another revision (--against) or the reference's venv
    Parser = argparse.ArgumentParser  # type: ignore[misc,assignment]

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF_VENV = Path("~/.cache/homegrid-reference-venv").expanduser()

# homegrid 0.1.1 pins ``gym==0.26`` exactly (i.e. 0.26.0), so pip refuses
# ``gym==0.26.2`` next to it (ResolutionImpossible); we use the pinned version.
# Pillow is used by the package but not declared.  numpy<2: gym 0.26 predates
# numpy 2 (its env checker uses np.bool8) and the bundled embedding pickle
# references ``numpy.core`` internals.
REF_REQUIREMENTS = ["homegrid==0.1.1", "gym==0.26.0", "numpy<2", "pillow"]
REF_CHECK = (
    "import importlib.metadata as m, gym, numpy, PIL, homegrid; "
    "assert m.version('homegrid') == '0.1.1', m.version('homegrid'); "
    "assert gym.__version__.startswith('0.26'), gym.__version__; "
    "assert int(numpy.__version__.split('.')[0]) < 2, numpy.__version__"
)

# (reference gym id or None, our gymnasium id)
ID_PAIRS: list[tuple[str | None, str]] = [
    ("homegrid-task", "HomeGrid-Task-v0"),
    ("homegrid-future", "HomeGrid-Future-v0"),
    ("homegrid-dynamics", "HomeGrid-Dynamics-v0"),
    ("homegrid-corrections", "HomeGrid-Corrections-v0"),
    (None, "HomeGrid-v0"),
]

SEED = 0
WORKER_TIMEOUT_S = 3600


# --------------------------------------------------------------------------
# Worker: runs in a child process (reference venv or current interpreter).
# --------------------------------------------------------------------------


def _peak_rss_mib() -> float:
    import resource

    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _seed_globals(seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)


def _seeded_reset(env: Any, seed: int, accepts_seed: bool) -> Any:
    """Reset with a seed; the reference's reset() takes no arguments."""
    import numpy as np

    _seed_globals(seed)
    if accepts_seed:
        return env.reset(seed=seed)
    # Reference: it draws from python's `random`, the global numpy RNG and the
    # base env's `np_random`; seed all three.
    env.unwrapped.np_random = np.random.default_rng(seed)
    return env.reset()


def _time_single_loop(env: Any, actions: list[int]) -> float:
    """The timed loop, identical for the reference and ours. Returns seconds."""
    from time import perf_counter

    step = env.step
    reset = env.reset
    t0 = perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = step(a)
        if terminated or truncated:
            reset()
    return perf_counter() - t0


def _time_vector_loop(env: Any, actions: Any) -> float:
    """Timed loop for a vector env (autoresets itself). Returns seconds."""
    from time import perf_counter

    step = env.step
    t0 = perf_counter()
    for a in actions:
        step(a)
    return perf_counter() - t0


def _time_resets(reset: Any, count: int) -> float:
    """Mean milliseconds per reset() call."""
    from time import perf_counter

    t0 = perf_counter()
    for _ in range(count):
        reset()
    return (perf_counter() - t0) * 1000.0 / count


def _make_env(spec: dict[str, Any]) -> Any:
    kind = spec["kind"]
    if kind == "reference":
        import gym

        import homegrid  # noqa: F401  (registers the gym ids)

        return gym.make(spec["env_id"], disable_env_checker=True)
    import gymnasium

    import homegrid  # noqa: F401  (ours; registers the gymnasium ids)

    if kind == "single":
        return gymnasium.make(spec["env_id"], disable_env_checker=True, **spec["kwargs"])
    if kind == "vector":
        return gymnasium.make_vec(
            spec["env_id"],
            num_envs=spec["num_envs"],
            vectorization_mode="vector_entry_point",
            **spec["kwargs"],
        )
    raise ValueError(f"unknown worker kind {kind!r}")


def _versions(kind: str) -> dict[str, str]:
    import importlib.metadata as md

    import numpy as np

    out = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in ("gym", "homegrid") if kind == "reference" else ("gymnasium",):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _image_shape(obs: Any) -> list[int] | None:
    if isinstance(obs, dict) and "image" in obs:
        return list(obs["image"].shape)
    shape = getattr(obs, "shape", None)
    return list(shape) if shape is not None else None


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Make one env, time it, return the numbers (printed as JSON by main)."""
    import numpy as np

    import homegrid

    kind = spec["kind"]
    steps, repeats, seed = spec["steps"], spec["repeats"], spec["seed"]
    env = _make_env(spec)
    rng = np.random.default_rng(seed)
    rates: list[float] = []

    if kind == "vector":
        num_envs = spec["num_envs"]
        n_actions = int(env.single_action_space.n)
        batch_steps = max(1, steps // num_envs)
        obs, _ = env.reset(seed=seed)
        warm = rng.integers(0, n_actions, size=(min(50, batch_steps), num_envs))
        _time_vector_loop(env, warm)
        for r in range(repeats):
            env.reset(seed=seed + r)
            actions = rng.integers(0, n_actions, size=(batch_steps, num_envs))
            rates.append(batch_steps * num_envs / _time_vector_loop(env, actions))
        reset_ms = _time_resets(env.reset, spec["vec_resets"])
        env_steps = batch_steps * num_envs
    else:
        accepts_seed = kind != "reference"
        n_actions = int(env.action_space.n)
        obs, _ = _seeded_reset(env, seed, accepts_seed)
        warm = rng.integers(0, n_actions, size=min(1000, steps)).tolist()
        _time_single_loop(env, warm)
        for r in range(repeats):
            _seeded_reset(env, seed + r, accepts_seed)
            actions = rng.integers(0, n_actions, size=steps).tolist()
            rates.append(steps / _time_single_loop(env, actions))
        reset_ms = _time_resets(env.reset, spec["resets"])
        env_steps = steps

    env.close()
    return {
        "env_id": spec["env_id"],
        "kind": kind,
        "kwargs": spec.get("kwargs", {}),
        "steps_per_s": max(rates),
        "all_steps_per_s": rates,
        "env_steps_per_repeat": env_steps,
        "reset_ms": reset_ms,
        "peak_rss_mib": _peak_rss_mib(),
        "image_shape": _image_shape(obs),
        "module_file": getattr(homegrid, "__file__", None) or str(list(homegrid.__path__)),
        "versions": _versions(kind),
    }


# --------------------------------------------------------------------------
# Driver: reference venv, subprocess launching, reporting.
# --------------------------------------------------------------------------


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _run_checked(cmd: list[str], what: str) -> None:
    print(f"  $ {shlex.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tempfile.gettempdir(),
                          env=_ref_env())
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise SystemExit(
            f"error: {what} failed (exit {proc.returncode}).\n{tail}\n"
            f"Fix the problem above, or delete the venv and retry, "
            f"or run with --skip-reference."
        )


def _venv_works(python: Path) -> bool:
    if not python.exists():
        return False
    proc = subprocess.run(
        [str(python), "-I", "-c", REF_CHECK], capture_output=True, text=True,
        cwd=tempfile.gettempdir(), env=_ref_env(),
    )
    return proc.returncode == 0


def ensure_reference_venv(venv: Path) -> Path:
    """Create (or reuse) the venv holding the reference package; return its python."""
    python = _venv_python(venv)
    if _venv_works(python):
        print(f"Reusing reference venv {venv}", flush=True)
        return python
    if not python.exists():
        print(f"Creating reference venv {venv}", flush=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run_checked([sys.executable, "-m", "venv", str(venv)], "creating the venv")
    print(f"Installing {' '.join(REF_REQUIREMENTS)} into {venv}", flush=True)
    _run_checked(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check",
         *REF_REQUIREMENTS],
        "pip install of the reference",
    )
    if not _venv_works(python):
        raise SystemExit(f"error: reference venv {venv} still fails: {REF_CHECK}")
    return python


def _ref_env() -> dict[str, str]:
    """Environment for reference processes: isolated and offline."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONNOUSERSITE="1")
    return env


def _ours_env() -> dict[str, str]:
    """Environment for our processes: the repository root first on sys.path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def launch_worker(python: Path | str, spec: dict[str, Any], reference: bool) -> dict[str, Any]:
    """Run one measurement in a fresh process; return its result or an error."""
    label = f"{spec['kind']:9s} {spec['env_id']} {spec.get('kwargs', {})}"
    print(f"  measuring {label} ...", end="", flush=True)
    # The reference runs isolated (-I: neither the cwd nor the script's directory
    # nor PYTHONPATH on sys.path) from a temp dir, so `import homegrid` cannot
    # pick up ours from this repository.
    isolate = ["-I"] if reference else []
    cmd = [str(python), *isolate, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    cwd = tempfile.gettempdir() if reference else str(REPO_ROOT)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, cwd=cwd, timeout=WORKER_TIMEOUT_S,
            env=_ref_env() if reference else _ours_env(),
        )
    except subprocess.TimeoutExpired:
        print(" timed out")
        return {**spec, "error": f"timed out after {WORKER_TIMEOUT_S}s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f" FAILED: {err}")
        return {**spec, "error": err, "stderr_tail": proc.stderr[-3000:]}
    result = json.loads(lines[-1])
    print(f" {result['steps_per_s']:,.0f} steps/s, peak RSS {result['peak_rss_mib']:.0f} MiB")
    return result


def machine_info() -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.machine import cpu_model, usable_cores

    return {
        "cpu_model": cpu_model(),
        "nproc": usable_cores(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }


def _fmt_rate(r: dict[str, Any] | None) -> str:
    if r is None:
        return "—"
    return "error" if "error" in r else f"{r['steps_per_s']:,.0f}"


def _fmt_rss(r: dict[str, Any] | None) -> str:
    if r is None or "error" in r:
        return "—"
    return f"{r['peak_rss_mib']:.0f}"


def _ratio(ours: dict[str, Any] | None, ref: dict[str, Any] | None) -> float | None:
    if not ours or not ref or "error" in ours or "error" in ref:
        return None
    return ours["steps_per_s"] / ref["steps_per_s"]


def _fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def print_report(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(f"\nMachine: {m['cpu_model']}, nproc={m['nproc']}, {m['platform']}")
    print(f"Settings: {results['settings']}")
    for side, vers in results["versions"].items():
        print(f"Versions ({side}): " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    ref = results["reference"]
    for size, rows in results["ours"].items():
        print(f"\n### image_size={size} (reference always renders 96x96)\n")
        print("| id | ref steps/s | ours single steps/s | single/ref | "
              f"ours batched({results['settings']['num_envs']}) steps/s | batched/ref | "
              "ref reset ms | ours reset ms | ref RSS MiB | single RSS MiB | "
              "batched RSS MiB |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for ref_id, our_id in ID_PAIRS:
            r = ref.get(ref_id) if ref_id else None
            s, b = rows[our_id]["single"], rows[our_id]["batched"]
            name = f"{ref_id} / {our_id}" if ref_id else our_id
            ref_reset = "—" if not r or "error" in r else f"{r['reset_ms']:.2f}"
            our_reset = "—" if "error" in s else f"{s['reset_ms']:.2f}"
            print(f"| {name} | {_fmt_rate(r)} | {_fmt_rate(s)} | {_fmt_ratio(_ratio(s, r))} "
                  f"| {_fmt_rate(b)} | {_fmt_ratio(_ratio(b, r))} | {ref_reset} | {our_reset} "
                  f"| {_fmt_rss(r)} | {_fmt_rss(s)} | {_fmt_rss(b)} |")
    errors = [x for x in _all_results(results) if "error" in x]
    if errors:
        print()
    for e in errors:
        print(f"error in {e['kind']} {e['env_id']} {e.get('kwargs', {})}: {e['error']}")


def _all_results(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = list(results["reference"].values())
    for rows in results["ours"].values():
        for row in rows.values():
            out.extend(row.values())
    return out


def _collect_versions(results: dict[str, Any]) -> dict[str, Any]:
    versions: dict[str, Any] = {}
    for r in _all_results(results):
        if "versions" in r:
            side = "reference" if r["kind"] == "reference" else "ours"
            versions.setdefault(side, {**r["versions"], "module": r["module_file"]})
    return versions


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ref-venv", type=Path, default=DEFAULT_REF_VENV,
                   help=f"venv for the reference package (default {DEFAULT_REF_VENV})")
    p.add_argument("--steps", type=int, default=20000,
                   help="env-steps per timing run (default 20000)")
    p.add_argument("--vec-steps", type=int, default=None,
                   help="env-steps per timing run of the batched env "
                        "(default 10 x --steps; counted as batch steps x num_envs)")
    p.add_argument("--num-envs", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--image-sizes", default="64,96",
                   help="comma-separated image_size values for ours (default 64,96)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timing runs per measurement; the best is kept (default 3)")
    p.add_argument("--resets", type=int, default=200,
                   help="reset() calls for the mean reset time (default 200)")
    p.add_argument("--skip-reference", action="store_true", help="measure ours only")
    p.add_argument("--json", type=Path, default=None, help="write all numbers here")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for flag in ("steps", "vec_steps", "num_envs", "repeats", "resets"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            p.error(f"--{flag.replace('_', '-')} must be a positive integer, got {value}")
    try:
        sizes = [int(s) for s in args.image_sizes.split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1 or max(sizes) > 1024:
        p.error(f"--image-sizes must be integers from 1 to 1024 (the envs' largest image) "
                f"separated by commas, got {args.image_sizes!r}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker is not None:
        print(json.dumps(run_worker(json.loads(args.worker))))
        return

    sizes = [int(s) for s in args.image_sizes.split(",") if s.strip()]
    vec_steps = args.vec_steps or 10 * args.steps
    common = {"steps": args.steps, "repeats": args.repeats, "seed": SEED,
              "resets": args.resets, "vec_resets": max(1, args.resets // 20)}
    results: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {"steps": args.steps, "vec_steps": vec_steps, "repeats": args.repeats,
                     "num_envs": args.num_envs, "image_sizes": sizes, "seed": SEED},
        "reference": {},
        "ours": {},
    }

    if not args.skip_reference:
        ref_python = ensure_reference_venv(args.ref_venv.expanduser())
        print("Reference (gym, 96x96 view):", flush=True)
        for ref_id, _ in ID_PAIRS:
            if ref_id:
                spec = {**common, "kind": "reference", "env_id": ref_id}
                results["reference"][ref_id] = launch_worker(ref_python, spec, reference=True)

    for size in sizes:
        print(f"Ours (gymnasium, image_size={size}):", flush=True)
        rows: dict[str, Any] = {}
        for _, our_id in ID_PAIRS:
            kwargs = {"image_size": size}
            single = {**common, "kind": "single", "env_id": our_id, "kwargs": kwargs}
            vector = {**common, "kind": "vector", "env_id": our_id, "kwargs": kwargs,
                      "steps": vec_steps, "num_envs": args.num_envs}
            rows[our_id] = {
                "single": launch_worker(sys.executable, single, reference=False),
                "batched": launch_worker(sys.executable, vector, reference=False),
            }
        results["ours"][str(size)] = rows

    results["versions"] = _collect_versions(results)
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nWrote {args.json}")


if __name__ == "__main__":
    main()
