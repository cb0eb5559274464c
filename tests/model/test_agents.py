"""Tests for clustersim.model.agents: the per-agent face of the arrays and the institutions."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim.model.agents import CreativeFirm, Municipality, Talent, University
from clustersim.model.core import CreativeClusterModel
from clustersim.model.sectors import SECTOR_NAMES


@pytest.fixture
def model():
    return CreativeClusterModel(rng=0, city="small_town", population=3000)


# ---------------------------------------------------------------- Municipality


def test_municipality_pays_within_budget_and_books_per_payee(model):
    town = model.municipality
    town.budget = 100.0
    assert town.pay(30.0, "hub")
    assert town.pay(20.0, "festival")
    assert town.pay(10.0, "hub")
    assert town.budget == pytest.approx(40.0)
    assert town.spent_total == pytest.approx(60.0)
    assert town.spent_this_step == {"hub": pytest.approx(40.0), "festival": pytest.approx(20.0)}


def test_municipality_refuses_payments_above_its_budget(model):
    town = model.municipality
    town.budget = 50.0
    assert not town.pay(50.01, "hub")
    assert town.budget == 50.0
    assert town.spent_total == 0.0
    assert "hub" not in town.spent_this_step
    assert town.pay(50.0, "hub")  # exactly the budget is fine
    assert town.budget == pytest.approx(0.0)


def test_municipality_rejects_negative_payments(model):
    with pytest.raises(ValueError, match="payment"):
        model.municipality.pay(-1.0, "hub")


def test_municipality_month_adds_income_and_resets_the_monthly_booking(model):
    town = Municipality(model, 0, budget=100.0, monthly_income=25.0)
    town.pay(60.0, "hub")
    town.step()
    assert town.budget == pytest.approx(65.0)
    assert town.spent_this_step == {}
    assert town.spent_total == pytest.approx(60.0)


# ---------------------------------------------------------------------- Talent


def test_talent_agents_read_the_talent_arrays(model):
    t = model.talents
    assert len(model.talent_agents) == t.n
    for i, agent in enumerate(model.talent_agents):
        assert isinstance(agent, Talent)
        assert agent.index == i
        assert agent.sector == SECTOR_NAMES[t.sector[i]]
        assert agent.skill == t.skill[i]
        assert agent.amenity_taste == t.taste[i]
        assert agent.home == t.home[i]


def test_talent_employer_is_the_firm_agent_or_none(model):
    t = model.talents
    employed = np.flatnonzero(t.employer >= 0)
    unemployed = np.flatnonzero(t.employer < 0)
    assert len(employed) > 0 and len(unemployed) > 0
    for i in employed:
        employer = model.talent_agents[i].employer
        assert isinstance(employer, CreativeFirm)
        assert employer.index == t.employer[i]
    for i in unemployed:
        assert model.talent_agents[i].employer is None


def test_talent_income_is_wage_when_employed_and_unemployment_income_otherwise(model):
    t = model.talents
    income = model.talent_income()
    unemployed = np.flatnonzero(t.employer < 0)
    for i in range(t.n):
        assert model.talent_agents[i].income == pytest.approx(income[i])
    for i in unemployed:
        assert model.talent_agents[i].income == model.params.talent.unemployment_income


def test_talent_properties_follow_changes_to_the_arrays(model):
    agent = model.talent_agents[0]
    model.talents.sector[0] = 5
    model.talents.home[0] = 3
    model.talents.put("employer", [0], -1)  # employer is written through put
    assert agent.sector == SECTOR_NAMES[5]
    assert agent.home == 3
    assert agent.employer is None


# ---------------------------------------------------------------- CreativeFirm


def test_firm_agents_read_the_firm_arrays(model):
    f = model.firms
    assert len(model.firm_agents) == f.n
    for i, firm in enumerate(model.firm_agents):
        assert firm.index == i
        assert firm.sector == SECTOR_NAMES[f.sector[i]]
        assert firm.node == f.node[i]
        assert firm.cell.coordinate == f.node[i]
        assert firm.employees == f.employees[i]
        assert firm.productivity == f.productivity[i]
        assert firm.cash == f.cash[i]
        assert firm.age == model.steps - f.founded[i]


def test_firm_employees_count_the_talents_employed_there(model):
    employer = model.talents.employer
    for firm in model.firm_agents:
        assert firm.employees == int((employer == firm.index).sum())


def test_firm_age_grows_by_one_each_month(model):
    model.firms.cash[:] = 1e9  # no firm runs out of cash
    firm = model.firm_agents[0]
    age = firm.age
    model.step()
    model.step()
    assert firm.age == age + 2


def test_firm_collaborators_list_its_tie_partners(model):
    model.add_collaboration_ties([[0, 3], [1, 0]])
    assert model.firm_agents[0].collaborators == [1, 3]
    assert model.firm_agents[3].collaborators == [0]
    assert model.firm_agents[2].collaborators == []


# ------------------------------------------------------------------ University


def test_university_graduates_average_a_twelfth_of_the_yearly_number(model):
    uni = University(model, 0, graduates_per_year=120.0)
    draws = [uni.graduates_this_month() for _ in range(4000)]
    assert np.mean(draws) == pytest.approx(10.0, abs=0.3)
    none = University(model, 0, graduates_per_year=0.0)
    assert none.graduates_this_month() == 0


# --------------------------------------------------------- CulturalInstitution


def test_new_cultural_institution_raises_amenity_around_it_from_next_month():
    plain = CreativeClusterModel(rng=0, city="small_town", population=3000)
    with_museum = CreativeClusterModel(rng=0, city="small_town", population=3000)
    node = int(np.argmin(with_museum.amenity))
    with_museum.add_cultural_institution(node, 0.2)
    assert with_museum.amenity[node] == plain.amenity[node]
    plain.step()
    with_museum.step()
    assert with_museum.amenity[node] == pytest.approx(plain.amenity[node] + 0.2)
    assert np.all(with_museum.amenity >= plain.amenity)


# ------------------------------------------------------------------- Incubator


def make_young(model, firms):
    """Make only the given firms young (founded this month) and keep every firm solvent."""
    f = model.firms
    f.founded[:] = -100
    f.founded[firms] = model.steps
    f.cash[:] = 1e9


def test_incubator_admits_young_firms_up_to_capacity(model):
    make_young(model, [0, 1, 2, 3, 4])
    hub = model.add_incubator(0, 3, months=2)
    model.step()
    tenants = hub.tenants()
    assert len(tenants) == 3
    assert set(tenants.tolist()) <= {0, 1, 2, 3, 4}
    f = model.firms
    np.testing.assert_array_equal(f.incubator[tenants], hub.unique_id)
    np.testing.assert_array_equal(f.incubated_since[tenants], 1)
    assert np.all(f.ever_incubated[tenants] == 1)


def test_incubator_never_admits_old_firms(model):
    make_young(model, [])
    hub = model.add_incubator(0, 10, months=2)
    model.step()
    assert len(hub.tenants()) == 0


def test_incubator_graduates_tenants_after_its_programme_and_admits_new_ones(model):
    make_young(model, [0, 1, 2, 3, 4])
    hub = model.add_incubator(0, 3, months=2)
    model.step()
    first = set(hub.tenants().tolist())
    model.step()
    assert set(hub.tenants().tolist()) == first
    assert hub.graduated == 0
    model.step()
    assert hub.graduated == 3
    f = model.firms
    for firm in first:
        assert f.incubator[firm] == -1
        assert f.ever_incubated[firm] == 1
    second = set(hub.tenants().tolist())
    assert set(range(5)) - first <= second  # the two young firms left waiting get in
    assert len(second) <= 3
    assert not first & second  # graduates are not admitted again
    assert all(model.steps - f.founded[i] <= 12 for i in second)
