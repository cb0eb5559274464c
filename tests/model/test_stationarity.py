"""A town holds still without policy: no month-1 dip and no drift, on every kind of city.

Month 0 is the end of the automatic spin-up (the model's own long-run state), so
without policy the creative economy neither jumps in month 1 nor drifts over 30
years. Both are properties of runs, averaged over 5 seeds as the issue states:
creative employment changes by less than 2% in month 1, and the creative share
drifts by less than 0.1 percentage points per decade. Here: the smallest and the
largest generated kind and the default region (a town next to a city, the nearest
to the bounds of the three). The medium city and the presets of real towns are checked by
``experiments/stationarity.py`` (its table is in docs/model.md, section 9): Obidos until
7 December 2026 and the medium city until 8 December were run here too, and cost CI's
2-core machines minutes its limit no longer leaves (the medium city's row is far within
the bounds: -0.41% in month 1, -0.007 points a decade). The small town and the
metropolis are the towns users get (``city=small_town``, ``city=metropolis``), as in
the app's lessons: their spin-ups, the most costly part of these runs, are run once
for both modules (the test run's shared spin-up cache, ``tests/conftest.py``).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from clustersim import CreativeClusterModel
from clustersim.model.config import CityConfig
from conftest import STATIONARY

pytestmark = pytest.mark.slow

SEEDS = range(5)
SMALL_TOWN_SEEDS = range(10)
YEARS = 30

CITIES = {
    "small_town": dict(city="small_town"),
    "metropolis": dict(city="metropolis"),  # the million of lesson 3: their spin-ups are shared
    "region": dict(city=CityConfig(kind="region")),
}


def _seeds(name: str) -> range:
    return SMALL_TOWN_SEEDS if name == "small_town" else SEEDS


@functools.cache
def _run(name: str, seed: int) -> pd.DataFrame:
    model = CreativeClusterModel(rng=seed, spin_up=STATIONARY, **CITIES[name])
    model.run_for(12 * YEARS)
    return pd.DataFrame(model.records)


def _drift_pp_per_decade(ts: pd.DataFrame) -> float:
    """Least-squares slope of the creative share (percentage points per decade)."""
    return float(np.polyfit(ts["step"] / 120.0, 100 * ts["creative_share"], 1)[0])


@pytest.mark.parametrize("name", CITIES)
def test_no_dip_in_month_one(name):
    changes = []
    for seed in _seeds(name):
        jobs = _run(name, seed)["creative_employment"].to_numpy()
        changes.append((jobs[1] - jobs[0]) / jobs[0])
    assert abs(np.mean(changes)) < 0.02, changes


@pytest.mark.parametrize("name", CITIES)
def test_creative_share_does_not_drift_over_thirty_years(name):
    slopes = [_drift_pp_per_decade(_run(name, seed)) for seed in _seeds(name)]
    assert abs(np.mean(slopes)) < 0.1, slopes


@pytest.mark.parametrize("name", ["small_town"])
def test_unemployment_stays_in_a_plausible_band(name):
    rates = [_run(name, seed)["unemployment_rate"].mean() for seed in _seeds(name)]
    assert 0.03 <= np.mean(rates) <= 0.12, rates
