"""The monthly phases, each on a tiny model: what one phase reads and writes."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from clustersim import CreativeClusterModel
from clustersim.model.phases import (
    accounts,
    demography,
    fields,
    labour,
    moves,
    policies,
    production,
    recording,
    rents,
    ties,
)
from clustersim.model.phases.aggregates import Census, talent_income
from clustersim.model.state import FirmOrigin, TalentOrigin
from conftest import uniform_city
from lever_runs import town_and_city


def tiny(seed=0, **groups):
    return CreativeClusterModel(rng=seed, city=uniform_city(3, 3000), **groups)


def test_a_step_is_the_phases_in_the_order_of_the_process_overview():
    by_step, by_phases = tiny(4), tiny(4)
    by_step.run_for(6)
    for _ in range(6):
        _step_like_mesa(by_phases)
    pd.testing.assert_frame_equal(pd.DataFrame(by_step.records), pd.DataFrame(by_phases.records))
    pd.testing.assert_frame_equal(by_step.talent_table(), by_phases.talent_table())


def _step_like_mesa(model):
    """One month, phase by phase (Mesa counts the month before it calls ``step``)."""
    model.steps += 1
    recording.start_month(model)
    policies.act(model)
    fields.refresh_fields(model)
    census = Census.of(model)
    production.produce(model, census, pay=True)
    accounts.pay_dividends(model)
    labour.clear_labour_market(model, census)
    demography.exit_firms(model)
    demography.enter_firms(model)
    moves.move_talents(model)
    census = Census.of(model)
    rents.update_rents(model, census)
    accounts.settle(model, census)
    ties.form_ties(model, census)
    recording.record(model, census)


# ---------------------------------------------------------------- fields


def test_fields_add_the_policy_amenity_bonus_and_cap_amenity():
    model = tiny()
    before = model.amenity.copy()
    model.amenity_bonus[1] += 0.2
    model.amenity_bonus[2] += 5.0
    fields.refresh_fields(model)
    assert model.amenity[1] == pytest.approx(before[1] + 0.2)
    assert model.amenity[2] == 1.5
    assert model.amenity[0] == before[0]


def test_reach_follows_a_changed_travel_time():
    model = CreativeClusterModel(rng=0, city=uniform_city(3, 3000, complete=False))
    far = model.commute_reach[0, 2]
    model.set_travel_time(1, 2, 1.0)
    assert model.travel_time[0, 2] == pytest.approx(11.0)
    assert model.commute_reach[0, 2] > far


def test_agglomeration_counts_the_jobs_within_a_few_minutes_not_the_firms():
    model = CreativeClusterModel(rng=0, city=uniform_city(3, 3000, complete=False, travel_time=3))
    reach = model.agglomeration_reach
    np.testing.assert_allclose(reach[0], [1.0, np.exp(-1.0), np.exp(-2.0)])
    jobs = np.array([100.0, 0.0, 0.0])
    g = fields.agglomeration(model, jobs)
    fp = model.params.firm
    assert g[0] == pytest.approx(100.0**fp.agglomeration_elasticity)
    assert g[0] > g[1] > g[2] > 1.0
    # one firm of 100 or 100 firms of one: the same density, the same benefit
    assert fields.agglomeration(model, jobs, own_jobs=1.0)[0] == pytest.approx(
        101.0**fp.agglomeration_elasticity
    )


def test_travel_times_are_indexed_by_node_id_whatever_order_nodes_were_added_in():
    graph = nx.Graph()
    graph.add_nodes_from([2, 0, 1])
    graph.add_edge(0, 1, travel_time=10.0)
    graph.add_edge(1, 2, travel_time=30.0)
    times = fields.shortest_travel_times(graph)
    np.testing.assert_array_equal(times, [[0, 10, 40], [10, 0, 30], [40, 30, 0]])


# ------------------------------------------------------------ production


def test_pricing_without_pay_changes_no_cash_and_draws_no_random_numbers():
    model = tiny()
    cash = model.firms.cash.copy()
    state = model.rng.bit_generator.state
    production.produce(model, Census.of(model), pay=False)
    np.testing.assert_array_equal(model.firms.cash, cash)
    assert model.rng.bit_generator.state == state


def test_paying_books_profit_as_cash_and_subsidy_as_received():
    model = tiny()
    f = model.firms
    f.subsidy[:] = 100.0
    cash = f.cash.copy()
    production.produce(model, Census.of(model), pay=True)
    alive = f.alive
    np.testing.assert_allclose(f.cash[alive], cash[alive] + f.profit[alive])
    assert (f.subsidy_received[alive] == 100.0).all()
    assert model.market.local_price.shape == (model.n_nodes, model.n_sectors)


@pytest.mark.parametrize("visitors", [0.0, 2000.0])
def test_local_sales_are_the_same_with_and_without_reusing_the_prices_product(
    visitors, monkeypatch
):
    """Households alone reuse the prices' reach product; the sales are bit for bit those
    of computing it again (and with visitors too, who take the long way)."""
    model = CreativeClusterModel(rng=4, city="medium_city", spin_up={"months": 0})
    model.run_for(2)
    model.visitor_budget = np.full(model.n_nodes, visitors)
    f, census = model.firms, Census.of(model)
    alive = f.live
    args = (model, census, f.node[alive], f.sector[alive], 10.0 + f.productivity[alive])
    reused = []
    same_bits = production._same_bits
    monkeypatch.setattr(
        production, "_same_bits", lambda a, b: reused.append(same_bits(a, b)) or reused[-1]
    )
    sales = production._local_market(*args)
    monkeypatch.setattr(production, "_same_bits", lambda a, b: False)
    again = production._local_market(*args)
    assert reused == ([True] if visitors == 0 else [False, False])
    for part in ("spent", "sold", "budget"):
        for name in ("households", "visitors", "policy"):
            assert getattr(sales, part)[name].tobytes() == getattr(again, part)[name].tobytes()
    assert sales.price.tobytes() == again.price.tobytes()
    assert sales.sold["households"].sum() > 0


def test_outside_buyers_pay_the_going_price_at_month_0_and_less_for_more():
    """Outside demand is anchored at month 0; more exports then sell at a lower price."""
    model = CreativeClusterModel(rng=0, city="small_town")
    assert model.export_price_factor == pytest.approx([1.0])
    alive = model.firms.alive
    model.firms.productivity[alive] *= 2.0
    production.produce(model, Census.of(model), pay=False)
    sigma = model.params.firm.external_demand_elasticity
    assert model.export_price_factor[0] == pytest.approx(2.0 ** (-1.0 / sigma), rel=0.05)
    assert model.market.external_price.max() < production._external_prices(model).max()


def test_a_price_taker_place_sells_any_volume_at_the_going_price():
    model = CreativeClusterModel(
        rng=0, city="small_town", firm={"external_demand_elasticity": None}
    )
    model.firms.productivity[model.firms.alive] *= 2.0
    production.produce(model, Census.of(model), pay=False)
    assert model.export_price_factor == pytest.approx([1.0])


def test_unit_revenue_mixes_local_and_external_prices_by_local_share():
    market = production.Market(
        local_price=np.array([[2.0, 2.0]]),
        external_price=np.array([[10.0, 10.0]]),
        spillover=np.array([[1.0, 3.0]]),
    )
    np.testing.assert_allclose(market.unit_revenue(np.array([1.0, 0.5])), [[2.0, 18.0]])


# --------------------------------------------------------------- labour


def test_labour_market_keeps_counts_and_reach_and_moves_wages_at_most_one_percent():
    model = tiny(2)
    wage = model.wage.copy()
    labour.clear_labour_market(model, Census.of(model))
    t, f = model.talents, model.firms
    employed = t.alive & (t.employer >= 0)
    np.testing.assert_array_equal(np.bincount(t.employer[employed], minlength=f.n), f.employees)
    assert (f.employees[f.alive] >= 0).all()
    assert np.all(np.abs(model.wage / wage - 1) <= 0.01 + 1e-12)
    assert len(model.open_vacancies) == f.n


# ------------------------------------------------------------ demography


def test_a_firm_out_of_cash_exits_with_its_ties_and_jobs():
    model = tiny()
    a, b, c = np.flatnonzero(model.firms.alive)[:3]
    model.add_collaboration_ties([[a, b], [b, c]])
    model.firms.cash[a] = -1.0
    model.params.firm.young_exit_hazard = model.params.firm.mature_exit_hazard = 0.0
    demography.exit_firms(model)
    assert not model.firms.alive[a]
    assert model.ties.tolist() == [[b, c]]
    assert not (model.talents.employer == a).any()
    assert model.exits_by_node.sum() == 1


def test_new_firms_are_start_ups_and_spin_offs_employing_their_founders():
    model = tiny(1, firm={"spinoff_rate": 0.2, "entrepreneurship_rate": 0.5})
    production.produce(model, Census.of(model), pay=False)
    n_before = model.firms.n
    demography.enter_firms(model)
    f, t = model.firms, model.talents
    new = np.arange(n_before, f.n)
    origins = set(f.origin[new].tolist())
    assert origins == {FirmOrigin.START_UP, FirmOrigin.SPIN_OFF}
    spin = new[f.origin[new] == FirmOrigin.SPIN_OFF]
    assert (f.parent[spin] >= 0).all() and (f.parent[spin] < n_before).all()
    start = new[f.origin[new] == FirmOrigin.START_UP]
    assert (f.parent[start] == -1).all()
    assert start.max() < spin.min()  # the start-ups' rows first, then the spin-offs'
    assert (f.employees[new] == 1).all()
    assert set(t.employer[t.alive].tolist()) >= set(new.tolist())
    assert model.births_by_node.sum() == len(new)


def _founders_travel(weight: float) -> float:
    """Mean minutes from 3,000 founders' home (node 0 of a 10-minute path) to their node."""
    model = CreativeClusterModel(
        rng=0, city=uniform_city(5, 3000, complete=False), firm={"home_distance_weight": weight}
    )
    origins = np.zeros(3000, dtype=np.int64)
    sectors = np.zeros(3000, dtype=np.int64)
    success = np.zeros((model.n_nodes, model.n_sectors))
    nodes = demography._founder_nodes(model, origins, sectors, success)
    return float(model.travel_time[0, nodes].mean())


