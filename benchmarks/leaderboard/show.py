"""Render the leaderboard: one markdown page and one learning-curve PNG per env.

The page is a function of the result files alone (sorted, no clock), so regenerating it from the
committed JSON files gives the same text.  Invalid files are named on stderr and in the page,
and left out of every number.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from benchmarks.leaderboard import paper as paper_lib
from benchmarks.leaderboard import results as results_lib
from benchmarks.leaderboard import stats
from benchmarks.leaderboard import tracks as tracks_lib
from benchmarks.leaderboard.results import Loaded, Skipped

AGENT_ORDER = ("dynalang", "impala", "r2d2", "random")
EXTRA_COLOURS = ("#756bb1", "#636363", "#8c6d31", "#d6616b", "#3182bd")


@dataclasses.dataclass
class Entry:
    """The seeds of one (env, agent, budget, preset, overrides): one row of the table."""

    env: str
    agent: str
    steps: int
    preset: str | None
    overrides: dict[str, str]
    runs: list[Loaded]
    _intervals: dict[str, tuple[float, float, float]] = dataclasses.field(
        default_factory=dict, repr=False, compare=False)

    @property
    def seeds(self) -> list[int]:
        return [r.data["seed"] for r in self.runs]

    @property
    def scores(self) -> np.ndarray:
        """The final score of each seed."""
        return np.array([r.data["eval"]["score"] for r in self.runs], np.float64)

    @property
    def mean(self) -> float:
        return float(self.scores.mean())

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds (ddof=1); None with one seed."""
        return float(self.scores.std(ddof=1)) if len(self.runs) > 1 else None

    @property
    def returns(self) -> list[np.ndarray]:
        """Each seed's evaluation returns, episode by episode."""
        return [np.asarray(r.data["eval"]["returns"], np.float64) for r in self.runs]

    def interval(self, statistic: str) -> tuple[float, float, float]:
        """(value, low, high): ``statistic`` ("mean" or "iqm") over every evaluation episode
        of every seed, with its 95% two-level bootstrap interval."""
        if statistic not in self._intervals:
            function = {"mean": stats.mean, "iqm": stats.iqm}[statistic]
            value = float(function(np.concatenate(self.returns)))
            self._intervals[statistic] = (value, *stats.bootstrap_ci(self.returns, function))
        return self._intervals[statistic]

    @functools.cached_property
    def tracks(self) -> tuple[tracks_lib.Track, ...]:
        """The tracks all of this row's runs were made at (the random policy's may be both);
        read once the row's runs are all grouped."""
        return tracks_lib.tracks_of(self.runs)

    def label(self) -> str:
        text = ("random" if self.agent == "random" else
                f"{self.agent} ({self.preset}, {paper_lib.format_steps(self.steps)})")
        if self.overrides:
            text += " " + " ".join(f"{k}={v}" for k, v in self.overrides.items())
        return text

    def sort_key(self) -> tuple:
        order = AGENT_ORDER.index(self.agent) if self.agent in AGENT_ORDER else len(AGENT_ORDER)
        return (order, self.agent, self.steps, self.preset or "",
                json.dumps(self.overrides, sort_keys=True))


def group(loaded: Sequence[Loaded]) -> dict[str, list[Entry]]:
    """env -> its entries (sorted: Dynalang, IMPALA, R2D2, random, others; then budget), each
    with its runs sorted by seed."""
    entries: dict[tuple, Entry] = {}
    for item in loaded:
        d = item.data
        key = results_lib.run_key(d)
        if key not in entries:
            entries[key] = Entry(d["env"], d["agent"], d["steps"], d["preset"],
                                 dict(sorted(d["overrides"].items())), [])
        entries[key].runs.append(item)
    by_env: dict[str, list[Entry]] = {}
    for entry in entries.values():
        entry.runs.sort(key=lambda r: (r.data["seed"], str(r.path)))
        by_env.setdefault(entry.env, []).append(entry)
    for env_entries in by_env.values():
        env_entries.sort(key=Entry.sort_key)
    known = list(paper_lib.PAPER)
    return {env: by_env[env] for env in sorted(
        by_env, key=lambda e: (known.index(e) if e in known else len(known), e))}


