"""Experiment reports: one self-contained HTML file (figures inlined) and a Markdown summary.

The HTML report holds every figure as a base64 PNG ``<img>``, the tables, the
definitions used and the configuration (design and resolved model configs), so
it can be mailed or archived on its own. The Markdown summary holds the key
tables and links the same figures saved under ``figures/``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clustersim.experiments.figures import (
    figure_city,
    figure_cost_effectiveness,
    figure_effects,
    figure_scaling,
    figure_takeoff,
    figure_timeseries,
)
from clustersim.experiments.provenance import git_commit, model_fingerprint
from clustersim.files import write_file_atomically, write_text_atomically
from clustersim.model.outcomes import label
from clustersim.version import __version__

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = ["Report", "markdown_table", "write_report"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1150px;padding:0 1rem;color:#1d2327;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;
padding-bottom:.2rem}table{border-collapse:collapse;margin:.6rem 0;font-size:.86rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:right}
th{background:#f3f5f7}td:first-child,th:first-child{text-align:left}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}pre{background:#f6f8fa;padding:.7rem;overflow:auto;
font-size:.8rem}.meta{color:#555;font-size:.9rem}.note{background:#fff8e1;padding:.5rem .8rem;
border-left:4px solid #f0b400}
"""


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if v != 0 and abs(v) < 0.01:
            return f"{v:.2e}"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return str(value)


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
    rows = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def _html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bytes_writer(data: bytes):
    return lambda path: path.write_bytes(data)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


@dataclass
class Report:
    """A report under construction: headings, text, tables and figures, in order.

    Attributes:
        title: the report's title.
        sections: ``(kind, payload)`` items in order.
    """

    title: str
    sections: list[tuple[str, Any]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """Start a section."""
        self.sections.append(("h2", text))

    def text(self, text: str, *, note: bool = False) -> None:
        """A paragraph (plain text)."""
        self.sections.append(("note" if note else "p", text))

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
        """The whole report as one self-contained HTML page."""
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(self.title)}</title><style>{CSS}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
            f'<p class="meta">{html.escape(meta)}</p>' if meta else "",
        ]
        for kind, payload in self.sections:
            if kind == "h2":
                parts.append(f"<h2>{html.escape(payload)}</h2>")
            elif kind == "p":
                parts.append(f"<p>{html.escape(payload)}</p>")
            elif kind == "note":
                parts.append(f'<p class="note">{html.escape(payload)}</p>')
            elif kind == "table":
                df, caption = payload
                if caption:
                    parts.append(f"<p><b>{html.escape(caption)}</b></p>")
                parts.append(_html_table(df))
            elif kind == "figure":
                name, png, caption = payload
                data = base64.b64encode(png).decode("ascii")
                parts.append(
                    f'<figure id="fig-{html.escape(name)}"><img alt="{html.escape(caption)}" '
                    f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}'
                    "</figcaption></figure>"
                )
            elif kind == "code":
                summary, text = payload
                parts.append(
                    f"<details><summary>{html.escape(summary)}</summary>"
                    f"<pre>{html.escape(text)}</pre></details>"
                )
        parts.append("</body></html>")
        return "\n".join(p for p in parts if p)

    def to_markdown(self, figures_dir: str = "figures", meta: str = "") -> str:
        """The report as Markdown; figures are linked from ``figures_dir``."""
        lines = [f"# {self.title}", ""]
        if meta:
            lines += [f"_{meta}_", ""]
        for kind, payload in self.sections:
            if kind == "h2":
                lines += [f"## {payload}", ""]
            elif kind in ("p", "note"):
                lines += [("> " if kind == "note" else "") + payload, ""]
            elif kind == "table":
                df, caption = payload
                if caption:
                    lines += [f"**{caption}**", ""]
                lines += [markdown_table(df), ""]
            elif kind == "figure":
                name, _png_bytes, caption = payload
                lines += [f"![{caption}]({figures_dir}/{name}.png)", ""]
        return "\n".join(lines)

    def save_figures(self, directory: Path) -> None:
        """Write every figure as ``<directory>/<name>.png``."""
        for kind, payload in self.sections:
            if kind == "figure":
                name, png, _caption = payload
                write_file_atomically(directory / f"{name}.png", _bytes_writer(png))


# ------------------------------------------------------------------ assembly
def _ci_text(value: float, low: float, high: float) -> str:
    if any(isinstance(v, float) and math.isnan(v) for v in (value, low, high)):
        return ""
    return f"{_fmt(value)} [{_fmt(low)}, {_fmt(high)}]"


