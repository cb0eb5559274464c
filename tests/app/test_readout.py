"""The live gap to the baseline, the cost per extra job and the CSV downloads (no browser)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from clustersim.app.readout import (
    ONE_HISTORY,
    BaselineGap,
    baseline_gap,
    download_name,
    firms_csv,
    timeseries_csv,
)
from clustersim.app.scenarios import SCENARIOS, ClassroomSettings, ClassroomTown
from clustersim.model.outcomes import summary_names


@pytest.fixture(scope="module")
def hub_town() -> ClassroomTown:
    town = ClassroomTown(settings=SCENARIOS["hub_and_festival"].settings)
    town.run_for(20)
    return town


def test_gap_and_cost_per_extra_job() -> None:
    more = BaselineGap(month=24, jobs=209.0, baseline_jobs=201.0, spent=1.5e6)
    assert more.gap == 8
    assert more.cost_per_job == pytest.approx(187_500)
    assert more.gap_text() == "+8"
    assert more.cost_text() == "187,500 EUR per extra creative job"
    assert more.spent_text() == "1.50 M EUR"
    fewer = BaselineGap(month=24, jobs=198.0, baseline_jobs=201.0, spent=1.5e6)
    assert fewer.gap == -3 and fewer.gap_text() == "-3"
    assert fewer.cost_per_job is None and fewer.cost_text() == "no extra jobs yet"
    level = BaselineGap(month=5, jobs=201.0, baseline_jobs=201.0, spent=0.0)
    assert level.gap_text() == "0" and level.cost_per_job is None
    assert level.spent_text() == "0 EUR"
    assert BaselineGap(30, 1.0, 0.0, 645_000.0).spent_text() == "0.65 M EUR"
    assert BaselineGap(30, 1.0, 0.0, 12_000.0).spent_text() == "12,000 EUR"
    assert BaselineGap(30, 1.0, 0.0, 12_000.0).cost_per_job == 12_000.0


def test_the_gap_of_a_town_is_read_from_its_records_and_its_baseline(hub_town) -> None:
    gap = baseline_gap(hub_town)
    assert gap.month == 20 == hub_town.steps
    assert gap.jobs == hub_town.records[-1]["creative_employment"]
    assert gap.baseline_jobs == hub_town.baseline.records[-1]["creative_employment"]
    spent = sum(r["policy_spend"] for r in hub_town.records)
    assert gap.spent == pytest.approx(spent) and spent > 0
    # the money spent is what left the municipal budget
    start = hub_town.settings.budget
    assert gap.spent == pytest.approx(start - hub_town.municipality.budget)
    if gap.gap > 0:
        assert gap.cost_per_job == pytest.approx(spent / gap.gap)
    else:
        assert gap.cost_text() == "no extra jobs yet"
    # before the levers start the two towns are the same: no gap, nothing spent
    early = ClassroomTown(settings=SCENARIOS["hub_and_festival"].settings)
    early.run_for(5)
    assert baseline_gap(early) == BaselineGap(
        5, early.records[-1]["creative_employment"], early.records[-1]["creative_employment"], 0.0
    )
    assert baseline_gap(ClassroomTown(settings=ClassroomSettings())) is None
    assert "one history" in ONE_HISTORY.lower() and "common random numbers" in ONE_HISTORY


def test_timeseries_csv_has_a_row_per_month_and_the_baseline(hub_town) -> None:
    table = pd.read_csv(io.StringIO(timeseries_csv(hub_town)))
    assert len(table) == hub_town.steps + 1
    assert list(table["step"]) == list(range(hub_town.steps + 1))
    records = list(hub_town.records[0])
    assert list(table.columns[: len(records)]) == records
    for name in summary_names():
        column = f"{name}_without_levers"
        expected = [r[name] for r in hub_town.baseline.records]
        assert np.allclose(table[column], expected)
    assert np.allclose(table["policy_spend"], [r["policy_spend"] for r in hub_town.records])
    plain = ClassroomTown(settings=ClassroomSettings())
    plain.run_for(2)
    plain_table = pd.read_csv(io.StringIO(timeseries_csv(plain)))
    assert len(plain_table) == 3
    assert not any(c.endswith("_without_levers") for c in plain_table.columns)


def test_firms_csv_has_every_firm_the_run_had(hub_town) -> None:
    table = pd.read_csv(io.StringIO(firms_csv(hub_town)))
    firms = hub_town.firms
    assert len(table) == firms.n
    assert list(table.columns) == list(hub_town.firm_table().columns)
    alive = table["exit_step"].isna().to_numpy()
    assert np.array_equal(alive, firms.alive[: firms.n])
    assert table["employees"].sum() == firms.employees[: firms.n].sum()
    assert set(table["place"]) <= set(hub_town.place_names)


def test_download_names_say_town_month_and_content(hub_town) -> None:
    assert download_name(hub_town, "timeseries") == (
        "clustersim-small-town-month-020-timeseries.csv"
    )
    assert download_name(hub_town, "firms") == "clustersim-small-town-month-020-firms.csv"
    partner = ClassroomTown(settings=ClassroomSettings(city="obidos"))
    assert download_name(partner, "firms") == "clustersim-obidos-month-000-firms.csv"
