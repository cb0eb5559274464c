"""A process that builds a model reuses the memory of a month's freed arrays (glibc)."""

from __future__ import annotations

import pytest

from clustersim.model import memory
from conftest import run_python

#: Allocates and frees five arrays of 40 MB (above glibc's largest default mapping
#: threshold, 32 MiB) after a first one, then prints the page faults they took. Huge
#: pages are switched off for the process (``prctl(PR_SET_THP_DISABLE)``), so that a
#: fresh array takes its 9,766 faults of 4 kB pages whatever the host's setting.
FAULTS = """
import ctypes, resource
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)
import numpy as np
{setup}
a = np.ones(5_000_000); del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    a = np.ones(5_000_000); del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

#: The environment of the processes: none of glibc's own malloc settings.
GLIBC_DEFAULTS = dict.fromkeys((*memory.OWN_SETTINGS, "GLIBC_TUNABLES"))

BUILD = (
    "from clustersim import CreativeClusterModel\n"
    "CreativeClusterModel(rng=0, city='small_town', spin_up={'months': 0})"
)


def page_faults(setup: str, **env: str | None) -> int:
    done = run_python(FAULTS.format(setup=setup), **{**GLIBC_DEFAULTS, **env})
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@pytest.fixture
def settable():
    """Skip where no threshold above 40 MB is set (not glibc, glibc < 2.35, malloc's env)."""
    if memory.keep_freed_memory() < 40_000_000:
        pytest.skip(
            "no mapping threshold above 40 MB set here (not glibc, glibc < 2.35, "
            "or the environment sets glibc's malloc)"
        )


def test_a_process_that_built_a_model_reuses_freed_arrays_instead_of_new_pages(settable):
    built = page_faults(BUILD)
    plain = page_faults("import clustersim")  # imported, no model built: glibc's defaults
    assert built < 100  # the freed 40 MB taken again
    assert plain > 5 * 9_000  # each array mapped afresh: 9,766 new pages of 4 kB each time


def test_glibc_settings_of_the_environment_are_kept(settable):
    assert page_faults(BUILD, MALLOC_TRIM_THRESHOLD_="131072") > 5 * 9_000
    assert page_faults(BUILD, GLIBC_TUNABLES="glibc.malloc.trim_threshold=131072") > 5 * 9_000


def test_nothing_is_set_where_the_environment_sets_malloc_or_off_linux(monkeypatch):
    for name in GLIBC_DEFAULTS:  # whatever the environment running the tests sets
        monkeypatch.delenv(name, raising=False)
    assert not memory._set_by_environment()
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert memory._set_by_environment()
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.rtld.nns=2")  # not malloc's
    assert not memory._set_by_environment()
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.rtld.nns=2:glibc.malloc.arena_max=1")
    assert memory._set_by_environment()
    monkeypatch.setattr(memory.sys, "platform", "win32")
    assert memory.keep_freed_memory.__wrapped__() == 0
