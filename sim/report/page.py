"""The page itself: its style sheet, a figure embedded as PNG data, and the whole document.

The page has no scripts and fetches nothing, so it opens offline, prints, and is small
enough to email.
"""

from __future__ import annotations

import html
from typing import Any, NamedTuple

from sim.report.charts import png_data
from sim.scenario.schema import Scenario

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1000px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
p.meta { color: #666; margin-top: 0; } p.lead { font-size: 1.05em; }
p.note, p.small { color: #444; font-size: 0.88em; } p.small { color: #555; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: right; vertical-align: top; }
th { font-weight: 600; } th:first-child, td:first-child { text-align: left; }
table.facts th { text-align: left; color: #555; font-weight: normal; padding-right: 1.5em; white-space: nowrap; }
table.facts td { text-align: left; }
table.diag { font-size: 0.8em; } table.diag th { font-size: 0.95em; }
table.diag td:nth-child(-n+3), table.diag th:nth-child(-n+3) { text-align: left; }
img.inset { max-width: 640px; }
table.sweep td, table.sweep th { text-align: left; } table.sweep td ~ td ~ td, table.sweep th ~ th ~ th { text-align: right; }
tr.group td { background: #f3f5f8; font-weight: 600; text-align: left; }
td.better { background: #e3f4e3; color: #14632b; } td.worse { background: #fbe5e5; color: #8b1a1a; }
td.over { color: #8b1a1a; font-weight: 600; }
.ci { color: #777; font-size: 0.85em; white-space: nowrap; }
figure { margin: 1em 0; page-break-inside: avoid; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; height: auto; }
.warn { background: #fff4e0; border-left: 4px solid #e69500; padding: 0.5em 0.8em; margin: 0.4em 0; }
.ok { background: #eef7ee; border-left: 4px solid #3a9a3a; padding: 0.5em 0.8em; }
.scroll { overflow-x: auto; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  h2 { page-break-after: avoid; }
  table { font-size: 8pt; } table.diag { font-size: 6.5pt; } th, td { padding: 2px 3px; }
  .scroll { overflow: visible; }
}
"""


class Section(NamedTuple):
    """One section of the page: its anchor, its heading and its html."""

    ident: str
    title: str
    body: str


def esc(value: Any) -> str:
    return html.escape(str(value))


def figure(fig, caption: str, alt: str | None = None) -> str:
    """A matplotlib figure as an embedded image with its caption (the figure is closed)."""
    return (
        f'<figure><img src="{png_data(fig)}" alt="{html.escape(alt or caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def warnings(messages: list[str]) -> str:
    return "".join(f'<div class="warn">{esc(m)}</div>' for m in messages)


def render(scenario: Scenario, manifest: dict, sections: list[Section]) -> str:
    """The whole page: title, a line of links to the sections, then the sections."""
    toc = " · ".join(f'<a href="#{i}">{html.escape(t)}</a>' for i, t, _ in sections)
    parts = "".join(f'<section id="{i}"><h2>{html.escape(t)}</h2>{b}</section>' for i, t, b in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>msksim report: {html.escape(scenario.name)}</title><style>{CSS}</style></head><body>"
        f"<h1>msksim: {html.escape(scenario.name)}</h1>"
        f'<p class="meta">msksim {html.escape(str(manifest.get("msksim_version", "")))}, '
        f"run finished {html.escape(str(manifest.get('finished', '')))}. "
        f"{toc}</p>{parts}</body></html>"
    )
