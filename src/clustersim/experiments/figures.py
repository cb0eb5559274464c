"""Figures of experiment reports: matplotlib figures built from the analysis tables.

Every builder takes tidy tables (see :mod:`clustersim.experiments.analysis`) and
returns a :class:`matplotlib.figure.Figure` without touching pyplot's global state;
axis titles and labels come from the outcomes table (:func:`clustersim.model.outcomes.label`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from clustersim.experiments import analysis as an
from clustersim.experiments.numbers import relative_is_meaningful, unit_of
from clustersim.model.outcomes import label

__all__ = [
    "figure_city",
    "figure_cost_effectiveness",
    "figure_effects",
    "figure_scaling",
    "figure_takeoff",
    "figure_timeseries",
]


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
    arm_labels: dict[str, str] | None = None,
) -> Figure:
    """Mean time series per arm (a panel per metric and site, each on its own scale), with bands."""
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
                name = (arm_labels or {}).get(arm, arm)
                ax.plot(b["step"], b["mean"], color=colors[arm], label=name, lw=1.4)
                ax.fill_between(b["step"], b["low"], b["high"], color=colors[arm], alpha=0.2, lw=0)
            if i == 0:
                ax.set_title((site_labels or {}).get(site, site), fontsize=9)
            if j == 0:
                ax.set_ylabel(label(metric), fontsize=8)
            if i == len(metrics) - 1:
                ax.set_xlabel("month")
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="best")
    return fig


def _effect_rows(
    ax: Any, rows: pd.DataFrame, ys: np.ndarray, color: Any, scale: np.ndarray | float
) -> None:
    """Points with interval bars: filled when the interval excludes 0, hollow when not."""
    for y, row, k in zip(
        ys, rows.itertuples(index=False), np.broadcast_to(scale, len(ys)), strict=True
    ):
        value, low, high = row.effect * k, row.ci_low * k, row.ci_high * k
        clear = low > 0 or high < 0
        ax.errorbar(
            value,
            y,
            xerr=[[max(value - low, 0)], [max(high - value, 0)]],
            fmt="o",
            color=color,
            mfc=color if clear else "white",
            ms=4.5,
            capsize=2,
            lw=1.2,
        )


def _effect_axis(ax: Any, title: str, ticks: list[str], *, labelled: bool = True) -> None:
    ax.set_yticks(np.arange(len(ticks))[::-1], ticks if labelled else [], fontsize=7)
    ax.set_ylim(-0.7, len(ticks) - 0.3)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_title(title, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.grid(axis="x", alpha=0.3)


def _panel_title(metric: str) -> tuple[str, float]:
    """A panel's title and the factor its values are shown with (shares in percentage points)."""
    if unit_of(metric) == "share":
        return f"{label(metric).removesuffix(' (share)')} (percentage points)", 100.0
    return label(metric), 1.0


def figure_effects(
    effects: pd.DataFrame,
    *,
    arm_col: str = "arm",
    arm_labels: dict[str, str] | None = None,
    site_labels: dict[str, str] | None = None,
    relative: bool = True,
) -> Figure:
    """Paired effects with intervals: one column per site on its own scale, one row per metric.

    Each site's panels have their own axis, so a small town's effects are not squashed
    on a scale shared with a metropolis. With ``relative``, a last column shows each
    effect relative to its site's baseline (%, sites in colour), left out where the
    baseline is too small for a relative change to mean anything
    (:func:`clustersim.experiments.numbers.relative_is_meaningful`). Filled points:
    the interval excludes 0.
    """
    metrics = list(dict.fromkeys(effects["metric"]))
    sites = list(dict.fromkeys(effects["site"])) if "site" in effects else [None]
    arms = list(dict.fromkeys(effects[arm_col]))
    names = [(arm_labels or {}).get(str(a), str(a)) for a in arms]
    ncols = len(sites) + int(relative)
    label_room = min(2.2, 1 + 0.055 * max(len(n) for n in names) / 3.0)
    fig = Figure(
        figsize=(3.0 * (ncols + label_room - 1), len(metrics) * (0.3 * len(arms) + 0.8) + 0.5),
        layout="constrained",
    )
    # the first column carries the plans' names: wider, so every panel gets the same room
    subfigs = fig.subfigures(
        1, ncols, squeeze=False, width_ratios=[label_room] + [1] * (ncols - 1)
    )[0]
    colors = _colors([str(s) for s in sites])
    for j, site in enumerate(sites):
        sub = effects[effects["site"] == site] if site is not None else effects
        axes = subfigs[j].subplots(len(metrics), 1, squeeze=False)[:, 0]
        subfigs[j].suptitle((site_labels or {}).get(str(site), str(site or "")), fontsize=9)
        for ax, metric in zip(axes, metrics, strict=True):
            title, k = _panel_title(metric)
            rows = (
                sub[sub["metric"] == metric]
                .set_index(arm_col)
                .reindex(arms)
                .dropna(subset=["effect"])
            )
            ys = np.array([len(arms) - 1 - arms.index(a) for a in rows.index])
            _effect_rows(ax, rows, ys, colors[str(site)], k)
            _effect_axis(ax, title, names, labelled=j == 0)
    if relative:
        panels = effects.rename(columns={arm_col: "arm"})
        _relative_column(subfigs[-1], panels, metrics, sites, arms, names, colors, site_labels)
    fig.suptitle(
        "Effect against the baseline: mean paired difference at the last month (totals for "
        "flows) with its interval; filled: the interval excludes 0",
        fontsize=9,
    )
    return fig