# ------------------------------------------------------------------ formatting
def _num(value: float) -> str:
    return f"{value:.2f}"


def _int(value: float) -> str:
    return f"{value:,.0f}"


def _seconds(value: float) -> str:
    if value < 120:
        return f"{value:.0f} s"
    if value < 2 * 3600:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def interval_text(entry: Entry, statistic: str) -> str:
    """``0.12 [-0.05, 0.30]``: the statistic over every evaluation episode of every seed and
    its 95% two-level bootstrap interval (:mod:`benchmarks.leaderboard.stats`)."""
    value, low, high = entry.interval(statistic)
    return f"{_num(value)} [{_num(low)}, {_num(high)}]"


def budget_text(entry: Entry) -> str:
    """Env steps (read steps included) and real steps (read steps left out), over seeds."""
    env_steps = [r.data["budget"]["env_steps"] for r in entry.runs]
    real = [r.data["budget"]["real_steps"] for r in entry.runs]
    if max(env_steps) == 0:
        return "0 (not trained)"
    steps = (_int(env_steps[0]) if min(env_steps) == max(env_steps)
             else f"{_int(min(env_steps))}–{_int(max(env_steps))}")
    return f"{steps} ({_int(float(np.mean(real)))} real)"


def time_text(entry: Entry) -> str:
    """Mean training wall-clock over seeds and the mean training throughput."""
    if entry.agent == "random":
        return "—"
    seconds = float(np.mean([r.data["training"]["seconds"] for r in entry.runs]))
    rates = [r.data["training"]["env_steps_per_s"] for r in entry.runs
             if r.data["training"]["env_steps_per_s"] is not None]
    text = _seconds(seconds)
    if any(r.data["training"]["timing"] == "logged" for r in entry.runs):
        text = f"≈{text} (logged loop time)"
    if rates:
        text += f" ({_int(float(np.mean(rates)))} steps/s)"
    if any(r.data["training"]["resumed"] for r in entry.runs):
        text += ", resumed"
    return text


def device_text(entry: Entry) -> str:
    """The distinct devices (and notes) of the seeds."""
    seen: list[str] = []
    for r in entry.runs:
        device = r.data["device"]
        text = device["kind"] if device["kind"].lower() == device["platform"].lower() else (
            f"{device['kind']} ({device['platform']})")
        if device.get("note"):
            text += f", {device['note']}"
        if text not in seen:
            seen.append(text)
    return "; ".join(seen).replace("|", "/")


def paper_cells(env: str, agent: str, steps: int) -> tuple[str, str, str]:
    """(paper score, paper budget, our budget as a share of the paper's) for one row."""
    known = paper_lib.PAPER.get(env)
    if known is None or agent not in known.scores:
        return "—", "—", "—"
    share = f"{100 * steps / known.budget:.3g}%" if steps else "—"
    return known.scores[agent].format(), paper_lib.format_steps(known.budget), share


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies under it (stable in the page)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# ------------------------------------------------------------------ plots
PANEL_RATIO = 10
"""one panel per budget when the largest budget exceeds the smallest this many times: on a
shared linear axis the small budgets' curves would be squashed against zero."""

SHADES = {  # per agent, a hue family: every series of a figure gets a colour of its own
    "dynalang": ("#08519c", "#6baed6", "#08306b", "#9ecae1"),
    "impala": ("#e6550d", "#fdae6b", "#7f2704", "#fd8d3c"),
    "r2d2": ("#31a354", "#a1d99b", "#00441b", "#74c476"),
    "random": ("#cb181d",),
}


def series_colours(entries: Sequence[Entry]) -> list[str]:
    """A distinct colour for each entry: its agent's shades in order (so an agent's series look
    related), then the extra colours, then matplotlib's tab20."""
    import matplotlib

    spare = [*EXTRA_COLOURS, *map(matplotlib.colors.to_hex, matplotlib.colormaps["tab20"].colors)]
    used: set[str] = set()
    out = []
    for entry in entries:
        choices = [*SHADES.get(entry.agent, ()), *spare]
        colour = next((c for c in choices if c not in used), None)
        if colour is None:  # more series than colours: reuse rather than fail
            colour = choices[len(out) % len(choices)]
        used.add(colour)
        out.append(colour)
    return out


