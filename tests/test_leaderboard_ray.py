"""The Ray launcher writes the same result files as the serial one (timings and run paths
apart), on a local Ray, with real training at a tiny budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.leaderboard import run as run_lib

pytest.importorskip("ray")

#: what may differ between two runs of the same spec: when and how fast it ran, and where
TIMINGS = {("training", "seconds"), ("training", "env_steps_per_s"), ("started",),
           ("finished",)}


def comparable(path: Path, runs: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    for keys in TIMINGS:
        *parents, last = keys
        node = data
        for key in parents:
            node = node[key]
        node.pop(last, None)
    return json.loads(json.dumps(data).replace(str(runs.absolute()), "RUNS")
                      .replace(str(runs), "RUNS"))


# Ray starts its processes with fork + exec after JAX is loaded; the exec makes it safe.
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")
def test_ray_and_serial_launchers_write_the_same_results(tmp_path):
    specs = run_lib.plan(["impala", "random"], ["Messenger-S1-v0"], [0, 1], 400, "tiny",
                         (("num_envs", "2"), ("unroll_length", "8")))
    settings = dict(episodes=4, eval_seed=10_000, num_envs=2, log_every=200, progress=False)
    serial = run_lib.run_all(specs, tmp_path / "serial", tmp_path / "runs-serial", **settings)
    ray = run_lib.run_all(specs, tmp_path / "ray", tmp_path / "runs-ray", launcher="ray",
                          cpus_per_run=1, **settings)
    assert [o.status for o in serial] == [o.status for o in ray] == ["done"] * 3, (serial, ray)
    for a, b in zip(serial, ray):
        assert a.path.relative_to(tmp_path / "serial") == b.path.relative_to(tmp_path / "ray")
        assert comparable(a.path, tmp_path / "runs-serial") == comparable(
            b.path, tmp_path / "runs-ray")
    # Run again: every result exists, nothing is redone.
    again = run_lib.run_all(specs, tmp_path / "ray", tmp_path / "runs-ray", launcher="ray",
                            **settings)
    assert [o.status for o in again] == ["skipped"] * 3


def test_an_unknown_launcher_says_which_there_are(tmp_path):
    specs = run_lib.plan(["random"], ["Messenger-S1-v0"], [0], 400, "tiny", ())
    with pytest.raises(ValueError, match="unknown launcher 'slurm'; launchers: serial, ray"):
        run_lib.run_all(specs, tmp_path, tmp_path, launcher="slurm")
