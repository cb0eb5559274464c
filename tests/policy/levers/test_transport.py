"""Transport: shorter travel times, commuting to the city, and the drain of the small town."""

from __future__ import annotations

import pandas as pd
import pytest

from clustersim import CreativeClusterModel, simulate
from conftest import STATIONARY
from lever_runs import SEEDS, pair, path_city, town_and_city, ts


def town_commuters_to_city(model) -> int:
    """Talents living in the focus town who work for a firm in another place."""
    t = model.talents
    working = t.alive & (t.employer >= 0) & (model.place[t.home] == model.focus_place)
    return int((model.place[model.firms.node[t.employer[working]]] != model.focus_place).sum())


def test_transport_cuts_travel_time_and_town_talents_commute_to_city_jobs():
    base, fast = pair({"transport": {"start": 1}}, months=24, city=town_and_city)
    centre_to_centre = (base.travel_time[0, 4], fast.travel_time[0, 4])
    assert centre_to_centre == pytest.approx((60.0, 36.0))
    # market access follows the travel times: the town now reaches the city and beyond
    town = slice(0, 4)
    assert (fast.market_potential[town] > 1.2 * base.market_potential[town]).all()
    assert (fast.market_access[town] > base.market_access[town]).all()
    assert town_commuters_to_city(fast) > 3 * town_commuters_to_city(base) + 20
    assert fast.policy_table()["spent"].tolist() == [2_500_000]


def test_transport_drains_the_small_town_toward_the_large_city():
    """Failure mode (Qin 2017; Diao 2018): a faster link costs the town its creative jobs."""
    for seed in SEEDS:
        base, fast = pair({"transport": {"start": 1}}, months=48, seed=seed, city=town_and_city)
        jobs = ts(base)["creative_employment"].iloc[-1], ts(fast)["creative_employment"].iloc[-1]
        assert jobs[1] < 0.8 * jobs[0]
        city_jobs = [
            pd.DataFrame(m.place_records).query("place == 'Bigcity'")["creative_employment"]
            for m in (base, fast)
        ]
        assert city_jobs[1].iloc[-1] > city_jobs[0].iloc[-1]


def test_transport_drains_the_generated_region_too():
    # the default region, as users get it: its spin-ups are the stationarity checks' (the
    # test run's spin-up cache), a town of 6,000 next to a city of 150,000 until 8 December
    for seed in (0, 1):
        spin_up = STATIONARY["months"]
        base = simulate("region", steps=36, seed=seed, spin_up=spin_up)
        fast = simulate(
            "region",
            "[transport]",
            steps=36,
            seed=seed,
            overrides=["policy.transport.start=1"],
            spin_up=spin_up,
        )
        assert fast.policies["status"].tolist() == ["active"]
        # the town's creative jobs drain to the city, whose firms now reach the town's
        # households and whose jobs its residents now reach (last year of three), though
        # the town also reaches more outside buyers (seed 0: 180 -> 51 jobs, seed 1: 167 -> 52)
        jobs = [r.timeseries["creative_employment"].iloc[-12:].mean() for r in (base, fast)]
        assert jobs[1] < 0.8 * jobs[0], jobs


def test_transport_in_a_one_place_city_improves_the_roads_at_its_centre():
    base, fast = pair({"transport": {"start": 1}}, months=2, city=path_city)
    assert fast.travel_time[0, 1] == pytest.approx(0.6 * base.travel_time[0, 1])
    assert fast.travel_time[1, 2] == pytest.approx(base.travel_time[1, 2])


def test_transport_leaves_the_callers_graph_untouched():
    graph = town_and_city()
    model = CreativeClusterModel(rng=0, city=graph, policy={"transport": {"start": 1}})
    model.step()
    assert graph.edges[0, 4]["travel_time"] == 60.0
    assert model.graph.edges[0, 4]["travel_time"] == pytest.approx(36.0)


def test_lever_that_cannot_pay_its_one_off_cost_never_acts():
    model = CreativeClusterModel(
        rng=0,
        city=town_and_city(),
        policy={"transport": {"start": 2}},
        institutions={"municipality_budget": 1_000_000},
    )
    model.run_for(4)
    row = model.policy_table().iloc[0]
    assert row["status"] == "stopped" and row["stop_step"] == 2
    assert row["stop_reason"].startswith("budget exhausted: one-off cost of 2,500,000 EUR")
    assert model.travel_time[0, 4] == 60.0
    assert ts(model)["policy_spend"].sum() == 0