def panels(entries: Sequence[Entry]) -> list[tuple[str, list[Entry]]]:
    """(title, entries) per panel: one per budget when the budgets differ by more than
    :data:`PANEL_RATIO` times, else one.  Untrained entries (the random policy) are reference
    lines in every panel."""
    budgets = sorted({e.steps for e in entries if e.steps > 0})
    references = [e for e in entries if e.steps <= 0]
    if len(budgets) > 1 and budgets[-1] > PANEL_RATIO * budgets[0]:
        return [(f"budget {paper_lib.format_steps(b)} env steps",
                 [e for e in entries if e.steps == b] + references) for b in budgets]
    if not budgets:  # the random policy alone
        return [("", list(entries))]
    span = sorted({budgets[0], budgets[-1]})  # "10k" or "100k–150k"
    title = "–".join(map(paper_lib.format_steps, span))
    return [(f"budget {title} env steps", list(entries))]


def _draw(ax: Any, entry: Entry, colour: str) -> tuple[Any, str]:
    """One entry on ``ax``: its mean curve, min–max band and final eval dot, or a dashed line at
    its eval score (random policy, or no curve); ``gid`` names the series (tests, SVG).
    Returns the legend's handle and label for it."""
    name = entry.label()
    if entry.agent == "random" or not any(r.data["curve"] for r in entry.runs):
        line = ax.axhline(entry.mean, color=colour, ls="--", lw=1.5, gid=name)
        return line, f"{name}: eval {entry.mean:.2f}"
    n = len(entry.runs)
    budget = float(np.mean([r.data["budget"]["env_steps"] for r in entry.runs]))
    if any(k.startswith(results_lib.EVAL_PREFIX) for k in entry.overrides):
        # Another evaluation of runs drawn already: their curves would hide each other.
        (line,) = ax.plot([budget], [entry.mean], "^", color=colour, mec="black", ms=7,
                          gid=name)
        return line, f"{name}, {n} seed{'s' * (n > 1)} (evaluation only)"
    x, mean, low, high = mean_curve([r.data["curve"] for r in entry.runs])
    (line,) = ax.plot(x, mean, color=colour, lw=2, gid=name)
    if n > 1:
        ax.fill_between(x, low, high, color=colour, alpha=0.2, lw=0)
    ax.plot([budget], [entry.mean], "o", color=colour, mec="black", ms=6, gid=name)
    return line, f"{name}, {n} seed{'s' * (n > 1)}"


