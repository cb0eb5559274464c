"""The report of a calibration design: estimates, identification, and the validation table.

It opens with "What this means": the estimates with their intervals against the
defaults (and, in a recovery, against the planted values), whether the fitted moments
identify the parameters, and which moments, fitted or held out, the calibrated model
reproduces within the intervals and which it misses. Then the validation plot (every
moment in units of its target's uncertainty), the search's progress, the tables, the
definitions and the design. Written as ``report.html`` and ``summary.md``, with the
tables under ``tables/`` like every experiment report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from clustersim.experiments import calibration_fit as fit
from clustersim.experiments.calibration_space import CalibrationSettings
from clustersim.experiments.document import Report
from clustersim.experiments.numbers import fmt_number
from clustersim.experiments.provenance import git_commit, model_fingerprint
from clustersim.files import write_file_atomically, write_text_atomically
from clustersim.version import __version__

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = [
    "figure_search",
    "figure_validation",
    "identification_summary",
    "write_calibration_report",
]

WEAK = 1.0
"""A direction in parameter space is weakly identified when moving the parameters across
their whole ranges along it moves the fitted moments by less than this many target
uncertainties (the smallest singular value of the scaled Jacobian)."""


def _label(moment: str) -> str:
    from clustersim.experiments.moments import MOMENTS

    return MOMENTS[moment].label if moment in MOMENTS else moment


def _interval(value: float, low: float, high: float) -> str:
    if not np.isfinite(low):
        return f"{fmt_number(value)} [interval not computed]"
    return f"{fmt_number(value)} [{fmt_number(low)}, {fmt_number(high)}]"


def identification_summary(ident: pd.DataFrame) -> tuple[np.ndarray, int, int]:
    """Singular values of the fitted moments' scaled Jacobian, its rank, the parameters."""
    used = ident[ident["used_in_fit"]]
    wide = used.pivot(index="moment", columns="parameter", values="scaled")
    values, rank = fit.singular_values(wide.to_numpy(dtype=float))
    return values, rank, wide.shape[1]


def _estimate_sentences(est: pd.DataFrame, recovery: bool) -> list[str]:
    out = []
    for r in est.itertuples():
        held = {True: "inside the interval", False: "OUTSIDE the interval"}
        where = (
            f"planted {fmt_number(r.planted)}, "
            + held.get(r.planted_inside, "no interval computed")
            if recovery
            else f"default {fmt_number(r.default)}"
        )
        at_edge = ""
        if np.isclose(r.estimate, r.low) or np.isclose(r.estimate, r.high):
            at_edge = "; the estimate is at the edge of the range searched, so widen it"
        out.append(f"{r.parameter}: {_interval(r.estimate, r.lower, r.upper)} ({where}){at_edge}.")
    return out


def _fit_sentences(val: pd.DataFrame) -> list[str]:
    out = []
    for used, what in ((True, "fitted"), (False, "held out")):
        part = val[val["used_in_fit"] == used]
        if part.empty:
            continue
        misses = part[~part["agrees"]]
        text = (
            f"Of the {len(part)} {what} moment(s), {len(part) - len(misses)} agree with "
            "their target within the intervals"
        )
        if len(misses):
            detail = "; ".join(
                f"{_label(r.moment)}: model {fmt_number(r.model)}, target {fmt_number(r.target)}"
                for r in misses.itertuples()
            )
            text += f"; the model misses {detail}"
        out.append(text + ".")
    return out


def what_this_means(tables: dict[str, pd.DataFrame], s: CalibrationSettings) -> list[str]:
    """Plain sentences on the estimates, identification and fit, no firmer than the intervals."""
    est, val = tables["estimates"], tables["validation"]
    values, rank, k = identification_summary(tables["identification"])
    out = _estimate_sentences(est, s.is_recovery)
    if s.is_recovery:
        inside = int(est["planted_inside"].fillna(False).sum())
        out.append(
            f"The planted values lie inside the intervals for {inside} of {k} parameters"
            + (
                ": the machinery recovers what it planted."
                if inside == k
                else ": the estimator or its intervals are off here; add trials or replicates."
            )
        )
    loose = est.loc[~est["identified"].astype(bool), "parameter"].tolist()
    if loose and rank == k:
        out.append(
            f"The fitted moments do not identify {', '.join(loose)}: "
            + ("its interval covers" if len(loose) == 1 else "their intervals cover")
            + " half the range searched or more (or no interval was computed). Fit moments "
            "that depend "
            + ("on it, or fix it" if len(loose) == 1 else "on them, or fix them")
            + " at a value from elsewhere."
        )
    if rank < k:
        out.append(
            f"The fitted moments do not identify the parameters: the scaled Jacobian has rank "
            f"{rank} of {k}, so some combination of parameters leaves every fitted moment "
            "unchanged. Fit more or other moments, or fix a parameter."
        )
    elif values.size and values.min() < WEAK:
        out.append(
            f"The parameters are identified (rank {rank} of {k}) but one direction only "
            f"weakly: across the whole ranges it moves the fitted moments by "
            f"{fmt_number(values.min())} target uncertainties; its intervals are wide."
        )
    elif not loose:
        out.append(f"The fitted moments identify every parameter (rank {rank} of {k}).")
    return out + _fit_sentences(val)


