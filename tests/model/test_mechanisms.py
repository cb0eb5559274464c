"""Tests for clustersim.model.mechanisms: each rule on tiny hand-built inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim.model import draws
from clustersim.model import mechanisms as mech


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- reach_weights


def test_reach_weights_decay_exponentially_with_travel_time():
    travel_time = np.array([[0.0, 30.0, 90.0]])
    weights = mech.reach_weights(travel_time, 30.0)
    np.testing.assert_allclose(weights, [[1.0, np.exp(-1.0), np.exp(-3.0)]])


def test_reach_weights_are_zero_beyond_max_time_and_kept_at_the_limit():
    travel_time = np.array([[0.0, 60.0, 60.5, 90.0]])
    weights = mech.reach_weights(travel_time, 30.0, max_time=60.0)
    np.testing.assert_allclose(weights, [[1.0, np.exp(-2.0), 0.0, 0.0]])


# -------------------------------------------------------- agglomeration_benefit


def test_agglomeration_benefit_has_a_constant_elasticity_to_density():
    """Doubling density raises output by 2^elasticity, at any density (Ciccone & Hall 1996)."""
    density = np.geomspace(1.0, 1e6, 25)
    benefit = mech.agglomeration_benefit(density, 0.05, 1.0, None)
    ratios = mech.agglomeration_benefit(2 * density, 0.05, 1.0, None) / benefit
    np.testing.assert_allclose(ratios, 2**0.05)
    assert benefit[-1] == pytest.approx(1e6**0.05)


def test_agglomeration_benefit_is_one_below_the_reference_and_flat_beyond_the_cap():
    density = np.array([0.0, 10.0, 50.0, 100.0, 400.0, 5000.0])
    capped = mech.agglomeration_benefit(density, 0.5, 50.0, 400.0)
    np.testing.assert_allclose(capped, [1.0, 1.0, 1.0, 2**0.5, 8**0.5, 8**0.5])
    uncapped = mech.agglomeration_benefit(density, 0.5, 50.0, None)
    assert uncapped[-1] == pytest.approx(10.0)


def test_effective_density_counts_own_jobs_in_full_and_neighbours_discounted():
    travel = np.array([[0.0, 3.0, 30.0], [3.0, 0.0, 27.0], [30.0, 27.0, 0.0]])
    kernel = mech.reach_weights(travel, 3.0)
    density = mech.effective_density(kernel, np.array([100.0, 0.0, 0.0]))
    np.testing.assert_allclose(density, [100.0, 100.0 / np.e, 100.0 * np.exp(-10.0)])


# ---------------------------------------------------------- export_price_factor


def test_export_price_falls_with_volume_at_the_demand_elasticity():
    volume0 = np.full(4, 100.0)
    volume = np.array([100.0, 200.0, 50.0, 1000.0])
    factor = mech.export_price_factor(volume, volume0, 5.0)
    np.testing.assert_allclose(factor, [1.0, 2**-0.2, 2**0.2, 10**-0.2])
    revenue = factor * volume  # sales still rise with volume, less than in proportion
    assert np.all(np.diff(revenue[[2, 0, 1, 3]]) > 0)


def test_a_price_taker_and_a_place_without_start_exports_keep_the_start_price():
    factor = mech.export_price_factor(np.array([500.0, 80.0]), np.array([100.0, 0.0]), None)
    np.testing.assert_allclose(factor, 1.0)
    factor = mech.export_price_factor(np.array([500.0, 80.0]), np.array([100.0, 0.0]), 5.0)
    assert factor[0] < 1.0 and factor[1] == 1.0


# --------------------------------------------------------- sector_mix_spillover


def test_one_sector_node_has_full_specialisation_in_its_sector_only():
    employment = np.array([[10.0, 0.0, 0.0, 0.0]])
    spill = mech.sector_mix_spillover(employment, 0.2, 0.0)
    np.testing.assert_allclose(spill, [[1.2, 1.0, 1.0, 1.0]])


def test_one_sector_node_has_zero_diversity():
    employment = np.array([[10.0, 0.0, 0.0, 0.0]])
    spill = mech.sector_mix_spillover(employment, 0.0, 0.5)
    np.testing.assert_allclose(spill, 1.0)


def test_uniform_sector_mix_has_diversity_one_minus_one_over_sectors():
    sectors = 4
    employment = np.full((1, sectors), 5.0)
    diversity_only = mech.sector_mix_spillover(employment, 0.0, 1.0)
    np.testing.assert_allclose(diversity_only, 1.0 + (1.0 - 1.0 / sectors))
    both = mech.sector_mix_spillover(employment, 0.2, 0.3)
    np.testing.assert_allclose(both, 1.0 + 0.2 / sectors + 0.3 * (1.0 - 1.0 / sectors))


def test_node_without_creative_employment_gets_no_spillover():
    employment = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    spill = mech.sector_mix_spillover(employment, 0.2, 0.2)
    np.testing.assert_allclose(spill[0], 1.0)
    np.testing.assert_allclose(spill[1], [1.2, 1.2, 1.1])


# -------------------------------------------------------------- knowledge_field


def test_knowledge_field_sums_decayed_knowledge_from_each_university():
    travel_time = np.array([[0.0, 15.0, 45.0], [15.0, 0.0, 30.0], [45.0, 30.0, 0.0]])
    field = mech.knowledge_field(travel_time, np.array([0, 2]), 15.0)
    expected = [1.0 + np.exp(-3.0), np.exp(-1.0) + np.exp(-2.0), np.exp(-3.0) + 1.0]
    np.testing.assert_allclose(field, expected)


def test_two_universities_at_one_node_give_twice_the_knowledge():
    travel_time = np.array([[0.0, 15.0], [15.0, 0.0]])
    one = mech.knowledge_field(travel_time, np.array([1]), 15.0)
    two = mech.knowledge_field(travel_time, np.array([1, 1]), 15.0)
    np.testing.assert_allclose(two, 2 * one)


def test_knowledge_field_is_zero_without_universities():
    travel_time = np.zeros((3, 3))
    field = mech.knowledge_field(travel_time, np.array([], dtype=int), 15.0)
    np.testing.assert_array_equal(field, np.zeros(3))


# ------------------------------------------------------------------ firm_output


def test_firm_output_is_linear_in_labour_when_alpha_is_one():
    labour = np.array([1.0, 2.0, 5.0])
    output = mech.firm_output(np.full(3, 2.0), np.full(3, 1.5), labour, 1.0)
    np.testing.assert_allclose(output, 3.0 * labour)


def test_firm_output_has_decreasing_returns_below_alpha_one():
    output = mech.firm_output(np.ones(2), np.ones(2), np.array([1.0, 4.0]), 0.5)
    np.testing.assert_allclose(output, [1.0, 2.0])


def test_firm_without_labour_produces_nothing():
    output = mech.firm_output(
        np.array([3.0, 3.0]), np.array([2.0, 2.0]), np.array([0.0, -1.0]), 0.7
    )
    np.testing.assert_array_equal(output, [0.0, 0.0])


# ------------------------------------------------------------ local_unit_prices

# asymmetric on purpose: households at k reach suppliers at j with weight reach[k, j]
REACH_3 = np.array([[1.0, 0.5, 0.2], [0.3, 1.0, 0.6], [0.1, 0.4, 1.0]])


def test_local_sales_conserve_household_budgets_when_all_have_a_supplier():
    budget = np.array([[100.0, 40.0], [250.0, 10.0], [80.0, 60.0]])
    supply = np.array([[10.0, 0.0], [0.0, 3.0], [30.0, 0.0]])
    price = mech.local_unit_prices(budget, supply, REACH_3, 1e12)
    revenue = (price * supply).sum(axis=0)
    np.testing.assert_allclose(revenue, budget.sum(axis=0))


def test_doubling_supply_halves_local_prices():
    budget = np.array([[100.0], [250.0], [80.0]])
    supply = np.array([[10.0], [4.0], [30.0]])
    price = mech.local_unit_prices(budget, supply, REACH_3, 1e12)
    doubled = mech.local_unit_prices(budget, 2 * supply, REACH_3, 1e12)
    np.testing.assert_allclose(doubled, price / 2)


def test_budget_with_no_supplier_in_reach_leaks_out_of_the_region():
    reach = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    budget = np.array([[100.0], [50.0], [70.0]])
    supply = np.array([[10.0], [0.0], [0.0]])
    price = mech.local_unit_prices(budget, supply, reach, 1e12)
    np.testing.assert_allclose(price[0, 0] * supply[0, 0], 150.0)
    np.testing.assert_allclose(price[:, 0], [15.0, 15.0, 0.0])


def test_price_cap_binds_when_supply_is_scarce():
    budget = np.array([[100.0], [100.0]])
    supply = np.array([[10.0], [50.0]])
    price = mech.local_unit_prices(budget, supply, np.eye(2), 4.0)
    np.testing.assert_allclose(price, [[4.0], [2.0]])


# --------------------------------------------------------------- hiring_targets


def test_hiring_target_sign_follows_margin_minus_target():
    employees = np.array([5, 5, 5, 0])
    margin = np.array([0.3, 0.1, -0.2, 0.5])
    change = mech.hiring_targets(employees, margin, 2.0, 0.1, rng(5))
    assert change[0] >= 1
    assert change[1] == 0
    assert change[2] <= -3
    assert change[3] >= 0


def test_hiring_target_is_exact_when_the_raw_target_is_whole():
    change = mech.hiring_targets(np.array([10, 10]), np.array([0.3, -0.1]), 1.0, 0.1, rng(6))
    np.testing.assert_array_equal(change, [2, -2])


@pytest.mark.parametrize("excess_margin", [0.15, -0.15, 0.04])
def test_stochastic_rounding_of_hiring_targets_keeps_the_expected_value(excess_margin):
    firms = 100_000
    employees = np.full(firms, 10)
    margin = np.full(firms, 0.1 + excess_margin)
    change = mech.hiring_targets(employees, margin, 1.0, 0.1, rng(7))
    raw = 10 * excess_margin
    assert set(np.unique(change)) == {int(np.floor(raw)), int(np.floor(raw)) + 1}
    assert change.mean() == pytest.approx(raw, abs=0.01)


def test_a_firm_of_zero_counts_as_one_for_hiring():
    change = mech.hiring_targets(np.array([0]), np.array([1.1]), 2.0, 0.1, rng(8))
    np.testing.assert_array_equal(change, [2])


# ----------------------------------------------------------------- match_labour


def match(seeker_home, seeker_sector, firm_node, firm_sector, vacancies, reach, cross, seed=0):
    return mech.match_labour(
        np.asarray(seeker_home),
        np.asarray(seeker_sector),
        np.asarray(firm_node),
        np.asarray(firm_sector),
        np.asarray(vacancies),
        np.asarray(reach, float),
        cross,
        rng(seed),
    )


def test_no_firm_hires_more_than_its_vacancies():
    seekers = 500
    vacancies = np.array([2, 0, 5, 1])
    hired, firm = match(
        np.zeros(seekers, int),
        np.zeros(seekers, int),
        [0, 0, 0, 1],
        [0, 0, 0, 0],
        vacancies,
        np.ones((2, 2)),
        0.5,
    )
    per_firm = np.bincount(firm, minlength=4)
    assert np.all(per_firm <= vacancies)
    np.testing.assert_array_equal(per_firm, vacancies)  # 500 seekers fill 8 jobs
    assert len(hired) == vacancies.sum()


def test_each_seeker_is_hired_at_most_once():
    seekers = 300
    hired, firm = match(
        np.arange(seekers) % 3,
        np.arange(seekers) % 2,
        [0, 1, 2, 0],
        [0, 1, 0, 1],
        [100, 100, 100, 100],
        np.ones((3, 3)),
        0.5,
        seed=1,
    )
    assert len(np.unique(hired)) == len(hired) == len(firm)
    assert np.all((hired >= 0) & (hired < seekers))


def test_nobody_is_hired_beyond_commuting_reach():
    seekers = 200
    hired, firm = match(
        np.zeros(seekers, int), np.zeros(seekers, int), [1, 1], [0, 0], [50, 50], np.eye(2), 0.5
    )
    assert len(hired) == 0 and len(firm) == 0


def test_hires_go_only_to_firms_within_reach():
    seekers = 200
    hired, firm = match(
        np.zeros(seekers, int),
        np.zeros(seekers, int),
        [0, 1],
        [0, 0],
        [500, 500],
        np.eye(2),
        0.5,
        seed=2,
    )
    assert len(hired) > 0
    assert set(firm.tolist()) == {0}


def test_without_cross_sector_hiring_only_same_sector_hires_happen():
    seekers = 400
    seeker_sector = np.arange(seekers) % 3
    firm_sector = np.array([0, 1, 0, 1])
    hired, firm = match(
        np.zeros(seekers, int),
        seeker_sector,
        [0, 0, 1, 1],
        firm_sector,
        [50, 50, 50, 50],
        np.ones((2, 2)),
        0.0,
        seed=3,
    )
    assert len(hired) > 0
    np.testing.assert_array_equal(seeker_sector[hired], firm_sector[firm])
    assert not np.any(seeker_sector[hired] == 2)  # no firm of sector 2


def test_application_frequencies_between_two_reachable_nodes_follow_vacancies():
    seekers = 100_000
    big = 10 * seekers  # vacancies never run out, so hires count applications
    hired, firm = match(
        np.zeros(seekers, int),
        np.zeros(seekers, int),
        [0, 1],
        [0, 0],
        [big, 3 * big],
        np.ones((2, 2)),
        0.5,
        seed=4,
    )
    assert len(hired) == seekers
    share = np.bincount(firm, minlength=2) / seekers
    np.testing.assert_allclose(share, [0.25, 0.75], atol=0.01)


def test_application_frequencies_between_firms_at_one_node_follow_vacancies():
    seekers = 100_000
    big = 10 * seekers
    hired, firm = match(
        np.zeros(seekers, int),
        np.zeros(seekers, int),
        [0, 0, 0],
        [0, 0, 0],
        [big, 0, 4 * big],
        np.ones((1, 1)),
        0.5,
        seed=5,
    )
    share = np.bincount(firm, minlength=3) / len(hired)
    np.testing.assert_allclose(share, [0.2, 0.0, 0.8], atol=0.01)


def test_cross_sector_firms_are_weighted_by_cross_sector_factor():
    seekers = 90_000
    big = 10 * seekers
    hired, firm = match(
        np.zeros(seekers, int),
        np.zeros(seekers, int),
        [0, 0],
        [0, 1],
        [big, big],
        np.ones((1, 1)),
        0.5,
        seed=6,
    )
    share = np.bincount(firm, minlength=2) / len(hired)
    np.testing.assert_allclose(share, [2 / 3, 1 / 3], atol=0.01)


def test_match_labour_without_vacancies_or_seekers_hires_nobody():
    hired, firm = match([0, 0], [0, 0], [0], [0], [0], np.ones((1, 1)), 0.5)
    assert len(hired) == 0 and len(firm) == 0
    hired, firm = match(np.zeros(0, int), np.zeros(0, int), [0], [0], [3], np.ones((1, 1)), 0.5)
    assert len(hired) == 0 and len(firm) == 0


def test_match_labour_is_unchanged_by_grouping_seekers_of_one_home_and_sector():
    """The job search gives the hires the seekers' own rows of weights would give."""
    r = np.random.default_rng(9)
    nodes, firms, seekers = 30, 400, 3_000
    travel = r.uniform(0, 90, (nodes, nodes))
    reach = mech.reach_weights((travel + travel.T) / 2, 30.0, max_time=60.0)
    np.fill_diagonal(reach, 1.0)
    home, sector = r.integers(0, nodes, seekers), r.integers(0, 12, seekers)
    firm_node, firm_sector = r.integers(0, nodes, firms), r.integers(0, 12, firms)
    vacancies = r.integers(-2, 4, firms)
    hired, firm = mech.match_labour(
        home, sector, firm_node, firm_sector, vacancies, reach, 0.3, rng(1)
    )
    # the reference: stage 1 drawn from one row of weights per seeker
    g = rng(1)
    open_firms = np.flatnonzero(vacancies > 0)
    vac_ns = np.zeros((nodes, 12))
    np.add.at(vac_ns, (firm_node[open_firms], firm_sector[open_firms]), vacancies[open_firms])
    hiring = np.flatnonzero(vac_ns.sum(axis=1) > 0)
    effective = vac_ns[hiring][:, sector].T * 0.7 + 0.3 * vac_ns.sum(axis=1)[hiring][None, :]
    column = draws.choose_rows(reach[np.ix_(home, hiring)] * effective, g)
    assert len(hired) > 200
    chosen_node = hiring[column[hired]]
    np.testing.assert_array_equal(firm_node[firm], chosen_node)


