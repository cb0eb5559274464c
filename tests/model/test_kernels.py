"""Compiled kernels give exactly what their numpy references give, draw for draw."""

from __future__ import annotations

import collections
import os

import numpy as np
import pandas as pd
import pytest

from clustersim import CreativeClusterModel
from clustersim.model import draws, kernels
from clustersim.model import mechanisms as mech
from clustersim.model.draws import ReachableRows
from conftest import run_python

pytest.importorskip("numba")  # the extra clustersim[fast]; CI installs it


@pytest.fixture(autouse=True)
def compiled_for_small_cases(monkeypatch):
    """The compiled search also for the small searches of these tests."""
    monkeypatch.setattr(kernels, "SEARCH_ENTRIES", 0)
    monkeypatch.setattr(kernels, "CHOICE_ENTRIES", 0)
    monkeypatch.setattr(kernels, "MATCH_ENTRIES", 0)
    monkeypatch.setattr(kernels, "CATEGORY_ENTRIES", 0)
    monkeypatch.setattr(kernels, "TIE_ENTRIES", 0)
    monkeypatch.setattr(kernels, "WAGE_ENTRIES", 0)
    monkeypatch.setattr(kernels, "LOGIT_ENTRIES", 0)
    monkeypatch.setattr(kernels, "_numpy_entries", collections.Counter())  # a fresh process


def search_case(seed: int, n_nodes: int, n_sectors: int, seekers: int):
    """A sparse reach matrix, effective vacancies with hiring and idle nodes, seekers' pairs."""
    rng = np.random.default_rng(seed)
    reach = rng.random((n_nodes, n_nodes)) * (rng.random((n_nodes, n_nodes)) < 0.15)
    reach[rng.random(n_nodes) < 0.1] = 0.0  # homes that reach nothing
    effective = rng.random((n_nodes, n_sectors)) * 3 * (rng.random((n_nodes, n_sectors)) < 0.4)
    home = rng.integers(0, n_nodes, seekers)
    sector = rng.integers(0, n_sectors, seekers)
    return home, sector, effective, reach


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_job_search_picks_the_nodes_the_numpy_search_picks(seed, monkeypatch):
    home, sector, effective, reach = search_case(seed, n_nodes=120, n_sectors=5, seekers=3000)
    hiring = effective.any(axis=1)
    rows = ReachableRows(reach)
    assert kernels.enabled()
    compiled = draws.search_nodes(home, sector, effective, reach, hiring, rng(seed), rows)
    monkeypatch.setattr(kernels, "enabled", lambda: False)
    reference = draws.search_nodes(home, sector, effective, reach, hiring, rng(seed), rows)
    np.testing.assert_array_equal(compiled, reference)
    assert (compiled == -1).any() and (compiled >= 0).mean() > 0.5  # both kinds of outcome
    ok = compiled >= 0
    assert (reach[home[ok], compiled[ok]] > 0).all()  # within reach
    assert (effective[compiled[ok], sector[ok]] > 0).all()  # where their sector hires


def rng(seed):
    return np.random.default_rng(1000 + seed)


def test_the_compiled_search_takes_the_reference_s_draws_from_the_generator(monkeypatch):
    home, sector, effective, reach = search_case(7, n_nodes=80, n_sectors=3, seekers=500)
    hiring = effective.any(axis=1)
    after = []
    for compiled in (True, False):
        monkeypatch.setattr(kernels, "enabled", lambda compiled=compiled: compiled)
        generator = rng(7)
        draws.search_nodes(home, sector, effective, reach, hiring, generator, ReachableRows(reach))
        after.append(generator.random())
    assert after[0] == after[1]


def big_city_run():
    from clustersim.model.city import generate

    graph = generate("metropolis", 2_000_000, rng=np.random.default_rng(3), name="Big city")
    model = CreativeClusterModel(rng=4, city=graph, spin_up={"months": 0})
    model.run_for(4)
    return model


