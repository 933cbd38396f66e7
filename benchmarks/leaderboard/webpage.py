"""The leaderboard as one static HTML page: the markdown page's tables, plots and text, every
table sortable by clicking a column heading, and the command behind every row beside it.

It opens from disk without a server: the plots, the style (``page.css``) and the sorting script
(``page.js``, beside this module) are linked relative to the page, nothing from the network.
``page.html?sort=T,C`` opens with table T sorted by column C (both from 0), so a sorted view
can be linked.  Once loaded, ``<body>`` carries ``data-images`` (plots that loaded) and
``data-tables``, which the browser test reads.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Sequence

from benchmarks.leaderboard import aggregate
from benchmarks.leaderboard import paper as paper_lib
from benchmarks.leaderboard import tracks as tracks_lib
from benchmarks.leaderboard.results import Skipped
from benchmarks.leaderboard.show import (
    ACROSS_ENVS,
    AGGREGATE,
    TABLE_HEADER,
    TABLE_NUMERIC,
    TRACK_HEADER,
    Entry,
    _intro,
    _rel,
    _shown,
    command_of,
    env_heading,
    env_rows,
    track_intro,
    track_rows,
)

#: the page's style and script, linked from beside this module (relative to the page)
ASSETS = Path(__file__).resolve().parent
STYLE, SCRIPT = ASSETS / "page.css", ASSETS / "page.js"


def inline(text: str) -> str:
    """Markdown's inline `code` and **bold** as HTML, the rest escaped."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = (),
          code: Sequence[int] = ()) -> str:
    """A sortable table (``numeric`` columns right-aligned, ``code`` columns as code)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            content = f"<code>{html.escape(cell)}</code>" if i in code else html.escape(cell)
            cells.append(f"<td class=\"num\">{content}</td>" if i in numeric
                         else f"<td>{content}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table class=\"sortable\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def render(by_env: dict[str, list[Entry]], skipped: Sequence[Skipped], results_dir: Path,
           page: Path, markdown: Path, plots: dict[str, Path], across: Sequence[Any] = ()
           ) -> str:
    """The HTML page at ``page``: what ``show.render`` writes as markdown to ``markdown``,
    with sortable tables and each row's command."""
    total = sum(len(e.runs) for entries in by_env.values() for e in entries)
    intro = _intro(total, results_dir, markdown)
    intro[4] = intro[4].replace(" show ", f" show --html {_shown(page)} ", 1)
    parts = [_markdown_lines(intro)]
    for track in tracks_lib.TRACKS.values():
        parts += [f"<h2 id=\"track-{track.name}\">{html.escape(track.title)}</h2>",
                  f"<p>{inline(track_intro(track))}</p>",
                  table(TRACK_HEADER, track_rows(track, by_env))]
    if across:
        parts += ["<h2 id=\"across-envs\">Across envs</h2>", f"<p>{inline(ACROSS_ENVS)}</p>"]
        if AGGREGATE in plots:
            parts.append(_image(plots[AGGREGATE], page, "normalised scores across envs"))
        parts.append(table(aggregate.HEADER, aggregate.rows(across), numeric=(2, 3)))
    for env, entries in by_env.items():
        parts.append(f"<h2 id=\"{html.escape(env)}\">{html.escape(env_heading(env))}</h2>")
        if env in plots:
            parts.append(_image(plots[env], page, f"learning curves on {env}"))
        rows = env_rows(env, entries)
        commands = [command_of(env, entry) for entry in entries]
        rows = [[*row, commands[i] if i < len(commands) else ""] for i, row in enumerate(rows)]
        parts.append(table((*TABLE_HEADER, "command"), rows, numeric=TABLE_NUMERIC,
                           code=(len(TABLE_HEADER),)))
        known = paper_lib.PAPER.get(env)
        if known is not None:
            parts.append(f"<p>What is compared: {inline(known.metric)}</p>")
    if not by_env:
        parts.append("<p>No valid results yet.</p>")
    if skipped:
        parts += ["<h2>Skipped result files</h2>",
                  "<p>These files are not valid results and are in no number above:</p><ul>"]
        parts += [f"<li><code>{html.escape(_rel(item.path, results_dir))}</code>: "
                  f"{html.escape(item.reason)}</li>" for item in skipped]
        parts.append("</ul>")
    css, js = (html.escape(_rel(path, page.parent)) for path in (STYLE, SCRIPT))
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Leaderboard</title><link rel=\"stylesheet\" href=\"{css}\"></head><body>\n"
            + "\n".join(parts) + f"\n<script src=\"{js}\"></script></body></html>\n")


def _image(path: Path, page: Path, alt: str) -> str:
    src, alt = html.escape(_rel(path, page.parent)), html.escape(alt)
    return f"<p><img src=\"{src}\" alt=\"{alt}\"></p>"


def _markdown_lines(lines: Sequence[str]) -> str:
    """The intro's markdown (headings, paragraphs, bullet lists, an HTML comment) as HTML."""
    out, bullets = [], False
    for line in lines:
        if line.startswith("- ") and not bullets:
            out.append("<ul>")
            bullets = True
        elif not line.startswith("- ") and bullets:
            out.append("</ul>")
            bullets = False
        if line.startswith("<!--"):
            out.append(line)
        elif line.startswith("# "):
            out.append(f"<h1>{inline(line[2:])}</h1>")
        elif line.startswith("- "):
            out.append(f"<li>{inline(line[2:])}</li>")
        elif line:
            out.append(f"<p>{inline(line)}</p>")
    if bullets:
        out.append("</ul>")
    return "\n".join(out)
