"""The report of a sensitivity design: what drives each outcome, the plots, the tables.

It opens with "What this means": per outcome, the parameters that drive it and those
that barely matter, said no more firmly than the bootstrap intervals allow, and how
large the seed noise is. Then the standard plots (Morris: mu* against sigma; Sobol:
S1 and ST bars with intervals), the index tables, the parameters with their ranges,
definitions and the design. Written as ``report.html`` and ``summary.md`` with the
tables under ``tables/`` like every experiment report.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from clustersim.experiments.document import Report
from clustersim.experiments.numbers import fmt_number, fmt_percent
from clustersim.experiments.provenance import fingerprint_text, git_commit
from clustersim.experiments.sensitivity_sentences import (
    DRIVES,
    NEGLIGIBLE,
    noise_level,
    outcome_label,
    outcome_sentences,
    wide_indices,
)
from clustersim.experiments.sensitivity_space import NOISE_INDEX, NOISE_P, SensitivitySettings
from clustersim.files import write_file_atomically, write_text_atomically
from clustersim.version import __version__

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = [
    "DRIVES",
    "NEGLIGIBLE",
    "figure_morris",
    "figure_sobol",
    "index_table",
    "outcome_sentences",
    "write_sensitivity_report",
]

SHOWN = 15
"""Parameters drawn per outcome in the Sobol bars (the largest ST first)."""


def figure_morris(
    table: pd.DataFrame, outcomes: list[str], effect: bool = False, noise: dict | None = None
) -> Figure:
    """Morris mu* (with its interval) against sigma, one panel per outcome (or its effect).

    ``noise``: per outcome, the mu* a driver's interval must clear, the 95th percentile of
    what seed noise alone gives the parameters' steps (drawn as a dotted line).
    """
    fig = Figure(figsize=(5.2 * len(outcomes), 4.4), layout="constrained")
    axes = fig.subplots(1, len(outcomes), squeeze=False)[0]
    for ax, outcome in zip(axes, outcomes, strict=True):
        if not (table["outcome"] == outcome).any():
            ax.set_visible(False)
            continue
        wide = wide_indices(table, outcome).sort_values("mu_star", ascending=False)
        err = np.vstack(
            [wide["mu_star"] - wide["mu_star_lower"], wide["mu_star_upper"] - wide["mu_star"]]
        )
        ax.errorbar(wide["mu_star"], wide["sigma"], xerr=err, fmt="o", ms=4, lw=0.8, alpha=0.8)
        top = max(float(wide["mu_star_upper"].max()), float(wide["sigma"].max()), 1e-12)
        ax.plot([0, top], [0, top], color="k", lw=0.7, ls="--", label="sigma = mu*")
        floor = (noise or {}).get(outcome, math.nan)
        if floor > 0:
            ax.axvline(floor, color="C3", lw=0.8, ls=":", label="seed noise (95th percentile)")
        ax.set_xlabel("mu* (mean absolute elementary effect)", fontsize=8)
        ax.set_ylabel("sigma (spread of the effects)", fontsize=8)
        ax.set_title(outcome_label(outcome, effect), fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    FigureCanvasAgg(fig)  # a canvas that measures text
    fig.draw_without_rendering()  # the layout first: the labels are placed in its pixels
    for ax, outcome in zip(axes, outcomes, strict=True):
        if ax.get_visible():
            wide = wide_indices(table, outcome).sort_values("mu_star", ascending=False)
            _label_apart(ax, [(p, r["mu_star"], r["sigma"]) for p, r in wide.head(8).iterrows()])
    return fig


def _label_apart(ax, points: list[tuple[str, float, float]]) -> None:
    """Name each point beside it, moving a name down until it overlaps no other name.

    Names of points close together (parameters of similar mu* and sigma) would print
    over each other; a name moved from its point gets a thin line to it.
    """
    renderer = ax.figure.canvas.get_renderer()
    per_pixel = 72 / ax.figure.dpi  # offsets are in points
    placed = []
    for name, x, y in sorted(points, key=lambda p: (-p[2], -p[1])):  # from the top down
        dy = 3.0
        text = ax.annotate(name, (x, y), fontsize=6, xytext=(3, dy), textcoords="offset points")
        box = text.get_window_extent(renderer)
        for _ in range(50):
            clash = next((b for b in placed if box.overlaps(b)), None)
            if clash is None:
                break
            dy -= (box.y1 - clash.y0 + 1) * per_pixel
            text.set_position((3, dy))
            box = text.get_window_extent(renderer)
        if dy != 3.0:
            ax.annotate("", (x, y), xytext=(3, dy + 2), textcoords="offset points",
                        arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5"})  # fmt: skip
        placed.append(box)


def figure_sobol(table: pd.DataFrame, outcomes: list[str], effect: bool = False) -> Figure:
    """Sobol S1 and ST bars with intervals, one panel per outcome (largest ST first)."""
    n = min(SHOWN, len(table["parameter"].unique()))
    fig = Figure(figsize=(5.2 * len(outcomes), 1.2 + 0.32 * n), layout="constrained")
    axes = fig.subplots(1, len(outcomes), squeeze=False)[0]
    for ax, outcome in zip(axes, outcomes, strict=True):
        if not (table["outcome"] == outcome).any():
            ax.set_visible(False)
            continue
        wide = wide_indices(table, outcome).sort_values("ST", ascending=False).head(SHOWN)[::-1]
        y = np.arange(len(wide))
        for shift, index, color in ((0.2, "S1", "C0"), (-0.2, "ST", "C3")):
            err = np.vstack(
                [wide[index] - wide[f"{index}_lower"], wide[f"{index}_upper"] - wide[index]]
            ).clip(min=0)
            ax.barh(y + shift, wide[index], height=0.38, xerr=err, color=color, label=index,
                    error_kw={"lw": 0.8})  # fmt: skip
        ax.set_yticks(y, wide.index, fontsize=7)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel("share of the variance", fontsize=8)
        ax.set_title(outcome_label(outcome, effect), fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, axis="x")
    return fig


def _interval(value: float, low: float, high: float) -> str:
    return f"{fmt_number(value)} [{fmt_number(low)}, {fmt_number(high)}]"


def index_table(table: pd.DataFrame, outcome: str, method: str) -> pd.DataFrame:
    """One outcome's indices for people: the most influential parameter first."""
    wide = wide_indices(table, outcome)
    if method == "morris":
        wide = wide.sort_values("mu_star", ascending=False)
        return pd.DataFrame(
            {
                "parameter": wide.index,
                "mu* [interval]": [
                    _interval(r.mu_star, r.mu_star_lower, r.mu_star_upper)
                    for r in wide.itertuples()
                ],
                "mu": [fmt_number(v) for v in wide["mu"]],
                "sigma": [fmt_number(v) for v in wide["sigma"]],
                **(
                    {
                        "mu* from seed noise": [fmt_number(v) for v in wide[NOISE_INDEX]],
                        "p, seed noise alone": [fmt_number(v) for v in wide[NOISE_P]],
                    }
                    if NOISE_P in wide
                    else {}
                ),
            }
        )
    wide = wide.sort_values("ST", ascending=False)
    return pd.DataFrame(
        {
            "parameter": wide.index,
            "S1 [interval]": [_interval(r.S1, r.S1_lower, r.S1_upper) for r in wide.itertuples()],
            "ST [interval]": [_interval(r.ST, r.ST_lower, r.ST_upper) for r in wide.itertuples()],
        }
    )