# -------------------------------------------------------------- expected_income


def test_expected_income_without_jobs_is_unemployment_income():
    income = mech.expected_income(
        np.full((2, 3), 2500.0),
        np.zeros((2, 3)),
        np.full((2, 3), 10.0),
        np.ones((2, 2)),
        900.0,
        0.5,
    )
    np.testing.assert_allclose(income, 900.0)


def test_expected_income_with_plenty_of_jobs_caps_employment_chance_at_097():
    income = mech.expected_income(
        np.full((2, 3), 2500.0),
        np.full((2, 3), 1e6),
        np.full((2, 3), 10.0),
        np.ones((2, 2)),
        900.0,
        0.5,
    )
    np.testing.assert_allclose(income, 0.97 * 2500.0 + 0.03 * 900.0)


def test_expected_income_known_value():
    # 5 jobs for 9 competing talents (plus the chooser): p = 0.5
    income = mech.expected_income(
        np.array([[3000.0]]), np.array([[5.0]]), np.array([[9.0]]), np.array([[1.0]]), 1000.0, 0.5
    )
    np.testing.assert_allclose(income, [[2000.0]])


def test_jobs_of_other_sectors_count_with_the_cross_sector_factor():
    # sector 0 sees 0.5 * 10 jobs for 19 + 1 talents: p = 0.25
    income = mech.expected_income(
        np.array([[2000.0, 2000.0]]),
        np.array([[0.0, 10.0]]),
        np.array([[19.0, 0.0]]),
        np.array([[1.0]]),
        1000.0,
        0.5,
    )
    assert income[0, 0] == pytest.approx(0.25 * 2000.0 + 0.75 * 1000.0)


