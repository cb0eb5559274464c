"""The report's plain language: what the results mean, side effects, budget and replicate warnings.

Every sentence is generated from the analysis tables and says no more than they
allow: an effect whose interval includes 0 is "no clear effect" (with the smallest
effect the design could have detected); one whose bootstrap interval excludes 0
but which a paired t-test cannot tell from chance is "may raise ..."
(:func:`clustersim.experiments.inference.verdict`); a cost per job is given only for
jobs created with confidence; odds of take-off carry their Wilson interval. The
functions return report items, ``(kind, payload)`` pairs in the form of
:class:`clustersim.experiments.report.Report` sections (``"h3"``, ``"p"``, ``"note"``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from clustersim.experiments import analysis as an
from clustersim.experiments.inference import replicates_needed, run_extremes, verdict
from clustersim.experiments.numbers import (
    fmt_money,
    fmt_number,
    fmt_percent,
    fmt_range,
    fmt_value,
    is_missing,
    relative_is_meaningful,
    unit_of,
)
from clustersim.experiments.readable import Names, in_order
from clustersim.model.outcomes import label

__all__ = [
    "EMPLOYMENT",
    "SIDE_EFFECTS",
    "budget_warnings",
    "noise_floor",
    "replicate_warnings",
    "side_effects",
    "what_this_means",
]

Item = tuple[str, Any]

EMPLOYMENT = "creative_employment"

SIDE_EFFECTS = (
    "displaced_total",
    "mean_rent",
    "mean_rent_peak",
    "mean_rent_run_mean",
    "brain_drain_total",
    "unemployment_rate",
)
"""Harms a plan may bring: displacement (a flow: the run's total), rent at the last
month, at its peak and on average over the run, creative workers leaving the region,
unemployment among creative workers."""

HARM_WORDS = {
    "displaced_total": "displaced residents over the run",
    "mean_rent": "rent at month {h}",
    "mean_rent_peak": "rent in its peak month",
    "mean_rent_run_mean": "rent on average over the run",
    "brain_drain_total": "creative workers leaving the region over the run",
    "unemployment_rate": "unemployment among creative workers at month {h}",
}

FEW_REPLICATES = 5
"""Below this many replicates the report warns that its intervals are too narrow."""

MANY_ARMS = 8
"""With more plans than this per site, only the plans with an effect get a sentence."""


def side_effects(
    outcomes: pd.DataFrame,
    timeseries: pd.DataFrame,
    *,
    baseline: str,
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Effects of each plan on the :data:`SIDE_EFFECTS` (rent's peak and mean from the series).

    The same table as :func:`clustersim.experiments.analysis.effects`.
    """
    extremes = run_extremes(timeseries, ["mean_rent"])
    data = outcomes.merge(extremes, on="run_id", how="left") if len(extremes) else outcomes
    metrics = [m for m in SIDE_EFFECTS if m in data]
    table = an.effects(
        data, metrics, baseline=baseline, group_cols=("site",), ci=ci, n_boot=n_boot, seed=seed
    )
    return in_order(table, {"metric": metrics})


def _rows(table: pd.DataFrame, **where: Any) -> pd.DataFrame:
    sel = table
    for key, value in where.items():
        if key in sel:
            sel = sel[sel[key] == value]
    return sel


def _first(table: pd.DataFrame, **where: Any) -> Any | None:
    return next(_rows(table, **where).itertuples(index=False), None)


def _verdict(row: Any) -> str:
    return verdict(row.effect, row.ci_low, row.ci_high, row.mde, int(row.n_pairs))


def _interval(row: Any, names: Names, unit: str = "") -> str:
    return f"{names.interval} {fmt_range(row.ci_low, row.ci_high, unit=unit)}"


def _jobs(value: float, *, signed: bool = False) -> str:
    return fmt_value(value, "jobs", signed=signed)


def _employment_sentence(row: Any, names: Names) -> str:
    """What a plan does to creative employment, as far as the interval allows."""
    arm, h, n = f"**{names.arm(row.arm)}**", names.horizon, int(row.n_pairs)
    mde = _jobs(row.mde)
    if row.effect == 0 and row.mde == 0:  # every pair of runs ended alike
        return (
            f"{arm} does not change creative employment: in each of the {n} replicates, it "
            f"ends with the baseline's creative jobs at month {h} ({_jobs(row.baseline_mean)} "
            "on average)."
        )
    if relative_is_meaningful(row.baseline_mean, row.effect, "jobs"):
        rel = (
            f"; {fmt_percent(row.effect / row.baseline_mean, signed=True)} on the "
            f"{_jobs(row.baseline_mean)} jobs of the baseline"
        )
    else:
        rel = f"; the baseline has {_jobs(row.baseline_mean)} jobs"
    found = _verdict(row)
    if found == "unclear" and n < 2:  # one pair: no interval, no detectable effect
        return (
            f"{arm} has no clear effect on creative employment: "
            f"{_jobs(row.effect, signed=True)} jobs at month {h} in the one replicate that "
            f"finished for it and the baseline{rel}; one pair of runs gives no interval and "
            "cannot tell any effect from chance."
        )
    if found == "unclear":
        return (
            f"{arm} has no clear effect on creative employment: "
            f"{_jobs(row.effect, signed=True)} jobs at month {h} "
            f"({_interval(row, names, 'jobs')}{rel}), within what chance alone gives; with {n} "
            f"replicates, effects smaller than about {mde} jobs cannot be told from chance."
        )
    up = row.effect > 0
    size = _jobs(abs(row.effect))
    if found == "clear":
        verb = "raises" if up else "lowers"
        return (
            f"{arm} {verb} creative employment by {size} jobs at month {h} "
            f"({_interval(row, names, 'jobs')}{rel})."
        )
    verb = "may raise" if up else "may lower"
    return (
        f"{arm} {verb} creative employment by {size} jobs at month {h} "
        f"({_interval(row, names, 'jobs')}{rel}), but this is not established: with {n} replicates "
        f"a paired t-test cannot tell it from chance (effects from about {mde} jobs are "
        "detected reliably)."
    )


def _cost_sentence(cost: Any | None, employment: Any, names: Names) -> str:
    """What the plan spent per run and per creative job created (only for jobs created)."""
    if cost is None or is_missing(cost.total_spend):
        return ""
    spend = fmt_money(cost.total_spend)
    if cost.total_spend <= 0:  # a parameter's setting is not expected to spend
        return "It spends no policy money." if names.arm_word == "plan" else ""
    found = _verdict(employment)
    if found == "clear" and employment.effect < 0:
        return f"It spends {spend} per run and costs creative jobs rather than creating them."
    if is_missing(cost.cost_per_job) or found == "unclear":
        return (
            f"It spends {spend} per run without creating creative jobs with confidence, so "
            "there is no cost per job to give."
        )
    money = f"{fmt_money(cost.cost_per_job)} per job created (interval {fmt_money(cost.cost_low)}"
    money += f" to {fmt_money(cost.cost_high)}; {spend} spent per run)"
    if found == "tentative":
        return f"If that gain is real, it costs about {money}."
    return f"It costs about {money}."


def _odds(row: Any, names: Names) -> str:
    return (
        f"{row.took_off} of {row.runs} runs ({fmt_percent(row.probability)}, {names.interval} "
        f"{fmt_percent(row.probability_low)} to {fmt_percent(row.probability_high)})"
    )


def _takeoff_sentence(row: Any | None, base: Any | None, names: Names) -> str:
    """The odds that the plan makes the cluster take off, against the baseline's."""
    if row is None:
        return ""
    text = f"Its creative cluster takes off in {_odds(row, names)}"
    if base is None:
        return text + "."
    if (row.took_off, row.runs) == (base.took_off, base.runs):
        return text + f", as under the baseline ({base.took_off} of {base.runs})."
    apart = (
        row.probability_low > base.probability_high or row.probability_high < base.probability_low
    )
    if not apart:
        return text + f", not clearly different from the baseline's {base.took_off} of {base.runs}."
    word = "more" if row.probability > base.probability else "less"
    return text + f", {word} often than under the baseline ({base.took_off} of {base.runs})."


def _change_text(value: float, unit: str) -> str:
    if unit == "share":
        return f"{fmt_number(100 * value, signed=True)} percentage points"
    return f"{fmt_value(value, unit, signed=True)} {unit}".rstrip()


def _harms_sentence(side: pd.DataFrame, site: Any, arm: Any, names: Names) -> str:
    """The side effects told apart from chance (tentative ones marked), or that there are none."""
    found = []
    for row in _rows(side, site=site, arm=arm).itertuples(index=False):
        v = _verdict(row)
        if v == "unclear":
            continue
        what = HARM_WORDS.get(row.metric, row.metric).format(h=names.horizon)
        unit = unit_of(row.metric)
        change = _change_text(row.effect, unit)
        if change.split(" ")[0] in ("0", "+0", "-0"):
            continue  # too small to show in its unit (a hundredth of a person)
        scale = 100 if unit == "share" else 1
        interval = fmt_range(scale * row.ci_low, scale * row.ci_high, unit=unit)
        if unit != "share" and relative_is_meaningful(row.baseline_mean, row.effect, unit):
            change += f", {fmt_percent(row.effect / row.baseline_mean, signed=True)}"
        found.append(
            f"{what} {change} ({names.interval} {interval}"
            + (", tentative)" if v == "tentative" else ")")
        )
    if not found:
        return (
            "No clear side effect on displacement, rent, creative workers leaving the region "
            "or their unemployment."
        )
    return "Side effects: " + "; ".join(found) + "."


def _stop_text(row: Any) -> str:
    months = (
        f"month {row.first_month}"
        if row.first_month == row.last_month
        else f"months {row.first_month} to {row.last_month}"
    )
    text = f"{row.lever} stopped in {months}"
    if row.stopped < row.runs:
        text += f" in {row.stopped} of {row.runs} runs"
    if row.spent <= 0:
        reason = str(row.reason).partition(":")[2].strip()
        text += " before spending anything" + (f" ({reason})" if reason else "")
    return text


def _budget_body(stops: pd.DataFrame, plan: pd.DataFrame, names: Names) -> str:
    h = names.horizon
    early = stops[stops["first_month"] < h].sort_values(["first_month", "lever"], kind="stable")
    budget = fmt_money(plan["budget"].iloc[0]) if len(plan) else ""
    text = f"ran out of budget{f' ({budget})' if budget else ''} before month {h}: "
    text += "; ".join(_stop_text(r) for r in early.itertuples(index=False)) + "."
    everywhere = set(early.loc[early["stopped"] == early["runs"], "policy"])
    running = [
        r.lever for r in plan.itertuples(index=False) if r.policy and r.policy not in everywhere
    ]
    if running:
        return text + f" {', '.join(running)} kept running (in at least some runs)."
    low, high = h - int(early["last_month"].max()), h - int(early["first_month"].max())
    gap = f"{low} month{'s' if low != 1 else ''}" if low == high else f"{low} to {high} months"
    return text + f" Effects are measured at month {h}, {gap} after its last lever stopped."


def budget_warnings(stops: pd.DataFrame, plans: pd.DataFrame, names: Names) -> list[str]:
    """One warning per plan whose levers ran out of money before the horizon, with the months.

    Sites where the same happened in the same months share one warning.
    """
    if stops.empty:
        return []
    bodies: dict[tuple[str, str], list[str]] = {}
    keys = [c for c in ("site", "arm") if c in stops]
    for key, group in stops.groupby(keys, sort=False):
        where = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        if not (group["first_month"] < names.horizon).any():
            continue
        body = _budget_body(group, _rows(plans, **where), names)
        bodies.setdefault((str(where.get("arm", "")), body), []).append(where.get("site", ""))
    warnings = []
    for (arm, body), sites in bodies.items():
        where = " and ".join(names.site(s) for s in sites if s != "")
        warnings.append(f"**{names.arm(arm)}**{f' in {where}' if where else ''} {body}")
    return warnings


def _amount(value: float, unit: str) -> tuple[str, str]:
    """A size of effect and its unit: ``("12", "jobs")``, ``("1.5", "percentage points")``."""
    if unit == "share":
        return fmt_number(100 * value), "percentage points"
    if unit in ("EUR", "ratio") or unit.startswith("index"):  # money says EUR; ratios no unit
        return fmt_value(value, unit), ""
    return fmt_value(value, unit), unit


def _with_unit(number: str, unit: str) -> str:
    return f"{number} {unit}".rstrip()


def _mde_sizes(rows: pd.DataFrame, names: Names, arms: list[str] | None = None) -> str:
    """One measure's detectable effect: one size when every plan shares it, else each plan's.

    ``12 jobs``; ``12 jobs (A) and 30 jobs (B)``, or ``12 and 30 jobs`` when the plans
    are named once elsewhere (``arms``, in that order); with more than three plans the
    smallest and the largest: ``5 to 30 jobs``.
    """
    rows = rows[rows["mde"].notna()]
    unit = unit_of(str(rows["metric"].iloc[0]))
    sizes = {names.arm(r.arm): _amount(r.mde, unit) for r in rows.itertuples(index=False)}
    texts = [number for number, _unit in sizes.values()]
    suffix = next(iter(sizes.values()))[1]
    if len(set(texts)) == 1:
        return _with_unit(texts[0], suffix)
    if len(sizes) > 3:
        low, high = rows["mde"].min(), rows["mde"].max()
        return _with_unit(f"{_amount(low, unit)[0]} to {_amount(high, unit)[0]}", suffix)
    if arms is not None and list(sizes) == arms:
        return _with_unit(" and ".join(texts), suffix)
    return " and ".join(f"{_with_unit(n, u)} ({arm})" for arm, (n, u) in sizes.items())


def _measure_name(metric: str) -> str:
    unit = unit_of(metric)
    return label(metric).removesuffix(f" ({unit})") if unit else label(metric)


def _other_measures(rows: pd.DataFrame, site: Any, names: Names) -> list[str]:
    """The detectable effects on the measures other than creative employment, in sentences.

    Measures whose paired differences do not vary at all (every replicate gives the
    same difference) are named apart: chance adds no spread, any difference stands out.
    """
    rows = rows[(rows["metric"] != EMPLOYMENT) & rows["mde"].notna()]
    if rows.empty:
        return []
    flat = rows.groupby("metric", sort=False)["mde"].transform(lambda m: (m == 0).all())
    arms = [names.arm(a) for a in dict.fromkeys(rows["arm"])]
    named = arms if len(arms) <= 3 else None
    parts = [
        f"{_measure_name(str(metric))} about {_mde_sizes(group, names, named)}"
        for metric, group in rows[~flat].groupby("metric", sort=False)
    ]
    where = f" in {names.site(site)}" if len(names.sites) > 1 else ""
    if len(arms) == 1:
        order = ""
    elif named:
        order = f" (for {' and '.join(arms)}, in that order, where they differ)"
    else:
        order = f" (from the {names.arm_word} with the smallest to the one with the largest)"
    out = []
    if parts:
        out.append(
            f"On the other measures{where}, effects smaller than these cannot be told from "
            f"chance{order}: {'; '.join(parts)}."
        )
    if flat.any():
        none = rows.groupby("metric", sort=False)["effect"].transform(lambda e: (e == 0).all())
        unchanged = [_measure_name(str(m)) for m in dict.fromkeys(rows.loc[flat & none, "metric"])]
        same = [_measure_name(str(m)) for m in dict.fromkeys(rows.loc[flat & ~none, "metric"])]
        if unchanged:
            out.append(
                f"No {names.arm_word} changes {_and(unchanged)}{where} in any replicate: "
                "every paired difference is 0."
            )
        if same:
            out.append(
                f"Every replicate gives the same difference in {_and(same)}{where}, so chance "
                "adds no spread: any difference in them, however small, stands out."
            )
    return out


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def noise_floor(effects: pd.DataFrame, names: Names) -> list[str]:
    """Per site, how large an effect the design can tell from chance, per measure and plan.

    Creative employment first, in a sentence of its own; then the other measures of
    ``effects``. Where plans differ in the spread of their paired differences, each
    plan's size is given (the smallest and the largest with more than three plans).
    """
    if "mde" not in effects or effects.empty:
        return []
    out = []
    groups = effects.groupby("site", sort=False) if "site" in effects else [("", effects)]
    for site, rows in groups:
        head = rows[(rows["metric"] == EMPLOYMENT) & rows["mde"].notna()]
        if len(head) and (head["mde"] == 0).all():
            out.append(
                f"In {names.site(site)} each of the {int(head['n_pairs'].min())} replicates "
                "gives the same difference in creative employment, so chance adds no spread: "
                "any difference in it, however small, stands out."
            )
        elif len(head):
            sizes = _mde_sizes(head, names)
            if len(head) > 3 and " to " in sizes:
                sizes += f", depending on the {names.arm_word},"
            out.append(
                f"Smallest detectable effect in {names.site(site)}: with "
                f"{int(head['n_pairs'].min())} replicates, effects on creative employment "
                f"smaller than about {sizes} cannot be told from chance "
                "(paired test, 5% level, 80% power); more replicates shrink this noise floor "
                "by the square root of their number."
            )
        out += _other_measures(rows, site, names)
    return out


def replicate_warnings(head: pd.DataFrame, names: Names) -> list[str]:
    """Warnings when replicates are too few: for the design, and per effect left unclear."""
    if head.empty:
        return []
    n = int(head["n_pairs"].min())
    notes = []
    if n < FEW_REPLICATES:
        per = f"per {names.arm_word}" + (
            " and site" if names.arm_word == "plan" or len(names.sites) > 1 else ""
        )
        notes.append(
            f"Only {n} replicates {per}: intervals from so few runs are too narrow "
            "and most effects cannot be told from chance, so every number here is provisional. "
            f"{names.more_replicates} before drawing conclusions."
        )
    needs = []
    for row in head.itertuples(index=False):
        if _verdict(row) == "clear" or (row.effect == 0 and row.mde == 0):
            continue  # told apart, or no difference at all: nothing to detect
        need = replicates_needed(row.mde, int(row.n_pairs), row.effect)
        where = f" in {names.site(row.site)}" if "site" in head else ""
        count = "more than 10,000" if is_missing(need) else f"about {fmt_number(int(need))}"
        needs.append(
            f"{names.arm(row.arm)}{where} ({_jobs(row.effect, signed=True)} jobs): {count}"
        )
    if len(needs) > MANY_ARMS:
        needs = [*needs[:MANY_ARMS], f"and {len(needs) - MANY_ARMS} more (see the effects table)"]
    if needs:
        notes.append(
            f"Too few replicates ({n}) to tell these effects on creative employment from chance; "
            "replicates needed to detect each at its observed size: " + "; ".join(needs) + "."
        )
    return notes


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cost_findings(head: pd.DataFrame, cost: pd.DataFrame, names: Names) -> list[str]:
    """Per plan, its cost per job at each site where it created jobs with confidence."""
    out: list[str] = []
    if len(names.sites) < 2:
        return out  # one site: its paragraphs say it
    for arm in [a for a in names.arms if a != names.baseline]:
        priced, unpriced = [], []
        for site in names.sites:
            emp, price = _first(head, site=site, arm=arm), _first(cost, site=site, arm=arm)
            if emp is None or price is None:
                continue
            found = _verdict(emp)
            if found != "unclear" and emp.effect > 0 and not is_missing(price.cost_per_job):
                priced.append(
                    f"{fmt_money(price.cost_per_job)} per creative job in {names.site(site)} "
                    f"({names.interval} {fmt_money(price.cost_low)} to "
                    f"{fmt_money(price.cost_high)}"
                    + ("; the job gain itself is not established)" if found == "tentative" else ")")
                )
            else:
                unpriced.append(names.site(site))
        if not priced:
            continue
        text = f"**{names.arm(arm)}** costs about " + " against ".join(priced)
        if unpriced:
            text += f"; in {' and '.join(unpriced)} it creates no creative jobs with confidence"
        out.append(text + ".")
    return out


def _takeoff_findings(takeoff: pd.DataFrame, names: Names) -> list[str]:
    """Per site: no plan makes it take off, or it takes off even under the baseline."""
    out = []
    for site in names.sites if "site" in takeoff else []:
        rows = _rows(takeoff, site=site)
        base = _first(rows, arm=names.baseline)
        if rows.empty:
            continue
        where = names.site(site)
        if (rows["took_off"] == 0).all():
            word = names.arm_word
            fewest, most = int(rows["runs"].min()), int(rows["runs"].max())
            runs = (
                f"{fewest} to {most} runs"
                if fewest != most
                else f"{fewest} run" + ("s" if fewest != 1 else "")
            )
            out.append(
                f"No {word} makes the creative cluster of {where} take off: none of the "
                f"{runs} of any {word} does (so many runs cannot rule out a chance of up to "
                f"{fmt_percent(rows['probability_high'].max())})."
            )
        elif base is not None and base.took_off == base.runs:
            out.append(
                f"The creative cluster of {where} takes off in all {base.runs} runs even under "
                f"the baseline ({names.arm(names.baseline)})."
            )
    return out


def _site_details(
    site: Any, tables: dict[str, pd.DataFrame], side: pd.DataFrame, names: Names
) -> list[Item]:
    """A heading for the site, its baseline, then one paragraph per plan."""
    head, takeoff, cost = tables["head"], tables["takeoff"], tables["cost"]
    rows = _rows(head, site=site)
    base_t = _first(takeoff, site=site, arm=names.baseline)
    items: list[Item] = [("h3", _cap(names.site(site)))] if site is not None else []
    if len(rows):
        opening = (
            f"Under the baseline ({names.arm(names.baseline)}), there are "
            f"{fmt_number(rows['baseline_mean'].iloc[0])} creative jobs at month {names.horizon}"
        )
        if base_t is not None:
            opening += f" and the creative cluster takes off in {_odds(base_t, names)}"
        items.append(("p", opening + "."))
    elif site is not None:  # a heading alone said nothing of why the site has no paragraph
        word, base = names.arm_word, names.arm(names.baseline)
        none = f"No {word} can be compared with the baseline ({base}) here: no replicate"
        items.append(("p", f"{none} finished both the baseline and another {word} at this site."))
    compact = len(rows) > MANY_ARMS
    quiet = []
    for row in rows.itertuples(index=False):
        if compact and _verdict(row) == "unclear":
            quiet.append(names.arm(row.arm))
            continue
        sentences = [
            _employment_sentence(row, names),
            _cost_sentence(_first(cost, site=site, arm=row.arm), row, names),
            _takeoff_sentence(_first(takeoff, site=site, arm=row.arm), base_t, names),
            _harms_sentence(side, site, row.arm, names),
        ]
        items.append(("p", " ".join(s for s in sentences if s)))
    if quiet:
        items.append(("p", f"No clear effect on creative employment: {', '.join(quiet)}."))
    return items


def what_this_means(
    effects: pd.DataFrame,
    takeoff: pd.DataFrame,
    cost: pd.DataFrame,
    side: pd.DataFrame,
    stops: pd.DataFrame,
    plans: pd.DataFrame,
    names: Names,
) -> list[Item]:
    """The report's first section: findings, warnings, then each site's plans in sentences.

    Args:
        effects: :func:`~clustersim.experiments.analysis.effects` (creative employment used).
        takeoff: :func:`~clustersim.experiments.analysis.takeoff_summary`.
        cost: :func:`~clustersim.experiments.analysis.cost_per_job`.
        side: :func:`side_effects`.
        stops: :func:`~clustersim.experiments.plan_runs.budget_stops`.
        plans: :func:`~clustersim.experiments.plan_runs.plan_contents`.
        names: how sites and plans are called.
    """
    head = _rows(effects, metric=EMPLOYMENT)
    items: list[Item] = [
        ("p", s) for s in _cost_findings(head, cost, names) + _takeoff_findings(takeoff, names)
    ]
    items += [("note", w) for w in budget_warnings(stops, plans, names)]
    items += [("note", w) for w in replicate_warnings(head, names)]
    items += [("p", s) for s in noise_floor(effects, names)]
    tables = {"head": head, "takeoff": takeoff, "cost": cost}
    for site in names.sites if "site" in head else [None]:
        items += _site_details(site, tables, side, names)
    return items
