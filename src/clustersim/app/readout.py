"""Live numbers and take-home files of a classroom town: the gap to its baseline, cost per job, CSV.

No Solara here. :func:`baseline_gap` compares a
:class:`~clustersim.app.scenarios.ClassroomTown` with the same town run without
its levers (same seed: common random numbers) and says what the creative jobs
gained cost; :func:`timeseries_csv` and :func:`firms_csv` write the run for a
spreadsheet, under the file names of :func:`download_name`.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from clustersim.model.outcomes import summary_names

if TYPE_CHECKING:
    from clustersim.app.scenarios import ClassroomTown

__all__ = [
    "ONE_HISTORY",
    "BaselineGap",
    "baseline_gap",
    "download_name",
    "firms_csv",
    "timeseries_csv",
    "timeseries_table",
]

#: The caveat shown under the gap: one run is one history.
ONE_HISTORY = (
    "One run is one history: the grey town shares this town's seed (common random numbers), "
    "yet another seed can give another gap."
)

_BASELINE_SUFFIX = "_without_levers"


@dataclass(frozen=True)
class BaselineGap:
    """Creative jobs of a town against the same town without its levers, and the money spent.

    Attributes:
        month: The month compared.
        jobs: Creative jobs in the town now.
        baseline_jobs: Creative jobs in the same town without levers, same month.
        spent: Policy spend so far (EUR).
    """

    month: int
    jobs: float
    baseline_jobs: float
    spent: float

    @property
    def gap(self) -> float:
        """Extra creative jobs (negative: fewer than without the levers)."""
        return self.jobs - self.baseline_jobs

    @property
    def cost_per_job(self) -> float | None:
        """Spend per extra creative job (EUR); None while the levers made no extra jobs."""
        return self.spent / self.gap if self.gap > 0 else None

    def gap_text(self) -> str:
        """The gap with its sign: '+8', '-3', '0'.

        Examples:
            >>> BaselineGap(24, 209.0, 201.0, 1.5e6).gap_text()
            '+8'
            >>> BaselineGap(24, 198.0, 201.0, 1.5e6).gap_text()
            '-3'
        """
        return f"{self.gap:+,.0f}" if round(self.gap) != 0 else "0"

    def spent_text(self) -> str:
        """Money spent so far, e.g. '1.49 M EUR', '0.65 M EUR' or '12,000 EUR'."""
        if self.spent >= 1e5:
            return f"{self.spent / 1e6:,.2f} M EUR"
        return f"{self.spent:,.0f} EUR"

    def cost_text(self) -> str:
        """Cost per extra creative job, or 'no extra jobs yet'.

        Examples:
            >>> BaselineGap(24, 209.0, 201.0, 1.5e6).cost_text()
            '187,500 EUR per extra creative job'
            >>> BaselineGap(24, 201.0, 201.0, 1.5e6).cost_text()
            'no extra jobs yet'
        """
        cost = self.cost_per_job
        return "no extra jobs yet" if cost is None else f"{cost:,.0f} EUR per extra creative job"


def baseline_gap(town: ClassroomTown) -> BaselineGap | None:
    """The town's creative jobs against its baseline now; None when it has no baseline."""
    if town.baseline is None:
        return None
    with getattr(town, "lock", nullcontext()):
        mine, base = town.records[-1], town.baseline.records[-1]
        spent = sum(float(row["policy_spend"]) for row in town.records)
    return BaselineGap(
        month=int(mine["step"]),
        jobs=float(mine["creative_employment"]),
        baseline_jobs=float(base["creative_employment"]),
        spent=spent,
    )


def timeseries_table(town: ClassroomTown) -> pd.DataFrame:
    """One row per month: the recorded outcomes, and the headline ones of the baseline.

    The baseline's columns end in ``_without_levers`` (the town without its levers,
    same seed); a town without levers has none.
    """
    with getattr(town, "lock", nullcontext()):
        table = pd.DataFrame(list(town.records))
        if town.baseline is not None:
            base = pd.DataFrame(list(town.baseline.records))
            for name in summary_names():
                table[name + _BASELINE_SUFFIX] = base[name].to_numpy()
    return table


def timeseries_csv(town: ClassroomTown) -> str:
    """:func:`timeseries_table` as CSV text."""
    return timeseries_table(town).to_csv(index=False)


def firms_csv(town: ClassroomTown) -> str:
    """Every creative firm the town ever had, one row each, as CSV text.

    The columns are those of a run's ``firms.parquet``
    (:meth:`~clustersim.model.core.CreativeClusterModel.firm_table`); a firm still
    alive has an empty ``exit_step``.
    """
    with getattr(town, "lock", nullcontext()):
        table = town.firm_table()
    return table.to_csv(index=False)


def download_name(town: ClassroomTown, what: str) -> str:
    """File name of a download: town, month and what it holds.

    Examples:
        ``clustersim-small-town-month-036-timeseries.csv``,
        ``clustersim-obidos-month-012-firms.csv``.
    """
    place = town.place_names[town.focus_place]
    ascii_name = unicodedata.normalize("NFKD", place).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "town"
    return f"clustersim-{slug}-month-{town.steps:03d}-{what}.csv"
