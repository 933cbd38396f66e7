"""The leaderboard's learning-curve plots are readable at a glance: a panel per budget when the
budgets differ by more than 10x, a colour per series, and the legend clear of the curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import pytest
from test_leaderboard import make_result, write  # the hand-made result files of the page tests

from benchmarks.leaderboard import show as show_lib

matplotlib.use("Agg")


def _result(agent: str, steps: int, seed: int, env: str = "Messenger-S1-v0") -> dict[str, Any]:
    """A result whose learning curve spans its budget (20 points)."""
    data = make_result(agent=agent, env=env, seed=seed, steps=steps)
    if data["curve"]:
        data["curve"] = [[steps * (i + 1) // 20, steps * (i + 1) // 25, -1 + i / 20 + seed / 10]
                         for i in range(20)]
    return data


@pytest.fixture
def two_budgets(tmp_path: Path) -> Path:
    """Dynalang and IMPALA at 20k and at 1M (50x apart), 2 seeds each, and the random policy."""
    results = tmp_path / "results"
    for agent in ("dynalang", "impala"):
        for steps in (20_000, 1_000_000):
            for seed in (0, 1):
                write(results, f"Messenger-S1-v0/{agent}-tiny-{steps}-seed{seed}.json",
                      _result(agent, steps, seed))
    write(results, "Messenger-S1-v0/random-seed0.json", _result("random", 0, 0))
    return results


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every env figure the leaderboard saves, as it was when saved (the across-envs plot is
    tested with the statistics)."""
    from matplotlib.figure import Figure

    figures: list[Any] = []
    save = Figure.savefig

    def spy(fig: Figure, *args: Any, **kwargs: Any) -> None:
        save(fig, *args, **kwargs)
        if "aggregate" not in str(args[0]):
            figures.append(fig)

    monkeypatch.setattr(Figure, "savefig", spy)
    return figures


def _series_lines(fig: Any) -> list[Any]:
    """The lines drawn in the panels (curves, eval dots and reference lines)."""
    return [line for ax in fig.axes for line in ax.get_lines() if len(line.get_xdata())]


def test_budgets_far_apart_get_a_panel_each(two_budgets: Path, tmp_path: Path,
                                            saved: list[Any]) -> None:
    show_lib.show(two_budgets, tmp_path / "LB.md", tmp_path / "plots")
    (fig,) = saved
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2
    for ax, budget in zip(panels, (20_000, 1_000_000)):
        curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 1]
        assert len(curves) == 2 + 1  # dynalang and impala at this budget, and random
        assert max(x for line in curves for x in line.get_xdata()) == budget
        assert ax.get_xlim()[1] < 1.2 * budget  # not squashed under the other budget's axis


def test_every_series_has_a_colour_of_its_own(two_budgets: Path, tmp_path: Path,
                                              saved: list[Any]) -> None:
    show_lib.show(two_budgets, tmp_path / "LB.md", tmp_path / "plots")
    (fig,) = saved
    series_of: dict[str, set[str]] = {}  # colour -> the series drawn in it
    for line in _series_lines(fig):
        colour = matplotlib.colors.to_hex(line.get_color())
        series_of.setdefault(colour, set()).add(line.get_gid())
    # 2 agents x 2 budgets + random: five series, five colours, none shared
    assert len(series_of) == 5
    assert all(len(series) == 1 for series in series_of.values()), series_of


def test_the_legend_is_outside_every_panel(two_budgets: Path, tmp_path: Path,
                                           saved: list[Any]) -> None:
    show_lib.show(two_budgets, tmp_path / "LB.md", tmp_path / "plots")
    (fig,) = saved
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # closing the figure took its canvas: lay it out again
    canvas.draw()
    renderer = canvas.get_renderer()
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert legends
    figure_box = fig.get_window_extent(renderer)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer))
        # and whole, inside the saved image
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1
        labels = [text.get_text() for text in legend.get_texts()]
        assert sum("dynalang" in label for label in labels) == 2  # one entry per series


def test_close_budgets_share_one_panel(tmp_path: Path, saved: list[Any]) -> None:
    results = tmp_path / "results"
    for steps in (100_000, 150_000):
        write(results, f"HomeGrid-Task-v0/impala-tiny-{steps}-seed0.json",
              _result("impala", steps, 0, env="HomeGrid-Task-v0"))
    show_lib.show(results, tmp_path / "LB.md", tmp_path / "plots")
    (fig,) = saved
    (panel,) = [ax for ax in fig.axes if ax.get_visible()]
    assert panel.get_title() == "budget 100k–150k env steps"
