"""Readable report tables: plan and site names, measures under their labels, human numbers.

Every table the report shows goes through here: measures appear under the
outcomes table's labels (:func:`clustersim.model.outcomes.label`), never as raw
column names; plans and sites under short names taken from the design; values in
the formats of :mod:`clustersim.experiments.numbers`; relative changes only
against baselines large enough to make them meaningful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from clustersim.experiments.inference import verdict
from clustersim.experiments.numbers import (
    fmt_interval,
    fmt_money,
    fmt_number,
    fmt_percent,
    fmt_range,
    fmt_value,
    is_missing,
    relative_is_meaningful,
    unit_of,
)
from clustersim.model.outcomes import label

__all__ = [
    "SHORT",
    "VERDICT_WORDS",
    "Names",
    "abbreviate",
    "cost_table",
    "effects_table",
    "in_order",
    "measure_label",
    "plans_table",
    "scaling_sentence",
    "scaling_table",
    "short_name",
    "takeoff_table",
]

VERDICT_WORDS = {"clear": "clear", "tentative": "tentative", "unclear": "no clear effect"}
"""How :func:`clustersim.experiments.inference.verdict` reads in tables."""


SHORT = 32
"""Names longer than this are shortened in tables and figures (:func:`short_name`)."""


def short_name(code: str, label_text: str, *, limit: int = SHORT, phrase: bool = False) -> str:
    """A short name for a site or plan: its label before a colon, a short label, or its code.

    With ``phrase``, a long label's first phrase (before ", ") comes before the code
    when it is short: a place's name ("Small town of 12,000, 60 minutes from ...").

    A name still longer than ``limit`` characters (a long label, and a long code) is
    shortened readably (:func:`abbreviate`): a setting ``key = value`` keeps its value
    and the last parts of its key, other text its first and last words.

    Examples:
        >>> short_name("creative_city", "Creative city plan: creative hub, festival (EUR 6m)")
        'Creative city plan'
        >>> short_name("metropolis", "Metropolis of 300,000"), short_name("small_town", "x" * 40)
        ('Metropolis of 300,000', 'small town')
        >>> short_name("town", "Small town of 12,000, 60 minutes from a city", phrase=True)
        'Small town of 12,000'
        >>> short_name("a", "policy.cluster_management.start = 12")
        'cluster_management.start = 12'
    """
    text = (label_text or "").strip()
    if ":" in text and 0 < text.index(":") <= 40 and " = " not in text:
        return abbreviate(text.split(":", 1)[0].strip(), limit)
    if text and text != code and len(text) <= limit:
        return text
    if " = " in text:  # a setting of a sweep: its key and value say what it is
        return abbreviate(text, limit)
    first = text.split(", ", 1)[0].strip()  # "12,000" has no space: not a phrase's end
    if phrase and first != text and 0 < len(first) <= limit:
        return first
    plain = code.replace("_", " ")
    own_label = text and text != code
    return abbreviate(text if own_label and len(plain) > limit else plain, limit)


def abbreviate(text: str, limit: int = SHORT) -> str:
    """``text`` in at most ``limit`` characters, still readable.

    Settings (``key = value``, several joined by ``", "``) lose the leading parts of
    their dotted keys but the last two, then the end of the part before the last, then
    the other leading parts, then the spaces around ``=``, then the ends of their
    keys; other text keeps its first and last words around an ellipsis, so names that
    differ at the end stay apart.

    Examples:
        >>> abbreviate("policy.cluster_management.intensity = 1.5")
        'cluster_managem….intensity = 1.5'
        >>> abbreviate("firm.agglomeration_cap = 20, talent.review_rate = 0.03")
        'agglomerat…=20, review_rate=0.03'
        >>> abbreviate("festival and hub with a high budget from the region 2026")
        'festival and hub with … 2026'
    """
    if len(text) <= limit:
        return text
    if " = " in text:
        text = _abbreviate_setting(text, limit)
        return text if len(text) <= limit else text[: limit - 1] + "…"
    words = text.split()
    head, tail = [], []
    while words and len(" ".join([*head, words[0]])) <= limit * 2 // 3:
        head.append(words.pop(0))
    while words and len(" ".join([*head, "…", words[-1], *tail])) <= limit:
        tail.insert(0, words.pop())
    if not head:  # one long word
        return text[: limit - 1] + "…"
    return " ".join([*head, "…", *tail]) if words else " ".join([*head, *tail])


def _abbreviate_setting(text: str, limit: int) -> str:
    """A sweep's setting in ``limit`` characters if it can be (see :func:`abbreviate`)."""
    parts = [p.split(" = ", 1) if " = " in p else [p, ""] for p in text.split(", ")]

    def joined(sep: str = " = ") -> str:
        return ", ".join(f"{k}{sep}{v}" for k, v in parts)

    def drop_prefixes(dots: int) -> None:
        """Drop the first part of the longest key with at least ``dots`` dots, while too long."""
        while len(joined()) > limit and any(k.count(".") >= dots for k, _ in parts):
            kv = max((kv for kv in parts if kv[0].count(".") >= dots), key=lambda kv: len(kv[0]))
            kv[0] = kv[0].split(".", 1)[1]

    drop_prefixes(2)  # policy.festival.intensity -> festival.intensity
    over = len(joined()) - limit
    for kv in sorted(parts, key=lambda kv: -len(kv[0].partition(".")[0])):
        head, dot, tail = kv[0].partition(".")
        if over > 0 and dot and len(head) - over - 1 >= 4:  # cluster_managem….intensity
            kv[0] = f"{head[: len(head) - over - 1]}….{tail}"
            break
    drop_prefixes(1)
    for sep in (" = ", "="):
        if len(joined(sep)) <= limit:
            return joined(sep)
    for kv in sorted(parts, key=lambda kv: -len(kv[0])):  # the longest keys lose their ends
        keep = max(3, len(kv[0]) - (len(joined("=")) - limit) - 1)
        if keep < len(kv[0]) - 1:
            kv[0] = kv[0][:keep] + "…"
    return joined("=")


