"""Per-step aggregates: the census of the tables, employee counts, incomes."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim import CreativeClusterModel
from clustersim.model.phases import (
    demography,
    fields,
    labour,
    moves,
    policies,
    production,
    rents,
    ties,
)
from clustersim.model.phases.aggregates import (
    Census,
    count_employees,
    effective_labour,
    employed_income,
    employed_rows,
    living_income,
    match_factor,
    per_place,
    talent_income,
    talents_by_node_sector,
    unemployed_rows,
)
from clustersim.model.phases.recording import start_month
from conftest import uniform_city


@pytest.fixture
def model():
    m = CreativeClusterModel(rng=0, city="small_town", population=4000)
    m.run_for(6)
    return m


def test_census_counts_living_firms_jobs_and_talents(model):
    census = Census.of(model)
    t, f = model.talents, model.firms
    assert census.firms_at.sum() == f.alive.sum()
    assert census.jobs_at.sum() == (t.alive & (t.employer >= 0)).sum()
    np.testing.assert_array_equal(census.jobs.sum(axis=1), census.jobs_at)
    assert census.talents_at.sum() == t.alive.sum()
    for node in range(model.n_nodes):
        assert census.firms_at[node] == (f.alive & (f.node == node)).sum()
        assert census.talents_at[node] == (t.alive & (t.home == node)).sum()
    np.testing.assert_array_equal(talents_by_node_sector(model).sum(axis=1), census.talents_at)


def test_the_census_after_moves_still_counts_the_tables_at_recording():
    """Rents and ties change no firm, job or home: the step may reuse one census."""
    model = CreativeClusterModel(rng=3, city=uniform_city(4, 5000))
    for _ in range(6):
        start_month(model)
        policies.act(model)
        fields.refresh_fields(model)
        census = Census.of(model)
        production.produce(model, census, pay=True)
        before_labour = census.talents_at.copy()
        labour.clear_labour_market(model, census)
        np.testing.assert_array_equal(Census.of(model).talents_at, before_labour)
        demography.exit_firms(model)
        demography.enter_firms(model)
        moves.move_talents(model)
        census = Census.of(model)
        rents.update_rents(model, census)
        ties.form_ties(model, census)
        after = Census.of(model)
        for name in ("firms_at", "jobs", "jobs_at", "talents_at"):
            np.testing.assert_array_equal(getattr(after, name), getattr(census, name))


def test_count_employees_follows_employers_and_keeps_the_peak(model):
    f, t = model.firms, model.talents
    firm = int(np.argmax(f.employees))
    peak = int(f.employees[firm])
    staff = np.flatnonzero(t.alive & (t.employer == firm))
    t.put("employer", staff[1:], -1)
    count_employees(model)
    assert f.employees[firm] == 1
    assert f.peak_employees[firm] == peak


def test_who_is_employed_follows_every_hire_departure_and_new_talent(model):
    t, f = model.talents, model.firms

    def brute_force():
        employed = np.flatnonzero(t.alive & (t.employer >= 0))
        idle = np.flatnonzero(t.alive & (t.employer < 0))
        labour = np.bincount(
            t.employer[employed],
            weights=t.skill[employed] * match_factor(model, employed),
            minlength=f.n,
        )
        return employed, idle, labour

    def check():
        employed, idle, labour = brute_force()
        np.testing.assert_array_equal(employed_rows(model), employed)
        np.testing.assert_array_equal(unemployed_rows(model), idle)
        np.testing.assert_array_equal(effective_labour(model), labour)
        rows, income = employed_income(model)
        np.testing.assert_array_equal(rows, employed)
        np.testing.assert_array_equal(income, talent_income(model, employed))
        np.testing.assert_array_equal(living_income(model), talent_income(model, t.live))

    check()
    worker = int(employed_rows(model)[0])
    t.put("employer", [worker], -1)  # a job ends
    check()
    t.put("employer", [worker], int(f.live[-1]))  # a hire
    check()
    t.mark_gone([int(unemployed_rows(model)[0])])  # a talent leaves
    check()
    t.append(2, alive=True, employer=[int(f.live[0]), -1], skill=[1.5, 0.5])  # newcomers
    check()
    with pytest.raises(ValueError, match="read-only"):
        t.employer[worker] = -1  # in place, behind the cache's back: refused


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_talent_who_leaves_keeps_no_employer_so_the_employed_are_living(seed):
    """employed_rows lists the rows with an employer: it counts on the gone having none."""
    policy = {
        "creative_hub": {"start": 2},
        "talent_attraction": {"start": 1},
        "tax_incentive": {"start": 1},
        "festival": {"start": 3},
    }
    model = CreativeClusterModel(
        rng=seed, city="hodmezovasarhely", spin_up={"months": 24}, policy=policy
    )
    t = model.talents
    for _ in range(24):
        model.step()
        gone = ~t.alive
        assert gone.any()
        assert (t.employer[gone] == -1).all()
        live = t.live
        np.testing.assert_array_equal(employed_rows(model), live[t.employer[live] >= 0])
        np.testing.assert_array_equal(unemployed_rows(model), live[t.employer[live] < 0])


def test_income_is_the_wage_of_the_employers_place_times_skill(model):
    t, f = model.talents, model.firms
    employed = np.flatnonzero(t.alive & (t.employer >= 0))
    idle = np.flatnonzero(t.alive & (t.employer < 0))
    income = talent_income(model)
    employer = t.employer[employed]
    same = f.sector[employer] == t.sector[employed]
    expected = model.wage[model.place[f.node[employer]]] * t.skill[employed]
    cross = model.params.labour.cross_sector_productivity
    pay = f.pay_ratio[employer]  # owners of one-person firms draw what the firm can pay
    np.testing.assert_allclose(income[employed], np.where(same, 1.0, cross) * expected * pay)
    assert ((pay == 1.0) | (f.employees[employer] == 1)).all()
    assert (pay < 1.0).any()
    assert (income[idle] == model.params.talent.unemployment_income).all()
    np.testing.assert_array_equal(model.talent_income(employed), income[employed])


def test_per_place_sums_node_values_over_each_place(model):
    values = np.arange(model.n_nodes, dtype=float)
    assert per_place(model, values).sum() == values.sum()
    assert len(per_place(model, values)) == len(model.place_names)


def test_living_income_is_kept_while_wages_pay_and_benefit_hold(model):
    """Rents and recording read the same month's incomes: computed once, never stale."""
    t, f = model.talents, model.firms
    first = living_income(model)
    assert living_income(model) is first  # same employment, same inputs: kept
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 0.0  # shared by its readers

    def fresh():
        return talent_income(model, t.live)

    model.wage = model.wage * 1.1  # the labour market sets new wages
    np.testing.assert_array_equal(living_income(model), fresh())
    assert not np.array_equal(living_income(model), first)
    worker = int(employed_rows(model)[0])
    f.pay_ratio[t.employer[worker]] = 0.5  # production writes pay ratios in place
    np.testing.assert_array_equal(living_income(model), fresh())
    model.params.talent.unemployment_income += 100.0  # a lever raises the benefit
    np.testing.assert_array_equal(living_income(model), fresh())
    t.put("employer", [worker], -1)  # a job ends: who works where is taken again
    np.testing.assert_array_equal(living_income(model), fresh())
