"""Tests for clustersim.model.metrics: pure metric functions on hand-built inputs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clustersim.model.metrics import (
    creative_share,
    edge_array,
    gini,
    inverse_simpson,
    largest_cluster,
    location_quotient,
    spatial_gini,
    weighted_mean,
)

# ------------------------------------------------------------------------- gini


def test_gini_of_equal_values_is_zero():
    assert gini([3.0, 3.0, 3.0, 3.0]) == 0.0


@pytest.mark.parametrize("n", [2, 5, 10])
def test_gini_with_everything_in_one_place_is_n_minus_one_over_n(n):
    values = np.zeros(n)
    values[n // 2] = 7.0
    assert gini(values) == pytest.approx((n - 1) / n)


def test_gini_known_value():
    # sum (2i - n - 1) x_(i) / (n sum x) = (-3 - 2 + 3 + 12) / 40
    assert gini([4, 1, 3, 2]) == pytest.approx(0.25)


def test_gini_is_scale_invariant_and_ignores_order():
    values = np.array([5.0, 0.0, 12.0, 3.0, 1.0])
    assert gini(values * 1000.0) == pytest.approx(gini(values))
    assert gini(values[::-1]) == pytest.approx(gini(values))


def test_gini_accepts_any_iterable():
    assert gini(x for x in (0, 0, 0, 4)) == pytest.approx(0.75)


def test_gini_rejects_negative_values():
    with pytest.raises(ValueError, match="non-negative"):
        gini([1.0, -0.5, 2.0])


def test_gini_of_nothing_or_all_zeros_is_zero():
    assert gini([]) == 0.0
    assert gini(np.zeros(4)) == 0.0


def test_spatial_gini_is_gini_across_nodes():
    assert spatial_gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)


# ----------------------------------------------------------- location_quotient


def test_location_quotient_known_value():
    assert location_quotient(0.074, 0.037) == pytest.approx(2.0)
    assert location_quotient(0.037, 0.037) == pytest.approx(1.0)


@pytest.mark.parametrize("reference", [0.0, -0.01])
def test_location_quotient_rejects_a_non_positive_reference(reference):
    with pytest.raises(ValueError, match="reference_share"):
        location_quotient(0.05, reference)


# -------------------------------------------------------------- creative_share


def test_creative_share_known_value():
    assert creative_share(37, 1000) == pytest.approx(0.037)


def test_creative_share_without_employment_is_zero():
    assert creative_share(0, 0) == 0.0
    assert creative_share(5, 0) == 0.0


# --------------------------------------------------------------- weighted_mean


def test_weighted_mean_known_value():
    assert weighted_mean(np.array([100.0, 300.0]), np.array([3, 1])) == pytest.approx(150.0)


def test_weighted_mean_ignores_values_with_zero_weight():
    assert weighted_mean(np.array([100.0, 1e9]), np.array([2.0, 0.0])) == pytest.approx(100.0)


def test_weighted_mean_with_all_zero_weights_is_the_plain_mean():
    assert weighted_mean(np.array([100.0, 300.0]), np.zeros(2)) == pytest.approx(200.0)


def test_weighted_mean_of_nothing_is_zero():
    assert weighted_mean(np.zeros(0), np.zeros(0)) == 0.0


# ------------------------------------------------------------- inverse_simpson


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([5, 5], 2.0),
        ([10, 0, 0], 1.0),
        ([1, 1, 1, 1], 4.0),
        ([3, 1], 1.6),  # 1 / (0.75^2 + 0.25^2)
    ],
)
def test_inverse_simpson_known_values(counts, expected):
    assert inverse_simpson(np.array(counts)) == pytest.approx(expected)


def test_inverse_simpson_of_an_empty_vector_is_zero():
    assert inverse_simpson(np.zeros(3)) == 0.0
    assert inverse_simpson(np.zeros(0)) == 0.0


# ------------------------------------------------------------- largest_cluster


def test_largest_cluster_sums_firms_of_a_connected_hot_path():
    firms = np.array([5, 3, 0, 9])
    lq = np.array([2.0, 1.5, 0.0, 1.3])
    # nodes 0-1 form a cluster of 8 firms; node 3 alone holds 9
    assert largest_cluster(nx.path_graph(4), firms, lq) == 9
    firms[3] = 7
    assert largest_cluster(nx.path_graph(4), firms, lq) == 8
    # restricted to nodes: ids that are no node of the graph restrict to nothing
    assert largest_cluster(nx.path_graph(4), firms, lq, nodes=[1, -1, 4]) == 3
    assert largest_cluster(nx.path_graph(4), firms, lq, nodes=[-1, 7]) == 0


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    p=st.floats(0.0, 0.3),
    seed=st.integers(0, 10**6),
    restrict=st.booleans(),
)
def test_largest_cluster_agrees_with_networkx_components(n, p, seed, restrict):
    g = nx.gnp_random_graph(n, p, seed=seed)
    rng = np.random.default_rng(seed)
    firms = rng.integers(0, 5, n)
    lq = rng.uniform(0.0, 3.0, n)
    nodes = np.flatnonzero(rng.random(n) < 0.7) if restrict else None
    hot = [i for i in (range(n) if nodes is None else nodes) if firms[i] > 0 and lq[i] >= 1.25]
    comps = nx.connected_components(g.subgraph(hot))
    expected = max((sum(int(firms[i]) for i in c) for c in comps), default=0)
    assert largest_cluster(g, firms, lq, nodes=nodes) == expected
    assert largest_cluster(edge_array(g), firms, lq, nodes=nodes) == expected


def test_whole_star_is_one_cluster_when_its_centre_is_hot():
    star = nx.star_graph(4)  # centre 0, leaves 1..4
    firms = np.array([1, 2, 3, 4, 5])
    assert largest_cluster(star, firms, np.full(5, 2.0)) == 15


def test_star_falls_apart_when_its_centre_is_below_the_threshold():
    star = nx.star_graph(4)
    firms = np.array([1, 2, 3, 4, 5])
    lq = np.array([1.0, 2.0, 2.0, 2.0, 2.0])
    assert largest_cluster(star, firms, lq) == 5


def test_node_without_firms_breaks_a_cluster_even_with_high_lq():
    firms = np.array([4, 0, 4])
    assert largest_cluster(nx.path_graph(3), firms, np.full(3, 3.0)) == 4


def test_lq_threshold_is_inclusive_and_adjustable():
    firms = np.array([2, 3])
    lq = np.array([1.25, 1.24])
    assert largest_cluster(nx.path_graph(2), firms, lq) == 2
    assert largest_cluster(nx.path_graph(2), firms, lq, lq_threshold=1.2) == 5
    assert largest_cluster(nx.path_graph(2), firms, lq, lq_threshold=2.0) == 0


def test_largest_cluster_counts_only_the_given_nodes():
    path = nx.path_graph(5)
    firms = np.array([10, 1, 1, 1, 10])
    lq = np.full(5, 2.0)
    assert largest_cluster(path, firms, lq) == 23
    assert largest_cluster(path, firms, lq, nodes=[1, 2, 3]) == 3
    assert largest_cluster(path, firms, lq, nodes=[0, 2, 4]) == 10
    assert largest_cluster(path, firms, lq, nodes=[]) == 0


def test_largest_cluster_is_zero_without_hot_nodes():
    assert largest_cluster(nx.path_graph(3), np.array([1, 2, 3]), np.full(3, 0.5)) == 0
