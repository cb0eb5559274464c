"""Talent attraction: a few grant holders settle at the target, as in Paducah."""

from __future__ import annotations

import pytest

from clustersim import CreativeClusterModel
from conftest import uniform_city
from lever_runs import SEEDS, pair


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
