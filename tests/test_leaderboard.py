"""The leaderboard: result validation, atomic writes, the page and plots, and the runner's
bookkeeping (training and evaluation replaced by fakes; the random agent on a real env)."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.leaderboard import __main__ as cli
from benchmarks.leaderboard import results as results_lib
from benchmarks.leaderboard import run as run_lib
from benchmarks.leaderboard import show as show_lib


# ------------------------------------------------------------------ hand-made results
def make_result(agent: str = "dynalang", env: str = "Messenger-S1-v0", seed: int = 0,
                returns: tuple[float, ...] = (1.0, 0.0, 1.0, 0.0), steps: int = 20_000,
                preset: str | None = "tiny", curve_scale: float = 1.0) -> dict[str, Any]:
    """A valid result (schema 1) with the given evaluation returns."""
    trained = agent != "random"
    n = len(returns)
    curve = ([[1_000 * (i + 1), 800 * (i + 1), curve_scale * i / 10] for i in range(20)]
             if trained else [])
    return {
        "schema": results_lib.SCHEMA_VERSION, "agent": agent, "env": env, "seed": seed,
        "steps": steps if trained else 0, "preset": preset if trained else None,
        "overrides": {}, "config": {"deter": 64, "seed": seed} if trained else None,
        "env_config": {"id": env, "image_key": "auto", "pad_to": "auto"},
        "versions": results_lib.package_versions(),
        "device": {"kind": "cpu", "platform": "cpu", "note": None},
        "budget": ({"env_steps": steps, "real_steps": steps * 4 // 5, "updates": 100}
                   if trained else {"env_steps": 0, "real_steps": 0, "updates": 0}),
        "training": {"seconds": 90.0 if trained else 0.0,
                     "timing": "wall clock" if trained else "none",
                     "env_steps_per_s": 250.0 if trained else None, "resumed": False,
                     "argv": ["--agent", agent] if trained else []},
        "curve": curve,
        "eval": {"score": float(np.mean(returns)), "std": float(np.std(returns)),
                 "returns": list(map(float, returns)), "lengths": [10] * n,
                 "real_lengths": [4] * n, "seeds": [10_000 + k for k in range(n)],
                 "episodes": n, "success_rate": 0.5, "greedy": False},
        "started": "2024-01-01T00:00:00+00:00", "finished": "2024-01-01T00:02:00+00:00",
    }


def write(directory: Path, name: str, data: dict[str, Any]) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return path


def table_rows(page: str, env: str) -> list[str]:
    """The table rows of one env's section."""
    section = page.split(f"## {env}")[1].split("\n## ")[0]
    return [line for line in section.splitlines() if line.startswith("| ")][1:]


@pytest.fixture
def board(tmp_path: Path) -> Path:
    """A results directory: Dynalang 2 seeds and random on S1, IMPALA 1 seed on HomeGrid."""
    results = tmp_path / "results"
    write(results, "Messenger-S1-v0/dynalang-tiny-20000-seed0.json",
          make_result(seed=0, returns=(1.0, 1.0, 1.0, 1.0)))
    write(results, "Messenger-S1-v0/dynalang-tiny-20000-seed1.json",
          make_result(seed=1, returns=(0.5, 0.5, 0.5, 0.5), curve_scale=2.0))
    write(results, "Messenger-S1-v0/random-seed0.json",
          make_result(agent="random", returns=(-1.0, -1.0, 1.0, -1.0)))
    write(results, "HomeGrid-Task-v0/impala-tiny-20000-seed0.json",
          make_result(agent="impala", env="HomeGrid-Task-v0", returns=(0.0, 1.0)))
    return results