def test_jobs_out_of_reach_do_not_raise_expected_income():
    income = mech.expected_income(
        np.full((2, 1), 2000.0),
        np.array([[0.0], [100.0]]),
        np.array([[5.0], [5.0]]),
        np.eye(2),
        1000.0,
        0.5,
    )
    assert income[0, 0] == pytest.approx(1000.0)
    assert income[1, 0] == pytest.approx(0.97 * 2000.0 + 0.03 * 1000.0)


# ---------------------------------------------------- talent_location_utilities

# three nodes: 0 and 1 in place 0, node 2 in place 1, 100 minutes from node 0
TRAVEL_TIME = np.array([[0.0, 20.0, 100.0], [20.0, 0.0, 90.0], [100.0, 90.0, 0.0]])
MOVE, PLACE_CHANGE, EMIGRATION = 0.5, 1.0, 2.0


def location_utilities(**overrides):
    kwargs = dict(
        sector=np.array([0]),
        skill=np.array([1.0]),
        amenity_taste=np.array([1.0]),
        home=np.array([0]),
        employer_node=np.array([-1]),
        wage=np.array([0.0]),
        retention=np.array([0.0]),
        node_income=np.full((3, 2), 1000.0),
        amenity=np.zeros(3),
        openness=np.zeros(3),
        rent=np.zeros(3),
        ties=np.zeros((3, 2)),
        log_size=np.zeros(3),
        travel_time=TRAVEL_TIME,
        place=np.array([0, 0, 1]),
        max_commute=60.0,
        wage_weight=1.0,
        openness_weight=1.0,
        rent_weight=1.0,
        commute_weight=1.0,
        ties_weight=1.0,
        move_cost=MOVE,
        place_change_cost=PLACE_CHANGE,
        emigration_cost=EMIGRATION,
        outside_income=1000.0,
        outside_amenity=0.0,
        outside_openness=0.0,
        outside_rent=0.0,
    )
    kwargs.update(overrides)
    return mech.talent_location_utilities(**kwargs)


