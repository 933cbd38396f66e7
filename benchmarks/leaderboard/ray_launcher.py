"""The leaderboard's runs as Ray tasks: ``python -m benchmarks.leaderboard run --launcher ray``.

Each agent × env × seed is one task (``--cpus-per-run`` CPUs) that trains and evaluates exactly
as the serial launcher does (:func:`benchmarks.leaderboard.run.execute`) and returns the result;
the driver writes the result files, so they land where ``--out`` says whichever machine ran the
task.  A task that fails is reported and the others go on; a run interrupted mid-training is
resumed from its last checkpoint when the command is run again (its run directory, under
``--runs``, must then be on storage every node sees).

Without ``--address`` a local Ray starts on this machine and stops at the end.  On a cluster:

    ray start --head --port 6379                  # on the head node
    ray start --address HEAD:6379                 # on every other node
    python -m benchmarks.leaderboard run --launcher ray --address HEAD:6379 --cpus-per-run 2 ...

with this project installed the same way on every node (``pip install -e ".[dev]"`` in the same
path; the workers import ``benchmarks`` from the repository on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from benchmarks.leaderboard.run import Outcome, RunSpec, execute, finish

ROOT = Path(__file__).resolve().parents[2]


def _task(spec: RunSpec, runs: str, settings: dict[str, Any]) -> dict[str, Any]:
    """What a Ray worker runs: one run, start to result."""
    return execute(spec, runs, **settings)


def run(todo: Sequence[RunSpec], out: Path, runs: Path, settings: dict[str, Any], *,
        address: str | None = None, cpus_per_run: float = 1.0, progress: bool = True
        ) -> dict[RunSpec, Outcome]:
    """Run ``todo`` as Ray tasks and write each result as it comes back."""
    import ray

    if cpus_per_run <= 0:
        raise ValueError(f"--cpus-per-run must be positive, got {cpus_per_run}")
    started_here = not ray.is_initialized()
    if started_here:
        path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        task = ray.remote(num_cpus=cpus_per_run, max_retries=0)(_task)
        pending = {task.remote(spec, str(Path(runs).absolute()), settings): spec
                   for spec in todo}
        done: dict[RunSpec, Outcome] = {}
        with tqdm(total=len(todo), desc="leaderboard (ray)", unit="run", file=sys.stderr,
                  disable=not progress, dynamic_ncols=True) as bar:
            while pending:
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                spec = pending.pop(ref)
                done[spec] = finish(spec, out, lambda: ray.get(ref))
                bar.update()
        return done
    finally:
        if started_here:
            ray.shutdown()
