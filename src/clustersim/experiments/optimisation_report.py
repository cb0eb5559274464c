"""The report of a policy optimisation: which plans are worth their money, in plain words.

It opens with "What this means": how many plans were tried and kept the budget, the
plan that creates the most creative jobs within it (with its interval, spend, cost
per job and displacement), the cheapest plan per job among those whose job gain is
told from chance, and the trade-off along the Pareto set. Then the Pareto plot (every
plan, the budget-breaking ones greyed, the Pareto set marked), the Pareto table, the
search's progress by generation, the decisions with their ranges, definitions and the
design.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clustersim.experiments.document import Report, save_report
from clustersim.experiments.numbers import fmt_money, fmt_number
from clustersim.experiments.optimisation_space import (
    OBJECTIVES,
    OptimisationSettings,
    off_decisions,
)
from clustersim.experiments.provenance import analysis_provenance

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = ["figure_pareto", "figure_progress", "pareto_table", "plan_sentences"]


def _plan_text(row: pd.Series, settings: OptimisationSettings) -> str:
    """A plan's decisions in words, lever by lever; other parameters as ``name value``.

    For example ``creative hub at intensity 0.5 from month 23 (target centre); festival
    at intensity 0.11``. A lever the plan sets to intensity 0 is ``off`` (such a lever
    never starts nor pays, so its other decisions are not told).
    """
    from clustersim.experiments.plan_runs import lever_label

    levers: dict[str, list[str]] = {}
    off = set()
    others = []
    for name in settings.names:
        value = row[name]
        number = isinstance(value, int | float | np.number)
        shown = fmt_number(value) if number else str(value)
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "policy":
            if parts[2] == "intensity" and number and value == 0:
                off.add(parts[1])
            words = {
                "intensity": f"at intensity {shown}",
                "start": f"from month {shown}",
                "target": f"(target {shown})",
            }.get(parts[2], f"{parts[2].replace('_', ' ')} {shown}")
            levers.setdefault(parts[1], []).append(words)
        else:
            others.append(f"{name} {shown}")
    texts = [
        f"{lever_label(k).lower()} {'off' if k in off else ' '.join(v)}" for k, v in levers.items()
    ]
    return "; ".join(texts + others)


def _people(value: float, none: str = "no change") -> str:
    """Residents displaced, to one decimal (a change below 0.05 is ``none``)."""
    if not np.isfinite(value):
        return "-"
    return none if abs(value) < 0.05 else f"{value:+.1f}"


def _measured(row: pd.Series, key: str, prefix: str) -> float:
    """``row[prefix + key]`` (the validated value when ``prefix`` is ``validated_``)."""
    value = row.get(f"{prefix}{key}", np.nan)
    return float(value) if value is not None else np.nan


def _jobs_text(row: pd.Series, prefix: str = "") -> str:
    jobs = f"{fmt_number(_measured(row, 'creative_jobs', prefix), signed=True)} creative jobs"
    low, high = (
        _measured(row, "creative_jobs_low", prefix),
        _measured(row, "creative_jobs_high", prefix),
    )
    if np.isfinite(low):
        jobs += f" (interval {fmt_number(low, signed=True)} to {fmt_number(high, signed=True)})"
    return jobs


def _outcome_text(row: pd.Series, prefix: str = "") -> str:
    cost = _measured(row, "cost_per_job", prefix)
    cost_text = (
        f", {fmt_money(cost)} per job" if np.isfinite(cost) else ", no job gain to divide by"
    )
    return (
        f"{_jobs_text(row, prefix)} for {fmt_money(_measured(row, 'spend', prefix))}{cost_text}, "
        f"and residents displaced: {_people(_measured(row, 'displacement', prefix))}"
    )


def _validation_sentence(pareto: pd.DataFrame, prefix: str) -> str | None:
    if not prefix:
        return None
    n = int(pareto[f"{prefix}replicates"].max())
    found, again = pareto["creative_jobs"].mean(), pareto[f"{prefix}creative_jobs"].mean()
    return (
        f"The {len(pareto)} plan(s) of the Pareto set were run again at {n} seeds of their own: "
        "a search keeps the plans whose runs happened to go well, so its own numbers flatter "
        f"them. They averaged {fmt_number(found, signed=True)} creative jobs in the search and "
        f"{fmt_number(again, signed=True)} at the new seeds; the numbers below are the new ones."
    )


def plan_sentences(
    trials: pd.DataFrame,
    pareto: pd.DataFrame,
    settings: OptimisationSettings,
    month: int | None,
) -> list[str]:
    """Plain sentences on what the search found, no firmer than the intervals allow.

    The Pareto plans' validated numbers (runs at seeds of their own) are used when the
    design made them; the search's own numbers otherwise.
    """
    when = f"by month {month}" if month is not None else "at the horizon"
    within = trials[trials["within_budget"]]
    out = [
        f"{len(trials)} plans tried in {trials['generation'].nunique()} generation(s); "
        f"{len(within)} keep within the budget of {fmt_money(settings.budget)} "
        f"({int((~trials['complete']).sum())} with failed runs are left out)."
    ]
    if pareto.empty:
        return [*out, "No plan tried keeps within the budget: raise it or narrow the levers."]
    prefix = "validated_" if "validated_creative_jobs" in pareto else ""
    sentence = _validation_sentence(pareto, prefix)
    if sentence:
        out.append(sentence)
    jobs = pareto[f"{prefix}creative_jobs"]
    best = pareto.loc[jobs.idxmax()] if jobs.notna().any() else pareto.iloc[0]
    out.append(
        f"Most creative jobs within the budget, {when}: {_plan_text(best, settings)}. It "
        f"gives {_outcome_text(best, prefix)}."
    )
    sure = pareto[
        (pareto[f"{prefix}creative_jobs_low"] > 0) & np.isfinite(pareto[f"{prefix}cost_per_job"])
    ]
    if not _measured(best, "creative_jobs_low", prefix) > 0:
        out.append(
            "Its job gain cannot be told from none (the interval reaches 0 or below); "
            + (
                "no plan of the Pareto set is shown to create jobs: run more replicates."
                if sure.empty
                else f"{len(sure)} plan(s) of the Pareto set are (table below)."
            )
        )
    low, high = (_measured(best, f"creative_jobs_{end}", prefix) for end in ("low", "high"))
    rivals = int(((jobs >= low) & (jobs <= high)).sum()) - 1
    if rivals > 0:
        out.append(
            f"{rivals} other plan(s) of the Pareto set lie within its interval: which of them "
            "creates the most jobs is not settled."
        )
    over = pareto[pareto[f"{prefix}spend"] > settings.budget] if prefix else pareto.iloc[:0]
    if len(over):
        out.append(
            f"{len(over)} plan(s) of the Pareto set spent more than the budget at the new seeds "
            "(the search's spend was within it): their cost depends on the town's history."
        )
    if len(sure):
        cheapest = sure.sort_values(f"{prefix}cost_per_job").iloc[0]
        if cheapest["trial"] != best["trial"]:
            out.append(
                "Cheapest per job among the plans whose gain is told from chance: "
                f"{_plan_text(cheapest, settings)}. It gives {_outcome_text(cheapest, prefix)}."
            )
    words = ", ".join(
        f"{'most' if OBJECTIVES[o][0] == 'maximize' else 'least'} {OBJECTIVES[o][1]}"
        for o in settings.objectives
    )
    out.append(
        f"{len(pareto)} plan(s) form the Pareto set ({words}){_alike(pareto, settings)}: in "
        "the search, none of them could be bettered on one objective without losing on "
        "another."
    )
    return out


SHOWN = 20
"""Pareto plans listed in the report at most (spread over the range of jobs)."""


def _spread(pareto: pd.DataFrame, most: int) -> pd.DataFrame:
    """At most ``most`` plans, most jobs first, evenly spread over the list."""
    ordered = pareto.sort_values("creative_jobs", ascending=False, kind="stable")
    if len(ordered) <= most:
        return ordered
    picks = np.unique(np.linspace(0, len(ordered) - 1, most).round().astype(int))
    return ordered.iloc[picks]


def _column(name: str) -> str:
    """A short header: a lever's intensity under the lever's name, other settings after it."""
    from clustersim.experiments.plan_runs import lever_label

    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "policy":
        return name
    label = lever_label(parts[1]).lower()
    return label if parts[2] == "intensity" else f"{label} {parts[2].replace('_', ' ')}"


def _alike(pareto: pd.DataFrame, settings: OptimisationSettings) -> str:
    """``"; N different ones"`` when some Pareto plans are the same runs (a lever off)."""
    different = len({_runs_key(r, settings) for _, r in pareto.iterrows()})
    return (
        f"; {different} different ones, the others differing only in an off lever's settings"
        if different < len(pareto)
        else ""
    )


def _runs_key(row: pd.Series, settings: OptimisationSettings) -> tuple:
    """A Pareto row's decisions, those of an off lever as ``None`` (the same runs)."""
    plan = {name: row[name] for name in settings.names}
    off = off_decisions(plan)
    return tuple(None if name in off else value for name, value in plan.items())


