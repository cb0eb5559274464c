"""The cultural institution: lasting amenity around the venue; it closes only without money."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim import CreativeClusterModel
from conftest import uniform_city
from lever_runs import SEEDS, pair, path_city, talents_at, ts


def test_cultural_institution_adds_lasting_amenity_that_draws_talents_toward_it():
    policy = {"cultural_institution": {"start": 1, "target": ["Testville 0"]}}
    near_minus_far = np.zeros(2)  # talents next to the venue minus at the far end, over seeds
    for seed in SEEDS:
        base, venue = pair(policy, months=36, seed=seed, city=path_city)
        gain = venue.amenity - base.amenity
        assert gain[0] == pytest.approx(0.2)
        assert gain[0] > gain[1] > gain[2] > gain[3] > gain[4] > 0
        near_minus_far += [talents_at(m)[0] - talents_at(m)[4] for m in (base, venue)]
    assert near_minus_far[1] > near_minus_far[0]  # talents move toward the venue


def test_cultural_institution_stays_open_when_the_programme_completes():
    policy = {"cultural_institution": {"start": 1, "duration": 6, "target": ["Testville 0"]}}
    base, venue = pair(policy, months=12, city=path_city)
    assert venue.policy_table()["stop_reason"].tolist() == ["completed"]
    assert venue.amenity[0] - base.amenity[0] == pytest.approx(0.2)  # handed over, still open
    assert ts(venue)["spend_cultural_institution"].iloc[7:].eq(0).all()


def test_lever_stops_when_its_monthly_cost_exceeds_the_budget():
    policy = {
        "cultural_institution": {
            "start": 1,
            "target": ["Testville 0"],
            "cost_once": 0,
            "cost_monthly": 25_000,
        }
    }
    model = CreativeClusterModel(
        rng=0,
        city=uniform_city(5, 4000),
        policy=policy,
        institutions={"municipality_budget": 60_000},
    )
    model.run_for(3)
    table = model.policy_table()
    assert table["status"].tolist() == ["stopped"]
    assert table["stop_step"].tolist() == [3]
    assert table["stop_reason"][0].startswith("budget exhausted")
    assert "monthly cost of 25,000 EUR, 10,000 EUR left" in table["stop_reason"][0]
    assert table["spent"].tolist() == [50_000]
    model.run_for(3)
    assert ts(model)["spend_cultural_institution"].tolist() == [0, 25_000, 25_000, 0, 0, 0, 0]
    assert model.amenity == pytest.approx(np.full(5, 0.4))  # closed: no money to run it