def _unique(names: dict[str, str]) -> dict[str, str]:
    """Short names made unique: names shared by several codes get their code's ending."""
    seen: dict[str, list[str]] = {}
    for code, name in names.items():
        seen.setdefault(name, []).append(code)
    out = dict(names)
    for name, codes in seen.items():
        if len(codes) > 1:
            for i, code in enumerate(codes, start=1):
                out[code] = f"{name} ({i})"
    return out


_AT_INTENSITY = re.compile(r"^(?P<what>.+) at intensity (?P<value>\S+)$")


def _arm_names(arms: dict[str, Any]) -> dict[str, str]:
    """Short names of the arms, one form for a lever's intensities.

    A sweep's arms are labelled ``<lever> at intensity <x>``. When one of those labels
    is too long to keep, every one of them is called ``<lever> x<x>`` (``cultural
    institution x2``), so a report never mixes that form with the arms' codes
    (``cultural institution 200``, which reads as a count).
    """
    labels = {k: a.label for k, a in arms.items()}
    graded = {k: m for k, label in labels.items() if (m := _AT_INTENSITY.match(label or ""))}
    if any(len(labels[k]) > SHORT for k in graded):
        labels.update({k: f"{m['what']} x{m['value']}" for k, m in graded.items()})
    return _unique({k: short_name(k, label) for k, label in labels.items()})


def _site_names(sites: dict[str, Any]) -> dict[str, str]:
    """Short names of the sites: a long label's first phrase when those tell them apart."""
    phrases = {k: short_name(k, s.label, phrase=True) for k, s in sites.items()}
    if len(set(phrases.values())) == len(phrases):
        return phrases
    return _unique({k: short_name(k, s.label) for k, s in sites.items()})


