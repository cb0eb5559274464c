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

from clustersim.experiments import analysis as an

if TYPE_CHECKING:
    from clustersim.experiments.cli import Design

__all__ = [
    "Report",
    "figure_city",
    "figure_cost_effectiveness",
    "figure_effects",
    "figure_scaling",
    "figure_takeoff",
    "figure_timeseries",
    "markdown_table",
    "write_report",
]

METRIC_LABELS = {
    "creative_employment": "creative employment (jobs)",
    "creative_firms": "creative firms",
    "location_quotient": "creative location quotient",
    "talents": "creative workers living there",
    "mean_rent": "mean rent (EUR/month)",
    "innovation_total": "innovations (whole run)",
    "innovation_last_year": "innovations (last 12 months)",
    "population": "population",
}

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
        directory.mkdir(parents=True, exist_ok=True)
        for kind, payload in self.sections:
            if kind == "figure":
                name, png, _caption = payload
                (directory / f"{name}.png").write_bytes(png)


# ------------------------------------------------------------------ figures
def _colors(names: list[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def figure_timeseries(
    timeseries: pd.DataFrame,
    metrics: list[str],
    *,
    sites: list[str],
    arms: list[str],
    site_labels: dict[str, str] | None = None,
    ci: float = 0.95,
    seed: int = 0,
) -> Figure:
    """Mean time series per arm (one panel per metric and site) with bootstrap bands."""
    fig = Figure(figsize=(4.2 * len(sites), 2.6 * len(metrics)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(metrics), len(sites), squeeze=False))
    colors = _colors(arms)
    for i, metric in enumerate(metrics):
        bands = an.mean_bands(timeseries, metric, group_cols=("site", "arm"), ci=ci, seed=seed)
        for j, site in enumerate(sites):
            ax = axes[i, j]
            for arm in arms:
                b = bands[(bands["site"] == site) & (bands["arm"] == arm)]
                if b.empty:
                    continue
                ax.plot(b["step"], b["mean"], color=colors[arm], label=arm, lw=1.4)
                ax.fill_between(b["step"], b["low"], b["high"], color=colors[arm], alpha=0.2, lw=0)
            if i == 0:
                ax.set_title((site_labels or {}).get(site, site), fontsize=9)
            if j == 0:
                ax.set_ylabel(METRIC_LABELS.get(metric, metric), fontsize=8)
            if i == len(metrics) - 1:
                ax.set_xlabel("month")
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="best")
    return fig


def figure_effects(effects: pd.DataFrame, *, arm_col: str = "arm") -> Figure:
    """Paired effects with confidence intervals: one panel per metric, one row per site x arm."""
    metrics = list(dict.fromkeys(effects["metric"]))
    fig = Figure(
        figsize=(
            4.0 * min(len(metrics), 3),
            0.25 * len(effects) / max(len(metrics), 1) * math.ceil(len(metrics) / 3)
            + 2.2 * math.ceil(len(metrics) / 3),
        ),
        layout="constrained",
    )
    ncols = min(len(metrics), 3)
    axes = fig.subplots(math.ceil(len(metrics) / ncols), ncols, squeeze=False).ravel()
    sites = list(dict.fromkeys(effects["site"])) if "site" in effects else [None]
    colors = _colors([str(s) for s in sites])
    for ax, metric in zip(axes, metrics, strict=False):
        sub = effects[effects["metric"] == metric].reset_index(drop=True)
        y = np.arange(len(sub))[::-1]
        for k, row in sub.iterrows():
            c = colors[str(row["site"])] if "site" in sub else "C0"
            ax.errorbar(
                row["effect"],
                y[k],
                xerr=[[row["effect"] - row["ci_low"]], [row["ci_high"] - row["effect"]]],
                fmt="o",
                color=c,
                ms=4,
                capsize=2,
            )
        labels = [f"{r.get('site', '')}: {r[arm_col]}" for _, r in sub.iterrows()]
        ax.set_yticks(y, labels, fontsize=7)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_title(METRIC_LABELS.get(metric, metric), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle("Effect vs baseline (mean paired difference at the last month, CI)", fontsize=10)
    return fig


def figure_takeoff(summary: pd.DataFrame) -> Figure:
    """Probability of take-off per site and arm, with Wilson intervals."""
    fig = Figure(figsize=(max(5.0, 0.5 * len(summary) + 2), 3.2), layout="constrained")
    ax = fig.subplots()
    labels = [f"{r.site}\n{r.arm}" for r in summary.itertuples()]
    x = np.arange(len(summary))
    p = summary["probability"].to_numpy()
    err = np.clip(
        [p - summary["probability_low"].to_numpy(), summary["probability_high"].to_numpy() - p],
        0,
        None,
    )
    sites = list(dict.fromkeys(summary["site"]))
    colors = _colors(sites)
    ax.bar(x, p, color=[colors[s] for s in summary["site"]], alpha=0.8)
    ax.errorbar(x, p, yerr=err, fmt="none", color="k", capsize=3, lw=1)
    ax.set_xticks(x, labels, fontsize=7, rotation=90 if len(x) > 12 else 0)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("probability of take-off")
    ax.grid(axis="y", alpha=0.3)
    return fig


def _draw_city(
    ax: Any, graph: Any, firms: pd.DataFrame, nodes: list[int], title: str, seed: int
) -> None:
    from matplotlib import colormaps

    from clustersim.model.sectors import SECTOR_NAMES

    keep = set(nodes)
    pos = {n: (graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in keep}
    for u, v in graph.edges():
        if u in keep and v in keep:
            ax.plot([pos[u][0], pos[v][0]], [pos[u][1], pos[v][1]], color="#bbb", lw=0.7, zorder=1)
    xs = np.array([pos[n][0] for n in nodes])
    ys = np.array([pos[n][1] for n in nodes])
    pops = np.array([graph.nodes[n]["population"] for n in nodes], dtype=float)
    ax.scatter(
        xs,
        ys,
        s=20 + 400 * pops / max(pops.max(), 1),
        facecolor="none",
        edgecolor="#555",
        lw=0.8,
        zorder=2,
    )
    alive = firms[firms["exit_step"].isna() & firms["node"].isin(keep)]
    span = max(np.ptp(xs), np.ptp(ys), 1.0)
    radius = span / max(8.0, math.sqrt(len(nodes)) * 4)
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, len(alive))
    dist = radius * np.sqrt(rng.uniform(0, 1, len(alive)))
    fx = np.array([pos[n][0] for n in alive["node"]]) + dist * np.cos(angle)
    fy = np.array([pos[n][1] for n in alive["node"]]) + dist * np.sin(angle)
    cmap = colormaps["tab20"]
    colors = {s: cmap(i % 20) for i, s in enumerate(SECTOR_NAMES)}
    ax.scatter(
        fx,
        fy,
        s=3 + 2 * np.sqrt(alive["employees"].to_numpy(dtype=float)),
        c=[colors.get(str(s), "k") for s in alive["sector"]],
        alpha=0.8,
        lw=0,
        zorder=3,
    )
    present = {str(v) for v in alive["sector"]}
    for s in SECTOR_NAMES:
        if s in present:
            ax.scatter([], [], color=colors[s], s=12, label=s.replace("_", " "))
    ax.set_title(f"{title}\n{len(alive):,} live creative firms", fontsize=9)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("km", fontsize=8)
    ax.tick_params(labelsize=7)


def figure_city(
    graph: Any,
    panels: list[tuple[pd.DataFrame, str]],
    *,
    nodes: list[int],
    seed: int = 0,
) -> Figure:
    """The city graph (nodes sized by population) with live creative firms drawn as dots.

    One panel per ``(firms table, title)``; firms are scattered around their node,
    coloured by sector and sized by employees.
    """
    fig = Figure(figsize=(4.6 * len(panels) + 1.6, 4.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (firms, title) in zip(axes, panels, strict=True):
        _draw_city(ax, graph, firms, nodes, title, seed)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, fontsize=7, loc="outside right center", frameon=False)
    return fig


def figure_scaling(outcomes: pd.DataFrame, fits: pd.DataFrame, *, x: str = "population") -> Figure:
    """Log-log plots of each metric against population with the fitted power law."""
    metrics = list(fits["metric"])
    fig = Figure(figsize=(4.0 * len(metrics), 3.6), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, fit in zip(axes, fits.itertuples(), strict=True):
        data = outcomes[(outcomes[x] > 0) & (outcomes[fit.metric] > 0)]
        ax.scatter(data[x], data[fit.metric], s=12, alpha=0.6)
        if not math.isnan(fit.exponent):
            grid = np.geomspace(data[x].min(), data[x].max(), 50)
            ax.plot(
                grid,
                fit.prefactor * grid**fit.exponent,
                color="C3",
                lw=1.5,
                label=f"beta = {fit.exponent:.3f} [{fit.ci_low:.3f}, {fit.ci_high:.3f}]",
            )
            ref = fit.prefactor * grid**1.0
            ref *= (fit.prefactor * np.median(grid) ** fit.exponent) / np.interp(
                np.median(grid), grid, ref
            )
            ax.plot(grid, ref, color="k", lw=0.8, ls="--", label="linear (beta = 1)")
            ax.legend(fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("population (last month)", fontsize=8)
        ax.set_title(METRIC_LABELS.get(fit.metric, fit.metric), fontsize=9)
        ax.grid(alpha=0.3, which="both")
    return fig


def figure_cost_effectiveness(cost: pd.DataFrame) -> Figure:
    """Jobs created and cost per job against intensity, one line per lever."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    levers = list(dict.fromkeys(cost["lever"]))
    colors = _colors(levers)
    for lever in levers:
        sub = cost[cost["lever"] == lever].sort_values("intensity")
        c = colors[lever]
        ax1.errorbar(
            sub["intensity"],
            sub["jobs_created"],
            yerr=[sub["jobs_created"] - sub["jobs_low"], sub["jobs_high"] - sub["jobs_created"]],
            marker="o",
            ms=3,
            capsize=2,
            color=c,
            label=lever,
            lw=1,
        )
        ok = sub[sub["cost_per_job"].notna()]
        if len(ok):
            ax2.errorbar(
                ok["intensity"],
                ok["cost_per_job"] / 1000,
                yerr=[
                    (ok["cost_per_job"] - ok["cost_low"]) / 1000,
                    (ok["cost_high"] - ok["cost_per_job"]) / 1000,
                ],
                marker="o",
                ms=3,
                capsize=2,
                color=c,
                label=lever,
                lw=1,
            )
    ax1.axhline(0, color="k", lw=0.8)
    ax1.set_xlabel("intensity")
    ax1.set_ylabel("creative jobs created vs baseline")
    ax1.legend(fontsize=6, ncols=2)
    ax2.set_xlabel("intensity")
    ax2.set_ylabel("cost per creative job (kEUR)")
    ax2.set_title("only where jobs were created with confidence", fontsize=8)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    return fig


# ------------------------------------------------------------------ assembly
def _site_labels(design: Design) -> dict[str, str]:
    return {k: s.label for k, s in design.sites.items()}


def _ci_text(value: float, low: float, high: float) -> str:
    if any(isinstance(v, float) and math.isnan(v) for v in (value, low, high)):
        return ""
    return f"{_fmt(value)} [{_fmt(low)}, {_fmt(high)}]"


def _effects_table(effects: pd.DataFrame) -> pd.DataFrame:
    out = effects.copy()
    out["effect [CI]"] = [_ci_text(r.effect, r.ci_low, r.ci_high) for r in effects.itertuples()]
    out["relative"] = [f"{v:+.1%}" if not math.isnan(v) else "" for v in effects["relative_effect"]]
    cols = [c for c in ("metric", "site", "arm") if c in out]
    return out[[*cols, "baseline_mean", "arm_mean", "effect [CI]", "relative", "n_pairs"]]


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
    from clustersim.experiments.runner import git_commit, model_fingerprint
    from clustersim.version import __version__

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
    tables_dir = out_dir / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if isinstance(table, pd.DataFrame) and name != "outcomes":
            table.to_csv(tables_dir / f"{name}.csv", index=False)
    report.save_figures(out_dir / "figures")
    html_path = out_dir / "report.html"
    md_path = out_dir / "summary.md"
    tmp = out_dir / ".report.html.tmp"
    tmp.write_text(report.to_html(meta), encoding="utf-8")
    tmp.replace(html_path)
    md_path.write_text(report.to_markdown(meta=meta), encoding="utf-8")
    return html_path, md_path


def _comparison_sections(
    report: Report,
    design: Design,
    ts: pd.DataFrame,
    tables: dict[str, Any],
    runs: pd.DataFrame,
    sites: list[str],
    arms: list[str],
) -> None:
    a = design.analysis
    effects = tables["effects"]
    if design.kind == "policy_sweep":
        cost = (
            tables["cost"].merge(
                runs.drop_duplicates("arm")[["arm", "lever", "intensity"]], on="arm", how="left"
            )
            if {"lever", "intensity"} <= set(runs.columns)
            else tables["cost"]
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
    else:
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
            f"{METRIC_LABELS.get(fit.metric, fit.metric)}: beta = "
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