def test_founders_stay_nearer_home_the_more_home_weighs():
    anywhere, near, home = _founders_travel(0.0), _founders_travel(3.0), _founders_travel(30.0)
    assert anywhere > 1.5 * near  # measured: 20 and 11 minutes
    assert home < 1.0  # a weight of 30 per hour keeps nearly everyone at home


# ---------------------------------------------------------------- moves


class Recruiter:
    """A stand-in lever that remembers whom it attracted."""

    def __init__(self):
        self.came = []

    def on_attracted(self, ids):
        self.came.extend(ids.tolist())


def test_attracted_prospects_arrive_with_policy_origin_and_reach_their_lever():
    model = tiny(0, talent={"immigration_rate": 0.0})
    recruiter = Recruiter()
    model.attract_talents(200, [1], 50.0, recruiter)
    moves.move_talents(model)
    t = model.talents
    assert len(recruiter.came) > 150
    came = np.array(recruiter.came)
    assert (t.origin[came] == TalentOrigin.POLICY).all()
    assert (t.home[came] == 1).all()
    assert model.attraction_requests == []
    newcomers = np.flatnonzero(t.origin == TalentOrigin.POLICY)
    np.testing.assert_array_equal(np.sort(came), newcomers)


@pytest.mark.parametrize("choice_set_size", [100, 3])
def test_prospects_asked_to_weigh_some_nodes_only_settle_there_or_stay_away(choice_set_size):
    # every node weighed (8 nodes) and sampled choice sets of 3: the others are closed
    model = CreativeClusterModel(
        rng=2,
        city=town_and_city(),
        spin_up={"months": 0},
        talent={"immigration_rate": 0.0, "choice_set_size": choice_set_size},
    )
    town = np.flatnonzero(model.place == model.focus_place)
    recruiter, anywhere = Recruiter(), Recruiter()
    model.attract_talents(400, [int(town[0])], 0.0, recruiter, within=town.tolist())
    model.attract_talents(400, [int(town[0])], 0.0, anywhere)
    moves.move_talents(model)
    homes = model.talents.home
    assert len(recruiter.came) > 100
    assert np.isin(homes[recruiter.came], town).all()
    # without ``within`` most go to the city next door, which has ten times the homes
    assert np.isin(homes[anywhere.came], town).mean() < 0.5