@dataclass(frozen=True)
class Names:
    """How a design's sites and plans are called in the report, and its horizon.

    Attributes:
        sites: site codes in the design's order.
        arms: arm codes in the design's order.
        baseline: the baseline arm's code.
        horizon: the month effects are measured at (the design's steps).
        site_names: code -> short name.
        arm_names: code -> short name.
        ci: the intervals' level (0.95).
        arm_word: what an arm is called: ``plan`` (a policy), ``setting`` (a parameter
            value of a sweep).
        more_replicates: how to get more replicates, for the warnings.
    """

    sites: list[str]
    arms: list[str]
    baseline: str
    horizon: int
    site_names: dict[str, str] = field(default_factory=dict)
    arm_names: dict[str, str] = field(default_factory=dict)
    ci: float = 0.95
    arm_word: str = "plan"
    more_replicates: str = (
        "Run the experiment again with more replicates (e.g. --replicates 20; finished runs "
        "are reused)"
    )

    @classmethod
    def of(cls, design: Any, **changes: Any) -> Names:
        """The names of a :class:`~clustersim.experiments.design.Design` (with ``changes``)."""
        fields: dict[str, Any] = {
            "sites": list(design.sites),
            "arms": list(design.arms),
            "baseline": design.baseline,
            "horizon": int(design.steps),
            "site_names": _site_names(design.sites),
            "arm_names": _arm_names(design.arms),
            "ci": float(design.analysis.get("ci", 0.95)),
        }
        return cls(**{**fields, **changes})

    def site(self, code: Any) -> str:
        """Short name of a site."""
        return self.site_names.get(str(code), str(code).replace("_", " "))

    def arm(self, code: Any) -> str:
        """Short name of a plan (arm)."""
        return self.arm_names.get(str(code), str(code).replace("_", " "))

    @property
    def interval(self) -> str:
        """The intervals' name, e.g. "95% interval"."""
        return f"{self.ci:.0%} interval"


def measure_label(column: str, horizon: int | None = None) -> str:
    """Label of a measure, saying when it is measured.

    Examples:
        >>> measure_label("mean_rent", 120)
        'mean rent (EUR/month), month 120'
        >>> measure_label("mean_rent_peak"), measure_label("displaced_total")
        ('mean rent (EUR/month), peak month', 'displaced residents (whole run)')
    """
    for suffix, when in (("_peak", "peak month"), ("_run_mean", "mean over the run")):
        if column.endswith(suffix):
            return f"{label(column.removesuffix(suffix))}, {when}"
    text = label(column)
    flow_like = column.endswith(("_total", "_last_year")) or column.startswith("spend_")
    return f"{text}, month {horizon}" if horizon is not None and not flow_like else text


def in_order(table: pd.DataFrame, order: dict[str, list[Any]]) -> pd.DataFrame:
    """Rows sorted stably by the given columns' orders (values not listed go last).

    Examples:
        >>> t = pd.DataFrame({"site": ["b", "a", "b"], "arm": ["x", "y", "w"]})
        >>> in_order(t, {"site": ["a", "b"]})["arm"].tolist()
        ['y', 'x', 'w']
    """
    keys = [k for k in order if k in table and order[k]]
    if table.empty or not keys:
        return table
    ranks = {
        f"_rank_{k}": table[k].map({v: i for i, v in enumerate(order[k])}).fillna(len(order[k]))
        for k in keys
    }
    ranked = table.assign(**ranks).sort_values(list(ranks), kind="stable")
    return ranked.drop(columns=list(ranks)).reset_index(drop=True)


def _site_and_plan(table: pd.DataFrame, names: Names) -> dict[str, list[str]]:
    cols: dict[str, list[str]] = {}
    if "site" in table:
        cols["site"] = [names.site(s) for s in table["site"]]
    if "arm" in table:
        cols[names.arm_word] = [names.arm(a) for a in table["arm"]]
    return cols


def _relative(row: Any, unit: str) -> str:
    if not relative_is_meaningful(row.baseline_mean, row.effect, unit):
        return "n/a" if not is_missing(row.baseline_mean) else ""
    return fmt_percent(row.effect / abs(row.baseline_mean), signed=True)


def _mde_text(mde: float, unit: str) -> str:
    if is_missing(mde):
        return ""
    return f"{fmt_number(100 * mde)} pp" if unit == "share" else fmt_value(mde, unit)


