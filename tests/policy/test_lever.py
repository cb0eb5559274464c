"""What every lever shares (clustersim.policy.lever): targets, own random stream, costs, budgets.

Also levers on the same node stacking, and the tables showing who benefited.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clustersim import CreativeClusterModel
from clustersim.policy.lever import TARGET_RULES, resolve_targets
from clustersim.policy.levers.creative_hub import CreativeHubSettings
from clustersim.policy.levers.festival import FestivalSettings
from clustersim.policy.registry import LEVERS
from conftest import uniform_city
from lever_runs import pair, town_and_city, ts


@pytest.mark.parametrize("name", sorted(LEVERS))
def test_same_seed_runs_agree_until_the_lever_starts_then_the_lever_acts_and_pays(name):
    base, lever = pair({name: {"start": 6}}, months=12, city=lambda: town_and_city(university=True))
    a, b = ts(base), ts(lever).drop(columns=[f"spend_{name}"])
    pd.testing.assert_frame_equal(a.iloc[:6], b.iloc[:6])  # common random numbers
    assert not a.iloc[6:].equals(b.iloc[6:]), f"{name} changed nothing"
    spend = ts(lever)[f"spend_{name}"]
    assert (spend.iloc[:6] == 0).all() and spend.sum() > 0
    assert lever.policy_table()["status"].tolist() == ["active"]


@pytest.mark.parametrize("name", sorted(LEVERS))
def test_a_lever_at_intensity_zero_is_off_and_runs_as_no_lever(name):
    """Optimisations and discoveries search intensities from 0 and count jobs against the
    town without the levers: at 0 a lever must change nothing (a hub at 0 used to open
    with one free place, a festival at 0 to leave its full lasting amenity)."""
    for seed in (0, 1):
        base, off = pair(
            {name: {"start": 1, "intensity": 0.0}},
            months=30,
            seed=seed,
            city=lambda: town_and_city(university=True),
        )
        spend = ts(off)[f"spend_{name}"]
        pd.testing.assert_frame_equal(ts(base), ts(off).drop(columns=[f"spend_{name}"]))
        assert (spend == 0).all()
        assert off.policy_table()["status"].tolist() == ["off"]
        for table in ("talent_table", "firm_table", "ledger_table"):
            pd.testing.assert_frame_equal(getattr(base, table)(), getattr(off, table)())


def test_a_hub_below_half_a_place_has_no_tenants_and_a_small_festival_a_small_legacy():
    """No free place below half a place (capacity rounds, it is not at least one), and a
    festival's lasting amenity scales with its size as its month's amenity does."""
    base, hub = pair({"creative_hub": {"start": 1, "intensity": 0.04}}, months=6)
    assert round(12 * 0.04) == 0
    assert (hub.firms.incubator < 0).all() and (hub.firms.ever_incubated == 0).all()
    assert ts(hub)["spend_creative_hub"].sum() > 0  # what it was asked to run, it paid for
    legacy = {}
    for intensity in (0.1, 1.0, 2.0):
        base, fest = pair(
            {"festival": {"start": 1, "month_of_year": 1, "intensity": intensity}}, months=2
        )
        legacy[intensity] = float((fest.amenity_bonus - base.amenity_bonus).max())
    assert legacy[1.0] == pytest.approx(FestivalSettings().legacy_per_edition)
    assert legacy[0.1] == pytest.approx(0.1 * legacy[1.0])
    assert legacy[2.0] == pytest.approx(2 * legacy[1.0])


@pytest.mark.parametrize("rule", sorted(TARGET_RULES))
def test_target_rules_pick_the_nodes_they_describe(rule):
    g = town_and_city(university=True)
    for node, vacant, amenity, rent in [(1, 0.3, 0.2, 500.0), (2, 0.25, 0.9, 300.0)]:
        g.nodes[node].update(vacant_space=vacant, amenity=amenity, rent=rent)
    model = CreativeClusterModel(rng=0, city=g)
    expected = {
        "centre": [0],
        "focus": [0, 1, 2, 3],
        "most_vacant": [1],
        "most_vacant_3": [1, 2, 0],
        "highest_amenity": [2],
        "cheapest": [2],
        "university": [0],
        "transport_link": [0],
    }[rule]
    assert resolve_targets(model, rule, lever="probe") == expected
    assert resolve_targets(model, ["Smalltown 3", "Bigcity 1"], lever="probe") == [3, 5]


@pytest.mark.parametrize(
    ("intensity", "cost_scaling", "factor"),
    [(1.0, 1.0, 1.0), (2.0, 1.0, 2.0), (4.0, 0.5, 2.0), (3.0, 0.0, 1.0), (0.5, 1.0, 0.5)],
)
def test_lever_costs_grow_with_intensity_as_cost_scaling_says(intensity, cost_scaling, factor):
    # a bigger hub (more tenant places) and a bigger festival (more visitors) cost more
    policy = {
        "creative_hub": {"start": 1, "intensity": intensity, "cost_scaling": cost_scaling},
        "festival": {"start": 1, "intensity": intensity, "cost_scaling": cost_scaling},
    }
    model = CreativeClusterModel(rng=0, city=uniform_city(5, 4000), policy=policy)
    model.run_for(12)
    spend = ts(model)
    hub, fest = CreativeHubSettings(), FestivalSettings()
    assert spend["spend_creative_hub"].iloc[1] == pytest.approx(
        factor * (hub.cost_once + hub.cost_monthly)
    )
    assert spend["spend_creative_hub"].iloc[2] == pytest.approx(factor * hub.cost_monthly)
    assert spend["spend_festival"].sum() == pytest.approx(factor * fest.cost_per_edition)
    assert model.policy_table()["spent"].sum() == pytest.approx(
        factor * (hub.cost_once + 12 * hub.cost_monthly + fest.cost_per_edition)
    )


def test_temporary_use_and_a_creative_hub_on_the_same_node_stack():
    hub = {"creative_hub": {"start": 1, "target": ["Testville 2"]}}
    both = {**hub, "temporary_use": {"start": 1, "target": ["Testville 2"]}}
    only_hub, stacked = (
        CreativeClusterModel(rng=0, city=uniform_city(5, 4000), policy=p) for p in (hub, both)
    )
    only_hub.step()
    stacked.step()
    # the same tenants at the shared node pay the hub's rent on space that is cheaper anyway
    f = only_hub.firms
    tenants_at_2 = np.flatnonzero((f.incubator >= 0) & (f.node == 2))
    assert len(tenants_at_2) > 0
    assert (stacked.firms.incubator[tenants_at_2] >= 0).all()
    assert (stacked.firms.profit[tenants_at_2] > f.profit[tenants_at_2]).all()
    stacked.run_for(5)
    assert stacked.rent_factor[2] == pytest.approx(0.4) and stacked.incubators
    spend = ts(stacked)
    assert (spend["spend_creative_hub"].iloc[1:] > 0).all()
    assert (spend["spend_temporary_use"].iloc[1:] > 0).all()
    np.testing.assert_allclose(
        spend["spend_creative_hub"] + spend["spend_temporary_use"], spend["policy_spend"]
    )


def test_firm_table_shows_who_was_incubated_and_who_was_subsidised():
    policy = {
        "creative_hub": {"start": 1},
        "tax_incentive": {"start": 1, "target": ["Testville 0"]},
    }
    model = CreativeClusterModel(rng=0, city=uniform_city(5, 4000), policy=policy)
    model.run_for(12)
    firms = model.firm_table()
    incubated = firms[firms["ever_incubated"]]
    assert len(incubated) >= 12
    assert (incubated["founded_step"] >= -12).all()  # young firms only
    subsidised = firms[firms["subsidy_received"] > 0]
    assert len(subsidised) > 0 and (subsidised["node"] == 0).all()
    assert subsidised["subsidy_received"].sum() == pytest.approx(
        ts(model)["spend_tax_incentive"].sum()
    )