def pareto_table(pareto: pd.DataFrame, settings: OptimisationSettings) -> pd.DataFrame:
    """The Pareto plans: decisions, jobs (interval), spend, cost per job, displacement.

    With validation runs, their numbers, and the jobs the search measured beside them.
    A lever at intensity 0 is off: its other decisions read ``-``, and plans that differ
    only in those (the same runs) share one row, their numbers joined in ``plan``.
    """
    prefix = "validated_" if "validated_creative_jobs" in pareto else ""
    table = pd.DataFrame({"plan": pareto["trial"].astype(int).astype(str).to_numpy()})
    off = [off_decisions({n: r[n] for n in settings.names}) for _, r in pareto.iterrows()]
    for f in settings.factors:
        table[_column(f.name)] = [
            "-" if f.name in o else fmt_number(v) for o, v in zip(off, pareto[f.name], strict=True)
        ]
    for name, _ in settings.choices:
        table[_column(name)] = [
            "-" if name in o else str(v) for o, v in zip(off, pareto[name], strict=True)
        ]
    table["creative jobs [interval]"] = [
        f"{fmt_number(r[f'{prefix}creative_jobs'], signed=True)} "
        f"[{fmt_number(r[f'{prefix}creative_jobs_low'])}, "
        f"{fmt_number(r[f'{prefix}creative_jobs_high'])}]"
        for _, r in pareto.iterrows()
    ]
    if prefix:
        table["jobs in the search"] = [fmt_number(v, signed=True) for v in pareto["creative_jobs"]]
    # the currency in the headers: the table of a dozen columns fits a laptop's screen
    table["spend (EUR)"] = [fmt_money(v, prefix="") for v in pareto[f"{prefix}spend"]]
    table["cost per job (EUR)"] = [
        fmt_money(v, prefix="") if np.isfinite(v) else "-" for v in pareto[f"{prefix}cost_per_job"]
    ]
    table["displaced"] = [_people(v, "0") for v in pareto[f"{prefix}displacement"]]
    same = [c for c in table.columns if c != "plan"]
    plans = table.groupby(same, sort=False)["plan"].agg(", ".join)
    return table.drop_duplicates(same).assign(plan=plans.to_numpy()).reset_index(drop=True)