def effects_table(effects: pd.DataFrame, names: Names, *, horizon: bool = True) -> pd.DataFrame:
    """The effects table for people: labels, names, units, verdicts, the detectable effect.

    ``horizon``: whether level measures are labelled with the month they are measured at.
    """
    rows = []
    for row in effects.itertuples(index=False):
        unit = unit_of(row.metric)
        mde = getattr(row, "mde", float("nan"))
        rec: dict[str, Any] = {
            "measure": measure_label(row.metric, names.horizon if horizon else None)
        }
        if "site" in effects:
            rec["site"] = names.site(row.site)
        if "arm" in effects:
            rec[names.arm_word] = names.arm(row.arm)
        rec.update(
            {
                "baseline": fmt_value(row.baseline_mean, unit),
                f"with {names.arm_word}": fmt_value(row.arm_mean, unit),
                f"change [{names.interval}]": fmt_interval(
                    row.effect, row.ci_low, row.ci_high, unit=unit
                ),
                "relative": _relative(row, unit),
                "verdict": VERDICT_WORDS[
                    verdict(row.effect, row.ci_low, row.ci_high, mde, int(row.n_pairs))
                ],
                "detectable from": _mde_text(mde, unit),
                "replicates": int(row.n_pairs),
            }
        )
        rows.append(rec)
    return pd.DataFrame(rows)


def takeoff_table(summary: pd.DataFrame, names: Names) -> pd.DataFrame:
    """Take-off per site and plan: runs, how many took off, probability and month (intervals)."""
    out = pd.DataFrame(_site_and_plan(summary, names))
    out["runs"] = summary["runs"].to_numpy()
    out["took off"] = summary["took_off"].to_numpy()
    out[f"probability [{names.interval}]"] = [
        f"{fmt_percent(r.probability)} [{fmt_percent(r.probability_low)}, "
        f"{fmt_percent(r.probability_high)}]"
        for r in summary.itertuples()
    ]
    out[f"month of take-off [{names.interval}]"] = [
        fmt_interval(r.mean_takeoff_step, r.takeoff_step_low, r.takeoff_step_high, unit="months")
        for r in summary.itertuples()
    ]
    return out


def cost_table(cost: pd.DataFrame, names: Names) -> pd.DataFrame:
    """Spend, jobs created and EUR per job for people (money rounded, intervals aligned)."""
    out = pd.DataFrame(_site_and_plan(cost, names))
    for col in ("lever", "intensity"):
        if col in cost:
            out[col] = [
                fmt_number(v) if isinstance(v, float) else str(v).replace("_", " ")
                for v in cost[col]
            ]
    out["spend per run"] = [fmt_money(v) for v in cost["total_spend"]]
    out[f"creative jobs created [{names.interval}]"] = [
        fmt_interval(r.jobs_created, r.jobs_low, r.jobs_high, unit="jobs")
        for r in cost.itertuples()
    ]
    out[f"EUR per job [{names.interval}]"] = [
        fmt_interval(r.cost_per_job, r.cost_low, r.cost_high, unit="EUR").removeprefix("EUR ")
        for r in cost.itertuples()
    ]
    out["note"] = cost["note"].fillna("").to_numpy()
    return out


def _same_or_each(group: pd.DataFrame, column: str, fmt: Any) -> str:
    """One value when all levers share it, else ``lever value`` for each."""
    values = [fmt(v) for v in group[column]]
    if len(set(values)) == 1:
        return values[0]
    return "; ".join(f"{lv}: {v}" for lv, v in zip(group["lever"], values, strict=True))


