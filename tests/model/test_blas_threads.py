"""A model's results do not depend on the BLAS threads of the process it runs in.

(:mod:`clustersim.model.blas`: one BLAS thread while a model is built or steps.)
"""

from __future__ import annotations

import math
import threading

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
def test_a_model_steps_with_one_blas_thread_and_gives_the_count_back(monkeypatch):
    seen: list[list[int]] = []
    produce = production.produce

    def watching(*args, **kwargs):
        seen.append(_blas_threads())
        return produce(*args, **kwargs)

    monkeypatch.setattr(production, "produce", watching)
    with threadpool_limits(limits=2, user_api="blas"):
        model = CreativeClusterModel(rng=1, city="small_town", spin_up={"months": 2})
        assert _blas_threads() and max(_blas_threads()) == 2  # the constructor gave it back
        model.step()
        assert max(_blas_threads()) == 2  # and the step
    assert len(seen) == 3  # two months of spin-up in the constructor, one step
    assert all(max(s) == 1 for s in seen)


@needs_two
def test_nested_and_concurrent_holders_share_one_limit():
    with threadpool_limits(limits=2, user_api="blas"):
        inside, release = threading.Event(), threading.Event()

        def hold():  # a model stepping in another thread (an app's session)
            with blas.one_thread():
                inside.set()
                release.wait(10)

        other = threading.Thread(target=hold)
        with blas.one_thread():
            other.start()
            assert inside.wait(10)
            with blas.one_thread():  # nested: the spin-up's months inside the constructor
                pass
            assert max(_blas_threads()) == 1
            release.set()
            other.join(10)
            assert max(_blas_threads()) == 1  # the other left; this model still steps
        assert max(_blas_threads()) == 2  # the last holder gave numpy's count back


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