def _effects_table(effects: pd.DataFrame) -> pd.DataFrame:
    out = effects.copy()
    out["effect [CI]"] = [_ci_text(r.effect, r.ci_low, r.ci_high) for r in effects.itertuples()]
    out["relative"] = [f"{v:+.1%}" if not math.isnan(v) else "" for v in effects["relative_effect"]]
    out["detectable from"] = [_fmt(v) for v in effects["mde"]] if "mde" in effects else ""
    cols = [c for c in ("metric", "site", "arm") if c in out]
    return out[
        [
            *cols,
            "baseline_mean",
            "arm_mean",
            "effect [CI]",
            "relative",
            "detectable from",
            "n_pairs",
        ]
    ]


def _takeoff_table(summary: pd.DataFrame) -> pd.DataFrame:
    out = summary[["site", "arm", "runs", "took_off"]].copy()
    out["probability [CI]"] = [
        _ci_text(r.probability, r.probability_low, r.probability_high) for r in summary.itertuples()
    ]
    out["month of take-off [CI]"] = [
        _ci_text(r.mean_takeoff_step, r.takeoff_step_low, r.takeoff_step_high)
        for r in summary.itertuples()
    ]
    return out


def _cost_table(cost: pd.DataFrame) -> pd.DataFrame:
    out = cost[[c for c in ("site", "arm", "lever", "intensity") if c in cost]].copy()
    out["total spend (EUR)"] = cost["total_spend"]
    out["jobs created [CI]"] = [
        _ci_text(r.jobs_created, r.jobs_low, r.jobs_high) for r in cost.itertuples()
    ]
    out["EUR per job [CI]"] = [
        _ci_text(r.cost_per_job, r.cost_low, r.cost_high) for r in cost.itertuples()
    ]
    out["note"] = cost["note"]
    return out


def _run_config(runs: pd.DataFrame, site: str, arm: str) -> tuple[dict, Path] | None:
    sel = runs[(runs.get("site") == site) & (runs.get("arm") == arm) & (runs["status"] == "ok")]
    if sel.empty:
        return None
    sel = sel.sort_values("replicate") if "replicate" in sel else sel
    run_dir = Path(sel.iloc[0]["run_dir"])
    return json.loads((run_dir / "config.json").read_text()), run_dir


def _city_figure(runs: pd.DataFrame, site: str, arms: list[str], steps: int) -> Figure | None:
    """Rebuild the site's city (deterministic from config and seed) and draw each arm's firms."""
    from omegaconf import OmegaConf

    from clustersim.model.config import from_dictconfig
    from clustersim.model.core import CreativeClusterModel

    found = [(arm, _run_config(runs, site, arm)) for arm in arms]
    found = [(arm, f) for arm, f in found if f is not None]
    if not found:
        return None
    config = found[0][1][0]
    model = CreativeClusterModel.from_config(from_dictconfig(OmegaConf.create(config)))
    focus = model.place_names[model.focus_place]
    nodes = [n for n, d in model.graph.nodes(data=True) if d.get("place") == focus]
    panels = [
        (pd.read_parquet(run_dir / "firms.parquet"), f"{site}: {arm}, month {steps}")
        for arm, (_cfg, run_dir) in found
    ]
    return figure_city(model.graph, panels, nodes=nodes)


DEFINITIONS = (
    "Effects are mean paired differences arm - baseline at the last month over replicates that "
    "share a seed (common random numbers), with {ci:.0%} percentile bootstrap intervals. "
    "A cluster takes off when, at the last month, the focus place's creative location quotient "
    "is >= {lq:g} and its creative employment is >= {growth:.0%} above month 0; the month of "
    "take-off is the first month from which both hold until the end. Probabilities carry Wilson "
    "intervals. Cost per creative job = total policy spend / creative jobs created vs the "
    "baseline; it is left blank when the job gain's interval includes 0."
)


def _provenance(design: Design, runs: pd.DataFrame) -> str:
    ok = int((runs["status"] == "ok").sum()) if len(runs) else 0
    stale = int((runs["status"] == "stale").sum()) if len(runs) else 0
    failed = len(runs) - ok - stale
    commit = git_commit()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"clustersim {__version__}"
        + (f", commit {commit[:10]}" if commit else "")
        + f", model fingerprint {model_fingerprint()}"
        + f"; {ok} runs ok, {failed} failed"
        + (f", {stale} stale (another model version) left out" if stale else "")
        + f"; {design.replicates} replicates, "
        f"{design.steps} months, root seed {design.root_seed}; written {when}"
    )


