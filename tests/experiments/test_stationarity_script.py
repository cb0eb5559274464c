"""experiments/stationarity.py: what one run reports, and the table it writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from clustersim import CreativeClusterModel

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "stationarity_script", ROOT / "experiments" / "stationarity.py"
)
stationarity = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stationarity)


def test_one_run_reports_its_month_one_change_drift_and_population_trend():
    row = stationarity.run_one("small_town", 0, 2, spin_up_years=0)
    model = CreativeClusterModel(rng=0, city="small_town", spin_up={"months": 0})
    model.run_for(24)
    ts = pd.DataFrame(model.records)
    jobs = ts["creative_employment"].to_numpy()
    assert row["month1_change"] == (jobs[1] - jobs[0]) / jobs[0]
    years = ts["step"] / 120.0
    people = ts["population"].to_numpy()
    assert people[-1] != people[0]  # the population moves, so the trend is not trivially 0
    expected = 100 * np.polyfit(years, np.log(people), 1)[0]
    assert row["population_pct_per_decade"] == expected
    assert row["population"] == people[0]


def test_the_table_averages_over_seeds_and_bounds_only_month_one_and_drift():
    runs = pd.DataFrame(
        {
            "city": ["a", "a", "b"],
            "seed": [0, 1, 0],
            "month1_change": [0.01, 0.02, 0.05],
            "drift_pp_per_decade": [0.05, -0.01, 0.0],
            "share_start": [3.0, 3.2, 2.0],
            "population": [1000.0, 1000.0, 500.0],
            "population_pct_per_decade": [-3.0, -5.0, 9.0],
        }
    )
    table = stationarity.summarise(runs)
    assert table.loc["a", "population_pct_per_decade"] == -4.0
    assert bool(table.loc["a", "holds_still"])  # a population trend of -4% is not a bound
    assert not bool(table.loc["b", "holds_still"])  # month 1: +5%
    text = stationarity.markdown(table)
    assert "| a | 1,000 | 2 | 3.10% | +1.50% | +0.020 | yes | -4.0 |" in text
    assert "| b | 500 | 1 | 2.00% | +5.00% | +0.000 | NO | +9.0 |" in text