def test_a_request_for_nodes_the_city_does_not_have_is_refused():
    model = tiny()
    with pytest.raises(ValueError, match=r"within must name nodes 0\.\.2"):
        model.attract_talents(5, [0], 1.0, Recruiter(), within=[1, 3])


def _newcomers_by_node(model, prospects=4000):
    recruiter = Recruiter()
    model.attract_talents(prospects, [0], 0.0, recruiter)  # no pull: every node as it is
    moves.move_talents(model)
    return np.bincount(model.talents.home[recruiter.came], minlength=model.n_nodes)


def test_newcomers_choose_a_node_in_proportion_to_its_homes():
    talent = {"immigration_rate": 0.0, "review_rate": 0.0, "ties_weight": 0.0, "size_weight": 1.0}
    groups = dict(talent=talent)
    same = _newcomers_by_node(tiny(0, **groups))
    bigger = tiny(0, **groups)
    bigger.housing_stock[1] *= 4.0  # four times the homes, otherwise the same node
    grown = _newcomers_by_node(bigger)
    others = [n for n in range(same.size) if n != 1]
    odds_same = same[1] / same[others].mean()
    odds_grown = grown[1] / grown[others].mean()
    assert odds_grown / odds_same == pytest.approx(4.0, rel=0.25)
    # and a region of more homes keeps more of those who weigh coming
    assert grown.sum() > same.sum()