def _relative_column(
    subfig: Any,
    effects: pd.DataFrame,
    metrics: list[str],
    sites: list[Any],
    arms: list[Any],
    names: list[str],
    colors: dict[str, Any],
    site_labels: dict[str, str] | None,
) -> None:
    """Effects relative to each site's baseline (%), sites side by side in colour."""
    axes = subfig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    subfig.suptitle("relative to the baseline (%)", fontsize=9)
    offsets = np.linspace(0.15, -0.15, len(sites)) if len(sites) > 1 else [0.0]
    for ax, metric in zip(axes, metrics, strict=True):
        unit, shown = unit_of(metric), 0
        for site, dy in zip(sites, offsets, strict=True):
            sub = effects[(effects["metric"] == metric)]
            sub = sub[sub["site"] == site] if site is not None else sub
            sub = sub[
                [
                    relative_is_meaningful(b, e, unit)
                    for b, e in zip(sub["baseline_mean"], sub["effect"], strict=True)
                ]
            ]
            if sub.empty:
                continue
            ys = np.array([len(arms) - 1 - arms.index(a) for a in sub["arm"]]) + dy
            _effect_rows(
                ax, sub, ys, colors[str(site)], 100 / sub["baseline_mean"].abs().to_numpy()
            )
            shown += len(sub)
        _effect_axis(ax, label(metric), names, labelled=False)
        if not shown:
            ax.text(
                0.5,
                0.5,
                "baseline near 0:\nno relative change",
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=7,
                color="#555",
            )
    if len(sites) > 1:
        from matplotlib.lines import Line2D

        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color=colors[str(site)],
                label=(site_labels or {}).get(str(site), str(site)),
            )
            for site in sites
        ]
        subfig.legend(
            handles=handles,
            fontsize=7,
            loc="outside lower center",
            ncols=min(len(sites), 2),
            frameon=False,
        )


def figure_takeoff(
    summary: pd.DataFrame,
    *,
    arm_labels: dict[str, str] | None = None,
    site_labels: dict[str, str] | None = None,
) -> Figure:
    """Chance of take-off per site and arm (bars coloured by site), with Wilson intervals.

    Each bar is labelled with its plan and topped with its count ("2 of 8").
    """
    import textwrap

    from matplotlib.ticker import PercentFormatter

    many = len(summary) > 12
    fig = Figure(
        figsize=(max(5.0, (0.45 if many else 1.05) * len(summary) + 1.6), 3.6), layout="constrained"
    )
    ax = fig.subplots()
    names = [(arm_labels or {}).get(r.arm, r.arm) for r in summary.itertuples()]
    # dotted keys of a sweep's settings may break after a dot, never inside a word
    labels = (
        names
        if many
        else [
            textwrap.fill(n.replace(".", ".\0 "), 14, break_long_words=False)
            .replace("\0 ", "")
            .replace("\0", "")
            for n in names
        ]
    )
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
    for xi, row in zip(x, summary.itertuples(), strict=True):
        ax.text(
            xi,
            0.01,
            f"{row.took_off} of {row.runs}",
            ha="center",
            va="bottom",
            fontsize=7,
            rotation=90 if many else 0,
        )
    if len(sites) > 1:
        from matplotlib.patches import Patch

        handles = [
            Patch(color=colors[site], alpha=0.8, label=(site_labels or {}).get(site, site))
            for site in sites
        ]
        fig.legend(handles=handles, fontsize=7, loc="outside right upper", frameon=False)
    ax.set_xticks(x, labels, fontsize=7, rotation=90 if many else 0)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("chance of take-off")
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


def _reference_exponent(metric: str) -> float:
    """1 for counts (jobs, firms, people: proportional to population), 0 for per-head levels.

    Wages, rents, shares and indices have no size effect at beta = 0, so that is the
    line to compare them with; counts are compared with proportionality.
    """
    unit = unit_of(metric)
    return 0.0 if unit in ("share", "index") or "/" in unit else 1.0


def figure_scaling(outcomes: pd.DataFrame, fits: pd.DataFrame, *, x: str = "population") -> Figure:
    """Log-log plots of each metric against population with the fitted power law.

    Three panels a row; each shows the runs, the fitted line with its exponent and
    interval, and the reference a reader compares it with: proportional to population
    (beta = 1) for counts, no size effect (beta = 0) for wages, rents and shares.
    """
    metrics = list(fits["metric"])
    cols = min(3, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig = Figure(figsize=(4.4 * cols, 3.6 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    for ax, fit in zip(axes, fits.itertuples(), strict=False):
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
            beta = _reference_exponent(fit.metric)
            middle = np.median(grid)
            ref = fit.prefactor * middle**fit.exponent * (grid / middle) ** beta
            name = "linear (beta = 1)" if beta == 1.0 else "no size effect (beta = 0)"
            ax.plot(grid, ref, color="k", lw=0.8, ls="--", label=name)
            ax.legend(fontsize=8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("population (last month)", fontsize=9)
        ax.set_title(label(fit.metric), fontsize=10)
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
