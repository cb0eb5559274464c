"""Compiled kernels give exactly what their numpy references give, draw for draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clustersim import CreativeClusterModel
from clustersim.model import draws, kernels
from clustersim.model.draws import ReachableRows

pytest.importorskip("numba")  # the extra clustersim[fast]; CI installs it


@pytest.fixture(autouse=True)
def compiled_for_small_cases(monkeypatch):
    """The compiled search also for the small searches of these tests."""
    monkeypatch.setattr(draws, "_KERNEL_ENTRIES", 0)


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
    calls = []
    search = kernels.search_reachable
    monkeypatch.setattr(kernels, "search_reachable", lambda *a: calls.append(1) or search(*a))
    compiled = big_city_run()
    assert len(calls) == 4  # once a month
    monkeypatch.setattr(kernels, "enabled", lambda: False)
    reference = big_city_run()
    pd.testing.assert_frame_equal(pd.DataFrame(compiled.records), pd.DataFrame(reference.records))
    pd.testing.assert_frame_equal(compiled.talent_table(), reference.talent_table())
    pd.testing.assert_frame_equal(compiled.firm_table(), reference.firm_table())


def test_small_searches_stay_in_numpy(monkeypatch):
    monkeypatch.setattr(draws, "_KERNEL_ENTRIES", 1_000_000)
    calls = []
    monkeypatch.setattr(kernels, "search_reachable", lambda *a: calls.append(1))
    home, sector, effective, reach = search_case(3, n_nodes=100, n_sectors=4, seekers=400)
    rows = ReachableRows(reach)
    hiring = effective.any(axis=1)
    picks = draws.search_nodes(home, sector, effective, reach, hiring, rng(3), rows)
    assert not calls and len(picks) == 400


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
