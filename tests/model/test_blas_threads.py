"""A model's results do not depend on the BLAS threads of the process it runs in.

(:mod:`clustersim.model.blas`: one BLAS thread while a model is built or steps.)
"""

from __future__ import annotations

import math
import threading
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from clustersim import CreativeClusterModel
from clustersim.model import blas
from clustersim.model.city.family import FamilyParams
from clustersim.model.phases import production


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def _two_threads_possible() -> bool:
    with threadpool_limits(limits=2, user_api="blas"):
        return max(_blas_threads(), default=1) >= 2


needs_two = pytest.mark.skipif(
    not _two_threads_possible(), reason="numpy's BLAS runs one thread on this machine"
)


@needs_two
def test_a_model_is_built_and_steps_with_one_blas_thread(monkeypatch):
    seen: list[list[int]] = []
    produce = production.produce

    def watching(*args, **kwargs):
        seen.append(_blas_threads())
        return produce(*args, **kwargs)

    monkeypatch.setattr(production, "produce", watching)
    with threadpool_limits(limits=2, user_api="blas"):
        model = CreativeClusterModel(rng=1, city="small_town", spin_up={"months": 2})
        threadpool_limits(limits=2, user_api="blas")  # raised again between months
        model.step()
    assert len(seen) == 3  # two months of spin-up in the constructor, one step
    assert all(max(s) == 1 for s in seen)


@needs_two
def test_a_model_built_in_the_main_thread_steps_in_another_with_one_thread(monkeypatch):
    # Mesa's threaded controllers and the app's sessions step models in threads; OpenBLAS
    # ignores a lower count set there once the main thread set one (a count restored by
    # the main thread after its month left the next month in a thread at two: a review)
    seen: list[tuple[str, list[int]]] = []
    produce = production.produce

    def watching(*args, **kwargs):
        seen.append((threading.current_thread().name, _blas_threads()))
        return produce(*args, **kwargs)

    monkeypatch.setattr(production, "produce", watching)
    with threadpool_limits(limits=2, user_api="blas"):  # the main thread sets a count
        model = CreativeClusterModel(rng=1, city="small_town", spin_up={"months": 0})
        model.step()
        session = threading.Thread(target=model.step, name="session")
        session.start()
        session.join(60)
    assert [name for name, _ in seen] == ["MainThread", "session"]
    assert all(max(count) == 1 for _, count in seen)


class _Stubborn:
    """A BLAS library's controller that keeps its count (a count set by another thread)."""

    internal_api, filepath, num_threads = "openblas", "libstub.so", 2

    def set_num_threads(self, n: int) -> None:
        pass


def test_a_count_that_cannot_be_lowered_is_said_once_at_the_callers_line(monkeypatch):
    model = CreativeClusterModel(rng=1, city="small_town", spin_up={"months": 0})
    monkeypatch.setattr(blas, "_libraries", [_Stubborn()])
    monkeypatch.setattr(blas, "_warned", False)
    with pytest.warns(
        RuntimeWarning, match=r"libstub.so keeps 2 threads.*limit_process\(\)"
    ) as said:
        model.step()  # Mesa's step wrapper calls the model's: the line is still this one
    assert [w.filename for w in said] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.step()  # said once


@pytest.mark.slow
@needs_two
def test_a_thousand_node_city_gives_the_same_bits_with_one_or_two_blas_threads():
    # a metropolis of 1,000,000 cut into 1,002 neighbourhoods: its reach products split
    # across threads, and without the limit the incomes of two threads differ in the last
    # bits within three months (checked when the limit was added)
    base = FamilyParams().base_nodes
    exponent = math.log(1002 - base) / math.log(1000)
    city = {
        "kind": "metropolis",
        "population": 1_000_000,
        "family": {"neighbourhood_exponent": exponent},
    }
    incomes = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            model = CreativeClusterModel(rng=0, city=city, spin_up={"months": 0})
            assert model.n_nodes == 1002
            for _ in range(3):
                model.step()
        incomes.append(model.talent_income(model.talents.live))
    assert incomes[0].tobytes() == incomes[1].tobytes()
    assert np.isfinite(incomes[0]).all()