def test_without_the_size_term_every_node_is_one_alternative():
    talent = {"immigration_rate": 0.0, "review_rate": 0.0, "ties_weight": 0.0}
    same = _newcomers_by_node(tiny(0, talent=talent))  # the default: size_weight 0
    bigger = tiny(0, talent=talent)
    bigger.housing_stock[1] *= 4.0
    np.testing.assert_array_equal(_newcomers_by_node(bigger), same)


def test_movers_lose_a_job_that_is_out_of_reach():
    model = tiny(0, talent={"review_rate": 1.0})
    moves.move_talents(model)
    t, f = model.talents, model.firms
    employed = t.alive & (t.employer >= 0)
    commute = model.travel_time[t.home[employed], f.node[t.employer[employed]]]
    assert (commute <= model.params.labour.max_commute).all()
    assert (model.talents.retention[t.alive & (t.arrived < model.steps)] == 0).all()


# ---------------------------------------------------------------- rents


def test_visitors_raise_rent_where_they_stay():
    model = tiny()
    model.visitor_demand[2] += 0.5 * model.base_stock[2]
    rents.update_rents(model, Census.of(model))
    assert model.rent[2] > model.rent[0]
    assert model.rent[2] > model.base_rent[2]


def _rents_for(model, census, months, extra):
    """Low-income residents at node 2 after each of ``months`` runs of the rents phase, with
    ``extra(month)`` visitor demand there."""
    low_income = []
    for month in range(months):
        model.visitor_demand[2] = extra(month)
        rents.update_rents(model, census)
        low_income.append(model.low_income[2])
    return np.array(low_income)


def test_rents_rise_where_demand_outgrows_the_stock_and_building_eases_them():
    model = tiny(rent={"displacement_rate": 0.0})
    census = Census.of(model)
    start = model.rent.copy()
    path = []
    for _ in range(600):  # 50 years of 30% more demand for space at node 2
        model.visitor_demand[2] = 0.3 * model.base_stock[2]
        rents.update_rents(model, census)
        path.append(model.rent[2])
    np.testing.assert_allclose(model.rent[:2], start[:2])  # nothing changed there
    peak = max(path)
    assert peak > 1.4 * start[2]  # 30% more demand against a fixed stock: rents rise more
    assert model.housing_stock[2] > 1.05 * model.base_stock[2]  # slowly, building responds
    assert path[-1] < 0.97 * peak  # and eases the rent


