"""A report document: headings, text, tables and figures rendered as one HTML page or Markdown.

The HTML page is self-contained (figures inlined as base64 PNG, styles inline, no
links out) and has a print stylesheet: printed to PDF it gives A4 pages without
cut figures, orphaned headings or split table rows. The Markdown version links the
figures saved under ``figures/``. Numbers in tables are written by
:func:`clustersim.experiments.numbers.fmt_number` (cells that are already text are
kept as they are).
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from clustersim.experiments.numbers import fmt_number
from clustersim.files import write_file_atomically

__all__ = ["CSS", "PRINT_CSS", "Report", "markdown_table", "save_report"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1150px;padding:0 1rem;color:#1d2327;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;
padding-bottom:.2rem}h3{margin:1.4rem 0 .3rem;font-size:1.1rem}
.table{overflow-x:auto}table{border-collapse:collapse;margin:.6rem 0;font-size:.86rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:right}
th{background:#f3f5f7}td:first-child,th:first-child{text-align:left}
td.text,th.text{text-align:left}td.text:first-child{min-width:11em}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}pre{background:#f6f8fa;padding:.7rem;overflow:auto;
font-size:.8rem}.meta{color:#555;font-size:.9rem}.note{background:#fff8e1;padding:.5rem .8rem;
border-left:4px solid #f0b400}.caption{font-weight:600;margin-bottom:.2rem}
"""

PRINT_CSS = """
@page{size:A4;margin:14mm 12mm 16mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.35}
h1{font-size:17pt}h2{font-size:13pt;margin-top:1.1rem}h3{font-size:11pt}
h1,h2,h3,.caption{break-after:avoid;page-break-after:avoid}
p{orphans:3;widows:3}
.table{overflow:visible}table{font-size:7.5pt;width:100%}th,td{padding:.12rem .3rem}
thead{display:table-header-group}tr,figure,.note{break-inside:avoid;page-break-inside:avoid}
figure img{max-height:235mm;width:auto;max-width:100%;border:none}
.note,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
details pre{display:none}details summary{list-style:none}
details summary::after{content:" (in the HTML file)";color:#555}
}
"""


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else fmt_number(value)


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table with readable numbers.

    Examples:
        >>> print(markdown_table(pd.DataFrame({"arm": ["a"], "effect": [1234.5]})))
        | arm | effect |
        | --- | --- |
        | a | 1,234 |
    """
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    rows = [
        "| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([head, rule, *rows])


def _is_text_column(series: pd.Series) -> bool:
    """A column of words (names, notes), aligned left; numbers and intervals align right."""
    values = [v for v in series if isinstance(v, str) and v]
    return bool(values) and sum(any(c.isalpha() for c in v.split("[")[0]) for v in values) > (
        len(values) / 2
    )


def _td(text: str, cls: str) -> str:
    """A cell; short ones (a number, an interval, an amount) are kept on one line."""
    style = ' style="white-space:nowrap"' if len(text) <= 20 else ""
    # a unit never starts a line of its own
    return f"<td{cls}{style}>{html.escape(text).replace(' pp', '&nbsp;pp')}</td>"


def _html_table(df: pd.DataFrame) -> str:
    text = [_is_text_column(df[c]) for c in df.columns]
    cls = [' class="text"' if t else "" for t in text]
    head = "".join(
        f"<th{k}>{html.escape(str(c))}</th>" for c, k in zip(df.columns, cls, strict=True)
    )
    body = "".join(
        "<tr>" + "".join(_td(_cell(v), k) for v, k in zip(row, cls, strict=True)) + "</tr>"
        for row in df.itertuples(index=False)
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="table">{table}</div>'


def _bytes_writer(data: bytes):
    return lambda path: path.write_bytes(data)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _bold(text: str) -> str:
    """``**words**`` as bold (the one piece of markup text items may carry, as in Markdown)."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)


def _html_item(kind: str, payload: Any) -> str:
    """One section item as HTML."""
    if kind in ("h2", "h3"):
        return f"<{kind}>{html.escape(payload)}</{kind}>"
    if kind in ("p", "note"):
        text = _bold(html.escape(payload))
        return f'<p class="note">{text}</p>' if kind == "note" else f"<p>{text}</p>"
    if kind == "table":
        df, caption = payload
        title = f'<p class="caption">{html.escape(caption)}</p>' if caption else ""
        return title + _html_table(df)
    if kind == "figure":
        name, png, caption = payload
        data = base64.b64encode(png).decode("ascii")
        return (
            f'<figure id="fig-{html.escape(name)}"><img alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}'
            "</figcaption></figure>"
        )
    if kind == "code":
        summary, text = payload
        return (
            f"<details><summary>{html.escape(summary)}</summary>"
            f"<pre>{html.escape(text)}</pre></details>"
        )
    raise ValueError(f"unknown report item {kind!r}")


