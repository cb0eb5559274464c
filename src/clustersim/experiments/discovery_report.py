"""The report of a scenario discovery: where the runs of interest are, in plain words and plots.

It opens with "What this means": how often the runs of interest happened, the box in
which they are likely (each restricted input's range, the box's density with its
Wilson interval, its coverage and mass), how likely they are outside it, which
restrictions could be chance (quasi-p-value above 5%), and which inputs the feature
scores rank first. Then the coverage-density trade-off along PRIM's peeling
trajectory, the box table, the feature scores, the inputs with their ranges,
definitions and the design.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clustersim.experiments.discovery_space import DiscoverySettings
from clustersim.experiments.document import Report, save_report
from clustersim.experiments.numbers import fmt_number, fmt_percent
from clustersim.experiments.provenance import analysis_provenance

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = [
    "CHANCE",
    "box_sentences",
    "box_table",
    "figure_scores",
    "figure_tradeoff",
    "write_discovery_report",
]

CHANCE = 0.05
"""A restriction whose quasi-p-value is above this could be chance; the report says so."""

FEW = 10
"""Fewer runs of interest than this: the report warns that a box is guesswork."""


def _range_text(low: float, high: float, full_low: float, full_high: float, unit: str) -> str:
    """``at least a``, ``at most b`` or ``between a and b``: only the restricted sides."""
    unit = f" {unit}" if unit and unit != "-" else ""
    lo_cut, hi_cut = low > full_low + 1e-12, high < full_high - 1e-12
    if lo_cut and hi_cut:
        return f"between {fmt_number(low)} and {fmt_number(high)}{unit}"
    if lo_cut:
        return f"at least {fmt_number(low)}{unit}"
    return f"at most {fmt_number(high)}{unit}"


def _full(settings: DiscoverySettings) -> dict[str, tuple[float, float, str]]:
    return {f.name: (f.low, f.high, f.unit) for f in settings.factors}


def _nearest_miss(runs: pd.DataFrame, lq: float, growth: float) -> str:
    """How near take-off the runs came: each of its two conditions alone."""
    high_lq = int((runs["final_lq"] >= lq).sum())
    grew = int((runs["employment_growth"] >= growth).sum())
    return (
        f"Take-off needs both a location quotient of at least {fmt_number(lq)} at the end and "
        f"creative employment {fmt_percent(growth)} above month 0. {high_lq} run(s) met the "
        f"first (highest quotient {fmt_number(runs['final_lq'].max())}), {grew} the second "
        f"(largest growth {fmt_percent(runs['employment_growth'].max())}), none both."
    )


def _no_box(
    runs: pd.DataFrame, settings: DiscoverySettings, takeoff: tuple[float, float] | None, k: int
) -> list[str]:
    """Why there is no box when no run, or every run, is of interest."""
    if k:  # every run is of interest: nothing to tell apart
        return [
            "Every run is of interest, so no box can tell them from the rest: raise the "
            "threshold, or narrow the ranges to where the outcome is not certain."
        ]
    out = []
    advice = "No run is of interest, so there is no box to find: widen the ranges"
    if takeoff is not None and "final_lq" in runs and settings.outcome == "take_off":
        out.append(_nearest_miss(runs, *takeoff))
        advice += (
            f", or search for one condition at a time (clustersim-experiment discover "
            f"with --outcome creative_growth --above {takeoff[1]:g}, or --outcome "
            f"location_quotient --above {takeoff[0]:g})"
        )
    return [*out, advice + "."]


def box_sentences(
    tables: dict[str, pd.DataFrame],
    settings: DiscoverySettings,
    ci: float,
    takeoff: tuple[float, float] | None = None,
) -> list[str]:
    """Plain sentences on the runs of interest, the boxes and the leading inputs.

    ``takeoff``: the design's take-off thresholds (location quotient, growth), to say
    how near the runs came when none took off.
    """
    from clustersim.experiments.analysis import wilson_interval

    runs, boxes, scores = tables["discovery_runs"], tables["boxes"], tables["feature_scores"]
    n, k = len(runs), int(runs["interest"].sum())
    out = [f"Runs in which {settings.interest}: {k} of {n} ({fmt_percent(k / n if n else 0)})."]
    if k in (0, n):
        return [*out, *_no_box(runs, settings, takeoff, k)]
    full = _full(settings)
    left_n, left_k = n, k
    for number, box in boxes.groupby("box", sort=True):
        first = box.iloc[0]
        strongest = box.assign(qp=box[["qp_low", "qp_high"]].min(axis=1)).sort_values("qp")
        cuts = [
            f"{r.parameter} to {_range_text(r.low, r.high, *full[r.parameter])}"
            for r in strongest.itertuples()
        ]
        where = cuts[0] if len(cuts) == 1 else f"{', '.join(cuts[:-1])} and {cuts[-1]}"
        low, high = wilson_interval(int(first.k), int(first.n), ci=ci)
        outside_n, outside_k = left_n - int(first.n), left_k - int(first.k)
        outside = outside_k / outside_n if outside_n else float("nan")
        among = "" if number == 1 else " (among the runs the earlier boxes left)"
        out.append(
            f"Box {number} restricts {where}. In it, {fmt_percent(first.density)} of runs "
            f"(interval {fmt_percent(low)} to {fmt_percent(high)}) are of interest, against "
            f"{fmt_percent(outside)} outside it{among}; it holds {fmt_percent(first.coverage)} "
            f"of all runs of interest (coverage) in {fmt_percent(first.mass)} of the runs (mass)."
        )
        left_n, left_k = outside_n, outside_k  # PRIM looks for the next box among the rest
        if not bool(first.reaches):
            out.append(
                f"No box on the peeling trajectory reaches the density asked for "
                f"({fmt_percent(settings.min_density)}); this is the densest one."
            )
        weak = [
            r.parameter
            for r in box.itertuples()
            if np.nanmin([r.qp_low, r.qp_high, np.inf]) > CHANCE
        ]
        if weak:
            out.append(
                f"The restriction on {', '.join(weak)} could be chance (quasi-p-value above "
                f"{fmt_percent(CHANCE)}): it may not be needed."
            )
    ranked = scores.dropna().sort_values("score", ascending=False)
    if len(ranked):
        equal = 1 / len(ranked)
        lead = ranked[ranked["score"] > equal]["parameter"].tolist()
        if lead:
            out.append(
                f"Feature scores rank {', '.join(lead)} above an equal share "
                f"({fmt_percent(equal)}): these inputs tell the runs of interest from the "
                "rest best."
            )
    if k < FEW:
        out.append(
            f"Only {k} run(s) are of interest: the box rests on few cases; add samples or "
            "replicates before relying on it."
        )
    return out


def box_table(boxes: pd.DataFrame, settings: DiscoverySettings) -> pd.DataFrame:
    """One row per restricted input of each box: its range in the box and the range sampled."""
    full = _full(settings)

    def qp(value: float) -> str:
        return "-" if np.isnan(value) else f"{value:.2g}"

    return pd.DataFrame(
        {
            "box": boxes["box"].to_numpy(),
            "input": boxes["parameter"].to_numpy(),
            "in the box": [
                f"{fmt_number(r.low)} to {fmt_number(r.high)}" for r in boxes.itertuples()
            ],
            "range sampled": [
                f"{fmt_number(full[p][0])} to {fmt_number(full[p][1])}" for p in boxes["parameter"]
            ],
            "unit": [full[p][2] or "-" for p in boxes["parameter"]],
            "quasi-p (lower, upper)": [
                f"{qp(r.qp_low)}, {qp(r.qp_high)}" for r in boxes.itertuples()
            ],
            "density": [fmt_percent(v) for v in boxes["density"]],
            "coverage": [fmt_percent(v) for v in boxes["coverage"]],
            "mass": [fmt_percent(v) for v in boxes["mass"]],
        }
    )


def figure_tradeoff(peeling: pd.DataFrame, min_density: float) -> Figure:
    """Coverage against density along each box's peeling trajectory; the chosen box ringed."""
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    for number, trajectory in peeling.groupby("box", sort=True):
        points = ax.scatter(
            trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"],
            cmap="viridis", s=18, marker="o" if number == 1 else "s", label=f"box {number}",
        )  # fmt: skip
        chosen = trajectory[trajectory["chosen"]]
        ax.scatter(chosen["coverage"], chosen["density"], s=140, facecolors="none",
                   edgecolors="red", linewidths=1.5)  # fmt: skip
        most = int(trajectory["res_dim"].max())
        fig.colorbar(points, ax=ax, label="inputs restricted", ticks=range(most + 1))
    ax.axhline(min_density, color="k", lw=0.7, ls="--", label="density asked for")
    ax.set_xlabel("coverage (share of all runs of interest in the box)")
    ax.set_ylabel("density (share of the box's runs of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def figure_scores(scores: pd.DataFrame) -> Figure:
    """Feature scores as bars (largest on top), with the equal share marked."""
    ranked = scores.dropna().sort_values("score")
    fig = Figure(figsize=(6.4, 1.0 + 0.3 * max(len(ranked), 1)), layout="constrained")
    ax = fig.subplots()
    ax.barh(ranked["parameter"], ranked["score"], color="C0")
    if len(ranked):
        ax.axvline(1 / len(ranked), color="k", lw=0.7, ls="--", label="equal share")
        ax.legend(fontsize=8)
    ax.set_xlabel("feature score (extra trees; sums to 1)")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(alpha=0.3, axis="x")
    return fig


NO_SCORES = (
    "No feature scores: they rank inputs by how well they tell runs of interest from the "
    "rest, and here every finished run falls on the same side."
)

DEFINITIONS = (
    "Inputs are sampled by {sampling} over the ranges listed; every point of a replicate runs "
    "with the replicate's seed. PRIM (Friedman & Fisher 1999, as used for scenario discovery by "
    "Bryant & Lempert 2010; EMA Workbench's implementation) peels off {alpha} of the runs at "
    "a time along one input, keeping the box whose share of runs of interest rises most, then "
    "pastes back what helps. Density: share of the box's runs that are of interest; coverage: "
    "share of all runs of interest that lie in the box; mass: share of all runs in the box "
    "(at least {mass}). The box reported is the one of widest coverage whose density reaches "
    "{density}. Quasi-p-values test whether a restriction could be chance (one-sided binomial "
    "test, Bryant & Lempert 2010). The density's interval is a {ci:.0%} Wilson interval; it "
    "ignores that the box was chosen on these same runs, so it is optimistic: a new sample "
    "tests a box. "
    "Feature scores are extra-trees importances (Geurts et al. 2006) for telling runs of "
    "interest from the others. Everything holds for the ranges sampled, not beyond them."
)


def _factor_table(settings: DiscoverySettings) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "input": settings.names,
            "low": [fmt_number(f.low) for f in settings.factors],
            "high": [fmt_number(f.high) for f in settings.factors],
            "unit": [f.unit or "-" for f in settings.factors],
        }
    )