def _config_blocks(report: Report, design: Design, runs: pd.DataFrame) -> None:
    report.heading("Configuration")
    report.code(design.to_yaml(), "Experiment design (experiment.yaml)")
    for site in design.sites:
        found = _run_config(
            runs,
            site,
            design.baseline if design.baseline in design.arms else next(iter(design.arms)),
        )
        if found:
            report.code(
                json.dumps(found[0], indent=2, default=str),
                f"Resolved model config: {site} (baseline arm, replicate 0)",
            )


def write_report(
    design: Design,
    out_dir: Path,
    timeseries: pd.DataFrame,
    tables: dict[str, Any],
    *,
    runs: pd.DataFrame,
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``summary.md`` (with ``figures/``) for an experiment.

    Also writes each analysis table as ``tables/<name>.csv``.

    Returns:
        The paths of the HTML report and the Markdown summary.
    """
    out_dir = Path(out_dir)
    a = design.analysis
    report = Report(design.title)
    if design.description:
        report.text(design.description)
    left_out = runs[runs["status"] != "ok"] if len(runs) else runs
    if len(left_out):
        n_stale = int((left_out["status"] == "stale").sum())
        n_failed = len(left_out) - n_stale
        if n_failed:
            report.text(f"{n_failed} run(s) failed and are left out; see runs.parquet.", note=True)
        if n_stale:
            report.text(
                f"{n_stale} run(s) were made by a different model version (another model "
                "fingerprint) and are left out; run the experiment again to recompute them.",
                note=True,
            )
        report.table(
            left_out[
                [
                    c
                    for c in ("site", "arm", "replicate", "run_id", "status", "error")
                    if c in left_out
                ]
            ].head(20),
            "Runs left out" if n_stale else "Failed runs",
        )
    sites = list(design.sites)
    arms = [x for x in design.arms if x in set(timeseries["arm"])]
    report.heading("Definitions")
    report.text(
        DEFINITIONS.format(
            ci=float(a["ci"]), lq=float(a["takeoff_lq"]), growth=float(a["takeoff_growth"])
        )
    )
    report.table(
        pd.DataFrame({"site": sites, "description": [design.sites[s].label for s in sites]}),
        "Sites",
    )
    if design.kind == "scaling":
        _scaling_sections(report, design, tables)
    else:
        _comparison_sections(report, design, timeseries, tables, runs, sites, arms)
    _config_blocks(report, design, runs)
    meta = _provenance(design, runs)
    for name, table in tables.items():
        if isinstance(table, pd.DataFrame) and name != "outcomes":
            write_file_atomically(out_dir / "tables" / f"{name}.csv", _csv_writer(table))
    report.save_figures(out_dir / "figures")
    html_path = write_text_atomically(out_dir / "report.html", report.to_html(meta))
    md_path = write_text_atomically(out_dir / "summary.md", report.to_markdown(meta=meta))
    return html_path, md_path


def _csv_writer(table: pd.DataFrame):
    return lambda path: table.to_csv(path, index=False)


def _comparison_sections(
    report: Report,
    design: Design,
    ts: pd.DataFrame,
    tables: dict[str, Any],
    runs: pd.DataFrame,
    sites: list[str],
    arms: list[str],
) -> None:
    effects = tables["effects"]
    if design.kind == "policy_sweep":
        _cost_effectiveness_section(report, tables["cost"], runs)
    else:
        _headline_sections(report, design, ts, effects, sites, arms)
    report.heading("Effects against the baseline")
    report.figure(figure_effects(effects), "effects", "Mean paired differences with intervals")
    report.table(_effects_table(effects), "Effects per metric (last month; totals for flows)")
    report.heading("Take-off")
    report.figure(
        figure_takeoff(tables["takeoff"]),
        "takeoff",
        "Probability that the focus cluster takes off, with Wilson intervals",
    )
    report.table(_takeoff_table(tables["takeoff"]), "Take-off per site and arm")
    if design.kind == "comparison":
        report.heading("Cost per creative job")
        report.table(_cost_table(tables["cost"]), "Policy spend per creative job created")
        _city_sections(report, design, effects, runs, sites)


def _cost_effectiveness_section(report: Report, cost: pd.DataFrame, runs: pd.DataFrame) -> None:
    """A policy sweep's cost per job by lever and intensity, cheapest first."""
    if {"lever", "intensity"} <= set(runs.columns):
        cost = cost.merge(
            runs.drop_duplicates("arm")[["arm", "lever", "intensity"]], on="arm", how="left"
        )
    report.heading("Cost-effectiveness")
    if {"lever", "intensity"} <= set(cost.columns):
        report.figure(
            figure_cost_effectiveness(cost),
            "cost_effectiveness",
            "Creative jobs created vs the baseline (left) and EUR per job "
            "(right) by lever and intensity, with intervals",
        )
        cost = cost.sort_values(
            ["cost_per_job", "jobs_created"], ascending=[True, False], na_position="last"
        )
    report.table(_cost_table(cost), "Cost per creative job created, cheapest first")


def _noise_floor_text(report: Report, head: pd.DataFrame) -> None:
    """Say per site how large an effect on creative employment the design can detect."""
    if "mde" not in head or head.empty:
        return
    for site, rows in head.groupby("site", sort=False):
        mde = float(rows["mde"].max())
        if np.isnan(mde):
            continue
        n = int(rows["n_pairs"].min())
        report.text(
            f"{site}: with {n} replicates, effects on creative employment smaller than about "
            f"{_fmt(mde)} jobs cannot be told from chance (paired test, 5% level, 80% power); "
            "more replicates shrink this noise floor by the square root of their number."
        )


def _headline_sections(
    report: Report,
    design: Design,
    ts: pd.DataFrame,
    effects: pd.DataFrame,
    sites: list[str],
    arms: list[str],
) -> None:
    """One sentence per arm on creative employment, then the mean time series."""
    a = design.analysis
    report.heading("Headline effects")
    head = effects[effects["metric"] == "creative_employment"]
    for row in head.itertuples():
        verdict = (
            "raises"
            if row.ci_low > 0
            else "lowers"
            if row.ci_high < 0
            else "does not clearly change"
        )
        report.text(
            f"{row.site}: {row.arm} {verdict} creative employment at month "
            f"{design.steps}: {_ci_text(row.effect, row.ci_low, row.ci_high)} jobs "
            f"({row.relative_effect:+.1%} of {_fmt(row.baseline_mean)} without policy)."
        )
    _noise_floor_text(report, head)
    report.heading("Time series")
    report.figure(
        figure_timeseries(
            ts,
            list(a["band_metrics"]),
            sites=sites,
            arms=arms,
            site_labels={k: k for k in sites},
            ci=float(a["ci"]),
            seed=int(a["seed"]),
        ),
        "timeseries",
        f"Mean over replicates per arm with {float(a['ci']):.0%} bootstrap bands",
    )


def _city_sections(
    report: Report, design: Design, effects: pd.DataFrame, runs: pd.DataFrame, sites: list[str]
) -> None:
    """Each site's firms at the last month: the baseline and the arm with the largest effect."""
    report.heading("The cities")
    best = effects[effects["metric"] == "creative_employment"]
    for site in sites:
        top = best[best["site"] == site].sort_values("effect", ascending=False)
        shown = [design.baseline, *([str(top.iloc[0]["arm"])] if len(top) else [])]
        fig = _city_figure(runs, site, shown, design.steps)
        if fig is not None:
            report.figure(
                fig,
                f"city_{site}",
                f"{design.sites[site].label}: firms at the last month of "
                f"replicate 0, {' vs '.join(shown)} (the arm with the largest "
                "effect on creative employment)",
            )


def _scaling_sections(report: Report, design: Design, tables: dict[str, Any]) -> None:
    outcomes, fits = tables["outcomes"], tables["scaling"]
    report.heading("Scaling with population")
    for fit in fits.itertuples():
        kind = (
            "superlinear"
            if fit.ci_low > 1
            else "sublinear"
            if fit.ci_high < 1
            else "not distinguishable from linear"
        )
        report.text(
            f"{label(fit.metric)}: beta = "
            f"{_ci_text(fit.exponent, fit.ci_low, fit.ci_high)} ({kind}), "
            f"R2 = {fit.r2:.3f}, {fit.n_runs} runs."
        )
    report.figure(
        figure_scaling(outcomes, fits),
        "scaling",
        "Metrics against population on log-log axes with fitted power laws",
    )
    report.table(fits, "Scaling exponents (log-log least squares, bootstrap intervals)")
    cols = ["site", "population", *[m for m in fits["metric"] if m in outcomes]]
    per_site = outcomes[cols].groupby("site", sort=False).mean().reset_index()
    report.table(per_site.sort_values("population"), "Means per city size (last month)")
    report.heading("Take-off")
    report.table(_takeoff_table(tables["takeoff"]), "Take-off per city size")
