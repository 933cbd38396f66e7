"""The leaderboard's tracks: which results a track holds, its table on the page, and ``run
--track`` training every env at its budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.leaderboard import __main__ as cli
from benchmarks.leaderboard import run as run_lib
from benchmarks.leaderboard import tracks
from tests.test_leaderboard import make_result, write

S1 = "Messenger-S1-v0"
HG = "HomeGrid-Task-v0"


def at_cpu_budget(agent: str, env: str, seed: int, returns: tuple[float, ...],
                  **overrides: str) -> dict[str, Any]:
    """A result made at the CPU track's budget for ``env`` (HomeGrid on its grid)."""
    budget = tracks.CPU.budget(env)
    reps = -(-budget.episodes // len(returns))
    data = make_result(agent, env, seed, (returns * reps)[:budget.episodes], budget.steps)
    data["overrides"] = {**dict(budget.observation), **overrides} if agent != "random" else {}
    return data


def test_a_track_holds_only_results_at_its_budget_observation_and_games() -> None:
    good = at_cpu_budget("impala", HG, 0, (1.0, 0.0))
    assert tracks.CPU.holds(good) and not tracks.GPU.holds(good)
    assert tracks.CPU.holds(at_cpu_budget("dynalang", HG, 0, (1.0,), model_lr="0.002"))
    pixels = dict(good, overrides={})  # HomeGrid's pixels: not the CPU track's observation
    fewer_steps = dict(good, steps=100_000)
    fewer_episodes = dict(good, eval={k: v[:50] if isinstance(v, list) else v
                                      for k, v in good["eval"].items()})
    test_games = dict(good, overrides={**good["overrides"], "eval.split": "test"})
    deaf = dict(good, overrides={**good["overrides"], "hide_language": "True"})
    other_seeds = dict(good, eval=dict(good["eval"], seeds=[0] * 100))
    for other in (pixels, fewer_steps, fewer_episodes, test_games, deaf, other_seeds):
        assert not tracks.CPU.holds(other)
    random = at_cpu_budget("random", S1, 0, (-1.0,))  # no training, no observation
    assert tracks.CPU.holds(random) and tracks.GPU.holds(random)
    longer = make_result("random", S1, 0, (-1.0,) * 300)  # begins with the same 200 episodes
    assert tracks.CPU.holds(longer) and not tracks.CPU.holds(make_result("random", S1, 0))
    assert not tracks.CPU.holds(make_result("impala", S1, 0, (-1.0,) * 300, 500_000))
    assert tracks.CPU.holds(dict(at_cpu_budget("impala", S1, 0, (1.0,)),
                                 overrides={"hide_language": "False"}))


def test_track_table_shows_each_agent_and_who_is_above_random(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for seed in range(3):
        write(results, f"{S1}/impala-{seed}.json", at_cpu_budget("impala", S1, seed, (1.0,)))
    write(results, f"{S1}/r2d2-0.json", at_cpu_budget("r2d2", S1, 0, (-1.0, -1.0, 1.0, -1.0)))
    write(results, f"{S1}/random.json", at_cpu_budget("random", S1, 0, (-1.0, -1.0, -1.0, 1.0)))
    write(results, f"{S1}/impala-small.json", make_result("impala", S1, 0, (1.0,) * 4))
    page = tmp_path / "LEADERBOARD.md"
    assert cli.main(["show", "--results", str(results), "--out", str(page)]) == 0
    text = page.read_text()
    cpu = text.split("## CPU track")[1].split("\n## ")[0]
    row = next(line for line in cpu.splitlines() if line.startswith(f"| {S1} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "500k env steps, default observation, 200 eval episodes"
    assert cells[2] == "not run"  # dynalang
    assert cells[3] == "1.00 [1.00, 1.00] (3 seeds)"
    assert cells[4].startswith("-0.50 [") and cells[4].endswith("(1 of 3 seeds)")
    assert cells[5].startswith("-0.50 [") and cells[5].endswith("(1 seed)")
    assert cells[6] == "impala"  # r2d2 scores as random does
    assert cells[7] == "cpu"
    hg = next(line for line in cpu.splitlines() if line.startswith(f"| {HG} |"))
    assert hg.count("not run") == 4 and "| no random row |" in hg
    s1_rows = text.split(f"## {S1}")[1].split("\n## ")[0]
    assert "| impala (tiny, 500k) | cpu | 3 × 200 |" in s1_rows
    assert "| impala (tiny, 20k) | — | 1 × 4 |" in s1_rows  # not at a track's budget
    assert "| random | cpu, gpu | 1 × 200 |" in s1_rows
    gpu = text.split("## GPU track")[1].split("\n## ")[0]
    row = next(line for line in gpu.splitlines() if line.startswith(f"| {S1} |"))
    assert "| not run | not run | not run | -0.50 [" in row and "| none |" in row


def test_run_with_a_track_trains_each_env_at_its_budget(monkeypatch: Any,
                                                         tmp_path: Path) -> None:
    calls: list[tuple[list[run_lib.RunSpec], int]] = []

    def fake_run_all(specs: list[run_lib.RunSpec], out: Any, runs: Any, *, episodes: int,
                     **_: Any) -> list[run_lib.Outcome]:
        calls.append((list(specs), episodes))
        return [run_lib.Outcome(s, "done") for s in specs]

    monkeypatch.setattr(run_lib, "run_all", fake_run_all)
    assert cli.main(["run", "--track", "cpu", "--agents", "impala", "random", "--envs", S1, HG,
                     "Messenger-S2-v0", "--seeds", "0", "1", "2", "--preset", "tiny",
                     "--out", str(tmp_path)]) == 0
    by_env = {spec.env: (spec, episodes) for specs, episodes in calls for spec in specs
              if spec.agent == "impala"}
    assert by_env[S1][0].steps == 500_000 and by_env[S1][1] == 200
    assert by_env[HG][0].steps == 150_000 and by_env[HG][1] == 100
    assert ("image_key", "grid") in by_env[HG][0].overrides
    assert by_env[S1][0].overrides == ()
    assert sum(len(specs) for specs, _ in calls) == 3 * 3 + 3  # random once per env


@pytest.mark.parametrize("argv, message", [
    (["--track", "cpu", "--steps", "100"], "leave out --steps and --episodes"),
    (["--track", "cpu", "--episodes", "5"], "leave out --steps and --episodes"),
    (["--track", "cpu", "--set", "image-key=image"], "leave out --set image_key=image"),
    (["--track", "cpu", "--env-arg", "split=test"], "leave out --env-arg, --eval-env-arg"),
    (["--track", "cpu", "--eval-env-arg", "split=test"], "leave out --env-arg, --eval-env-arg"),
    (["--track", "cpu", "--eval-seed", "0"], "leave out --env-arg, --eval-env-arg"),
    (["--track", "gpu", "--envs", "Messenger-S3-v0"], "no budget for Messenger-S3-v0"),
    (["--track", "tpu"], "invalid choice: 'tpu'"),
])
def test_run_with_a_track_refuses_what_the_track_fixes(argv: list[str], message: str,
                                                       capsys: Any) -> None:
    args = ["run", "--agents", "impala", "--seeds", "0"] + argv
    if "--envs" not in argv:
        args += ["--envs", S1]
    with pytest.raises(SystemExit):
        cli.main(args)
    assert message in capsys.readouterr().err


def test_across_envs_counts_an_agents_cpu_track_row_before_a_larger_budget(
        tmp_path: Path) -> None:
    from benchmarks.leaderboard import aggregate
    from benchmarks.leaderboard import results as results_lib
    from benchmarks.leaderboard import show as show_lib

    results = tmp_path / "results"
    write(results, f"{S1}/impala-track.json", at_cpu_budget("impala", S1, 0, (1.0,)))
    write(results, f"{S1}/impala-1M.json", make_result("impala", S1, 0, (-1.0,) * 4, 1_000_000))
    write(results, f"{S1}/random.json", at_cpu_budget("random", S1, 0, (-1.0,)))
    loaded, _ = results_lib.load_results(results)
    (impala,) = aggregate.agent_scores(show_lib.group(loaded))
    assert [e.steps for e in impala.entries] == [500_000]
    assert impala.entries[0].tracks == (tracks.CPU,)
