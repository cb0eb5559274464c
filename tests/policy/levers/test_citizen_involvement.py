"""Citizen involvement: openness rises and stays; more talents move into the town."""

from __future__ import annotations

import pytest

from lever_runs import SEEDS, pair, town_and_city, ts


def test_citizen_involvement_raises_openness_and_net_migration_into_the_town():
    policy = {"citizen_involvement": {"start": 1, "duration": 24, "months_to_effect": 12}}
    for seed in SEEDS:
        base, open_town = pair(
            policy,
            months=36,
            seed=seed,
            city=lambda: town_and_city(town_pop=5000, city_pop=20000, travel_time=40),
        )
        gain = open_town.openness - base.openness
        assert gain[:4] == pytest.approx(0.2)  # lasting after the group stopped
        assert gain[4:] == pytest.approx(0.0)
        assert ts(open_town)["net_migration"].sum() > ts(base)["net_migration"].sum()
