"""Tests of the initial state's setup: initial talents cut into firms."""

from __future__ import annotations

import types

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clustersim.model.setup import _group_into_firms


def _cut_group_by_group(model, employed):
    """The reference: each (node, sector) group draws its sizes and is cut, one after the other."""
    t, n_sectors = model.talents, model.n_sectors
    key = t.home[employed].astype(np.int64) * n_sectors + t.sector[employed]
    firm_of = np.empty(len(employed), dtype=np.int64)
    nodes, sectors = [], []
    groups, starts = np.unique(key, return_index=True)
    ends = np.append(starts[1:], len(employed))[: len(starts)]
    for group, start, end in zip(groups, starts, ends, strict=True):
        sizes = model.rng.geometric(1.0 / model.params.firm.mean_initial_size, size=end - start)
        lo = 0
        for hi in np.minimum(np.cumsum(sizes), end - start):
            firm_of[start + lo : start + hi] = len(nodes)
            nodes.append(group // n_sectors)
            sectors.append(group % n_sectors)
            if hi == end - start:
                break
            lo = hi
    return firm_of, np.array(nodes, dtype=np.int64), np.array(sectors, dtype=np.int64)


def _model(home, sector, n_sectors, mean_size, seed):
    return types.SimpleNamespace(
        talents=types.SimpleNamespace(home=home, sector=sector),
        n_sectors=n_sectors,
        rng=np.random.default_rng(seed),
        params=types.SimpleNamespace(firm=types.SimpleNamespace(mean_initial_size=mean_size)),
    )


@settings(max_examples=200, deadline=None)
@given(
    talents=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=300),
    mean_size=st.sampled_from([1.0, 1.5, 3.0, 8.0, 50.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_talents_are_cut_into_the_firms_and_draws_of_a_group_by_group_cut(talents, mean_size, seed):
    pairs = np.array(sorted(talents), dtype=np.int64).reshape(-1, 2)
    home, sector = pairs[:, 0], pairs[:, 1]
    models = [_model(home, sector, 4, mean_size, seed) for _ in range(2)]
    got = _group_into_firms(models[0], np.arange(len(home)))
    want = _cut_group_by_group(models[1], np.arange(len(home)))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert models[0].rng.random() == models[1].rng.random()  # as many numbers drawn
    firm_of, nodes, sectors = got
    assert np.array_equal(nodes[firm_of], home) and np.array_equal(sectors[firm_of], sector)
    assert np.all(np.diff(firm_of) >= 0) and np.all(np.diff(firm_of) <= 1)  # no empty firm