# ------------------------------------------------------------------ show
def test_show_renders_rows_and_plots(board: Path, tmp_path: Path) -> None:
    out = tmp_path / "LEADERBOARD.md"
    show_lib.show(board, out, tmp_path / "plots")
    page = out.read_text()
    s1 = table_rows(page, "Messenger-S1-v0")
    # the mean and IQM of all 8 returns (four 1.0s, four 0.5s), each within the bootstrap's
    # extremes: both draws from seed 1 (0.5) or both from seed 0 (1.0)
    assert s1[0].startswith("| dynalang (tiny, 20k) | — | 2 × 4 | 0.75 [0.50, 1.00] | "
                            "0.75 [0.50, 1.00] | 0: 1.00, 1: 0.50 |")
    assert "20,000 (16,000 real)" in s1[0] and "≈0.97" in s1[0] and "| 1M |" in s1[0]
    assert "| 2% |" in s1[0]  # 20k of the paper's 1M
    assert s1[1].startswith("| random | — | 1 × 4 | -0.50 [")
    assert "| -1.00 [" in s1[1]  # the IQM of -1, -1, -1, 1: the middle two
    assert any(r.startswith("| EMMA (paper only) |") and "≈0.86" in r for r in s1)
    assert any(r.startswith("| r2d2 (not run yet) |") and "≈0.79" in r for r in s1)
    hg = table_rows(page, "HomeGrid-Task-v0")
    assert hg[0].startswith("| impala (tiny, 20k) | — | 1 × 2 | 0.50 [0.00, 1.00] |")
    assert "≈0.50" in hg[0] and "50M" in hg[0]
    assert "## HomeGrid-Corrections-v0" not in page  # only envs with results get a section
    for env in ("Messenger-S1-v0", "HomeGrid-Task-v0"):
        png = tmp_path / "plots" / f"{env}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](plots/{env}.png)" in page
    assert "python -m benchmarks.leaderboard show" in page
    assert "Skipped" not in page
    # deterministic: the same files give the same page and plots
    png = (tmp_path / "plots" / "Messenger-S1-v0.png").read_bytes()
    show_lib.show(board, out, tmp_path / "plots")
    assert out.read_text() == page
    assert (tmp_path / "plots" / "Messenger-S1-v0.png").read_bytes() == png


def test_show_through_the_cli(board: Path, tmp_path: Path, user_error) -> None:
    out = tmp_path / "page" / "LB.md"
    assert cli.main(["show", "--results", str(board), "--out", str(out)]) == 0
    assert (board.parent / "plots" / "Messenger-S1-v0.png").exists()
    assert "dynalang (tiny, 20k)" in out.read_text()
    assert "no results directory" in user_error(
        cli.main, ["show", "--results", str(tmp_path / "nowhere"), "--out", str(out)])