@pytest.mark.slow
def test_a_big_city_runs_the_same_with_and_without_the_kernels(monkeypatch):
    monkeypatch.setattr(draws, "_DENSE_REACH", 2.0)  # the search over reachable nodes, always
    monkeypatch.setattr(kernels, "MATCH_ENTRIES", 10**15)  # not the compiled matching
    monkeypatch.setattr(kernels, "_imported", lambda: False)
    calls = []
    search = kernels.search_reachable
    monkeypatch.setattr(kernels, "search_reachable", lambda *a: calls.append(1) or search(*a))
    choices = []
    utilities = kernels.location_utilities
    monkeypatch.setattr(
        kernels, "location_utilities", lambda *a: choices.append(1) or utilities(*a)
    )
    compiled = big_city_run()
    assert len(calls) == 4  # once a month
    assert len(choices) >= 4  # at least a block a month, over sampled choice sets
    monkeypatch.setattr(kernels, "enabled", lambda: False)
    reference = big_city_run()
    pd.testing.assert_frame_equal(pd.DataFrame(compiled.records), pd.DataFrame(reference.records))
    pd.testing.assert_frame_equal(compiled.talent_table(), reference.talent_table())
    pd.testing.assert_frame_equal(compiled.firm_table(), reference.firm_table())
    np.testing.assert_array_equal(compiled.wage, reference.wage)


def test_small_searches_stay_in_numpy(monkeypatch):
    monkeypatch.setattr(kernels, "SEARCH_ENTRIES", 1_000_000)
    monkeypatch.setattr(kernels, "_imported", lambda: False)  # a process without numba yet
    calls = []
    monkeypatch.setattr(kernels, "search_reachable", lambda *a: calls.append(1))
    home, sector, effective, reach = search_case(3, n_nodes=100, n_sectors=4, seekers=400)
    rows = ReachableRows(reach)
    hiring = effective.any(axis=1)
    picks = draws.search_nodes(home, sector, effective, reach, hiring, rng(3), rows)
    assert not calls and len(picks) == 400