def figure_validation(val: pd.DataFrame, ci: float) -> Figure:
    """Every moment at the estimate, in units of its target's uncertainty, with intervals."""
    z = stats.norm.ppf(0.5 + ci / 2)
    sd = val["target_sd"]
    gap = (val["model"] - val["target"]) / sd
    lo = (val["model"] - val["model_lower"]) / sd
    hi = (val["model_upper"] - val["model"]) / sd
    fig = Figure(figsize=(7.5, 1.3 + 0.42 * len(val)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(val))[::-1]
    ax.axvspan(-z, z, color="0.85", label="target interval")
    ax.axvline(0, color="k", lw=0.7)
    for used, marker, color, text in ((True, "o", "C0", "fitted"), (False, "D", "C3", "held out")):
        m = (val["used_in_fit"] == used).to_numpy()
        if m.any():
            err = np.vstack([lo[m].fillna(0), hi[m].fillna(0)])
            ax.errorbar(gap[m], y[m], xerr=err, fmt=marker, color=color, label=text, capsize=3)
    ax.set_yticks(y, [_label(m) for m in val["moment"]], fontsize=8)
    ax.set_xlabel("model minus target, in target standard deviations", fontsize=8)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3, axis="x")
    return fig


def figure_search(trials: pd.DataFrame) -> Figure:
    """The distance of every evaluated point, by stage, and at the estimate."""
    fig = Figure(figsize=(7.5, 3.4), layout="constrained")
    ax = fig.subplots()
    for stage, color in (("search", "C0"), ("refine", "C2"), ("jacobian", "0.6")):
        part = trials[trials["stage"] == stage]
        if not part.empty:
            ax.scatter(part["trial"], part["distance"], s=9, color=color, label=stage)
    search = trials[trials["stage"] == "search"]
    best = search["distance"].cummin()
    ax.step(search["trial"], best, where="post", color="k", lw=1, label="lowest in the search")
    estimate = trials[trials["stage"] == "estimate"]
    ax.scatter(estimate["trial"], estimate["distance"], s=90, marker="*", color="C3",
               label="estimate (validation runs)", zorder=3)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("evaluation", fontsize=8)
    ax.set_ylabel("distance J (sum of squared gaps)", fontsize=8)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def _people_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    est, val, ident = tables["estimates"], tables["validation"], tables["identification"]
    estimates = pd.DataFrame(
        {
            "parameter": est["parameter"],
            "unit": est["unit"],
            "range searched": [
                f"{fmt_number(a)} to {fmt_number(b)}"
                for a, b in zip(est["low"], est["high"], strict=True)
            ],
            "default": [fmt_number(v) for v in est["default"]],
            "estimate [interval]": [
                _interval(r.estimate, r.lower, r.upper) for r in est.itertuples()
            ],
            "interval / range": [f"{v:.0%}" if np.isfinite(v) else "" for v in est["range_share"]],
        }
    )
    if est["planted"].notna().any():
        estimates["planted"] = [fmt_number(v) for v in est["planted"]]
    validation = pd.DataFrame(
        {
            "moment": [_label(m) for m in val["moment"]],
            "in the fit": ["yes" if u else "held out" for u in val["used_in_fit"]],
            "target [interval]": [
                _interval(r.target, r.target_lower, r.target_upper) for r in val.itertuples()
            ],
            "model [interval]": [
                _interval(r.model, r.model_lower, r.model_upper) for r in val.itertuples()
            ],
            "gap (combined sd)": [fmt_number(v, signed=True) for v in val["z"]],
            "agrees": ["yes" if a else "no" for a in val["agrees"]],
        }
    )
    wide = ident.pivot(index="moment", columns="parameter", values="scaled")
    wide = wide.loc[[m for m in val["moment"] if m in wide.index], list(est["parameter"])]
    jacobian = wide.map(lambda v: fmt_number(v, signed=True)).reset_index()
    jacobian["moment"] = [_label(m) for m in jacobian["moment"]]
    return {"estimates": estimates, "validation": validation, "jacobian": jacobian}


def _scope(design: Design, s: CalibrationSettings) -> str:
    if s.is_toy:
        from clustersim.experiments.toy_models import TOY_MODELS

        where = f"the toy model {s.model} ({TOY_MODELS[s.model].description})"
    else:
        site = next(iter(design.sites.values()))
        where = f"clustersim in {site.label}, {design.steps} months a run"
    observed = (
        f"moments simulated at planted values ({s.observed_replicates} runs with their own seeds)"
        if s.is_recovery
        else f"the targets {s.targets_name}"
    )
    return (
        f"Simulated method of moments on {where}: {len(s.factors)} parameter(s) fitted to "
        f"{len(s.fit)} moment(s) of {observed}, {len(s.hold_out)} moment(s) held out; "
        f"{s.trials} points searched, up to {s.refine} refining step(s), {design.replicates} "
        f"replicate(s) per point (common random numbers), {s.validation_replicates} at the "
        "estimate."
    )