def test_rents_follow_what_residents_can_pay():
    model = tiny()
    census = Census.of(model)
    start = model.rent.copy()
    model.other_wage = model.other_wage * 1.2  # every other worker earns a fifth more
    for _ in range(120):
        rents.update_rents(model, census)
    assert (model.rent > 1.05 * start).all()
    # their own income rose too: low-income households are no more burdened than before
    assert (model.low_income_burden <= model.params.rent.low_income_burden + 1e-12).all()


def test_a_one_month_spike_displaces_nobody_sustained_crowding_does_after_months():
    months_needed = tiny().params.rent.burden_months
    spike, sustained = tiny(), tiny()
    census = Census.of(spike)
    crowd = 2.0 * spike.base_stock[2]  # rents head for five times their level
    low = _rents_for(spike, census, 24, lambda month: crowd if month == 0 else 0.0)
    assert spike.rent[2] > spike.base_rent[2]  # the spike still shows in the rent
    np.testing.assert_allclose(low, low[0])  # but nobody left
    initial, over, low = sustained.low_income[2], [], []
    for _ in range(24):
        sustained.visitor_demand[2] = crowd
        rents.update_rents(sustained, census)
        over.append(sustained.overburden_months[2])
        low.append(sustained.low_income[2])
    first_over = over.index(1)  # the month the burden first passed the threshold
    first_out = next(month for month, left in enumerate(low) if left < initial)
    assert first_out == first_over + months_needed - 1
    assert low[-1] < 0.95 * initial


def test_a_node_where_nobody_lives_has_some_space_and_a_rent_that_answers_demand():
    """GraphML allows a node of population 0: it gets one unit of space, the occupancy its
    vacancy gives it, and its place's income per person, so its rent follows demand."""
    city = uniform_city(3, 3000)
    city.nodes[2]["population"] = 0
    model = CreativeClusterModel(rng=0, city=city, spin_up={"months": 0})
    census = Census.of(model)
    assert census.talents_at[2] == 0 and model.residents[2] == 0
    assert model.housing_stock[2] == 1.0
    assert model.base_occupancy[2] == pytest.approx(1.0 - model.vacant_space0[2])
    income = rents.income_per_person(model, census)
    assert income[2] == pytest.approx(np.average(income[:2], weights=model.residents[:2]), rel=0.05)
    model.visitor_demand[2] = 5.0
    rents.update_rents(model, census)
    assert model.rent[2] > model.base_rent[2]
    model.visitor_demand[2] = 0.0
    model.run_for(24)
    for name in ("rent", "housing_stock", "low_income_burden", "residents"):
        assert np.isfinite(getattr(model, name)).all(), name


def test_income_per_person_counts_the_living_talents_at_their_homes_not_the_first_rows():
    """Rows of talents who left stay in the table: the income of a node is that of the
    talents living there now (a bug once counted rows 1..k of the table instead)."""
    model = tiny()
    model.run_for(24)
    t = model.talents
    assert t.n > len(t.live) and not t.alive[: len(t.live)].all()  # dead rows among the first
    census = Census.of(model)
    live = t.live
    talents = np.zeros(model.n_nodes)
    np.add.at(talents, t.home[live], talent_income(model, live))
    workers = model.other_workers * model.other_wage[model.place]
    inactive = np.maximum(model.residents - model.other_workers, 0.0)
    inactive = inactive * model.params.households.transfer
    people = model.residents + census.talents_at
    expected = (talents + workers + inactive) / people
    np.testing.assert_allclose(rents.income_per_person(model, census), expected, rtol=1e-12)


def test_space_demand_counts_residents_talents_workspace_and_visitors():
    model = tiny()
    census = Census.of(model)
    demand = rents.space_demand(model, census)
    workspace = model.params.rent.workspace_weight * census.jobs_at
    np.testing.assert_allclose(demand, model.residents + census.talents_at + workspace)
    np.testing.assert_allclose(model.base_occupancy * model.base_stock, demand)


# ----------------------------------------------------------------- ties