def test_location_utilities_have_one_column_per_node_plus_leave():
    assert location_utilities().shape == (1, 4)


@pytest.mark.parametrize(
    ("attribute", "value", "gain"),
    [
        ("amenity", 0.5, 0.5),  # taste 1
        ("openness", 0.3, 0.3),  # openness weight 1
        ("rent", 500.0, -0.5),  # rent weight 1, income 1000
        ("log_size", np.log(3.0), np.log(3.0)),  # a node of three times the homes
    ],
)
def test_node_attributes_change_only_that_node_utility(attribute, value, gain):
    base = location_utilities()
    raised = np.zeros(3)
    raised[1] = value
    changed = location_utilities(**{attribute: raised})
    np.testing.assert_allclose(changed - base, [[0.0, gain, 0.0, 0.0]])


def test_splitting_a_node_into_halves_leaves_choice_probabilities_unchanged():
    # a node of H homes split into two of H/2 (same attributes): with the size term
    # each half weighs exp(V + ln(H/2)), together what the whole node weighed
    whole = location_utilities(
        log_size=np.log([2.0, 1.0, 1.0]),
        home=np.array([-1]),
        node_income=np.array([[1000.0, 1000.0], [1500.0, 1000.0], [800.0, 1000.0]]),
    )[0]
    halves = location_utilities(
        log_size=np.log([1.0, 1.0, 1.0, 1.0]),
        home=np.array([-1]),
        node_income=np.array([[1000.0] * 2, [1000.0] * 2, [1500.0, 1000.0], [800.0, 1000.0]]),
        amenity=np.zeros(4),
        openness=np.zeros(4),
        rent=np.zeros(4),
        ties=np.zeros((4, 2)),
        travel_time=np.zeros((4, 4)),
        place=np.zeros(4, dtype=int),
    )[0]
    p_whole = np.exp(whole) / np.exp(whole).sum()
    p_halves = np.exp(halves) / np.exp(halves).sum()
    np.testing.assert_allclose(p_halves[:2].sum(), p_whole[0])
    np.testing.assert_allclose(p_halves[2:], p_whole[1:])


