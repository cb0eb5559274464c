"""Tests for clustersim.model.draws: each weighted draw against its definition."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim.model import draws, kernels
from clustersim.model import mechanisms as mech
from clustersim.model.draws import (
    _DENSE_REACH,
    ReachableRows,
    _count_at_most,
    choose_rows,
    logit_choice,
    sample_alternatives,
    search_nodes,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------- logit_choice


def test_logit_choice_frequencies_match_softmax_probabilities():
    utility_row = np.array([0.0, np.log(2.0), np.log(5.0), 1.3])
    draws = 200_000
    choice = logit_choice(np.tile(utility_row, (draws, 1)), rng(1))
    expected = np.exp(utility_row) / np.exp(utility_row).sum()
    observed = np.bincount(choice, minlength=len(utility_row)) / draws
    np.testing.assert_allclose(observed, expected, atol=0.005)


def test_logit_choice_picks_as_numpy_gumbel_noise_would():
    # the same uniform draws as Generator.gumbel, so results did not change with the rewrite
    utilities = rng(7).normal(size=(500, 9))
    utilities[:, 4] = -np.inf
    expected = np.argmax(utilities + rng(3).gumbel(size=utilities.shape), axis=1)
    np.testing.assert_array_equal(logit_choice(utilities, rng(3)), expected)


def test_sampled_choice_sets_reproduce_the_full_logit_shares():
    # 200 nodes, a chooser who lives at node 7 and works at node 12; each of 40,000
    # choices weighs home, workplace and 50 sampled nodes (McFadden's correction)
    n, draws = 200, 40_000
    utility = rng(0).normal(0.0, 1.0, n)
    utility[7] += 3.0
    leave = 0.5
    full = np.exp(np.append(utility, leave))
    full /= full.sum()
    population = rng(5).lognormal(0.0, 1.0, n)
    weights = 0.5 * population / population.sum() + 0.5 / n
    home, employer = np.full(draws, 7), np.full(draws, 12)
    sets, correction = sample_alternatives(home, employer, weights, 50, rng(1))
    assert sets.shape == (draws, 52) and (sets[:, 0] == 7).all() and (sets[:, 1] == 12).all()
    utilities = np.concatenate([utility[sets] + correction, np.full((draws, 1), leave)], axis=1)
    column = logit_choice(utilities, rng(2))
    node = np.where(column == 52, n, sets[np.arange(draws), np.minimum(column, 51)])
    shares = np.bincount(node, minlength=n + 1) / draws
    # an exact multinomial sample of this size is 0.021 from `full` in total variation;
    # forgetting the correction gives 0.35 and makes home 0.39 instead of 0.14
    assert 0.5 * np.abs(shares - full).sum() < 0.04
    assert shares[7] == pytest.approx(full[7], abs=0.006)
    assert shares[n] == pytest.approx(full[n], abs=0.002)


def test_nodes_a_lever_pulls_toward_are_always_weighed_and_keep_their_share():
    # newcomers pulled toward node 42 by 10 utils: the full logit sends almost all there;
    # were 42 only drawn at random like the others, its share would fall to about 0.16
    n, draws = 500, 20_000
    utility = rng(6).normal(0.0, 1.0, n)
    utility[42] += 10.0
    full = np.exp(np.append(utility, 0.0))
    full /= full.sum()
    none = np.full(draws, -1)
    sets, correction = sample_alternatives(
        none, none, np.ones(n), 100, rng(7), always=np.array([42])
    )
    assert (sets[:, 2] == 42).all() and (correction[:, 2] == 0).all()
    assert np.isneginf(correction[:, 3:][sets[:, 3:] == 42]).all()  # not counted twice
    utilities = np.concatenate([utility[sets] + correction, np.zeros((draws, 1))], axis=1)
    column = logit_choice(utilities, rng(8))
    node = np.where(column == sets.shape[1], n, sets[np.arange(draws), np.minimum(column, 102)])
    assert np.mean(node == 42) == pytest.approx(full[42], abs=0.01)


def test_choice_sets_of_newcomers_and_of_people_working_at_home():
    home = np.array([-1, 3])
    employer = np.array([-1, 3])  # a newcomer; a talent working where they live
    sets, correction = sample_alternatives(home, employer, np.ones(10), 30, rng(4))
    assert np.isneginf(correction[0, :2]).all()  # no home, no workplace to keep
    assert correction[1, 0] == 0.0 and np.isneginf(correction[1, 1])  # home counted once
    drawn_home = sets[1, 2:] == 3
    assert np.isneginf(correction[1, 2:][drawn_home]).all()
    assert correction[0, 2:] == pytest.approx(-np.log(30 * 0.1))


def test_logit_choice_never_picks_an_unavailable_option():
    utilities = np.tile([5.0, -np.inf, -2.0, -np.inf], (50_000, 1))
    choice = logit_choice(utilities, rng(2))
    assert set(np.unique(choice)) == {0, 2}


def test_logit_choice_with_one_available_option_always_picks_it():
    utilities = np.array([[-np.inf, 0.0, -np.inf], [-np.inf, -np.inf, -40.0]])
    for seed in range(20):
        np.testing.assert_array_equal(logit_choice(utilities, rng(seed)), [1, 2])


# ------------------------------------------------------------------ choose_rows


def test_choose_rows_frequencies_are_proportional_to_weights():
    weights = np.array([1.0, 0.0, 3.0, 4.0])
    draws = 200_000
    pick = choose_rows(np.tile(weights, (draws, 1)), rng(3))
    observed = np.bincount(pick, minlength=len(weights)) / draws
    np.testing.assert_allclose(observed, weights / weights.sum(), atol=0.005)
    assert observed[1] == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_choose_rows_counts_by_bisection_exactly_as_by_comparing_every_column(seed, monkeypatch):
    monkeypatch.setattr(draws, "_COMPARE_ENTRIES", 0)  # bisect whatever the size
    r = np.random.default_rng(seed)
    cols = int(r.integers(1, 600))
    weights = r.random((300, cols)) * (r.random((300, cols)) < 0.6)  # zeros: ties in cum
    weights[:5] = 0.0
    cum = np.cumsum(weights, axis=1)
    u = r.random(300) * cum[:, -1]
    u[5:10] = cum[5:10, r.integers(0, cols)]  # draws exactly on an entry
    np.testing.assert_array_equal(_count_at_most(cum, u), (cum <= u[:, None]).sum(axis=1))


def test_choose_rows_gives_minus_one_for_an_all_zero_row():
    weights = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0], [7.0, 0.0, 0.0]])
    for seed in range(20):
        np.testing.assert_array_equal(choose_rows(weights, rng(seed)), [-1, 2, -1, 0])


def test_choose_rows_never_picks_a_zero_weight_column_at_the_edges():
    weights = np.tile([0.0, 1.0, 1.0, 0.0], (20_000, 1))
    pick = choose_rows(weights, rng(4))
    assert set(np.unique(pick)) == {1, 2}


@pytest.mark.parametrize("compare", [0, 10**9], ids=["bisection", "every entry"])
@pytest.mark.parametrize("seed", range(5))
def test_choose_rows_with_shared_rows_picks_exactly_what_the_repeated_rows_would(
    seed, compare, monkeypatch
):
    """Choosers sharing a row of weights (seekers of one home and sector) draw the same."""
    monkeypatch.setattr(draws, "_COMPARE_ENTRIES", compare)
    r = np.random.default_rng(seed)
    cols = int(r.integers(1, 300))
    weights = r.random((40, cols)) * (r.random((40, cols)) < 0.5)
    weights[:3] = 0.0
    rows = r.integers(0, 40, size=2_000)
    np.testing.assert_array_equal(
        choose_rows(weights, rng(seed), rows), choose_rows(weights[rows], rng(seed))
    )


@pytest.mark.parametrize("seed", range(4))
def test_job_search_over_reachable_nodes_picks_what_weighing_every_node_picks(seed, monkeypatch):
    """In a big city the search weighs only nodes within reach, with the same picks."""
    monkeypatch.setenv(kernels.ENV, "numpy")  # numpy's search (the kernel: test_kernels.py)
    r = np.random.default_rng(seed)
    nodes = 300
    travel = r.uniform(0, 240, (nodes, nodes))
    reach = mech.reach_weights((travel + travel.T) / 2, 30.0, max_time=60.0)
    reach[r.integers(0, nodes, 20)] = 0.0  # homes with no vacancy within reach
    assert (reach > 0).mean() < _DENSE_REACH  # the case of the reachable-node search
    effective = r.random((nodes, 12)) * (r.random((nodes, 12)) < 0.7)
    effective[r.integers(0, nodes, 50)] = 0.0  # nodes without vacancies
    hiring = effective.sum(axis=1) > 0
    home, sector = r.integers(0, nodes, 5_000), r.integers(0, 12, 5_000)
    pairs, pair_of = np.unique(home * 12 + sector, return_inverse=True)
    columns = np.flatnonzero(hiring)
    full = reach[pairs // 12][:, columns] * effective[columns][:, pairs % 12].T
    pick = choose_rows(full, rng(seed), pair_of)
    expected = np.where(pick >= 0, columns[pick], -1)
    for rows in (None, ReachableRows(reach)):
        picked = search_nodes(home, sector, effective, reach, hiring, rng(seed), rows)
        np.testing.assert_array_equal(picked, expected)
    assert (picked == -1).sum() > 0 and len(np.unique(picked)) > 100


@pytest.mark.parametrize("block", [1, 7, 1_000_000])
def test_choice_sets_drawn_in_blocks_of_rows_are_those_drawn_at_once(block, monkeypatch):
    home, employer = rng(20).integers(-1, 40, 301), rng(21).integers(-1, 40, 301)
    weights = rng(22).random(40) + 0.05
    whole = draws.ChoiceSets.draw(home, employer, weights, 25, generator := rng(23), [4, 9])
    after_whole = generator.random()
    monkeypatch.setattr(draws, "_DRAW_BLOCK", block * 25)
    blocks = draws.ChoiceSets.draw(home, employer, weights, 25, generator := rng(23), [4, 9])
    np.testing.assert_array_equal(blocks.nodes, whole.nodes)
    np.testing.assert_array_equal(blocks.correction(), whole.correction())
    assert generator.random() == after_whole  # the same draws taken from the generator
    assert blocks.nodes.dtype == np.int32


def test_bounded_int32_draws_are_the_int64_draws():
    """What keeps the sets of before: numpy draws int32 and int64 below 2**32 alike."""
    for high in (7, 2_561, 2**31 - 1):
        int32 = rng(5).integers(0, high, size=(301, 25), dtype=np.int32)
        np.testing.assert_array_equal(int32, rng(5).integers(0, high, size=(301, 25)))
