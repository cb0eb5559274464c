"""Firm demography that looks like firms: survival, a hazard falling with age, entry and exit
rates and firm sizes near the Eurostat figures (docs/evidence.md, Calibration targets).

Emergent results of runs from the stationary start, over two city sizes and two
seeds each; nothing schedules exits. The bands are about 12 percentage points
around the published figures (the model is not fitted to them; model.md section 9
gives the measured values).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from clustersim import CreativeClusterModel
from clustersim.model import mechanisms as mech
from conftest import STATIONARY

pytestmark = pytest.mark.slow

MONTHS = 240
RUNS = [("small_town", 12_000, 0), ("small_town", 12_000, 1), ("medium_city", 100_000, 0)]


@functools.cache
def _run(city: str, population: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    model = CreativeClusterModel(rng=seed, city=city, population=population, spin_up=STATIONARY)
    model.run_for(MONTHS)
    f = model.firms
    sizes = f.employees[f.alive]
    return pd.DataFrame(model.records), model.firm_table(), sizes


def _new_firms() -> pd.DataFrame:
    """Firms founded during the runs: founding month and months lived (NaN exit = alive)."""
    tables = []
    for key in RUNS:
        firms = _run(*key)[1]
        new = firms[firms["founded_step"] >= 1].copy()
        new["end"] = new["exit_step"].astype("float").fillna(np.inf)
        new["lived"] = new["end"] - new["founded_step"]
        tables.append(new)
    return pd.concat(tables)


def _survival(new: pd.DataFrame, years: int) -> float:
    eligible = new[new["founded_step"] <= MONTHS - 12 * years]
    return float((eligible["lived"] >= 12 * years).mean())


def test_survival_of_new_firms_is_near_eurostat():
    """About 80% after one year, 57% after three, 45% after five (Eurostat)."""
    new = _new_firms()
    assert len(new) > 300
    survival = {y: _survival(new, y) for y in (1, 3, 5)}
    assert 0.68 <= survival[1] <= 0.92, survival
    assert 0.45 <= survival[3] <= 0.69, survival
    assert 0.33 <= survival[5] <= 0.57, survival
    assert survival[1] > survival[3] > survival[5]


def test_exit_hazard_is_highest_for_young_firms():
    """The yearly exit hazard of firms in their first year beats that in years four and five."""
    new = _new_firms()

    def hazard(first: int, last: int) -> float:
        at_risk = new[(new["lived"] >= 12 * first) & (new["founded_step"] <= MONTHS - 12 * last)]
        exits = (at_risk["lived"] < 12 * last).sum()
        return exits / len(at_risk) / (last - first)

    assert hazard(0, 1) > 1.3 * hazard(3, 5)


def test_entry_and_exit_rates_are_near_eurostat():
    """Births about 10% and deaths about 8% of active enterprises a year (Eurostat)."""
    for key in RUNS:
        ts = _run(*key)[0]
        firms = ts["creative_firms"].iloc[1:].mean()
        births = ts["firm_births"].iloc[1:].sum() / (MONTHS / 12) / firms
        deaths = ts["firm_exits"].iloc[1:].sum() / (MONTHS / 12) / firms
        assert 0.05 <= births <= 0.16, (key, births)
        assert 0.05 <= deaths <= 0.16, (key, deaths)


def test_most_firms_are_micro_firms():
    """Over 90% of cultural enterprises have fewer than 10 persons employed (Eurostat)."""
    sizes = np.concatenate([_run(*key)[2] for key in RUNS])
    assert np.mean(sizes < 10) >= 0.85
    assert np.mean(sizes == 1) > 0.3  # many one-person firms


def test_exit_hazard_mechanism_falls_with_age_and_rises_with_losses():
    young, old = mech.exit_hazard(np.array([0, 240]), 0.02, 0.004, 24.0)
    assert young == pytest.approx(0.02) and old == pytest.approx(0.004, rel=0.01)
    factor = mech.exit_risk_factor(np.array([-0.3, 0.05, 0.4]), 0.05, 10.0)
    assert factor[0] > 1.9 and factor[1] == pytest.approx(1.0) and factor[2] < 0.1