def _noise_table(noise: pd.DataFrame, effect: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": [outcome_label(o, effect) for o in noise["outcome"]],
            "replicates": noise["replicates"].to_numpy(),
            "points": noise["points"].to_numpy(),
            "seed-noise share": [
                "not measured" if math.isnan(s) else fmt_percent(s) for s in noise["share"]
            ],
        }
    )


def _factor_table(settings: SensitivitySettings) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": [f.name for f in settings.factors],
            "low": [fmt_number(f.low) for f in settings.factors],
            "high": [fmt_number(f.high) for f in settings.factors],
            "unit": [f.unit or "-" for f in settings.factors],
            "values": ["whole numbers" if f.integer else "any" for f in settings.factors],
        }
    )


DEFINITIONS = {
    "morris": (
        "Morris screening (SALib): {samples} trajectories on a grid of {levels} levels; each "
        "moves one parameter at a time by {delta} of its range. An elementary effect is the "
        "change in the outcome divided by that step as a share of the range, so mu* (the mean "
        "absolute effect) reads as the change in the outcome across the parameter's whole "
        "range; mu is the mean signed effect and sigma the spread of the effects (sigma above "
        "mu*: the effect depends on the other parameters, or is curved). Intervals are "
        "{ci:.0%} bootstrap intervals of mu* from SALib ({resamples} resamples; the lower end "
        "is kept at 0). With two or more replicates, the mu* from seed noise of a parameter "
        "is what chance alone would give its steps: each step's replicates differ among "
        "themselves, and their spread s gives the noise in the step's mean, s / sqrt(replicates) "
        "x sqrt(2 / pi) over the step (s corrected for few replicates), averaged over the "
        "parameter's steps. A parameter then drives an outcome only when its mu* interval "
        "also lies above the 95th percentile of these noise levels (each is measured from few "
        "steps). Its p-value is a sign-flip test: without an effect, flipping the sign of a "
        "replicate's difference changes nothing, so the share of 999 random flips whose mu* "
        "reaches the one found is how often noise alone would give it. "
    ),
    "sobol": (
        "Sobol indices (SALib) from a Saltelli sample with N = {samples} (N x (k + 2) runs "
        "for k parameters, uniform over the ranges): S1 is the share of the outcome's "
        "variance a parameter explains alone, ST the share it takes part in, with others "
        "included. Intervals are SALib's {ci:.0%} bootstrap intervals ({resamples} "
        "resamples); small negative values are estimation noise around 0. "
    ),
}

