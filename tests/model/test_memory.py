"""A process that builds a model reuses the memory of a month's freed arrays (glibc)."""

from __future__ import annotations

import ctypes

import pytest

from conftest import run_python

try:
    ctypes.CDLL(None).mallopt  # noqa: B018
except (AttributeError, OSError):
    pytest.skip("the C library is not glibc: nothing is set", allow_module_level=True)

#: Allocates and frees five arrays of 40 MB (above glibc's largest default mapping
#: threshold, 32 MB) after a first one, then prints the page faults they took. numpy's
#: advice to back big arrays with huge pages is switched off, so that a fresh array
#: takes its 9,766 faults of 4 kB pages whether or not the kernel has huge pages free.
FAULTS = """
import resource, numpy as np
np._core.multiarray._set_madvise_hugepage(False)
{setup}
a = np.ones(5_000_000); del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    a = np.ones(5_000_000); del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(setup: str) -> int:
    done = run_python(FAULTS.format(setup=setup))
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_a_process_that_built_a_model_reuses_freed_arrays_instead_of_new_pages():
    built = page_faults(
        "from clustersim import CreativeClusterModel\n"
        "CreativeClusterModel(rng=0, city='small_town', spin_up={'months': 0})"
    )
    plain = page_faults("import clustersim")  # imported, no model built: glibc's defaults
    assert built < 100  # the freed 40 MB taken again
    assert plain > 5 * 9_000  # each array mapped afresh: 9,766 new pages of 4 kB each time


def test_the_thresholds_are_set_once_a_process():
    from clustersim.model.memory import keep_freed_memory

    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # cached: no second call into the C library
    assert keep_freed_memory.cache_info().hits >= 1