def _markdown_item(kind: str, payload: Any, figures_dir: str) -> list[str]:
    """One section item as Markdown lines (followed by a blank line)."""
    if kind in ("h2", "h3"):
        return [f"{'##' if kind == 'h2' else '###'} {payload}", ""]
    if kind in ("p", "note"):
        return [("> **Warning:** " if kind == "note" else "") + payload, ""]
    if kind == "table":
        df, caption = payload
        return [*([f"**{caption}**", ""] if caption else []), markdown_table(df), ""]
    if kind == "figure":
        name, _png_bytes, caption = payload
        return [f"![{caption}]({figures_dir}/{name}.png)", ""]
    if kind == "code":
        summary, text = payload
        return [
            f"<details><summary>{summary}</summary>",
            "",
            "```",
            text.rstrip(),
            "```",
            "",
            "</details>",
            "",
        ]
    raise ValueError(f"unknown report item {kind!r}")


@dataclass
class Report:
    """A report under construction: headings, text, tables and figures, in order.

    Attributes:
        title: the report's title.
        sections: ``(kind, payload)`` items in order; kinds: ``h2``, ``h3``, ``p``,
            ``note`` (a warning), ``table``, ``figure``, ``code``.
    """

    title: str
    sections: list[tuple[str, Any]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """Start a section."""
        self.sections.append(("h2", text))

    def subheading(self, text: str) -> None:
        """Start a part of a section."""
        self.sections.append(("h3", text))

    def text(self, text: str, *, note: bool = False) -> None:
        """A paragraph (plain text); ``note``: a highlighted warning."""
        self.sections.append(("note" if note else "p", text))

    def extend(self, items: list[tuple[str, Any]]) -> None:
        """Append ready-made items (e.g. from :mod:`clustersim.experiments.conclusions`)."""
        self.sections.extend(items)

    def table(self, df: pd.DataFrame, caption: str = "") -> None:
        """A table with an optional caption."""
        self.sections.append(("table", (df, caption)))

    def figure(self, fig: Figure, name: str, caption: str) -> None:
        """A matplotlib figure, kept as PNG bytes."""
        self.sections.append(("figure", (name, _png(fig), caption)))

    def code(self, text: str, summary: str) -> None:
        """A collapsible block of preformatted text (configs)."""
        self.sections.append(("code", (summary, text)))

    def to_html(self, meta: str = "") -> str:
        """The whole report as one self-contained HTML page (with a print stylesheet)."""
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(self.title)}</title><style>{CSS}{PRINT_CSS}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
            f'<p class="meta">{html.escape(meta)}</p>' if meta else "",
        ]
        parts += [_html_item(kind, payload) for kind, payload in self.sections]
        parts.append("</body></html>")
        return "\n".join(p for p in parts if p)

    def to_markdown(self, figures_dir: str = "figures", meta: str = "") -> str:
        """The report as Markdown; figures are linked from ``figures_dir``."""
        lines = [f"# {self.title}", ""]
        if meta:
            lines += [f"_{meta}_", ""]
        for kind, payload in self.sections:
            lines += _markdown_item(kind, payload, figures_dir)
        return "\n".join(lines)

    def save_figures(self, directory: Path) -> None:
        """Write every figure as ``<directory>/<name>.png``; remove the other ``.png`` there.

        A figure of an earlier report of the folder that this one does not draw (an effects
        figure after every other arm's runs failed) would otherwise stay beside it.
        """
        drawn = set()
        for kind, payload in self.sections:
            if kind == "figure":
                name, png, _caption = payload
                write_file_atomically(directory / f"{name}.png", _bytes_writer(png))
                drawn.add(f"{name}.png")
        if directory.is_dir():
            for old in directory.glob("*.png"):
                if old.name not in drawn:
                    old.unlink(missing_ok=True)


def save_report(
    report: Report, out_dir: Path, tables: dict[str, pd.DataFrame], meta: str
) -> tuple[Path, Path]:
    """Write ``tables/<name>.csv``, ``figures/``, ``report.html`` and ``summary.md`` (atomically).

    Returns:
        The paths of the HTML report and the Markdown summary.
    """
    from clustersim.files import write_text_atomically

    out_dir = Path(out_dir)
    for name, table in tables.items():
        write_file_atomically(
            out_dir / "tables" / f"{name}.csv", lambda p, t=table: t.to_csv(p, index=False)
        )
    report.save_figures(out_dir / "figures")
    html_path = write_text_atomically(out_dir / "report.html", report.to_html(meta))
    md_path = write_text_atomically(out_dir / "summary.md", report.to_markdown(meta=meta))
    return html_path, md_path