COMMON_DEFINITIONS = (
    "Every sample point of a replicate runs with the replicate's seed (common random "
    "numbers), and the outcome of a point is its mean over replicates. The seed-noise share "
    "is the variance between replicates at fixed parameters (mean over the points) over "
    "itself plus the variance the parameters add (one-way analysis of variance), so 100% "
    "when the parameters' effects cannot be told from chance. A parameter drives an "
    "outcome when its interval lies above "
    "{drives} of the largest mu* (Morris) or of the variance (Sobol ST); it barely matters "
    "when its whole interval lies below {negligible}. Everything holds for the ranges "
    "sampled (table above), not beyond them."
)


def _definitions(report: Report, settings: SensitivitySettings, ci: float) -> None:
    delta = settings.levels / (2 * (settings.levels - 1))
    report.heading("Definitions")
    report.text(
        DEFINITIONS[settings.method].format(
            samples=settings.samples,
            levels=settings.levels,
            delta=fmt_number(delta),
            ci=ci,
            resamples=settings.resamples,
        )
        + COMMON_DEFINITIONS.format(drives=fmt_percent(DRIVES), negligible=fmt_percent(NEGLIGIBLE))
    )


def _provenance(design: Design, settings: SensitivitySettings, n_runs: int) -> str:
    commit = git_commit()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    what = (
        f"toy model {settings.model}; {design.replicates} replicates"
        if settings.is_toy
        else f"{fingerprint_text()}; {n_runs} runs ok; "
        f"{design.replicates} replicates, {design.steps} months"
    )
    return (
        f"clustersim {__version__}"
        + (f", commit {commit[:10]}" if commit else "")
        + f"; {what}, root seed {design.root_seed}; written {when}"
    )


def _csv_writer(table: pd.DataFrame):
    return lambda path: table.to_csv(path, index=False)


def _scope(design: Design, settings: SensitivitySettings, month: int | None) -> str:
    how = "Morris screening" if settings.method == "morris" else "Sobol analysis"
    if settings.is_toy:
        from clustersim.experiments.toy_models import TOY_MODELS

        where = f"of the toy model {settings.model}"
        about = f" {TOY_MODELS[settings.model].description}"
    else:
        site = next(iter(design.sites.values()))
        where = f"of clustersim in {site.label}, outcomes at month {month}"
        about = ""
    if settings.against:
        about += (
            " Each outcome is the effect of what the site does (its plan): a run at the "
            f"sample point less a run with {', '.join(settings.against)} at the same "
            "parameters and seed (lever settings varied apply to the plan's runs only)."
        )
    return (
        f"{how} {where}: {len(settings.factors)} parameters, "
        f"{len(settings.outcomes)} outcome(s), {design.replicates} replicate(s).{about}"
    )


