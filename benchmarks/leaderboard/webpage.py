"""The leaderboard as one static HTML page: the markdown page's tables, plots and text, every
table sortable by clicking a column heading, and the command behind every row beside it.

It opens from disk without a server (no external resources; the plots are linked relative to
the page).  ``page.html?sort=T,C`` opens with table T sorted by column C (both from 0), so a
sorted view can be linked.  Once loaded, ``<body>`` carries ``data-images`` (plots that
loaded) and ``data-tables``, which the browser test reads.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Sequence

from benchmarks.leaderboard import aggregate
from benchmarks.leaderboard import paper as paper_lib
from benchmarks.leaderboard.results import Skipped
from benchmarks.leaderboard.show import (
    ACROSS_ENVS,
    AGGREGATE,
    TABLE_HEADER,
    Entry,
    _intro,
    _rel,
    _shown,
    command_of,
    env_heading,
    env_rows,
)

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1400px;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 12.5px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
th { background: #f0f0f0; cursor: pointer; user-select: none; position: sticky; top: 0; }
th.sorted-up::after { content: " \\25B2"; } th.sorted-down::after { content: " \\25BC"; }
td.num { text-align: right; white-space: nowrap; }
td code { font-size: 11px; word-break: break-all; }
img { max-width: 100%; border: 1px solid #eee; }
"""

SCRIPT = """
function cellValue(cell) {
  // Numbers sort as numbers: "1,000", "≈0.97", "0.02%" and budgets such as "200k" or "1.5M".
  const text = cell.textContent.trim().replace(/,/g, '').replace(/^≈/, '');
  const m = text.match(/^([-+]?[0-9.]+)([kM]?)/);
  return m ? parseFloat(m[1]) * ({k: 1e3, M: 1e6}[m[2]] || 1) : text.toLowerCase();
}
function sortTable(table, column, up) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a.cells[column]), y = cellValue(b.cells[column]);
    const order = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0)
                                          : (typeof x === 'number' ? -1 : 1);
    return up ? order : -order;
  });
  rows.forEach(row => body.appendChild(row));
  Array.from(table.tHead.rows[0].cells).forEach((th, i) => {
    th.classList.toggle('sorted-up', i === column && up);
    th.classList.toggle('sorted-down', i === column && !up);
  });
}
const tables = Array.from(document.querySelectorAll('table.sortable'));
tables.forEach(table => Array.from(table.tHead.rows[0].cells).forEach((th, i) => {
  th.addEventListener('click', () => sortTable(table, i, !th.classList.contains('sorted-up')));
}));
const asked = new URLSearchParams(location.search).get('sort');
if (asked) {
  const [t, c] = asked.split(',').map(Number);
  if (tables[t] && tables[t].tHead.rows[0].cells[c]) sortTable(tables[t], c, true);
}
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  document.body.dataset.images = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.tables = tables.length;
});
"""


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
        parts.append(table((*TABLE_HEADER, "command"), rows, numeric=(2, 3, 5, 8, 9, 10),
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
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Leaderboard</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(parts)
            + f"\n<script>{SCRIPT}</script></body></html>\n")


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