def _legend_label(text: str, width: int = 60) -> str:
    """Long labels (many overrides) wrapped, so the legend stays about as wide as the panels."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width, subsequent_indent="    "))


def figure(env: str, entries: Sequence[Entry]) -> Any:
    """The learning-curve figure of one env: :func:`panels` side by side (three per row, shared
    y axis), every series in a colour of its own (:func:`series_colours`), and one legend
    below the panels, outside every axes, in the table's order."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    groups = panels(entries)
    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    width = max(6.5, 4.2 * cols + 0.8)  # one panel: wide enough for the title and legend
    fig, axes = plt.subplots(rows, cols, figsize=(width, 3.0 * rows + 1.2), dpi=110,
                             sharey=True, squeeze=False, layout="constrained")
    colours = dict(zip(map(id, entries), series_colours(entries)))
    legend: dict[int, tuple[Any, str]] = {}  # entry id -> (handle, label), first panel's
    steps = FuncFormatter(lambda value, _: paper_lib.format_steps(value))
    for ax, (title, members) in zip(axes.flat, groups):
        for entry in members:
            legend.setdefault(id(entry), _draw(ax, entry, colours[id(entry)]))
        ax.set_title(title, fontsize=10)
        ax.xaxis.set_major_formatter(steps)
        ax.set_xlabel("env steps (read steps included)", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(groups):]:
        ax.set_visible(False)
    items = [legend[id(e)] for e in entries if id(e) in legend]
    if any(e.agent != "random" and any(r.data["curve"] for r in e.runs) for e in entries):
        items.append((plt.Line2D([], [], ls="", marker="o", color="white", mec="black"),
                      "dot: final eval score"))
    if items:
        labels = [_legend_label(t) for _, t in items]
        ncols = min(cols, 2)
        fig.legend([h for h, _ in items], labels, loc="outside lower center", fontsize=8,
                   ncols=ncols, frameon=False)
        # Room for the legend below the panels, however many series (about 0.16 in a line).
        lines = -(-sum(label.count("\n") + 1 for label in labels) // ncols)
        fig.set_size_inches(width, 3.0 * rows + 1.2 + 0.16 * lines)
    fig.suptitle(f"{env}\ntraining episode return: mean over seeds, shaded min–max",
                 fontsize=11)
    fig.supylabel("episode return", fontsize=10)
    return fig


def plot_env(env: str, entries: Sequence[Entry], path: Path) -> Path:
    """Save :func:`figure` as a PNG at ``path`` (atomically); returns ``path``."""
    return save_figure(figure(env, entries), path)


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` atomically (no timestamp: the same figure gives the
    same bytes), then close it; returns ``path``."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}.png")
    try:
        fig.savefig(tmp, metadata={"Software": None})
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path


def mean_curve(curves: Sequence[list[list[float]]]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, mean, min, max) of the seeds' returns against env steps: each curve is linearly
    interpolated onto the union of the seeds' env steps, within the range all of them cover
    (a seed with no points is left out)."""
    curves = [np.asarray(c, np.float64) for c in curves if c]
    if not curves:
        return (np.zeros(0),) * 4  # type: ignore[return-value]
    lo = max(c[0, 0] for c in curves)
    hi = min(c[-1, 0] for c in curves)
    xs = np.unique(np.concatenate([c[:, 0] for c in curves]))
    xs = xs[(xs >= lo) & (xs <= hi)]
    if len(xs) == 0:  # the seeds' ranges do not overlap: show the first
        c = curves[0]
        return c[:, 0], c[:, 2], c[:, 2], c[:, 2]
    ys = np.stack([np.interp(xs, c[:, 0], c[:, 2]) for c in curves])
    return xs, ys.mean(0), ys.min(0), ys.max(0)


# ------------------------------------------------------------------ the page
#: the across-envs section's text (markdown; the HTML page shows it too)
ACROSS_ENVS = (
    "Scores normalised per env (0 = the random policy's mean on that env, 1 = the paper's "
    "Dynalang on that setting), then the mean and IQM over every (env, seed) with 95% "
    "intervals from a bootstrap that resamples seeds within each env. Per env an agent "
    "counts with one row: its CPU-track row where it has one, else its largest budget (then "
    "most seeds), among the rows evaluated on the env's default games with the language on. "
    "Budgets differ across envs and from the paper's, so this compares agents at our "
    "budgets, not with the paper.")


def render(by_env: dict[str, list[Entry]], skipped: Sequence[Skipped], results_dir: Path,
           out: Path, plots: dict[str, Path], across: Sequence[Any] = ()) -> str:
    """The markdown page (``across``: the agents' scores across envs, from
    :func:`benchmarks.leaderboard.aggregate.agent_scores`)."""
    from benchmarks.leaderboard import aggregate

    total = sum(len(e.runs) for entries in by_env.values() for e in entries)
    lines = _intro(total, results_dir, out)
    if not by_env:
        lines += ["No valid results yet.", ""]
    for track in tracks_lib.TRACKS.values():
        lines += [f"## {track.title}", "", track_intro(track), ""]
        lines += markdown_table(TRACK_HEADER, track_rows(track, by_env))
        lines.append("")
    if across:
        lines += ["## Across envs", "", ACROSS_ENVS, ""]
        if AGGREGATE in plots:
            lines += [f"![normalised scores across envs]({_rel(plots[AGGREGATE], out.parent)})",
                      ""]
        lines += markdown_table(aggregate.HEADER, aggregate.rows(across), numeric=(2, 3))
        lines.append("")
    for env, entries in by_env.items():
        lines += _env_section(env, entries, out, plots) + [""]
    lines += ["## How each entry was made", ""]
    lines += [f"- {env}, {entry.label()}: `{command_of(env, entry)}` ({versions_of(entry)})"
              for env, entries in by_env.items() for entry in entries]
    if not by_env:
        lines.append("Nothing yet.")
    lines.append("")
    if skipped:
        lines += ["## Skipped result files", "",
                  "These files are not valid results and are in no number above:", ""]
        for item in skipped:
            lines.append(f"- `{_rel(item.path, results_dir)}`: {item.reason}")
        lines.append("")
    return "\n".join(lines)


#: the columns of a track's table
TRACK_HEADER = ("env", "budget", *AGENT_ORDER, "above random", "devices")


def track_rows(track: tracks_lib.Track, by_env: dict[str, list[Entry]]) -> list[list[str]]:
    """A track's table: per env of the track, each agent's mean [95% CI] (seeds) at the
    track's budget, the agents whose interval lies wholly above the random policy's, and the
    devices that made them.  Where an agent has several rows at the budget (other
    hyperparameters), the one :func:`track_entry` picks is shown."""
    out = []
    for env, budget in track.budgets.items():
        chosen = {agent: entry for agent in AGENT_ORDER
                  if (entry := track_entry(by_env.get(env, []), agent, track)) is not None}
        cells = [_track_cell(chosen.get(agent), track) for agent in AGENT_ORDER]
        devices = "; ".join(dict.fromkeys(device_text(e) for e in chosen.values())) or "—"
        out.append([env, budget.describe(), *cells, _above_random(chosen), devices])
    return out


def track_entry(entries: Sequence[Entry], agent: str, track: tracks_lib.Track
                ) -> Entry | None:
    """``agent``'s row in ``track`` among an env's ``entries``: the one with the most seeds,
    then the fewest overrides (None: it has none there)."""
    mine = [e for e in entries if e.agent == agent and track in e.tracks]
    return max(mine, key=lambda e: (len(e.runs), -len(e.overrides)), default=None)


def _track_cell(entry: Entry | None, track: tracks_lib.Track) -> str:
    if entry is None:
        return "not run"
    seeds = len(entry.runs)
    if entry.agent != "random" and seeds < track.seeds:
        count = f"{seeds} of {track.seeds} seeds"
    else:
        count = f"{seeds} seed{'s' * (seeds > 1)}"
    return f"{interval_text(entry, 'mean')} ({count})"


def _above_random(chosen: dict[str, Entry]) -> str:
    """The agents whose mean's 95% interval lies wholly above the random policy's."""
    if "random" not in chosen:
        return "no random row"
    ceiling = chosen["random"].interval("mean")[2]
    above = [a for a, e in chosen.items() if a != "random" and e.interval("mean")[1] > ceiling]
    return ", ".join(above) or "none"


def track_intro(track: tracks_lib.Track) -> str:
    """The paragraph above a track's table."""
    return (f"{track.about} Every agent is trained for the same env steps on the same "
            f"observation and evaluated on the same fixed-seed episodes; a row is filled at "
            f"{track.seeds} seeds (the random policy: one evaluation, its episodes are fixed). "
            f"Each cell: mean return [95% CI] (seeds) of the agent's row at the budget with "
            f"the most seeds (then the fewest `--set` overrides). **Above random**: the agents "
            f"whose interval lies wholly above the random policy's. Made by `python -m "
            f"benchmarks.leaderboard run --track {track.name} --agents dynalang impala r2d2 "
            f"random --envs ... --seeds 0 1 2`.")