def _results(report: Report, table: pd.DataFrame, settings: SensitivitySettings) -> None:
    outcomes = [o for o in settings.outcomes if (table["outcome"] == o).any()]
    if not outcomes:
        return
    effect = bool(settings.against)
    noise = {o: noise_level(wide_indices(table, o)) for o in outcomes}  # what drivers must clear
    sigma = table.loc[table["index"] == "sigma", "value"]
    if settings.method == "morris" and not sigma.notna().any():  # one trajectory: no spread
        report.heading("Morris screening: mu* against sigma")
        report.text(
            "No figure: sigma, the spread of a parameter's elementary effects, needs two or "
            "more trajectories (--samples 2 or more); the tables below give mu*."
        )
    elif settings.method == "morris":
        report.heading("Morris screening: mu* against sigma")
        report.figure(
            figure_morris(table, outcomes, effect, noise),
            "morris",
            "Each point is a parameter: mu* (with its interval) is how much it moves the "
            "outcome across its range, sigma how much that effect varies; points above the "
            "dashed line act through interactions or a curved response",
        )
    else:
        report.heading("Sobol indices")
        report.figure(
            figure_sobol(table, outcomes, effect),
            "sobol",
            f"First-order (S1) and total (ST) indices with intervals, the {SHOWN} largest ST",
        )
    for outcome in outcomes:
        caption = f"{outcome_label(outcome, effect)}: indices"
        report.table(
            index_table(table, outcome, settings.method), caption[:1].upper() + caption[1:]
        )


def write_sensitivity_report(
    design: Design,
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    settings: SensitivitySettings,
    *,
    month: int | None,
    n_ok: int,
    missing: dict[str, int],
) -> tuple[Path, Path]:
    """Write ``report.html``, ``summary.md``, ``figures/`` and ``tables/`` of a sensitivity design.

    Args:
        design: the sensitivity design.
        out_dir: where to write.
        tables: ``sensitivity``, ``seed_noise`` and ``samples``
            (:func:`clustersim.experiments.sensitivity.write_outputs`).
        settings: its checked settings.
        month: the month analysed (None for toy models).
        n_ok: runs that finished (evaluations for toy models).
        missing: ``runs`` missing and ``points`` without any run.

    Returns:
        The paths of the HTML report and the Markdown summary.
    """
    out_dir = Path(out_dir)
    ci = float(design.analysis["ci"])
    report = Report(design.title)
    if design.description:
        report.text(design.description)
    report.text(_scope(design, settings, month))
    effect = bool(settings.against)
    if missing["runs"]:
        report.text(
            f"{missing['runs']} run(s) failed or are missing (see runs.parquet); "
            + (
                f"{missing['points']} sample point(s) have "
                + ("no effect (their run or comparison run is missing)" if effect else "no run")
                + ", so no indices are computed: run the same command again to resume."
                if missing["points"]
                else "their points' effects are averaged over the replicates in which both "
                "runs finished."
                if effect
                else "their points are averaged over the replicates that finished."
            ),
            note=True,
        )
    if settings.samples < 4:
        report.text(
            f"Only {settings.samples} sample(s) (--samples): the intervals are wide and the "
            "ranking is rough; this is a smoke run, not a result.",
            note=True,
        )
    report.heading("What this means")
    for sentence in outcome_sentences(tables["sensitivity"], tables["seed_noise"], settings):
        report.text(sentence)
    _results(report, tables["sensitivity"], settings)
    report.heading("Seed noise")
    report.table(_noise_table(tables["seed_noise"], effect), "Seed-noise share per outcome")
    report.heading("Parameters and ranges")
    report.table(_factor_table(settings), "Parameters varied, sampled uniformly over these ranges")
    _definitions(report, settings, ci)
    report.heading("Configuration")
    report.code(design.to_yaml(), "Experiment design (experiment.yaml)")
    meta = _provenance(design, settings, n_ok)
    for name in ("sensitivity", "seed_noise"):
        write_file_atomically(out_dir / "tables" / f"{name}.csv", _csv_writer(tables[name]))
    report.save_figures(out_dir / "figures")
    html_path = write_text_atomically(out_dir / "report.html", report.to_html(meta))
    md_path = write_text_atomically(out_dir / "summary.md", report.to_markdown(meta=meta))
    return html_path, md_path
