"""One score per agent across envs: normalised so that 0 is the random policy and 1 the paper's
Dynalang on each setting, then the mean and IQM over every (env, seed) with 95% intervals from
a bootstrap stratified by env (see :mod:`benchmarks.leaderboard.stats`).

Per env an agent counts with one row of the table: its row in the CPU track's table where it
has one (every agent there had the same budget), else its largest budget (then its most
seeds), among the rows evaluated on the env's default games with the language on.  Envs
without a random-policy row or a paper score for Dynalang are left out.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from benchmarks.leaderboard import paper as paper_lib
from benchmarks.leaderboard import stats, tracks
from benchmarks.leaderboard.results import default_setting
from benchmarks.leaderboard.show import AGENT_ORDER, Entry, save_figure, track_entry


@dataclasses.dataclass
class AgentScore:
    """An agent's normalised scores across envs."""

    agent: str
    entries: list[Entry]
    """the row counted per env"""
    scores: list[np.ndarray]
    """per env, each seed's normalised score"""

    def interval(self, statistic: str) -> tuple[float, float, float]:
        """(value, low, high) of "mean" or "iqm" over every (env, seed)."""
        function = {"mean": stats.mean, "iqm": stats.iqm}[statistic]
        value = float(function(np.concatenate(self.scores)))
        return (value, *stats.stratified_ci(self.scores, function))


def agent_scores(by_env: dict[str, list[Entry]]) -> list[AgentScore]:
    """Every trained agent's normalised scores, over the envs where they can be normalised."""
    out: dict[str, AgentScore] = {}
    for env, entries in by_env.items():
        known = paper_lib.PAPER.get(env)
        rows = [e for e in entries if default_setting(e.overrides)]
        random = [e for e in rows if e.agent == "random"]
        if known is None or "dynalang" not in known.scores or not random:
            continue
        floor, top = random[0].mean, known.scores["dynalang"].value
        for agent in sorted({e.agent for e in rows} - {"random"}, key=_agent_order):
            best = track_entry(rows, agent, tracks.CPU) or max(
                (e for e in rows if e.agent == agent), key=lambda e: (e.steps, len(e.runs)))
            score = out.setdefault(agent, AgentScore(agent, [], []))
            score.entries.append(best)
            score.scores.append(stats.normalised(best.scores, floor, top))
    return [out[agent] for agent in sorted(out, key=_agent_order)]


def _agent_order(agent: str) -> tuple[int, str]:
    return (AGENT_ORDER.index(agent) if agent in AGENT_ORDER else len(AGENT_ORDER), agent)


HEADER = ("agent", "envs (budget, seeds)", "mean [95% CI]", "IQM [95% CI]")


def rows(scores: Sequence[AgentScore]) -> list[list[str]]:
    """The cells of the across-envs table."""
    out = []
    for score in scores:
        envs = ", ".join(f"{e.env} ({paper_lib.format_steps(e.steps)}, {len(e.runs)})"
                         for e in score.entries)
        cells = [f"{v:.2f} [{lo:.2f}, {hi:.2f}]"
                 for v, lo, hi in (score.interval("mean"), score.interval("iqm"))]
        out.append([score.agent, envs, *cells])
    return out


def plot(scores: Sequence[AgentScore], path: Path) -> Path:
    """Each agent's mean and IQM with their intervals, side by side; saved atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 0.6 + 0.5 * max(len(scores), 1)), sharey=True,
                             dpi=110)
    for ax, statistic in zip(axes, ("mean", "iqm")):
        for y, score in enumerate(scores):
            value, low, high = score.interval(statistic)
            ax.plot([low, high], [y, y], color="#3182bd", lw=6, alpha=0.4,
                    solid_capstyle="butt")
            ax.plot([value], [y], "|", color="black", ms=14, mew=2)
        ax.axvline(0, color="#cb181d", ls="--", lw=1)
        ax.axvline(1, color="#08519c", ls=":", lw=1)
        ax.set_title(f"{statistic.upper() if statistic == 'iqm' else 'mean'} of normalised "
                     f"scores", fontsize=9)
        ax.set_xlabel("0 = random policy, 1 = the paper's Dynalang", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(scores)), [s.agent for s in scores])
    axes[0].set_ylim(len(scores) - 0.3, -0.7)  # the first agent on top
    fig.tight_layout()
    return save_figure(fig, path)