def test_ties_join_distinct_living_firms_and_lapse_at_the_decay_rate():
    model = tiny(0, network={"tie_rate": 0.5, "tie_decay": 0.0})
    census = Census.of(model)
    ties.form_ties(model, census)
    pairs = model.ties
    assert len(pairs) > 0
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert model.firms.alive[pairs].all()
    model.params.network.tie_decay = 1.0
    model.params.network.tie_rate = 0.0
    ties.form_ties(model, census)
    assert len(model.ties) == 0


@pytest.mark.parametrize("choice_set_size", [100, 3])
def test_location_choice_in_blocks_of_choosers_chooses_as_in_one_block(
    monkeypatch, choice_set_size
):
    """A big region's choosers are weighed a block at a time, with the same choices.

    Blocks of 50 utilities (a few choosers each) against one block, in a region where a
    university partnership pulls graduates and talent attraction brings prospects (the
    pulls added block by block); with every node weighed (8 nodes) and with sampled
    choice sets of 3 nodes (their corrections added block by block).
    """
    from clustersim.model.phases import moves as moves_phase

    def run():
        model = CreativeClusterModel(
            rng=4,
            city=town_and_city(city_university=True),
            spin_up={"months": 0},
            policy={
                "university_partnership": {},
                "talent_attraction": {},
                "talent_attraction_2": {"recruits_for": "region", "target": "focus"},
            },
            talent={"choice_set_size": choice_set_size},
        )
        model.run_for(12)
        return model

    one = run()
    assert one.graduate_pull.any()
    assert (one.talent_table()["origin"] == "policy").any()
    monkeypatch.setattr(moves_phase, "_BLOCK_ENTRIES", 50)
    blocks = run()
    pd.testing.assert_frame_equal(pd.DataFrame(blocks.records), pd.DataFrame(one.records))
    pd.testing.assert_frame_equal(blocks.talent_table(), one.talent_table())


def test_the_partner_search_keeps_its_distance_weights_until_travel_times_change():
    from clustersim.model import mechanisms as mech
    from clustersim.model.phases import ties as ties_phase

    model = tiny()
    kept = ties_phase._kernel(model)
    assert ties_phase._kernel(model) is kept
    nw = model.params.network
    expected = mech.collaboration_kernel(model.travel_time, model.market_access, nw.distance_scale)
    np.testing.assert_array_equal(kept, expected)
    u, v = next(iter(model.graph.edges))
    model.set_travel_time(u, v, 45.0)
    changed = ties_phase._kernel(model)
    assert changed is not kept
    np.testing.assert_array_equal(
        changed,
        mech.collaboration_kernel(model.travel_time, model.market_access, nw.distance_scale),
    )
    assert not np.array_equal(changed, kept)


def _street_grid(side: int, minutes: float) -> nx.Graph:
    """A square street grid of identical neighbourhoods, ``minutes`` between neighbours."""
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, side), ordering="sorted")
    city = uniform_city(side * side, 3000, minutes)
    grid = nx.Graph(name="Grid")
    grid.add_nodes_from(city.nodes(data=True))
    for i in grid.nodes:
        grid.nodes[i].update(x=float(i % side), y=float(i // side))
    grid.add_edges_from(g.edges, travel_time=minutes, kind="road")
    grid.graph["name"] = "Grid"
    return grid


def test_job_search_over_reachable_nodes_gives_the_runs_of_weighing_every_node(monkeypatch):
    """In a city where most nodes are beyond a commute, the search skips them: same runs."""
    from clustersim.model import draws

    def run():
        model = CreativeClusterModel(rng=2, city=_street_grid(12, 12.0), spin_up={"months": 0})
        model.run_for(8)
        return model

    reach = run().commute_reach
    assert 0.2 < (reach > 0).mean() < 0.5  # most nodes out of reach of most homes
    monkeypatch.setattr(draws, "_DENSE_REACH", 0.0)  # every node weighed, always
    every = run()
    monkeypatch.setattr(draws, "_DENSE_REACH", 2.0)  # reachable nodes only, always
    reachable = run()
    pd.testing.assert_frame_equal(pd.DataFrame(reachable.records), pd.DataFrame(every.records))
    pd.testing.assert_frame_equal(reachable.talent_table(), every.talent_table())
