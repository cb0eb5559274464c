"""The creative hub: tenants pay less, grow faster and network; graduation and closing hurt."""

from __future__ import annotations

import numpy as np

from clustersim import CreativeClusterModel
from conftest import uniform_city
from lever_runs import SEEDS, owners_earnings, stepper


def tie_count(model, firms) -> int:
    """Collaboration ties of ``firms`` (those still alive)."""
    graph = model.collaboration
    return sum(graph.degree(int(i)) for i in firms if i in graph)


def test_creative_hub_tenants_pay_less_and_grow_faster_than_the_same_firms_without_it():
    jobs = np.zeros(2)  # tenants' jobs after a year, summed over the seeds
    for seed in SEEDS:
        base, hub = stepper({"creative_hub": {"start": 1}}, seed=seed)
        base.step()
        hub.step()
        tenants = np.flatnonzero(hub.firms.incubator >= 0)
        assert 0 < len(tenants) <= 12
        # subsidised space and the productivity boost: every tenant sells more, and
        # tenants' owners earn more
        assert (hub.firms.revenue[tenants] > base.firms.revenue[tenants]).all()
        assert owners_earnings(hub, tenants).sum() > owners_earnings(base, tenants).sum()
        base.run_for(11)
        hub.run_for(11)
        # faster growth in sales, and networking among tenants
        assert hub.firms.revenue[tenants].sum() > base.firms.revenue[tenants].sum()
        assert tie_count(hub, tenants) > tie_count(base, tenants)
        jobs += [m.firms.employees[tenants].sum() for m in (base, hub)]
    assert jobs[1] > 1.15 * jobs[0]  # and in jobs


def test_creative_hub_graduates_lose_the_subsidy_at_once():
    """Exit risk after graduation: tenants face full costs in one step (docs/evidence.md, section
    Creative hub and incubator)."""
    for seed in SEEDS:
        model = CreativeClusterModel(
            rng=seed, city=uniform_city(5, 4000), policy={"creative_hub": {"start": 1, "months": 6}}
        )
        model.run_for(6)
        f = model.firms
        tenants = np.flatnonzero(f.alive & (f.incubator >= 0) & (f.incubated_since == 1))
        assert len(tenants) > 0
        before = f.profit[tenants].sum()
        model.step()  # month 7: the six-month programme ends
        assert (f.incubator[tenants] == -1).all()
        assert f.profit[tenants].sum() < before


def test_hub_that_runs_out_of_money_closes_and_its_tenants_lose_their_places():
    model = CreativeClusterModel(
        rng=0,
        city=uniform_city(5, 4000),
        policy={"creative_hub": {"start": 1}},
        institutions={"municipality_budget": 650_000},
    )
    model.run_for(2)
    assert (model.firms.incubator >= 0).sum() > 0
    model.run_for(2)
    assert model.policy_table()["stop_step"].tolist() == [4]
    assert model.incubators == []
    assert (model.firms.incubator == -1).all()
    assert model.firm_table()["ever_incubated"].sum() > 0  # the record of who benefited stays