def test_higher_expected_wage_at_a_node_raises_its_utility():
    node_income = np.full((3, 2), 1000.0)
    node_income[2, 0] = 2000.0
    changed = location_utilities(node_income=node_income)
    np.testing.assert_allclose(changed - location_utilities(), [[0.0, 0.0, np.log(2.0), 0.0]])


def test_amenity_counts_in_proportion_to_the_talent_taste():
    amenity = np.array([0.0, 0.4, 0.0])
    u = location_utilities(
        sector=np.array([0, 0]),
        skill=np.ones(2),
        amenity_taste=np.array([0.0, 2.0]),
        home=np.array([0, 0]),
        employer_node=np.array([-1, -1]),
        wage=np.zeros(2),
        retention=np.zeros(2),
        amenity=amenity,
    )
    assert u[0, 1] == pytest.approx(u[0, 0] - MOVE)
    assert u[1, 1] == pytest.approx(u[1, 0] - MOVE + 0.8)


def test_ties_to_the_own_sector_raise_utility():
    ties = np.zeros((3, 2))
    ties[1, 1] = 0.7
    u = location_utilities(
        sector=np.array([0, 1]),
        skill=np.ones(2),
        amenity_taste=np.ones(2),
        home=np.array([0, 0]),
        employer_node=np.array([-1, -1]),
        wage=np.zeros(2),
        retention=np.zeros(2),
        ties=ties,
    )
    assert u[0, 1] == pytest.approx(u[0, 0] - MOVE)
    assert u[1, 1] == pytest.approx(u[1, 0] - MOVE + 0.7)