DEFINITIONS = (
    "Distance J: the sum over the fitted moments of the squared gap between model "
    "(mean over the replicates) and target, in units of the target's uncertainty (sd). "
    "Estimate: the last point of the Gauss-Newton steps on local linear models of the "
    "moments, started from the point of lowest J found by the search (Optuna's TPE). "
    "Interval of an estimate: estimate +/- z x standard error, the standard error from "
    "the sandwich formula of the method of moments, "
    "which counts the targets' uncertainty and the seed noise of the simulated moments; "
    "it assumes the moments are near linear in the parameters within the interval. "
    "Interval of a model moment: its mean over the validation runs, +/- z x the root of "
    "the seed noise of that mean plus the parameters' uncertainty carried through the "
    "Jacobian. A moment agrees when the gap between model and target is within z "
    "combined standard deviations. Scaled Jacobian: how many target uncertainties a "
    "moment moves when a parameter crosses its whole range searched; a rank below the "
    "number of parameters over the fitted moments means some are not identified at all. "
    "Identified: the estimate's interval covers less than half of the range searched "
    "(interval / range below 50%)."
)


def _provenance(design: Design, s: CalibrationSettings, n_ok: int) -> str:
    commit = git_commit()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    what = (
        f"toy model {s.model}"
        if s.is_toy
        else f"model fingerprint {model_fingerprint()}; {n_ok} runs ok"
    )
    return (
        f"clustersim {__version__}"
        + (f", commit {commit[:10]}" if commit else "")
        + f"; {what}; root seed {design.root_seed}, search seed {s.seed}; written {when}"
    )


def _notes(
    report: Report, tables: dict[str, pd.DataFrame], s: CalibrationSettings, failed: int
) -> None:
    if failed:
        report.text(
            f"{failed} run(s) failed or are missing (their moments are left out of the means); "
            "run the same command again to retry them.",
            note=True,
        )
    last = float(tables["estimates"]["last_step"].iloc[0])
    if last > s.step / 2:
        report.text(
            f"The refining has not converged: its last local model still proposes a step of "
            f"{last:.0%} of a parameter's range. Add refine steps (calibration.refine).",
            note=True,
        )
    if s.trials < max(2 * s.startup, 8):
        report.text(
            f"Only {s.trials} points searched (--samples): this is a smoke run; the estimate "
            "may be far from the minimum and the intervals do not say so.",
            note=True,
        )


def write_calibration_report(
    design: Design,
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    settings: CalibrationSettings,
    *,
    n_ok: int,
    failed: int,
) -> tuple[Path, Path]:
    """Write ``report.html``, ``summary.md``, ``figures/`` and ``tables/`` of a calibration.

    Returns:
        The paths of the HTML report and the Markdown summary.
    """
    out_dir = Path(out_dir)
    ci = float(design.analysis["ci"])
    report = Report(design.title)
    if design.description:
        report.text(design.description)
    report.text(_scope(design, settings))
    _notes(report, tables, settings, failed)
    report.heading("What this means")
    for sentence in what_this_means(tables, settings):
        report.text(sentence)
    people = _people_tables(tables)
    report.heading("Estimates")
    report.table(people["estimates"], f"Estimated parameters with {ci:.0%} intervals")
    report.heading("Validation")
    report.figure(
        figure_validation(tables["validation"], ci),
        "validation",
        "Each moment at the estimate: the gap to its target in target standard deviations, "
        "with its interval; the grey band is the target's interval",
    )
    report.table(people["validation"], "Every moment at the estimate, fitted and held out")
    report.heading("Identification")
    values, rank, k = identification_summary(tables["identification"])
    report.text(
        f"Singular values of the fitted moments' scaled Jacobian: "
        f"{', '.join(fmt_number(v) for v in values)} (rank {rank} of {k})."
    )
    report.table(people["jacobian"], "Scaled Jacobian at the estimate: the change of each "
                 "moment across each parameter's whole range, in target uncertainties")  # fmt: skip
    report.heading("Search")
    report.figure(figure_search(tables["trials"]), "search", "Distance of every evaluated point")
    report.heading("Definitions")
    report.text(DEFINITIONS.replace("z x", f"z x (z = {stats.norm.ppf(0.5 + ci / 2):.2f})", 1))
    report.heading("Configuration")
    report.code(design.to_yaml(), "Experiment design (experiment.yaml)")
    meta = _provenance(design, settings, n_ok)
    for name in ("estimates", "validation", "identification"):
        write_file_atomically(
            out_dir / "tables" / f"{name}.csv", lambda p, t=tables[name]: t.to_csv(p, index=False)
        )
    report.save_figures(out_dir / "figures")
    html_path = write_text_atomically(out_dir / "report.html", report.to_html(meta))
    md_path = write_text_atomically(out_dir / "summary.md", report.to_markdown(meta=meta))
    return html_path, md_path