def _plan_row(group: pd.DataFrame) -> dict[str, str]:
    """A plan's levers, their intensities, start and duration, and its budget, as text."""
    levers = group[group["policy"] != ""]
    budget = fmt_money(group["budget"].iloc[0])
    income = float(group["income"].iloc[0]) if "income" in group else 0.0
    if income:
        budget += f" + {fmt_money(income)} a month"
    if levers.empty:
        empty = {"intensity": "", "from month": "", "for months": ""}
        return {"levers": "no levers", **empty, "budget": budget}
    return {
        "levers": ", ".join(levers["lever"]),
        "intensity": _same_or_each(levers, "intensity", fmt_number),
        "from month": _same_or_each(levers, "start", lambda v: fmt_number(int(v))),
        "for months": _same_or_each(
            levers, "duration", lambda v: "to the end" if is_missing(v) else fmt_number(int(v))
        ),
        "budget": budget,
    }


def plans_table(plans: pd.DataFrame, names: Names) -> pd.DataFrame:
    """One row per plan (and per site where a plan differs between sites): levers and budget.

    Levers appear under their names with their intensity (1 = the documented
    default), start month and duration; the budget is the municipality's at the start.
    """
    if plans.empty:
        return pd.DataFrame(columns=["plan", "code", "levers", "budget"])
    keys = [c for c in ("site", "arm") if c in plans]
    per: dict[str, list[tuple[Any, dict[str, str]]]] = {}
    for key, group in plans.groupby(keys, sort=False):
        kv = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        per.setdefault(kv.get("arm", ""), []).append((kv.get("site"), _plan_row(group)))
    rows = []
    for arm, entries in per.items():
        same = len({tuple(row.items()) for _site, row in entries}) == 1
        for site, row in entries[:1] if same else entries:
            where = "" if same or site is None else f" ({names.site(site)})"
            rows.append({"plan": names.arm(arm) + where, "code": arm, **row})
    return pd.DataFrame(rows).fillna("")


def scaling_sentence(fit: Any) -> str:
    """One line on a scaling fit: its exponent against 1, its interval and fit."""
    name = label(fit.metric)
    name = name[:1].upper() + name[1:]
    if is_missing(fit.exponent):  # one city size finished, or too few runs
        return (
            f"{name}: not fitted: a scaling exponent needs runs at two or more city sizes "
            f"({fit.n_runs} run(s) finished)."
        )
    return (
        f"{name}: {_scaling_kind(fit.ci_low, fit.ci_high)}; scaling exponent beta = "
        f"{fmt_number(fit.exponent)} (95% interval {fmt_range(fit.ci_low, fit.ci_high)}; "
        f"1 = proportional, 0 = the same at every size), R2 = {fmt_number(fit.r2)}, "
        f"{fit.n_runs} runs."
    )


def _scaling_kind(low: float, high: float) -> str:
    """What a scaling exponent's 95% interval says, against 1 (proportional) and 0 (flat).

    Examples:
        >>> _scaling_kind(1.05, 1.2)
        'grows faster than population (superlinear)'
        >>> _scaling_kind(0.3, 0.8)
        'grows more slowly than population (sublinear)'
        >>> _scaling_kind(-0.02, 0.1)
        'cannot be told from staying the same at every city size'
        >>> _scaling_kind(-0.4, -0.1)
        'falls as population grows'
    """
    if low > 1:
        return "grows faster than population (superlinear)"
    if low > 0 and high < 1:
        return "grows more slowly than population (sublinear)"
    if high < 0:
        return "falls as population grows"
    if low <= 0 and high >= 1:
        return (
            "cannot be told from staying the same at every size, nor from growing in "
            "proportion to population"
        )
    if high < 1:
        return "cannot be told from staying the same at every city size"
    return "cannot be told from growth in proportion to population"


def scaling_table(fits: pd.DataFrame) -> pd.DataFrame:
    """The scaling fits, one row per measure, in readable numbers."""
    return pd.DataFrame(
        {
            "measure": [label(m) for m in fits["metric"]],
            "exponent beta [95% interval]": [
                f"{fmt_number(r.exponent)} [{fmt_range(r.ci_low, r.ci_high, sep=', ')}]"
                for r in fits.itertuples()
            ],
            "prefactor": [fmt_number(v) for v in fits["prefactor"]],
            "R2": [fmt_number(v) for v in fits["r2"]],
            "runs": fits["n_runs"].to_numpy(),
        }
    )