def test_moving_costs_move_cost_and_another_place_costs_more():
    u = location_utilities()[0]
    assert u[0] - u[1] == pytest.approx(MOVE)
    assert u[0] - u[2] == pytest.approx(MOVE + PLACE_CHANGE)
    assert u[0] - u[3] == pytest.approx(MOVE + PLACE_CHANGE + EMIGRATION)


def test_retention_bonus_applies_to_every_node_of_the_home_place():
    base = location_utilities()
    kept = location_utilities(retention=np.array([0.4]))
    np.testing.assert_allclose(kept - base, [[0.4, 0.4, 0.0, 0.0]])


def test_newcomers_pay_move_and_place_costs_everywhere_and_nothing_to_stay_away():
    resident = location_utilities()[0]
    newcomer = location_utilities(home=np.array([-1]))[0]
    stay_value = resident[0]  # no cost, same attributes everywhere
    np.testing.assert_allclose(newcomer[:3], stay_value - MOVE - PLACE_CHANGE)
    assert newcomer[3] == pytest.approx(np.log(1000.0))
    assert resident[3] == pytest.approx(np.log(1000.0) - MOVE - PLACE_CHANGE - EMIGRATION)


def test_employed_talent_keeps_their_wage_only_within_commuting_reach_of_the_employer():
    unemployed = location_utilities()[0]
    employed = location_utilities(employer_node=np.array([0]), wage=np.array([3000.0]))[0]
    # node 0: own wage, no commute
    assert employed[0] - unemployed[0] == pytest.approx(np.log(3.0))
    # node 1 (20 min away): own wage, minus one third of an hour of commuting
    assert employed[1] - unemployed[1] == pytest.approx(np.log(3.0) - 20.0 / 60.0)
    # node 2 (100 min > 60): the job is lost, so the node's expected income counts
    assert employed[2] == pytest.approx(unemployed[2])
    assert employed[3] == pytest.approx(unemployed[3])