def _scope(design: Design, settings: DiscoverySettings, n_runs: int) -> str:
    if settings.is_toy:
        from clustersim.experiments.toy_models import TOY_MODELS

        where = f"the toy model {settings.model}. {TOY_MODELS[settings.model].description}"
        where = where.rstrip(".")
    else:
        site = next(iter(design.sites.values()))
        month = settings.month if settings.month is not None else design.steps
        where = f"clustersim in {site.label}, judged at month {month}"
    return (
        f"Scenario discovery over {len(settings.factors)} inputs, {n_runs} runs "
        f"({settings.samples} sample points x {design.replicates} replicate(s)) of {where}."
    )


def write_discovery_report(
    design: Design,
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    settings: DiscoverySettings,
    *,
    n_ok: int,
    failed: int = 0,
) -> tuple[Path, Path]:
    """Write ``report.html``, ``summary.md``, ``figures/`` and ``tables/`` of a discovery.

    Returns:
        The paths of the HTML report and the Markdown summary.
    """
    ci = float(design.analysis["ci"])
    report = Report(design.title)
    if design.description:
        report.text(design.description)
    report.text(_scope(design, settings, len(tables["discovery_runs"])))
    if failed:
        resume = (
            "run the same command again to resume."
            if design.kind == "discovery"  # its own run writes this report
            else "run the design again to finish them (clustersim-experiment run), then "
            "discover again."
        )
        where = "runs.parquet" if design.kind == "discovery" else "runs.parquet of the design"
        report.text(
            f"{failed} run(s) failed or are missing (see {where}) and are left out; {resume}",
            note=True,
        )
    report.heading("What this means")
    takeoff = (float(design.analysis["takeoff_lq"]), float(design.analysis["takeoff_growth"]))
    for sentence in box_sentences(tables, settings, ci, takeoff):
        report.text(sentence)
    if len(tables["peeling"]):
        report.heading("Coverage and density")
        report.figure(
            figure_tradeoff(tables["peeling"], settings.min_density),
            "tradeoff",
            "Every box on PRIM's peeling trajectory: peeling raises density and lowers "
            "coverage; the box reported is ringed in red",
        )
        report.table(box_table(tables["boxes"], settings), "The boxes: restricted inputs")
    report.heading("Feature scores")
    if tables["feature_scores"]["score"].notna().any():
        report.figure(figure_scores(tables["feature_scores"]), "scores", "Which inputs matter most")
    else:
        report.text(NO_SCORES)
    report.heading("Inputs and ranges")
    report.table(_factor_table(settings), f"Inputs varied ({settings.sampling} over these ranges)")
    report.heading("Definitions")
    report.text(
        DEFINITIONS.format(
            sampling=(
                "a Latin hypercube (each range cut into as many strata as samples, each "
                "stratum drawn once)"
                if settings.sampling == "a Latin hypercube"
                else settings.sampling
            ),
            alpha=fmt_percent(settings.peel_alpha),
            mass=fmt_percent(settings.mass_min),
            density=fmt_percent(settings.min_density),
            ci=ci,
        )
    )
    report.heading("Configuration")
    report.code(design.to_yaml(), "Experiment design (experiment.yaml)")
    detail = (
        f"{design.replicates} replicates, root seed {design.root_seed}, sample seed {settings.seed}"
    )
    meta = analysis_provenance(settings.model if settings.is_toy else None, n_ok, detail)
    shown = {k: tables[k] for k in ("boxes", "feature_scores")}
    return save_report(report, Path(out_dir), shown, meta)
