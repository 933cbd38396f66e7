"""The leaderboard's statistics (IQM, bootstrap intervals, normalised scores across envs) and
its HTML page, rendered in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_leaderboard import make_result, write

from benchmarks.leaderboard import aggregate, stats
from benchmarks.leaderboard import show as show_lib


def test_iqm_is_the_mean_of_the_middle_half():
    assert stats.iqm(np.array([1.0, 2.0, 3.0, 100.0])) == 2.5
    assert stats.iqm(np.array([7.0])) == 7.0
    x = np.random.default_rng(0).normal(size=(3, 400))
    trimmed = np.sort(x, -1)[:, 100:300].mean(-1)  # 400 values: drop 100 at each end
    np.testing.assert_allclose(stats.iqm(x), trimmed)
    assert stats.iqm(np.array([0.0, 0.0, 0.0, 1000.0, -1000.0, 0.0, 0.0, 0.0])) == 0.0


def test_bootstrap_interval_holds_the_estimate_and_narrows_with_more_episodes():
    rng = np.random.default_rng(1)
    few = [rng.normal(0.5, 1.0, 20) for _ in range(3)]
    many = [rng.normal(0.5, 1.0, 2000) for _ in range(3)]
    for statistic in (stats.mean, stats.iqm):
        low, high = stats.bootstrap_ci(few, statistic)
        assert low < statistic(np.concatenate(few)) < high
        many_low, many_high = stats.bootstrap_ci(many, statistic)
        assert many_high - many_low < (high - low) / 3
    assert stats.bootstrap_ci(few, stats.mean) == stats.bootstrap_ci(few, stats.mean)  # seeded


def test_seeds_that_disagree_widen_the_interval_even_with_many_episodes():
    """The outer level resamples seeds: two seeds far apart leave the mean uncertain however
    many episodes each played."""
    agree = [np.full(500, 0.5), np.full(500, 0.5)]
    disagree = [np.full(500, 0.0), np.full(500, 1.0)]
    assert stats.bootstrap_ci(agree, stats.mean) == (0.5, 0.5)
    assert stats.bootstrap_ci(disagree, stats.mean) == (0.0, 1.0)


def test_seeds_with_different_episode_counts_are_bootstrapped_whole():
    """Each drawn seed brings its own episodes, however many: the intervals match a plain
    loop that resamples seeds, then each one's episodes."""
    rng = np.random.default_rng(3)
    runs = [rng.normal(m, 1.0, n) for m, n in ((0.0, 3), (1.0, 10), (3.0, 5))]
    draws = {"mean": [], "iqm": []}
    for _ in range(20_000):
        picked = [runs[i] for i in rng.integers(0, 3, 3)]
        pooled = np.concatenate([r[rng.integers(0, r.size, r.size)] for r in picked])
        draws["mean"].append(stats.mean(pooled))
        draws["iqm"].append(stats.iqm(pooled))
    for name, statistic in (("mean", stats.mean), ("iqm", stats.iqm)):
        expected = np.percentile(draws[name], [2.5, 97.5])
        np.testing.assert_allclose(stats.bootstrap_ci(runs, statistic, reps=20_000), expected,
                                   atol=0.06)


def test_normalised_scores_put_random_at_0_and_the_reference_at_1():
    np.testing.assert_allclose(stats.normalised(np.array([-0.5, 0.97, 0.235]), -0.5, 0.97),
                               [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="equals random"):
        stats.normalised(1.0, 0.3, 0.3)


def _board(results: Path) -> Path:
    """Dynalang (2 seeds) and random on S1 and on HomeGrid-Task, IMPALA on S1 only."""
    for env, won in (("Messenger-S1-v0", 0.97), ("HomeGrid-Task-v0", 3.35)):
        for seed in (0, 1):
            write(results, f"{env}/dynalang-tiny-20000-seed{seed}.json",
                  make_result(env=env, seed=seed, returns=(won, won, 0.0, won)))
        write(results, f"{env}/random-seed0.json",
              make_result(agent="random", env=env, returns=(0.0, 0.0, 0.0, 0.0)))
    write(results, "Messenger-S1-v0/impala-tiny-20000-seed0.json",
          make_result(agent="impala", returns=(0.0, 0.0, 0.0, 0.0)))
    return results


def test_agents_are_scored_across_envs_on_the_normalised_scale(tmp_path):
    loaded, _ = show_lib.results_lib.load_results(_board(tmp_path / "results"))
    scores = {s.agent: s for s in aggregate.agent_scores(show_lib.group(loaded))}
    assert list(scores) == ["dynalang", "impala"]
    dynalang = scores["dynalang"]
    assert [e.env for e in dynalang.entries] == ["HomeGrid-Task-v0", "Messenger-S1-v0"]
    # Three episodes in four at the paper's score, one at random's: 0.75 on both envs.
    value, low, high = dynalang.interval("mean")
    assert value == pytest.approx(0.75) and low <= 0.75 <= high
    assert scores["impala"].interval("mean") == (0.0, 0.0, 0.0)
    page = (tmp_path / "LB.md")
    show_lib.show(tmp_path / "results", page, tmp_path / "plots")
    text = page.read_text()
    assert "## Across envs" in text and "| dynalang | HomeGrid-Task-v0 (20k, 2)" in text
    assert (tmp_path / "plots" / "aggregate.png").exists()


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="needs Debian's chromium (installed by .ci/run)")
def test_html_page_opens_from_disk_with_its_tables_plots_and_commands(tmp_path):
    results = _board(tmp_path / "results")
    page = tmp_path / "site" / "LEADERBOARD.html"
    show_lib.show(results, tmp_path / "LB.md", tmp_path / "plots", html=page)

    def dom(query: str = "") -> str:
        out = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                              "--virtual-time-budget=5000", "--dump-dom",
                              page.as_uri() + query],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    html = dom()
    body = re.search(r"<body([^>]*)>", html).group(1)
    images = len(re.findall(r"<img ", html))
    assert images == 3  # HomeGrid-Task, S1 and the across-envs plot
    assert f'data-images="{images}"' in body  # every plot loaded from disk
    assert 'data-tables="5"' in body  # the two tracks, across envs, HomeGrid-Task, S1
    assert "python -m benchmarks.leaderboard run --agents impala --envs Messenger-S1-v0" in html
    # ?sort=T,C sorts table T by column C: the S1 table (after the two tracks' and the
    # across-envs table, and HomeGrid-Task's) by its mean, lowest first.
    s1 = dom("?sort=4,3").split('id="Messenger-S1-v0"')[1]
    order = re.findall(r"<tr><td>([a-z]+)[ <]", s1.split("</table>")[0])
    assert order[:3] == ["impala", "random", "dynalang"], order
