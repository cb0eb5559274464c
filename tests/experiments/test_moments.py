"""Moments of a run: rates, survival and size shares measured as the calibration table does."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from clustersim.experiments.moments import MOMENTS, moment, read_run_moments, run_moments


def _timeseries(months: int, firms: int, births: int, exits: int) -> pd.DataFrame:
    steps = np.arange(months + 1)
    return pd.DataFrame(
        {
            "step": steps,
            "creative_firms": np.full(months + 1, firms),
            "firm_births": np.where(steps >= 1, births, 99),  # month 0 is not counted
            "firm_exits": np.where(steps >= 1, exits, 99),
            "creative_share": np.full(months + 1, 0.04),
            "unemployment_rate": np.full(months + 1, 0.1),
        }
    )


def test_rates_are_a_year_of_births_and_exits_over_the_mean_number_of_firms():
    ts = _timeseries(months=24, firms=50, births=1, exits=2)
    firms = pd.DataFrame({"founded_step": [0], "exit_step": [np.nan], "employees": [1]})
    m = run_moments(ts, firms)
    assert m["birth_rate"] == pytest.approx(12 / 50)
    assert m["death_rate"] == pytest.approx(24 / 50)
    assert m["creative_share"] == pytest.approx(0.04) and m["unemployment"] == pytest.approx(0.1)


def test_survival_counts_only_firms_founded_in_the_run_and_watched_long_enough():
    ts = _timeseries(months=48, firms=10, births=0, exits=0)
    firms = pd.DataFrame(
        {
            "founded_step": [0, 1, 2, 3, 30, 40],  # founded before the run; in it; too late
            "exit_step": [5, np.nan, 10, 20, 35, np.nan],
            "employees": [0, 3, 0, 0, 0, 12],
        }
    )
    m = run_moments(ts, firms)
    # one year: founded at 1, 2, 3, 30 (40 is too late); alive at 12 months: 1, 3 (lived 17)
    assert m["survival_1"] == pytest.approx(2 / 4)
    # three years: founded by month 12: 1, 2, 3; alive at 36 months: only 1
    assert m["survival_3"] == pytest.approx(1 / 3)
    assert math.isnan(m["survival_5"])  # no firm could be watched for five years
    # sizes of the firms alive at the end: 3 and 12
    assert m["micro_share"] == pytest.approx(0.5) and m["one_person_share"] == 0
    assert m["micro_employment_share"] == pytest.approx(3 / 15)


def test_every_moment_is_named_described_and_found_by_name():
    for name, m in MOMENTS.items():
        assert m.name == name and m.label and m.description and m.unit in ("share", "per year")
    with pytest.raises(KeyError, match="moments: creative_share"):
        moment("creative_sahre")


def test_the_moments_of_a_stored_run_are_those_of_its_focus_place(tmp_path):
    ts = _timeseries(months=24, firms=20, births=1, exits=1).assign(population=12_000.0)
    firms = pd.DataFrame({"founded_step": [1, 2], "exit_step": [np.nan, 4], "employees": [2, 0]})
    ts.to_parquet(tmp_path / "timeseries.parquet")
    # in a region, the firms of other places are left out (the time series is the town's)
    city = pd.DataFrame({"founded_step": [1, 1], "exit_step": [3, 5], "employees": [0, 0]})
    both = pd.concat([firms.assign(place="Town"), city.assign(place="City")])
    both.assign(extra=1).to_parquet(tmp_path / "firms.parquet")
    places = pd.DataFrame(
        {"step": [0, 0], "place": ["City", "Town"], "population": [300_000.0, 12_000.0]}
    )
    places.to_parquet(tmp_path / "places.parquet")
    stored = read_run_moments(tmp_path)
    direct = run_moments(ts, firms)
    assert stored.keys() == direct.keys()
    assert all(
        stored[k] == direct[k] or (np.isnan(stored[k]) and np.isnan(direct[k])) for k in stored
    )
    assert stored["survival_1"] == 0.5 and run_moments(ts, both)["survival_1"] == 0.25