def test_talent_rows_are_independent_of_each_other():
    node_income = np.array([[1000.0, 1500.0], [1200.0, 900.0], [2000.0, 1100.0]])
    common = dict(
        node_income=node_income,
        amenity=np.array([0.2, 0.5, 0.1]),
        openness=np.array([0.3, 0.1, 0.6]),
        rent=np.array([400.0, 300.0, 250.0]),
        ties=np.array([[0.1, 0.2], [0.3, 0.0], [0.0, 0.5]]),
    )
    rows = dict(
        sector=np.array([0, 1, 1]),
        skill=np.array([1.0, 2.5, 0.9]),
        amenity_taste=np.array([1.0, 0.5, 2.0]),
        home=np.array([0, 2, -1]),
        employer_node=np.array([-1, 1, -1]),
        wage=np.array([0.0, 2500.0, 0.0]),
        retention=np.array([0.0, 0.3, 0.0]),
    )
    together = location_utilities(**common, **rows)
    for i in range(3):
        alone = location_utilities(**common, **{k: v[i : i + 1] for k, v in rows.items()})
        np.testing.assert_allclose(together[i : i + 1], alone)
    np.testing.assert_array_equal(common["node_income"], node_income)


# ---------------------------------------------------------- founder_node_utility


def founder_utility(**overrides):
    kwargs = dict(
        unit_revenue=np.full((1, 3), 100.0),
        agglomeration=np.ones(3),
        rent=np.zeros(3),
        success=np.zeros((1, 3)),
        workspace_rent_share=1.0,
        imitation_weight=1.0,
        noise=1.0,
    )
    kwargs.update(overrides)
    return mech.founder_node_utility(**kwargs)


