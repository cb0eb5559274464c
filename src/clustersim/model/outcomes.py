"""The declared outcomes: every column of the time series, said once.

Each :class:`Outcome` names one column that the recording phase writes per month
(for the focus place), whether it is a *level* (a state at the end of the month)
or a *flow* (a count or sum during the month), its label and unit for reports and
the app, and what it means. Recording, run summaries, the analysis defaults,
report labels and the app's plots all read this table (EMA Workbench declares its
``ScalarOutcome``s the same way). Policy spend per lever (``spend_<lever>``) is
added per run next to these columns and is a flow in EUR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "OUTCOMES",
    "OUTCOME_NAMES",
    "Outcome",
    "flow_names",
    "label",
    "outcome",
    "summary_names",
]


@dataclass(frozen=True)
class Outcome:
    """One recorded outcome (a column of the time series).

    Attributes:
        name: column name.
        kind: "level" (state at the end of the month) or "flow" (during the month).
        label: short human label for tables, plots and the app.
        unit: unit of one value ("jobs", "EUR/month", "share", ...).
        description: what it measures and where.
        summary: whether run summaries (``summary.json``, the CLI table) show it.
    """

    name: str
    kind: Literal["level", "flow"]
    label: str
    unit: str
    description: str
    summary: bool = False


def _level(name: str, label: str, unit: str, description: str, summary: bool = False) -> Outcome:
    return Outcome(name, "level", label, unit, description, summary)


def _flow(name: str, label: str, unit: str, description: str) -> Outcome:
    return Outcome(name, "flow", label, unit, description)


#: Every time-series column, in the order of the table (``step`` first).
OUTCOMES: tuple[Outcome, ...] = (
    _level("step", "month", "months", "Month of the simulation; 0 is the initial state."),
    _level("population", "population", "people", "Residents of the focus place.", True),
    _level("talents", "creative workers living there", "people",
           "Creative workers (talents) living in the focus place.", True),
    _level("creative_employment", "creative employment", "jobs",
           "Jobs in creative firms located in the focus place.", True),
    _level("employment", "total employment", "jobs",
           "Creative jobs in the focus place plus the other workers living there.", True),
    _level("creative_firms", "creative firms", "firms",
           "Creative firms located in the focus place.", True),
    _flow("firm_births", "firm births", "firms", "Creative firms founded in the focus place."),
    _flow("firm_exits", "firm exits", "firms", "Creative firms of the focus place that exited."),
    _level("mean_rent", "mean rent", "EUR/month",
           "Population-weighted mean rent of the focus place's nodes.", True),
    _level("creative_share", "creative share of employment", "share",
           "Creative jobs over creative jobs plus other workers of the focus place.", True),
    _level("location_quotient", "creative location quotient", "ratio",
           "Creative share over the reference share (metrics.reference_creative_share).", True),
    _level("spatial_gini", "spatial Gini of creative jobs", "index (0-1)",
           "Inequality of creative jobs across the focus place's nodes.", True),
    _level("largest_cluster", "largest creative cluster", "firms",
           "Firms in the largest connected group of nodes whose location quotient "
           "exceeds metrics.cluster_lq.", True),
    _flow("net_migration", "net migration of creative workers", "people",
          "Creative workers moving in minus moving out or leaving the region."),
    _flow("innovation", "innovations", "innovations",
          "Innovations made by the focus place's firms."),
    _flow("policy_spend", "policy spend", "EUR", "Municipal spending on all levers."),
    _level("unemployment_rate", "unemployment among creative workers", "share",
           "Creative workers of the focus place without a creative job."),
    _level("mean_income", "mean income of creative workers", "EUR/month",
           "Mean monthly income of the focus place's creative workers."),
    _level("wage", "wage per skill unit", "EUR/month", "Creative wage per skill unit."),
    _level("other_wage", "wage of other work", "EUR/month",
           "Wage of other (non-creative) work: the non-creative sector's wage bill per worker."),
    _level("mean_amenity", "mean amenity", "index",
           "Population-weighted mean amenity of the focus place's nodes."),
    _flow("graduates", "new graduates", "people",
          "New graduates of the focus place's universities."),
    _flow("brain_drain", "creative workers leaving the region", "people",
          "Creative workers of the focus place who left the region."),
    _flow("displaced", "displaced residents", "people",
          "Low-income residents of the focus place displaced by rent rises."),
    _level("collaboration_ties", "collaboration ties", "ties",
           "Collaboration ties between creative firms of the region."),
    _level("region_talents", "creative workers in the region", "people",
           "Creative workers living anywhere in the region."),
    _level("region_creative_firms", "creative firms in the region", "firms",
           "Creative firms anywhere in the region."),
    _level("region_creative_employment", "creative employment in the region", "jobs",
           "Creative jobs anywhere in the region."),
    _level("municipal_budget", "municipal budget left", "EUR",
           "What is left of the municipality's policy budget."),
)  # fmt: skip

OUTCOME_NAMES: tuple[str, ...] = tuple(o.name for o in OUTCOMES)
_BY_NAME = {o.name: o for o in OUTCOMES}


def outcome(name: str) -> Outcome:
    """The declared outcome called ``name`` (KeyError naming the known ones otherwise)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is not a declared outcome; known: {', '.join(_BY_NAME)}"
        ) from None


def flow_names() -> tuple[str, ...]:
    """Outcomes counted per month (summed over a run by the analysis)."""
    return tuple(o.name for o in OUTCOMES if o.kind == "flow")


def summary_names() -> tuple[str, ...]:
    """Outcomes shown with their start and end values in run summaries."""
    return tuple(o.name for o in OUTCOMES if o.summary)


def label(column: str) -> str:
    """Human label of a time-series or analysis column.

    Understands the analysis's derived names: ``<flow>_total`` (summed over the
    run), ``<flow>_last_year`` (last 12 months) and ``spend_<lever>``.

    Examples:
        >>> label("mean_rent")
        'mean rent (EUR/month)'
        >>> label("innovation_total")
        'innovations (whole run)'
        >>> label("spend_festival")
        'spend on festival (EUR)'
    """
    if column in _BY_NAME:
        o = _BY_NAME[column]
        return f"{o.label} ({o.unit})" if o.unit not in o.label else o.label
    for suffix, when in (("_total", "whole run"), ("_last_year", "last 12 months")):
        base = column.removesuffix(suffix)
        if base != column and base in _BY_NAME:
            return f"{_BY_NAME[base].label} ({when})"
    if column.startswith("spend_"):
        return f"spend on {column.removeprefix('spend_').replace('_', ' ')} (EUR)"
    return column.replace("_", " ")