def test_bad_files_are_named_and_left_out(board: Path, tmp_path: Path, capsys) -> None:
    folder = board / "Messenger-S1-v0"
    full = json.dumps(make_result(seed=2, returns=(100.0,) * 4), indent=1)
    (folder / "dynalang-tiny-20000-seed2.json").write_text(full[: len(full) // 2])  # truncated
    (folder / "dynalang-tiny-20000-seed3.json").write_text("{this is not json}")
    missing = make_result(seed=4, returns=(100.0,) * 4)
    del missing["eval"]["returns"]
    write(folder, "dynalang-tiny-20000-seed4.json", missing)
    inconsistent = make_result(seed=5, returns=(100.0,) * 4)
    inconsistent["eval"]["seeds"] = inconsistent["eval"]["seeds"][:2]
    write(folder, "dynalang-tiny-20000-seed5.json", inconsistent)

    out = tmp_path / "LEADERBOARD.md"
    show_lib.show(board, out)
    err = capsys.readouterr().err
    for seed, reason in ((2, "truncated"), (3, "not valid JSON"), (4, "eval.returns"),
                         (5, "eval.seeds has 2 entries")):
        name = f"dynalang-tiny-20000-seed{seed}.json"
        line = next(line for line in err.splitlines() if name in line)
        assert line.startswith("warning: skipping ") and reason in line
    page = out.read_text()
    dynalang = table_rows(page, "Messenger-S1-v0")[0]
    assert "| 2 × 4 | 0.75 [0.50, 1.00] |" in dynalang  # none of the 100s was averaged in
    assert "## Skipped result files" in page
    assert "`Messenger-S1-v0/dynalang-tiny-20000-seed3.json`" in page


def test_duplicate_runs_are_not_averaged_twice(board: Path, tmp_path: Path, capsys) -> None:
    write(board, "copies/dynalang-copy.json", make_result(seed=0, returns=(9.0,) * 4))
    loaded, skipped = results_lib.load_results(board)
    assert len(loaded) == 4 and len(skipped) == 1
    assert "the same run" in skipped[0].reason and "copies" in str(skipped[0].path)


def test_validation_messages() -> None:
    good = make_result()
    assert results_lib.problems(good) == []
    assert results_lib.problems([1, 2]) == ["the top level is list, not a JSON object"]
    bad = copy.deepcopy(good)
    del bad["budget"]
    bad["seed"] = "zero"
    bad["eval"]["score"] = 0.9
    found = results_lib.problems(bad)
    assert "missing key 'budget'" in found and any("'seed' must be an integer" in f
                                                   for f in found)
    bad = copy.deepcopy(good)
    bad["eval"]["score"] = 0.9
    bad["curve"][3] = [1, 2]
    found = "; ".join(results_lib.problems(bad))
    assert "eval.score 0.9 is not the mean of eval.returns" in found
    assert "curve[3] must be [env_steps, real_steps, episode_return]" in found
    with pytest.raises(results_lib.ResultError, match=r"^somewhere\.json: .*schema"):
        results_lib.validate({**good, "schema": 99}, "somewhere.json")


# ------------------------------------------------------------------ atomic writes
def test_write_result_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "r" / "x.json"
    first = make_result(seed=0)
    results_lib.write_result(path, first)
    before = path.read_bytes()
    assert results_lib.read_result(path) == first

    unserialisable = make_result(seed=1)
    unserialisable["overrides"] = {"odd": object()}  # valid shape; json.dumps fails
    with pytest.raises(TypeError):
        results_lib.write_result(path, unserialisable)
    nan = make_result(seed=1)
    nan["versions"]["numpy"] = float("nan")  # not JSON (allow_nan=False)
    with pytest.raises(ValueError):
        results_lib.write_result(path, nan)
    with pytest.raises(results_lib.ResultError):  # an invalid result is never written
        results_lib.write_result(path, {**first, "eval": {}})
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.json"]  # no temporaries


def test_write_result_killed_mid_write_keeps_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "x.json"
    results_lib.write_result(path, make_result(seed=0))
    before = path.read_bytes()

    class Boom(Exception):
        pass

    real_open = open

    def failing_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if "w" in mode and ".tmp-" in str(file):
            real_write = handle.write

            def write(text):
                real_write(text[: len(text) // 2])
                raise Boom("disk died")
            handle.write = write
        return handle

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(Boom):
        results_lib.write_result(path, make_result(seed=1, returns=(0.25,) * 4))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


# ------------------------------------------------------------------ run: the random agent
def test_run_random_end_to_end(tmp_path: Path, capsys) -> None:
    """The real env and the real agent.eval.evaluate_random (4 episodes of Messenger-S1)."""
    out = tmp_path / "results"
    argv = ["run", "--agents", "random", "--envs", "Messenger-S1-v0", "--seeds", "0",
            "--episodes", "4", "--eval-envs", "2", "--out", str(out), "--runs",
            str(tmp_path / "runs"), "--no-progress"]
    assert cli.main(argv) == 0
    data = results_lib.read_result(out / "Messenger-S1-v0" / "random-seed0.json")
    assert data["agent"] == "random" and data["budget"]["env_steps"] == 0
    assert data["eval"]["seeds"] == [10_000, 10_001, 10_002, 10_003]
    assert data["device"] == {"kind": "cpu", "platform": "cpu", "note": None}
    assert all(-1.0 <= r <= 1.0 for r in data["eval"]["returns"])  # S1: +1 win, -1 loss
    assert data["versions"]["numpy"] == np.__version__
    assert cli.main(argv) == 0  # the second time it is skipped
    assert "0 run(s) done, 1 skipped" in capsys.readouterr().out
    more = argv[:argv.index("--episodes")] + ["--episodes", "6"] + argv[argv.index("4") + 1:]
    assert cli.main(more) == 0 and "1 run(s) done" in capsys.readouterr().out  # evaluated again
    again = results_lib.read_result(out / "Messenger-S1-v0" / "random-seed0.json")
    assert again["eval"]["returns"][:4] == data["eval"]["returns"]  # the same first episodes
    assert len(again["eval"]["returns"]) == 6
    assert cli.main(argv) == 0  # fewer episodes than it has: kept, for both kinds of rows
    assert "0 run(s) done, 1 skipped" in capsys.readouterr().out


# ------------------------------------------------------------------ run: fake training
@dataclasses.dataclass(frozen=True)
class FakeConfig:
    deter: int = 64
    seed: int = 0
    num_envs: int = 4


class FakeTraining:
    """Stands in for agent.train.main and agent.eval.evaluate: writes a run directory as the
    real trainer does (metrics.jsonl through the Logger, a checkpoint) without learning."""

    def __init__(self, fail_on_seed: int | None = None):
        self.calls: list[list[str]] = []
        self.evaluated: list[tuple[str, int, int, int]] = []
        self.fail_on_seed = fail_on_seed

    @staticmethod
    def flag(argv: list[str], name: str) -> str:
        return argv[argv.index(name) + 1]

    def train_main(self, argv: list[str]) -> None:
        from agent import checkpoint
        from agent.logger import Logger

        self.calls.append(list(argv))
        seed, steps = int(self.flag(argv, "--seed")), int(self.flag(argv, "--steps"))
        if seed == self.fail_on_seed:
            raise RuntimeError("the learner diverged")
        logdir, every = Path(self.flag(argv, "--logdir")), int(self.flag(argv, "--log-every"))
        logger = Logger(logdir, steps, tensorboard=False, progress=False)
        for k, at in enumerate(range(every, steps + 1, every)):
            logger.write({"env_steps": at, "real_steps": at - 10 * (k + 1), "updates": k,
                          "env_steps_per_s": 500.0, "episodes": k % 2,
                          "episode_return": None if k % 2 == 0 else 0.1 * k + seed})
        logger.close()
        checkpoint.save(logdir, {
            "agent": self.flag(argv, "--agent"), "config": FakeConfig(seed=seed),
            "env": {"id": self.flag(argv, "--env"), "image_key": "auto", "pad_to": "auto",
                    "vector": "auto"},
            "counters": {"env_steps": steps, "real_steps": steps - 10 * (steps // every),
                         "updates": 7}}, step=steps)

    def evaluate(self, run_dir: Any, episodes: int = 20, seed: int = 10_000,
                 num_envs: int = 8, env_kwargs: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
        from agent import checkpoint

        train_seed = checkpoint.load(run_dir)["config"].seed
        self.evaluated.append((str(run_dir), episodes, seed, num_envs))
        self.env_kwargs = env_kwargs
        returns = [float(train_seed + k % 2) for k in range(episodes)]
        return {"mean_return": float(np.mean(returns)), "std_return": float(np.std(returns)),
                "returns": returns, "lengths": [30] * episodes, "real_lengths": [4] * episodes,
                "seeds": [seed + k for k in range(episodes)], "success_rate": 0.5,
                "greedy": False, "episodes": episodes}


@pytest.fixture
def fake(monkeypatch) -> FakeTraining:
    import agent.eval
    import agent.train

    fake = FakeTraining()
    monkeypatch.setattr(agent.train, "main", fake.train_main)
    monkeypatch.setattr(agent.eval, "evaluate", fake.evaluate)
    return fake


def run_argv(tmp_path: Path, *extra: str) -> list[str]:
    return ["run", "--agents", "dynalang", "--envs", "Messenger-S1-v0", "--seeds", "0", "1",
            "--steps", "5000", "--preset", "tiny", "--episodes", "3", "--out",
            str(tmp_path / "results"), "--runs", str(tmp_path / "runs"), "--log-every", "1000",
            "--no-progress", "--device-note", "test box", *extra]


def test_env_arguments_train_once_and_evaluate_on_other_splits(fake: FakeTraining,
                                                               tmp_path: Path) -> None:
    argv = run_argv(tmp_path, "--env-arg", "split=train-sc", "--eval-env-arg", "split=val")
    assert cli.main(argv) == 0
    assert all(call[call.index("--env-arg") + 1] == "split=train-sc" for call in fake.calls)
    assert fake.env_kwargs == {"split": "val"}
    files = sorted((tmp_path / "results").rglob("*.json"))
    data = results_lib.read_result(files[0])
    assert data["overrides"] == {"env.split": "train-sc", "eval.split": "val"}
    # Another evaluation split reuses the trained runs: a row of its own, no new training.
    trained = len(fake.calls)
    argv = run_argv(tmp_path, "--env-arg", "split=train-sc", "--eval-env-arg", "split=test")
    assert cli.main(argv) == 0
    assert len(fake.calls) == trained and fake.env_kwargs == {"split": "test"}
    assert len(list((tmp_path / "results").rglob("*.json"))) == 2 * len(files)
    # The page gives the command that makes each row again.
    page = tmp_path / "LB.md"
    assert cli.main(["show", "--results", str(tmp_path / "results"), "--out", str(page)]) == 0
    assert "--env-arg split=train-sc --eval-env-arg split=test" in page.read_text()


def test_run_bookkeeping_with_fake_training(fake: FakeTraining, tmp_path: Path) -> None:
    assert cli.main(run_argv(tmp_path, "--set", "batch-size=08")) == 0  # = batch_size=8
    assert len(fake.calls) == 2
    tag = results_lib.overrides_tag({"batch_size": "8"})
    for seed in (0, 1):
        stem = f"Messenger-S1-v0/dynalang-tiny-5000-seed{seed}-set{tag}"
        data = results_lib.read_result(tmp_path / "results" / f"{stem}.json")
        argv = fake.calls[seed]
        run_dir = tmp_path / "runs" / stem
        assert argv[:12] == ["--agent", "dynalang", "--env", "Messenger-S1-v0", "--steps",
                             "5000", "--logdir", str(run_dir), "--seed", str(seed),
                             "--preset", "tiny"]
        assert "--no-progress" in argv and argv[-2:] == ["--batch-size", "8"]
        assert data["training"]["argv"] == argv and data["training"]["resumed"] is False
        assert data["training"]["env_steps_per_s"] == pytest.approx(500.0)
        assert data["overrides"] == {"batch_size": "8"}
        assert data["config"] == {"deter": 64, "seed": seed, "num_envs": 4}
        assert data["env_config"]["id"] == "Messenger-S1-v0"
        assert data["budget"] == {"env_steps": 5000, "real_steps": 4950, "updates": 7}
        # records at 1000..5000; returns only on the odd ones (k = 1, 3)
        assert data["curve"] == [[2000, 1980, pytest.approx(0.1 + seed)],
                                 [4000, 3960, pytest.approx(0.3 + seed)]]
        assert data["eval"]["seeds"] == [10_000, 10_001, 10_002]
        assert data["eval"]["score"] == pytest.approx(seed + 1 / 3)
        assert data["device"]["note"] == "test box" and data["device"]["platform"] == "cpu"
        assert data["preset"] == "tiny" and data["steps"] == 5000
    assert [e[1:] for e in fake.evaluated] == [(3, 10_000, 8)] * 2

    # Again: both results exist, nothing runs.
    assert cli.main(run_argv(tmp_path, "--set", "batch_size=8")) == 0
    assert len(fake.calls) == 2 and len(fake.evaluated) == 2

    # A lost result whose run finished: evaluated again, not trained again.
    lost = next((tmp_path / "results").rglob("*seed1*.json"))
    lost.unlink()
    assert cli.main(run_argv(tmp_path, "--set", "batch_size=8")) == 0
    assert len(fake.calls) == 2 and len(fake.evaluated) == 3 and lost.exists()

    # --force: both trained again from scratch.
    assert cli.main(run_argv(tmp_path, "--set", "batch_size=8", "--force")) == 0
    assert len(fake.calls) == 4 and all("--resume" not in c for c in fake.calls)

    # The page from these results: 2 seeds, scores 1/3 and 4/3.
    out = tmp_path / "LB.md"
    show_lib.show(tmp_path / "results", out)
    row = table_rows(out.read_text(), "Messenger-S1-v0")[0]
    assert row.startswith("| dynalang (tiny, 5k) batch_size=8 | — | 2 × 3 | 0.83 [")
    assert "test box" in row


def test_killed_run_is_resumed(fake: FakeTraining, tmp_path: Path) -> None:
    from agent import checkpoint

    spec = run_lib.RunSpec("dynalang", "Messenger-S1-v0", 0, 5000, "tiny")
    run_dir = spec.run_dir(tmp_path / "runs")
    checkpoint.save(run_dir, {"agent": "dynalang", "config": FakeConfig(), "env": {},
                              "counters": {"env_steps": 2000, "real_steps": 1900,
                                           "updates": 1}}, step=2000)
    assert cli.main(run_argv(tmp_path)) == 0
    assert fake.calls[0][-1] == "--resume" and "--resume" not in fake.calls[1]
    data = results_lib.read_result(tmp_path / "results" / spec.result_name())
    assert data["training"]["resumed"] is True


def test_a_failed_run_does_not_stop_the_others(fake: FakeTraining, tmp_path: Path,
                                               capsys) -> None:
    fake.fail_on_seed = 0
    assert cli.main(run_argv(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "failed: dynalang on Messenger-S1-v0, seed 0" in err and "diverged" in err
    names = sorted(p.name for p in (tmp_path / "results").rglob("*.json"))
    assert names == ["dynalang-tiny-5000-seed1.json"]


def test_add_a_run_trained_elsewhere(fake: FakeTraining, tmp_path: Path) -> None:
    """``add``: a run directory made by agent.train itself (here written by hand)."""
    from agent import checkpoint
    from agent.dynalang import recipe_overrides
    from agent.dynalang.config import Config
    from agent.logger import Logger

    run_dir = tmp_path / "elsewhere" / "seed1"
    logger = Logger(run_dir, 4000, tensorboard=False, progress=False)
    for k, at in enumerate((1000, 2000, 3000, 4000)):
        logger.write({"env_steps": at, "real_steps": at // 2, "env_steps_per_s": 100.0 * (k + 1),
                      "episode_return": float(k)})
    logger.close()
    checkpoint.save(run_dir, {
        # what ``agent.train --preset tiny --batch-size 8`` makes: the preset, HomeGrid's
        # recipe (batch length 256), the flag; only the flag is an override
        "agent": "dynalang", "config": Config.preset(
            "tiny", batch_size=8, seed=1, **recipe_overrides("HomeGrid-Task-v0")),
        "env": {"id": "HomeGrid-Task-v0", "image_key": "auto", "pad_to": "auto"},
        "counters": {"env_steps": 4000, "real_steps": 2000, "updates": 9}}, step=4000)
    out = tmp_path / "results"
    argv = ["add", str(run_dir), "--episodes", "3", "--out", str(out)]
    assert cli.main(argv) == 0
    tag = results_lib.overrides_tag({"batch_size": "8"})
    data = results_lib.read_result(out / f"HomeGrid-Task-v0/dynalang-tiny-4000-seed1-set{tag}.json")
    assert (data["preset"], data["overrides"], data["seed"], data["steps"]) == (
        "tiny", {"batch_size": "8"}, 1, 4000)
    assert data["training"]["timing"] == "logged"
    assert data["training"]["seconds"] == pytest.approx(10 + 5 + 10 / 3 + 2.5)
    assert data["training"]["argv"][-2:] == ["--batch-size", "8"]
    assert data["curve"][-1] == [4000, 2000, 3.0]
    assert cli.main(argv) == 0 and len(fake.evaluated) == 1  # exists: not evaluated again
    assert cli.main(["add", str(tmp_path / "missing"), "--out", str(out)]) == 1


@pytest.mark.parametrize("argv, message", [
    (["--agents", "dreamer"], "unknown agent(s) 'dreamer'; agents: dynalang"),
    (["--envs", "Messenger-S9-v0"], "unknown env id(s) 'Messenger-S9-v0'; the project's ids: "
                                    "HomeGrid-Corrections-v0"),
    (["--set", "batch_size"], "--set takes field=value"),
    (["--set", "seed=3"], "--set seed=... is not allowed"),
    (["--agents", "dynalang", "--set", "batch_size=big"],
     "--set batch_size=big: dynalang's batch_size takes an integer"),
])
def test_bad_requests_are_refused(argv: list[str], message: str, tmp_path: Path,
                                  user_error) -> None:
    base = {"--agents": ["random"], "--envs": ["Messenger-S1-v0"]}
    full = ["run", "--out", str(tmp_path / "r"), "--no-progress"]
    given = dict(base)
    given[argv[0]] = argv[1:]
    for flag, values in given.items():
        full += [flag, *values]
    assert message in user_error(cli.main, full)
    assert not (tmp_path / "r").exists()


def test_wrong_config_field_fails_before_training(fake: FakeTraining, tmp_path: Path,
                                                  user_error) -> None:
    assert "unrecognized arguments: --no-such-field 1" in user_error(
        cli.main, run_argv(tmp_path, "--set", "no_such_field=1"))
    assert fake.calls == []


def test_random_rows_keep_their_env_arguments() -> None:
    plain, = run_lib.plan(["random"], ["Messenger-S1-v0"], [0], 100, None)
    tested, = run_lib.plan(["random"], ["Messenger-S1-v0"], [0], 100, None,
                           run_lib.env_arg_overrides(["split='test'"], run_lib.EVAL_PREFIX))
    assert tested.overrides == (("eval.split", "test"),)  # written as Python prints it
    assert tested.eval_env_kwargs == {"split": "test"}
    assert plain.result_name() != tested.result_name()


def test_plan_and_names() -> None:
    specs = run_lib.plan(["dynalang", "random"], ["Messenger-S1-v0"], [3, 4], 100, "tiny")
    assert [(s.agent, s.seed, s.steps) for s in specs] == [
        ("dynalang", 3, 100), ("dynalang", 4, 100), ("random", 3, 0)]
    assert specs[0].result_name() == "Messenger-S1-v0/dynalang-tiny-100-seed3.json"
    assert specs[2].result_name() == "Messenger-S1-v0/random-seed3.json"
    assert run_lib.default_log_every(20_000) == 1_000
    assert run_lib.default_log_every(50_000_000) == 250_000
    assert run_lib.throughput([{"env_steps": 100, "env_steps_per_s": 10.0},
                               {"env_steps": 300, "env_steps_per_s": 100.0}]) == pytest.approx(
        300 / 12)
    assert show_lib.mean_curve([[[0, 0, 0.0], [10, 0, 1.0]], [[0, 0, 1.0], [10, 0, 3.0]]])[1] \
        .tolist() == [0.5, 2.0]
    name = results_lib.result_name("r2d2", "HomeGrid-Task-v0", 1, 10, "small", {"lr": "1"})
    assert os.path.basename(name).startswith("r2d2-small-10-seed1-set")
