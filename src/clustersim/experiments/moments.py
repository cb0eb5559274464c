"""Moments of a run: the measures a calibration compares with published figures.

Each moment is computed from what every run writes (``timeseries.parquet`` and
``firms.parquet``, :mod:`clustersim.experiments.runner`), over the whole run from
its stationary start (month 0) to its last month, with the definitions of the
calibration table in ``docs/model.md`` (section 9):

- rates per year are the births (exits) of months 1 to T over the years run and the
  mean number of creative firms in those months;
- survival counts the firms founded during the run (month 1 or later) that were
  founded early enough to be watched for the whole period;
- size shares are those of the firms alive in the last month;
- the creative share and creative unemployment are means over every recorded month.

A moment that cannot be measured in a run (no firm founded early enough for five-year
survival in a run of four years) is NaN; the calibration says so rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "MOMENTS",
    "Moment",
    "focus_place",
    "moment",
    "read_run_moments",
    "run_moments",
]


@dataclass(frozen=True)
class Moment:
    """A measure of a run.

    Attributes:
        name: its key (``birth_rate``), used in target files and tables.
        label: a short human name.
        unit: ``share`` (0 to 1) or ``per year``.
        description: how it is measured, for reports and docs.
        compute: ``compute(timeseries, firms) -> float`` (NaN when not measurable).
        months: the fewest months a run needs for the moment to be measured at all.
    """

    name: str
    label: str
    unit: str
    description: str
    compute: Callable[[pd.DataFrame, pd.DataFrame], float]
    months: int = 1


def _months(ts: pd.DataFrame) -> int:
    return int(ts["step"].max())


def _rate(column: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    def compute(ts: pd.DataFrame, firms: pd.DataFrame) -> float:
        run = ts[ts["step"] >= 1]
        mean_firms = float(run["creative_firms"].mean()) if len(run) else float("nan")
        if not mean_firms > 0:
            return float("nan")
        return float(run[column].sum()) / (len(run) / 12) / mean_firms

    return compute


def _survival(years: int) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    def compute(ts: pd.DataFrame, firms: pd.DataFrame) -> float:
        months = _months(ts)
        founded = firms["founded_step"].to_numpy(dtype=float)
        exits = firms["exit_step"].to_numpy(dtype=float)
        eligible = (founded >= 1) & (founded <= months - 12 * years)
        if not eligible.any():
            return float("nan")
        lived = np.where(np.isnan(exits), np.inf, exits) - founded
        return float(np.mean(lived[eligible] >= 12 * years))

    return compute


def _size_share(test: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def compute(ts: pd.DataFrame, firms: pd.DataFrame) -> float:
        alive = firms["exit_step"].isna().to_numpy()
        sizes = firms["employees"].to_numpy()[alive]
        return float(np.mean(test(sizes))) if sizes.size else float("nan")

    return compute


def _micro_employment(ts: pd.DataFrame, firms: pd.DataFrame) -> float:
    alive = firms["exit_step"].isna().to_numpy()
    sizes = firms["employees"].to_numpy(dtype=float)[alive]
    total = sizes.sum()
    return float(sizes[sizes < 10].sum() / total) if total > 0 else float("nan")


def _mean_of(column: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    return lambda ts, firms: float(ts[column].mean())


MOMENTS: dict[str, Moment] = {
    m.name: m
    for m in (
        Moment(
            "creative_share",
            "creative share of employment",
            "share",
            "creative jobs over all jobs in the city, mean over the months of the run",
            _mean_of("creative_share"),
        ),
        Moment(
            "birth_rate",
            "firm birth rate",
            "per year",
            "creative firms founded a year over the mean number of creative firms",
            _rate("firm_births"),
        ),
        Moment(
            "death_rate",
            "firm death rate",
            "per year",
            "creative firms closed a year over the mean number of creative firms",
            _rate("firm_exits"),
        ),
        Moment(
            "survival_1",
            "new firms surviving 1 year",
            "share",
            "share of the firms founded during the run (at least a year before its end) "
            "alive a year after their founding",
            _survival(1),
            12 * 1 + 1,
        ),
        Moment(
            "survival_3",
            "new firms surviving 3 years",
            "share",
            "as survival_1, three years after founding",
            _survival(3),
            12 * 3 + 1,
        ),
        Moment(
            "survival_5",
            "new firms surviving 5 years",
            "share",
            "as survival_1, five years after founding",
            _survival(5),
            12 * 5 + 1,
        ),
        Moment(
            "micro_share",
            "firms with fewer than 10 employees",
            "share",
            "share of the creative firms alive in the last month with fewer than 10 employees",
            _size_share(lambda s: s < 10),
        ),
        Moment(
            "one_person_share",
            "one-person firms",
            "share",
            "share of the creative firms alive in the last month with one employee",
            _size_share(lambda s: s == 1),
        ),
        Moment(
            "micro_employment_share",
            "employment in firms with fewer than 10 employees",
            "share",
            "share of the jobs in creative firms alive in the last month that are in firms "
            "with fewer than 10 employees",
            _micro_employment,
        ),
        Moment(
            "unemployment",
            "unemployment among creative workers",
            "share",
            "creative workers without a creative job, mean over the months of the run",
            _mean_of("unemployment_rate"),
        ),
    )
}
"""The moments a run can be measured by, by name."""


def moment(name: str) -> Moment:
    """The moment called ``name`` (KeyError naming the known ones otherwise)."""
    try:
        return MOMENTS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a moment; moments: {', '.join(MOMENTS)}") from None


def run_moments(ts: pd.DataFrame, firms: pd.DataFrame) -> dict[str, float]:
    """Every moment of one run, from its time series and firm table."""
    return {name: m.compute(ts, firms) for name, m in MOMENTS.items()}


def focus_place(ts: pd.DataFrame, places: pd.DataFrame) -> str:
    """The place a run's time series describes: the one whose population it records.

    Examples:
        >>> ts = pd.DataFrame({"step": [0], "population": [12000.0]})
        >>> places = pd.DataFrame({"step": [0, 0], "place": ["City", "Town"],
        ...                        "population": [300000.0, 12000.0]})
        >>> focus_place(ts, places)
        'Town'
    """
    first = places[places["step"] == places["step"].min()]
    gap = (first["population"] - float(ts.loc[ts["step"].idxmin(), "population"])).abs()
    return str(first.loc[gap.idxmin(), "place"])


def read_run_moments(run_dir: str | Path) -> dict[str, float]:
    """Every moment of the run stored in ``run_dir``, for its focus place.

    The time series describes the focus place (the town the policies are for); in a
    city with other places (a region) the firm table is cut to the firms located
    there, so survival and sizes are measured where the rates are.
    """
    run_dir = Path(run_dir)
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    firms = pd.read_parquet(
        run_dir / "firms.parquet", columns=["founded_step", "exit_step", "employees", "place"]
    )
    if firms["place"].nunique() > 1:
        places = pd.read_parquet(
            run_dir / "places.parquet", columns=["step", "place", "population"]
        )
        firms = firms[firms["place"] == focus_place(ts, places)]
    return run_moments(ts, firms)