def _intro(total: int, results_dir: Path, out: Path) -> list[str]:
    """The page's opening: how it was made and what its columns mean."""
    return [
        "# Leaderboard",
        "",
        "<!-- Generated by `python -m benchmarks.leaderboard show`; do not edit by hand. -->",
        "",
        f"Made by `python -m benchmarks.leaderboard show --results {_shown(results_dir)} "
        f"--out {_shown(out)}` from the {total} valid result files in "
        f"`{_shown(results_dir)}` (one per agent, env, seed and budget). Running that command "
        "again on the same files gives the same page and plots.",
        "",
        "Each result was made by `python -m benchmarks.leaderboard run --agents ... --envs ... "
        "--seeds ... --steps N --preset P`: the agent is trained through `agent.train` for N env "
        "steps, then `agent.eval` plays fixed-seed evaluation episodes (episode k on an env "
        "seeded 10000 + k by default, the same episodes for every agent, sampled actions). "
        "The `random` agent is a uniform-random policy evaluated on the same episodes, without "
        "training.",
        "",
        "- **Mean** and **IQM** (interquartile mean: the mean of the middle 50%, which a few "
        "outlying episodes or one lucky seed move far less) of the returns of every evaluation "
        "episode of every seed, each with a 95% confidence interval from a two-level bootstrap "
        "(seeds resampled, then each drawn seed's episodes; 2,000 draws; adapted from Agarwal "
        "et al., 2021, who take the IQM over runs). Where returns take two values "
        "(Messenger-S1: +1 or -1) the IQM is the middle of that two-valued spread and moves in "
        "steps. **Per-seed scores**: each seed's "
        "mean return.",
        "- **Track**: the tracks (below) whose budget, observation and evaluation episodes the "
        "row was made at; `—` for none.",
        "- **Our budget**: env steps of training, read steps included (as `--steps` counts "
        "them), and in brackets the real steps (read steps left out; the mean over seeds).",
        "- **Paper**: the score and budget the paper reports for the same agent and setting "
        "(read from its figures, so ≈), and our budget as a share of the "
        "paper's. The paper's runs had far larger budgets and models; a row is comparable only "
        "where the budgets are.",
        "- **Curves**: the training episode return (sampled policy) against env steps, mean over "
        "seeds with the seeds' min–max shaded, and the final evaluation score as a dot; the "
        "random policy is a dashed line. When an env's budgets differ by more than "
        f"{PANEL_RATIO}x, each budget has a panel of its own.",
        "",
    ]


