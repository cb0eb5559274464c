"""Talent attraction: a few grant holders settle at the target, as in Paducah."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim import CreativeClusterModel
from clustersim.errors import ConfigError
from conftest import uniform_city
from lever_runs import SEEDS, pair, town_and_city


def test_talent_attraction_brings_a_few_grant_holders_to_the_target():
    policy = {"talent_attraction": {"start": 1, "target": ["Testville 3"]}}
    newcomers_in_all = newcomers_at_target = 0
    for seed in SEEDS:
        base, grants = pair(policy, months=24, seed=seed)
        talents = grants.talent_table()
        newcomers = talents.query("origin == 'policy'")
        holders = newcomers.query("grant > 0")
        # small absolute numbers, as in Paducah (~40 newcomers in 2.5 years)
        assert 10 <= len(newcomers) <= 48
        assert 0 < len(holders) <= len(newcomers)
        assert (holders["grant"] == 2500).all()
        spent = grants.policy_table()["spent"].iloc[0]
        assert holders["grant"].sum() == pytest.approx(spent - 24 * 2000)
        assert base.talent_table().query("origin == 'policy'").empty
        newcomers_in_all += len(newcomers)
        newcomers_at_target += (newcomers["home"] == 3).sum()
    # Two years on, the newcomers still live at the target far more often than chance (one
    # node of five identical ones) would have them. The node's whole talent count is no
    # measure: with ~20 newcomers in ~70 talents per node, the random drift of talents
    # between identical nodes (sd ~10 per node over two years) hides them.
    assert newcomers_at_target > 1.5 * newcomers_in_all / 5


def test_talent_table_shows_grant_holders():
    model = CreativeClusterModel(
        rng=1, city=uniform_city(5, 4000), policy={"talent_attraction": {"start": 1}}
    )
    model.run_for(12)
    talents = model.talent_table()
    holders = talents[talents["grant"] > 0]
    assert len(holders) > 0
    assert (holders["origin"] == "policy").all()
    assert (holders["arrived_step"] >= 1).all()
    assert (talents.query("origin != 'policy'")["grant"] == 0).all()


def _arrivals(monkeypatch, recruits_for: str, seed: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Homes of the programme's newcomers when they came, its grants, the town's nodes."""
    from clustersim.policy.levers.talent_attraction import TalentAttraction

    homes = []
    on_attracted = TalentAttraction.on_attracted

    def record(self, ids):
        homes.extend(self.model.talents.home[ids].tolist())
        on_attracted(self, ids)

    monkeypatch.setattr(TalentAttraction, "on_attracted", record)
    policy = {"start": 1, "intensity": 2.0, "recruits_for": recruits_for}
    model = CreativeClusterModel(
        rng=seed, city=town_and_city(), spin_up={"months": 0}, policy={"talent_attraction": policy}
    )
    model.run_for(24)
    grants = int((model.talents.grant > 0).sum())
    return np.array(homes), grants, np.flatnonzero(model.place == model.focus_place)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_a_programme_that_recruits_for_the_town_brings_its_newcomers_to_the_town(monkeypatch, seed):
    # next to a city of ten times the homes, many prospects who weigh the whole region
    # settle in the city, without a grant; a programme recruiting for the town brings
    # everyone who comes to the town: fewer come, but more of them to the town
    town_homes, town_grants, town = _arrivals(monkeypatch, "town", seed)
    region_homes, region_grants, _ = _arrivals(monkeypatch, "region", seed)
    assert len(town_homes) >= 10
    assert np.isin(town_homes, town).all()
    assert np.isin(region_homes, town, invert=True).mean() > 0.3
    assert len(town_homes) > 1.2 * np.isin(region_homes, town).sum()
    assert town_grants > 0 and region_grants > 0


def test_a_programme_recruits_for_the_region_or_the_town_and_nothing_else():
    with pytest.raises(ConfigError, match=r"recruits_for must be one of region, town; got 'city'"):
        CreativeClusterModel(rng=1, policy={"talent_attraction": {"recruits_for": "city"}})