def test_a_process_running_many_small_searches_takes_the_kernel_once_numpy_cost_its_import(
    monkeypatch,
):
    home, sector, effective, reach = search_case(3, n_nodes=100, n_sectors=4, seekers=400)
    rows = ReachableRows(reach)
    hiring = effective.any(axis=1)
    entries = int(rows.counts[np.unique(home * 4 + sector) // 4].sum())
    monkeypatch.setattr(kernels, "SEARCH_ENTRIES", entries + 1)  # every search is small
    monkeypatch.setattr(kernels, "PAYBACK_MONTHS", 3)
    monkeypatch.setattr(kernels, "_imported", lambda: False)  # a process without numba yet
    calls, search = [], kernels.search_reachable
    monkeypatch.setattr(kernels, "search_reachable", lambda *a: calls.append(1) or search(*a))
    picks = []
    for month in range(8):
        picks.append(draws.search_nodes(home, sector, effective, reach, hiring, rng(month), rows))
        if month < 3:  # numpy until three months of SEARCH_ENTRIES entries have run in numpy
            assert not calls
    assert len(calls) == 4  # then the kernel, whatever a month's size
    monkeypatch.setattr(kernels, "enabled", lambda: False)
    for month in range(8):  # the same picks as numpy's, month by month
        reference = draws.search_nodes(home, sector, effective, reach, hiring, rng(month), rows)
        np.testing.assert_array_equal(picks[month], reference)


def test_once_numba_is_imported_every_kernel_runs_whatever_a_month_s_size(monkeypatch):
    monkeypatch.setattr(kernels, "TIE_ENTRIES", 1_000)
    monkeypatch.setattr(kernels, "_imported", lambda: False)
    assert not kernels.worth(10, "TIE_ENTRIES")
    monkeypatch.setattr(kernels, "_imported", lambda: True)
    assert kernels.worth(10, "TIE_ENTRIES")
    monkeypatch.setenv(kernels.ENV, "numpy")
    assert not kernels.worth(10, "TIE_ENTRIES")


def test_each_kernel_counts_its_own_payback(monkeypatch):
    monkeypatch.setattr(kernels, "_imported", lambda: False)
    monkeypatch.setattr(kernels, "PAYBACK_MONTHS", 2)
    for name in ("TIE_ENTRIES", "WAGE_ENTRIES"):  # the same minimum, two kernels
        monkeypatch.setattr(kernels, name, 1_000)
    assert not any(kernels.worth(999, "TIE_ENTRIES") for _ in range(3))
    assert kernels.worth(10, "TIE_ENTRIES")  # 2,997 entries: paid back
    assert not kernels.worth(10, "WAGE_ENTRIES")  # the wages' own count: 10


def test_kernels_can_be_switched_off_by_the_environment_at_any_time(monkeypatch):
    assert kernels.enabled()
    monkeypatch.setenv(kernels.ENV, "numpy")
    assert not kernels.enabled()
    assert kernels.search_reachable() is None
    monkeypatch.delenv(kernels.ENV)
    assert kernels.enabled()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_the_compiled_search_treats_non_finite_vacancies_as_the_numpy_search_does(bad, monkeypatch):
    home, sector, effective, reach = search_case(11, n_nodes=60, n_sectors=4, seekers=2000)
    effective[np.random.default_rng(2).random(effective.shape) < 0.1] = bad
    effective[0] = bad  # node 0, which pads the numpy search's short rows
    hiring = effective.any(axis=1)
    rows = ReachableRows(reach)
    compiled = draws.search_nodes(home, sector, effective, reach, hiring, rng(11), rows)
    monkeypatch.setattr(kernels, "enabled", lambda: False)
    reference = draws.search_nodes(home, sector, effective, reach, hiring, rng(11), rows)
    np.testing.assert_array_equal(compiled, reference)


# ------------------------------------------------------------------ location choice
def location_case(seed: int, n_nodes: int = 150, n_sectors: int = 4, choosers: int = 800):
    """Choosers (some newcomers, some employed, some at their employer's node) and nodes."""
    g = np.random.default_rng(seed)
    home = np.where(g.random(choosers) < 0.15, -1, g.integers(0, n_nodes, choosers))
    employer = np.where(g.random(choosers) < 0.6, g.integers(0, n_nodes, choosers), -1)
    employer[home < 0] = -1
    at_home = g.random(choosers) < 0.1
    employer[at_home & (home >= 0)] = home[at_home & (home >= 0)]
    node_income = g.lognormal(7.5, 0.5, (n_nodes, n_sectors)) * (g.random((n_nodes, 1)) > 0.05)
    inputs = dict(
        sector=g.integers(0, n_sectors, choosers),
        skill=g.lognormal(0.0, 0.4, choosers),
        amenity_taste=np.maximum(g.normal(0.5, 0.3, choosers), 0.0),
        home=home,
        employer_node=employer,
        wage=g.lognormal(7.8, 0.3, choosers) * (employer >= 0),
        retention=g.random(choosers) * (g.random(choosers) < 0.3),
        node_income=node_income,  # some nodes with no income at all: clipped to 1
        amenity=g.random(n_nodes),
        openness=g.random(n_nodes),
        rent=g.random(n_nodes) * 900,
        ties=np.log1p(g.poisson(3.0, (n_nodes, n_sectors))),
        log_size=g.normal(0.0, 1.0, n_nodes),
        travel_time=g.random((n_nodes, n_nodes)) * 150,
        place=g.integers(0, 6, n_nodes),
        max_commute=60.0,
        wage_weight=1.3,
        openness_weight=0.7,
        rent_weight=0.9,
        commute_weight=0.45,
        ties_weight=0.35,
        move_cost=1.1,
        place_change_cost=0.8,
        emigration_cost=2.5,
        outside_income=1900.0,
        outside_amenity=0.2,
        outside_openness=0.1,
        outside_rent=300.0,
    )
    return inputs, g


def sampled_sets(inputs, g, always=(3, 17)):
    weights = g.random(len(inputs["amenity"])) + 0.1
    return draws.ChoiceSets.draw(
        inputs["home"], inputs["employer_node"], weights, 60, g, np.array(always, dtype=np.int64)
    )


def assert_same_utilities(inputs, alternatives):
    compiled = mech.talent_location_utilities(**inputs, alternatives=alternatives, compiled=True)
    reference = mech.talent_location_utilities(**inputs, alternatives=alternatives)
    np.testing.assert_array_equal(compiled, reference)  # NaN where NaN, -inf where -inf
    return compiled


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_location_utilities_are_those_of_numpy_over_every_node(seed):
    inputs, _ = location_case(seed)
    utilities = assert_same_utilities(inputs, None)
    assert utilities.shape == (800, 151) and np.isfinite(utilities).all()


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_location_utilities_are_those_of_numpy_over_sampled_sets(seed):
    inputs, g = location_case(seed)
    sets = sampled_sets(inputs, g)
    utilities = assert_same_utilities(inputs, sets)
    # every kind of correction occurs: none (0), drawn (finite, non-zero), ruled out (-inf)
    correction = sets.correction()
    assert (correction == -np.inf).any() and (correction == 0).any()
    assert (np.isfinite(correction) & (correction != 0)).any()
    assert np.isneginf(utilities[:, :-1][np.isneginf(correction)]).all()
    # a block of rows is the same rows of the whole
    block = mech.talent_location_utilities(
        **{k: v[100:300] if k in PER_CHOOSER else v for k, v in inputs.items()},
        alternatives=sets.rows(100, 300),
        compiled=True,
    )
    np.testing.assert_array_equal(block, utilities[100:300])


PER_CHOOSER = ("sector", "skill", "amenity_taste", "home", "employer_node", "wage", "retention")


def test_the_compiled_location_utilities_without_a_size_term_or_pulled_nodes():
    inputs, g = location_case(9)
    inputs["log_size"] = None
    assert_same_utilities(inputs, None)
    assert_same_utilities(inputs, sampled_sets(inputs, g, always=()))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_compiled_location_utilities_treat_non_finite_inputs_as_numpy_does(bad):
    inputs, g = location_case(5)
    for name in ("node_income", "travel_time", "rent", "ties", "amenity"):
        values = inputs[name].copy()
        values[g.random(values.shape) < 0.05] = bad
        inputs[name] = values
    inputs["wage"] = np.where(g.random(len(inputs["wage"])) < 0.05, bad, inputs["wage"])
    utilities = assert_same_utilities(inputs, None)
    assert not np.isfinite(utilities).all()  # the bad values reached the utilities
    assert_same_utilities(inputs, sampled_sets(inputs, g))


def small_town_run():
    model = CreativeClusterModel(rng=5, city="small_town", spin_up={"months": 0})
    model.run_for(12)
    return model


def test_a_town_runs_the_same_with_its_location_choice_compiled(monkeypatch):
    calls = []
    utilities = kernels.location_utilities
    monkeypatch.setattr(kernels, "location_utilities", lambda *a: calls.append(1) or utilities(*a))
    compiled = small_town_run()
    assert len(calls) >= 12  # at least a block a month
    monkeypatch.setattr(kernels, "enabled", lambda: False)
    reference = small_town_run()
    assert len(calls) >= 12
    pd.testing.assert_frame_equal(pd.DataFrame(compiled.records), pd.DataFrame(reference.records))
    pd.testing.assert_frame_equal(compiled.talent_table(), reference.talent_table())


def test_a_small_location_choice_stays_in_numpy(monkeypatch):
    monkeypatch.setattr(kernels, "CHOICE_ENTRIES", 200_000)
    monkeypatch.setattr(kernels, "_imported", lambda: False)  # a process without numba yet
    calls = []
    monkeypatch.setattr(kernels, "location_utilities", lambda *a: calls.append(1))
    model = CreativeClusterModel(rng=5, city="small_town", spin_up={"months": 0})
    model.run_for(2)
    assert not calls


# ------------------------------------------------------------------ logit pick
@pytest.fixture
def matching_logs():
    """Skip where numba's log is not numpy's (numpy's AVX-512 code): the kernel stays off."""
    if not kernels.logs_match():
        pytest.skip("numba's log is not numpy's here (AVX-512)")


def numba_log(x):
    """numba's log of every entry (the kernel's own logarithm, on any machine)."""
    x = np.asarray(x, dtype=np.float64)
    return kernels._compiled(kernels._logs_py)(x.ravel()).reshape(x.shape)


def gumbel_argmin(utilities, u, log=numba_log):
    """The reference's pick, ``argmin(log(-log(1 - u)) - utilities)``, with ``log``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.argmin(log(-log(1.0 - u)) - utilities, axis=1)


def logit_case(seed: int, spread: float, rows: int = 300, cols: int = 87):
    g = np.random.default_rng(seed)
    utilities = g.normal(0.0, spread, (rows, cols))
    utilities[g.random((rows, cols)) < 0.05] = -np.inf  # options some choosers lack
    utilities[:, -1] = g.normal(0.0, spread, rows)  # leaving is always open
    return utilities


@pytest.mark.parametrize("spread", [0.0, 0.05, 1.0, 5.0, 50.0])
@pytest.mark.parametrize("seed", range(3))
def test_the_compiled_logit_picks_what_numpy_picks_from_the_same_draws(
    seed, spread, matching_logs, monkeypatch
):
    calls, pick = [], kernels.logit_pick
    monkeypatch.setattr(kernels, "logit_pick", lambda *a: calls.append(1) or pick(*a))
    utilities = logit_case(seed, spread)
    compiled, reference = np.random.default_rng(seed + 10), np.random.default_rng(seed + 10)
    picks = draws.logit_choice(utilities, compiled)
    assert calls  # the kernel picked
    noise = 1.0 - reference.random(utilities.shape)  # draws.logit_choice's numpy reference
    np.log(noise, out=noise)
    np.negative(noise, out=noise)
    np.log(noise, out=noise)
    noise -= utilities
    np.testing.assert_array_equal(picks, np.argmin(noise, axis=1))
    assert compiled.random() == reference.random()  # the same draws taken


def test_the_compiled_logit_keeps_numpy_s_ties_nans_and_zero_draws():
    d = numba_log(-numba_log(1.0 - np.array([0.25, 0.5])))
    u = np.full((7, 5), 0.5)
    utilities = np.zeros((7, 5))
    utilities[0] = [0.0, 1.0, 0.0, 1.0, 1.0]  # tied best: the first of them
    utilities[1] = [-np.inf] * 5  # nothing available: numpy's argmin of +inf is 0
    utilities[2] = [0.0, 3.0, np.nan, 9.0, np.nan]  # the first NaN wins, whatever the best
    utilities[3] = [np.inf, 0.0, np.inf, 0.0, 0.0]  # +inf utility: the first of them
    utilities[4] = [-np.inf, 2.0, 2.0, 0.0, 0.0]
    u[4] = [0.0, 0.3, 0.0, 0.2, 0.9]  # a zero draw: -inf noise, NaN where unavailable
    utilities[5] = [np.nan, 1.0, 1.0, 1.0, 1.0]  # a NaN first: no bound, NaN wins
    # an exact tie before the highest utility: the earlier option, as numpy's argmin
    utilities[6] = [d[0] - (d[1] - 1.0), 1.0, -5.0, -5.0, -5.0]
    u[6, :2] = [0.25, 0.5]
    assert d[0] - utilities[6, 0] == d[1] - utilities[6, 1]
    expected = gumbel_argmin(utilities, u)
    np.testing.assert_array_equal(kernels.logit_pick(utilities, u), expected)
    assert list(expected) == [1, 0, 2, 0, 0, 0, 0]


def test_the_logit_bound_never_skips_an_option_that_wins_by_a_hair():
    """Options whose noise lies just above the bound (draws at powers of two, down to 1e-12)."""
    x = np.concatenate([2.0 ** -np.arange(2, 40), [1e-12, 3e-12, 0.3, 0.49]])
    rows = len(x)
    u = np.full((rows, 3), 0.5)
    u[:, 1] = x
    best = numba_log(-numba_log(np.array([0.5])))[0]  # the top option's value (utility 0)
    utilities = np.zeros((rows, 3))
    utilities[:, 2] = -50.0
    # option 1 wins by 1e-9: its bound must stay below its value, or it would be skipped
    utilities[:, 1] = numba_log(-numba_log(1.0 - x)) - best + 1e-9
    assert (utilities[:, 1] < 0).all()  # the top stays option 0, and option 1 is bounded
    np.testing.assert_array_equal(gumbel_argmin(utilities, u), np.ones(rows))
    np.testing.assert_array_equal(kernels.logit_pick(utilities, u), np.ones(rows))


@pytest.mark.parametrize("spread", [0.3, 3.0])
def test_the_compiled_logit_picks_the_reference_s_options_on_random_rows(spread):
    g = np.random.default_rng(4)
    utilities = np.round(logit_case(4, spread), 1)  # rounded: ties among options
    u = g.random(utilities.shape)
    u[g.random(u.shape) < 0.01] = 0.0
    np.testing.assert_array_equal(kernels.logit_pick(utilities, u), gumbel_argmin(utilities, u))


def test_the_logit_stays_in_numpy_where_numba_s_logs_are_not_numpy_s(monkeypatch):
    monkeypatch.setattr(kernels, "logs_match", lambda: False)
    monkeypatch.setattr(kernels, "logit_pick", lambda *a: pytest.fail("kernel ran"))
    utilities = logit_case(0, 1.0)
    picks = draws.logit_choice(utilities, np.random.default_rng(1))
    u = np.random.default_rng(1).random(utilities.shape)
    np.testing.assert_array_equal(picks, gumbel_argmin(utilities, u, log=np.log))


def test_logs_match_is_false_without_kernels(monkeypatch):
    monkeypatch.setenv(kernels.ENV, "numpy")
    assert kernels.logs_match() is False


def test_logs_match_is_false_where_a_single_bit_differs(monkeypatch):
    kernels._logs_match.cache_clear()
    monkeypatch.setattr(
        kernels,
        "_compiled",
        lambda f: lambda x: np.where(x == x[7], np.nextafter(np.log(x), 0), np.log(x)),
    )
    try:
        assert kernels.logs_match() is False
    finally:
        kernels._logs_match.cache_clear()


def test_logs_match_tells_whether_numpy_s_log_is_the_c_library_s():
    """On this machine, numpy's log either is numba's for every input tried or is not."""
    x = np.random.default_rng(9).lognormal(0.0, 5.0, 200_000)
    same = np.array_equal(numba_log(x).view(np.uint64), np.log(x).view(np.uint64))
    assert kernels.logs_match() is same


def test_a_town_runs_the_same_with_its_logit_picks_compiled(matching_logs, monkeypatch):
    calls, pick = [], kernels.logit_pick
    monkeypatch.setattr(kernels, "logit_pick", lambda *a: calls.append(1) or pick(*a))
    compiled = small_town_run()
    assert len(calls) >= 12
    monkeypatch.setattr(kernels, "logs_match", lambda: False)
    reference = small_town_run()
    pd.testing.assert_frame_equal(pd.DataFrame(compiled.records), pd.DataFrame(reference.records))
    pd.testing.assert_frame_equal(compiled.talent_table(), reference.talent_table())


# ------------------------------------------------------------------ labour matching
def match_case(seed: int, n_nodes: int = 40, n_sectors: int = 5, firms: int = 600):
    """Seekers, firms (some without vacancies, some planning cuts) and a sparse reach."""
    g = np.random.default_rng(seed)
    reach = g.random((n_nodes, n_nodes)) * (g.random((n_nodes, n_nodes)) < 0.3)
    np.fill_diagonal(reach, 1.0)
    reach[g.random(n_nodes) < 0.1] = 0.0  # homes that reach nothing
    seekers = int(g.integers(0, 3000))
    home = g.integers(0, n_nodes, seekers)
    sector = g.integers(0, n_sectors, seekers)
    firm_node = g.integers(0, n_nodes, firms)
    firm_sector = g.integers(0, n_sectors - 1, firms)  # one sector has seekers only
    vacancies = g.integers(-3, 4, firms) * (g.random(firms) < 0.5)
    return home, sector, firm_node, firm_sector, vacancies, reach


def compiled_match(home, sector, firm_node, firm_sector, vacancies, reach, cross, generator):
    n_sectors = int(max(firm_sector.max(), sector.max())) + 1
    return kernels.match_labour(
        home, sector, firm_node, firm_sector, vacancies, reach, cross, n_sectors, generator
    )


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("cross", [0.0, 0.3, 1.0])
def test_the_compiled_labour_matching_hires_whom_numpy_hires_from_the_same_draws(
    seed, cross, monkeypatch
):
    case = match_case(seed)
    generators = rng(seed), rng(seed)
    hired, firm = compiled_match(*case, cross, generators[0])
    with monkeypatch.context() as numpy_only:
        numpy_only.setattr(kernels, "enabled", lambda: False)  # its search too
        reference = mech.match_labour(*case, cross, generators[1])
    np.testing.assert_array_equal(hired, reference[0])
    np.testing.assert_array_equal(firm, reference[1])
    assert generators[0].random() == generators[1].random()  # as many numbers drawn
    if len(case[0]) > 500:
        assert len(hired) > 50  # a case where hiring happens


@pytest.mark.parametrize("month", ["nobody in reach", "no seekers", "no openings"])
def test_the_compiled_labour_matching_of_a_month_without_hires(month):
    home, sector, firm_node, firm_sector, vacancies, reach = match_case(3)
    if month == "nobody in reach":
        reach[:] = 0.0
    elif month == "no seekers":
        home, sector = home[:0], sector[:0]
    else:
        vacancies = np.minimum(vacancies, 0)
    case = home, sector, firm_node, firm_sector, vacancies, reach
    generators = rng(3), rng(3)
    hired, firm = kernels.match_labour(*case, 0.3, 5, generators[0])
    reference = mech.match_labour(*case, 0.3, generators[1])
    assert len(hired) == len(firm) == 0 == len(reference[0]) == len(reference[1])
    assert generators[0].random() == generators[1].random()  # as many numbers drawn


@pytest.mark.parametrize("city, seed", [("medium_city", 2), ("metropolis", 3)])
def test_a_city_runs_the_same_with_its_matching_wages_and_ties_compiled(city, seed, monkeypatch):
    calls = {"match_labour": 0, "wages": 0, "tie_pairs": 0}
    for name in calls:
        kernel = getattr(kernels, name)

        def counted(*a, name=name, kernel=kernel):
            calls[name] += 1
            return kernel(*a)

        monkeypatch.setattr(kernels, name, counted)
    compiled = CreativeClusterModel(rng=seed, city=city, spin_up={"months": 0})
    compiled.run_for(12)
    assert calls == {"match_labour": 12, "wages": 12, "tie_pairs": 12}
    monkeypatch.setattr(kernels, "enabled", lambda: False)
    reference = CreativeClusterModel(rng=seed, city=city, spin_up={"months": 0})
    reference.run_for(12)
    np.testing.assert_array_equal(compiled.ties, reference.ties)
    assert len(compiled.ties) > 50
    pd.testing.assert_frame_equal(pd.DataFrame(compiled.records), pd.DataFrame(reference.records))
    pd.testing.assert_frame_equal(compiled.talent_table(), reference.talent_table())
    pd.testing.assert_frame_equal(compiled.firm_table(), reference.firm_table())
    np.testing.assert_array_equal(compiled.wage, reference.wage)


# ------------------------------------------------------------------ categorical draws
@pytest.mark.parametrize(
    "p", [[0.3, 0.25, 0.2, 0.15, 0.1], [0.0, 0.5, 0.0, 0.5], [1.0], [1 / 3, 1 / 3, 1 / 3]]
)
@pytest.mark.parametrize("size", [1, 2, 7, 4817])
def test_compiled_categorical_draws_are_numpy_s_choice_draw_for_draw(p, size, monkeypatch):
    p = np.asarray(p)
    for seed in range(3):
        generators = rng(seed), rng(seed)
        compiled = draws.categories(generators[0], len(p), size, p)
        reference = generators[1].choice(len(p), size=size, p=p)
        assert compiled.dtype == reference.dtype
        np.testing.assert_array_equal(compiled, reference)
        assert generators[0].random() == generators[1].random()
    calls, categories = [], kernels.categories
    monkeypatch.setattr(kernels, "categories", lambda *a: calls.append(1) or categories(*a))
    draws.categories(rng(0), len(p), size, p)
    assert calls  # the kernel made them


@pytest.mark.parametrize("revenue", ["as run", "nan", "inf", "no staff"])
def test_the_compiled_wages_are_numpy_s_even_with_a_broken_firm(revenue, monkeypatch):
    from clustersim.model.phases import labour
    from clustersim.model.phases.aggregates import Census

    model = CreativeClusterModel(rng=4, city="medium_city", spin_up={"months": 0})
    model.run_for(3)
    f, g = model.firms, np.random.default_rng(4)
    if revenue in ("nan", "inf"):
        f.revenue[f.live[:5]] = np.nan if revenue == "nan" else np.inf
    elif revenue == "no staff":
        model.talents.put("employer", np.flatnonzero(model.talents.employer >= 0), -1)
    vacancies = g.integers(-2, 4, f.n)
    hires = g.choice(f.live, 30)
    census = Census.of(model)
    before, wages = model.wage.copy(), []
    for compiled in (True, False):
        model.wage = before.copy()
        monkeypatch.setattr(kernels, "enabled", lambda compiled=compiled: compiled)
        labour._adjust_wages(model, census, vacancies, hires)
        wages.append(model.wage)
    np.testing.assert_array_equal(wages[0], wages[1])
    assert not np.array_equal(wages[1], before)  # the wages moved


def test_a_numba_that_does_not_load_leaves_the_numpy_path(tmp_path):
    broken = tmp_path / "numba"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise OSError('libllvmlite.so: cannot open')\n")
    probe = (
        "from clustersim.model import kernels\n"
        "print(kernels.prefer(), kernels.enabled(), kernels.worth(10**9, 'CHOICE_ENTRIES'))\n"
    )
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    out = run_python(probe, PYTHONPATH=path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "False"]
    assert "numba does not load (OSError: libllvmlite.so: cannot open)" in out.stderr