#: the columns of an env's table
TABLE_HEADER = ("agent", "track", "seeds × eval episodes", "mean [95% CI]", "IQM [95% CI]",
                "per-seed scores", "our budget: env steps (real)", "training time", "device",
                "paper score", "paper budget", "our budget / paper's")


TABLE_NUMERIC = (3, 4, 6, 9, 10, 11)
"""the table's columns aligned right."""


def env_rows(env: str, entries: list[Entry]) -> list[list[str]]:
    """The cells of an env's table: one row per entry, then the paper's agents not run."""
    rows = []
    for entry in entries:
        episodes = sorted({r.data["eval"]["episodes"] for r in entry.runs})
        per_seed = ", ".join(f"{s}: {_num(v)}" for s, v in zip(entry.seeds, entry.scores))
        score, budget, share = paper_cells(env, entry.agent, entry.steps)
        track = ", ".join(t.name for t in entry.tracks) or "—"
        rows.append([entry.label(), track, f"{len(entry.runs)} × {'/'.join(map(str, episodes))}",
                     interval_text(entry, "mean"), interval_text(entry, "iqm"), per_seed,
                     budget_text(entry), time_text(entry), device_text(entry), score, budget,
                     share])
    known = paper_lib.PAPER.get(env)
    if known is not None:
        ran = {e.agent for e in entries}
        order = AGENT_ORDER + tuple(paper_lib.PAPER_ONLY_AGENTS)
        missing = sorted((a for a in known.scores if a not in ran),
                         key=lambda a: (order.index(a) if a in order else len(order), a))
        for agent in missing:
            name = paper_lib.PAPER_ONLY_AGENTS.get(agent, f"{agent} (not run yet)")
            rows.append([name, *["—"] * 8, known.scores[agent].format(),
                         paper_lib.format_steps(known.budget), "—"])
    return rows