def test_founder_utility_known_value():
    np.testing.assert_allclose(founder_utility(), np.log(100.0))
    np.testing.assert_allclose(founder_utility(noise=2.0), np.log(100.0) / 2.0)


def test_more_agglomeration_makes_a_node_more_attractive_to_founders():
    u = founder_utility(agglomeration=np.array([1.0, 1.5, 1.0]))[0]
    assert u[1] > u[0]
    assert u[1] - u[0] == pytest.approx(np.log(1.5))


def test_higher_rent_makes_a_node_less_attractive_to_founders():
    u = founder_utility(rent=np.array([0.0, 0.0, 50.0]))[0]
    assert u[2] < u[0]
    assert u[0] - u[2] == pytest.approx(0.5)


def test_success_of_nearby_firms_attracts_founders():
    u = founder_utility(success=np.array([[0.0, 0.4, 0.0]]), imitation_weight=2.0)[0]
    assert u[1] - u[0] == pytest.approx(0.8)


# -------------------------------------------------------- collaboration_targets


def test_collaboration_partners_are_never_at_nodes_without_firms():
    travel_time = np.array([[0.0, 10.0, 60.0], [10.0, 0.0, 50.0], [60.0, 50.0, 0.0]])
    source = np.zeros(5000, dtype=int)
    node = mech.collaboration_targets(
        source, np.array([0.0, 0.0, 3.0]), travel_time, np.zeros(3), 20.0, rng(9)
    )
    assert set(np.unique(node)) == {2}


def test_collaboration_targets_minus_one_when_no_firm_exists():
    node = mech.collaboration_targets(
        np.array([0, 1]), np.zeros(2), np.array([[0.0, 5.0], [5.0, 0.0]]), np.zeros(2), 20.0, rng(0)
    )
    np.testing.assert_array_equal(node, [-1, -1])


def test_nearer_nodes_are_chosen_more_often_as_expected():
    travel_time = np.array([[0.0, 10.0, 60.0], [10.0, 0.0, 50.0], [60.0, 50.0, 0.0]])
    draws = 100_000
    node = mech.collaboration_targets(
        np.zeros(draws, dtype=int),
        np.array([0.0, 2.0, 2.0]),
        travel_time,
        np.zeros(3),
        20.0,
        rng(10),
    )
    near, far = np.exp(-10.0 / 20.0), np.exp(-60.0 / 20.0)
    share = np.bincount(node, minlength=3) / draws
    np.testing.assert_allclose(share, [0.0, near / (near + far), far / (near + far)], atol=0.01)


def test_market_access_stretches_the_reach_of_collaboration():
    travel_time = np.array([[0.0, 10.0, 60.0], [10.0, 0.0, 50.0], [60.0, 50.0, 0.0]])
    firms = np.array([0.0, 2.0, 2.0])
    source = np.zeros(50_000, dtype=int)
    low = mech.collaboration_targets(source, firms, travel_time, np.zeros(3), 20.0, rng(11))
    high = mech.collaboration_targets(source, firms, travel_time, np.ones(3), 20.0, rng(11))
    assert (high == 2).mean() > (low == 2).mean() + 0.05