def figure_pareto(
    trials: pd.DataFrame, settings: OptimisationSettings, pareto: pd.DataFrame | None = None
) -> Figure:
    """Every plan on creative jobs against each other objective; Pareto plans marked.

    With validation runs, each Pareto plan is also drawn where its new seeds put it
    (hollow), joined to where the search saw it; the budget is a dashed line.
    """
    others = [o for o in settings.objectives if o != "creative_jobs"] or ["spend"]
    fig = Figure(figsize=(5.0 * len(others), 4.2), layout="constrained")
    axes = fig.subplots(1, len(others), squeeze=False)[0]
    validated = pareto is not None and "validated_creative_jobs" in pareto
    for ax, other in zip(axes, others, strict=True):
        scale = 1e3 if OBJECTIVES[other][2].startswith("EUR") else 1.0
        unit = "EUR thousand" if scale == 1e3 else OBJECTIVES[other][2]
        for mask, style in (
            (~trials["within_budget"], {"color": "0.75", "label": "over the budget", "s": 10}),
            (
                trials["within_budget"] & ~trials["pareto"],
                {"color": "C0", "label": "within", "s": 12},
            ),
            (trials["pareto"], {"color": "C3", "label": "Pareto set", "s": 30}),
        ):
            part = trials[mask]
            ax.scatter(part[other] / scale, part["creative_jobs"], **style)
        if validated:
            x0, y0 = pareto[other] / scale, pareto["creative_jobs"]
            x1, y1 = pareto[f"validated_{other}"] / scale, pareto["validated_creative_jobs"]
            for a, b, c, d in zip(x0, x1, y0, y1, strict=True):
                ax.plot([a, b], [c, d], color="C3", lw=0.7, alpha=0.6)
            ax.scatter(x1, y1, s=30, facecolors="none", edgecolors="k",
                       label="Pareto set at new seeds")  # fmt: skip
        if other == "spend":
            ax.axvline(settings.budget / scale, color="k", ls="--", lw=0.8, label="budget")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel(f"{OBJECTIVES[other][1]} ({unit})")
        ax.set_ylabel("creative jobs created")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def figure_progress(trials: pd.DataFrame) -> Figure:
    """The most jobs within the budget found by each generation (cumulative)."""
    fig = Figure(figsize=(6.0, 3.2), layout="constrained")
    ax = fig.subplots()
    jobs = trials["creative_jobs"].where(trials["within_budget"])
    best = jobs.groupby(trials["generation"]).max().sort_index().cummax()
    generations = best.index.to_numpy() + 1
    ax.plot(generations, best.to_numpy(), marker="o")
    if len(best) and best.isna().any():  # early generations without a plan within the budget
        none = generations[best.isna().to_numpy()]
        span = f"{none[0]}" if len(none) == 1 else f"{none[0]}-{none[-1]}"
        text = f"generation{'s' if len(none) > 1 else ''} {span}:\nno plan within the budget"
        ax.text(0.02, 0.95, text, transform=ax.transAxes, va="top", fontsize=9, color="0.35")
    if len(best):
        ax.set_xlim(generations[0] - 0.5, generations[-1] + 0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("generation")
    ax.set_ylabel("most jobs within the budget so far")
    ax.grid(alpha=0.3)
    return fig


DEFINITIONS = (
    "Plans are searched by NSGA-II (Deb et al. 2002; Optuna's implementation), "
    "{population} plans per generation. Every plan runs at the same {replicates} replicate "
    "seed(s) as the site without its levers, so creative jobs created and extra residents "
    "displaced are paired differences (common random numbers); their intervals are {ci:.0%} t "
    "intervals over the replicates. Spend is the municipal spend on all levers up to the month "
    "analysed, in runs where the budget never stops a lever, and a plan keeps within the "
    "budget when its mean spend does; NSGA-II ranks plans that break the budget behind every "
    "plan that keeps it. Cost per job = spend / jobs created. The Pareto set: plans within the "
    "budget that no other such plan beats on every objective. Everything holds for the ranges "
    "searched, and for plans the search tried: it is a good plan, not proven the best."
)


def _shown_pareto(pareto: pd.DataFrame, settings: OptimisationSettings) -> tuple:
    """The report's Pareto table and its caption (at most ``SHOWN`` rows, spread)."""
    table, more = pareto_table(pareto, settings), ""
    if len(table) > SHOWN:
        shown = _spread(pareto, SHOWN)
        table = pareto_table(shown, settings)
        more = f" ({len(shown)} of {len(pareto)}, spread over creative jobs; all in pareto.parquet)"
    caption = (
        "Plans of the Pareto set: lever intensities (1 = the lever's default), settings, and "
        "what the plan gives" + more
    )
    return table, caption


def write_optimisation_report(
    design: Design,
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    settings: OptimisationSettings,
    *,
    n_ok: int,
    failed: int = 0,
) -> tuple[Path, Path]:
    """Write ``report.html``, ``summary.md``, ``figures/`` and ``tables/`` of an optimisation.

    Returns:
        The paths of the HTML report and the Markdown summary.
    """
    trials, pareto = tables["trials"], tables["pareto"]
    month = None if settings.is_toy else (settings.month or design.steps)
    report = Report(design.title)
    if design.description:
        report.text(design.description)
    if failed:
        report.text(f"{failed} run(s) failed; their plans are left out.", note=True)
    if design.replicates < 2:
        report.text(
            "One replicate per plan in the search: its numbers have no intervals, and a plan's "
            "lead may be luck.",
            note=True,
        )
    report.heading("What this means")
    for sentence in plan_sentences(trials, pareto, settings, month):
        report.text(sentence)
    report.heading("Pareto set")
    report.figure(
        figure_pareto(trials, settings, pareto),
        "pareto",
        "Every plan tried, on its search replicates; the Pareto plans also at the seeds of "
        "their validation runs (hollow, joined to where the search saw them)",
    )
    report.table(*_shown_pareto(pareto, settings))
    report.heading("Search")
    report.figure(
        figure_progress(trials),
        "progress",
        "Most jobs within the budget found so far, by generation, on the search's own replicates",
    )
    report.heading("Decisions and ranges")
    report.table(
        pd.DataFrame(
            {
                "decision": settings.names,
                "range or options": [
                    f"{fmt_number(f.low)} to {fmt_number(f.high)}" for f in settings.factors
                ]
                + [", ".join(map(str, o)) for _, o in settings.choices],
            }
        ),
        "Decision variables",
    )
    report.heading("Definitions")
    report.text(
        DEFINITIONS.format(
            population=settings.population,
            replicates=design.replicates,
            ci=float(design.analysis["ci"]),
        )
    )
    report.heading("Configuration")
    report.code(design.to_yaml(), "Experiment design (experiment.yaml)")
    detail = (
        f"{design.replicates} replicates, root seed {design.root_seed}, search seed {settings.seed}"
    )
    meta = analysis_provenance(settings.model if settings.is_toy else None, n_ok, detail)
    return save_report(report, Path(out_dir), {"pareto": pareto}, meta)