def env_heading(env: str) -> str:
    """An env's heading, with the paper's setting, budget and source where it has them."""
    known = paper_lib.PAPER.get(env)
    if known is None:
        return env
    return (f"{env} (paper: {known.setting}, {paper_lib.format_steps(known.budget)} env steps, "
            f"{known.source})")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   numeric: Sequence[int] = ()) -> list[str]:
    """A markdown table (``numeric``: the columns aligned right)."""
    rule = ["---:" if i in numeric else "---" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|",
            *("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows)]


def _env_section(env: str, entries: list[Entry], out: Path, plots: dict[str, Path]
                 ) -> list[str]:
    """One env's heading, plot and table (with the paper's agents that were not run)."""
    lines = [f"## {env_heading(env)}", ""]
    if env in plots:
        lines += [f"![learning curves on {env}]({_rel(plots[env], out.parent)})", ""]
    lines += markdown_table(TABLE_HEADER, env_rows(env, entries), numeric=TABLE_NUMERIC)
    known = paper_lib.PAPER.get(env)
    if known is not None:
        lines += ["", f"What is compared: {known.metric}"]
    return lines


def command_of(env: str, entry: Entry) -> str:
    """The leaderboard command that makes ``entry`` again."""
    seeds = " ".join(map(str, entry.seeds))
    command = (f"python -m benchmarks.leaderboard run --agents {entry.agent} --envs {env} "
               f"--seeds {seeds}")
    if entry.agent != "random":
        command += f" --steps {entry.steps} --preset {entry.preset}"
        command += "".join(f" {override_flag(k, v)}" for k, v in entry.overrides.items())
    first = entry.runs[0].data
    command += f" --episodes {first['eval']['episodes']}"
    eval_seed = first["eval"]["seeds"][0]
    if eval_seed != 10_000:
        command += f" --eval-seed {eval_seed}"
    return command


def versions_of(entry: Entry) -> str:
    """The package versions ``entry``'s first run was made with."""
    versions = entry.runs[0].data["versions"]
    return ", ".join(f"{k} {v}" for k, v in sorted(versions.items()) if v)


#: the key of the across-envs plot among the plots
AGGREGATE = "across envs"


def show(results_dir: str | os.PathLike, out: str | os.PathLike,
         plots_dir: str | os.PathLike | None = None, *, html: str | os.PathLike | None = None,
         stderr: Any = None) -> Path:
    """Load and validate every result under ``results_dir`` (each bad file is named in a
    warning on ``stderr`` and skipped), write one PNG per env into ``plots_dir`` (default:
    ``plots/`` beside the results directory) and the page to ``out``; returns ``out``."""
    from benchmarks.leaderboard import aggregate

    stderr = stderr or sys.stderr
    results_dir, out = Path(results_dir), Path(out)
    plots_dir = Path(plots_dir) if plots_dir is not None else results_dir.parent / "plots"
    loaded, skipped = results_lib.load_results(results_dir)
    for item in skipped:
        print(item.warning(), file=stderr)
    by_env = group(loaded)
    plots = {env: plot_env(env, entries, plots_dir / f"{env.replace(':', '_')}.png")
             for env, entries in by_env.items()}
    across = aggregate.agent_scores(by_env)
    if across:
        plots[AGGREGATE] = aggregate.plot(across, plots_dir / "aggregate.png")
    text = render(by_env, skipped, results_dir, out, plots, across)
    out.parent.mkdir(parents=True, exist_ok=True)
    with results_lib.atomic_open(out, "w") as f:
        f.write(text)
    if html is not None:
        from benchmarks.leaderboard import webpage

        html = Path(html)
        html.parent.mkdir(parents=True, exist_ok=True)
        with results_lib.atomic_open(html, "w") as f:
            f.write(webpage.render(by_env, skipped, results_dir, html, out, plots, across))
    return out


def override_flag(name: str, value: str) -> str:
    """The runner's flag that sets one override of a row: ``--set field=value``, or
    ``--env-arg`` / ``--eval-env-arg`` for the env arguments (``env.KEY``, ``eval.KEY``)."""
    for prefix, flag in ((results_lib.ENV_PREFIX, "--env-arg"),
                         (results_lib.EVAL_PREFIX, "--eval-env-arg")):
        if name.startswith(prefix):
            return f"{flag} {name[len(prefix):]}={value}"
    return f"--set {name}={value}"
