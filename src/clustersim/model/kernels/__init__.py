"""Compiled kernels (numba) behind the numpy functions that define what they compute.

A kernel here does, in one or a few compiled passes, what a numpy reference in
:mod:`clustersim.model.draws`, :mod:`clustersim.model.mechanisms` or a phase does in
many array operations, with the same floating-point operations in the same order, so
that its results are identical (``tests/model/test_kernels.py`` compares them on
random inputs and on whole runs; ``scripts/golden_hashes.py --kernels`` runs the golden
set with every kernel in every month). The one freedom the compiler keeps is which
NaN's sign survives when two NaN operands meet; no choice can depend on it. Random
numbers are drawn by numpy from the model's generator, by the caller or between a
kernel's passes, in the reference's order: a run draws the same numbers with and
without numba. Logarithms, exponentials and powers stay in numpy (numba's are the C
library's, which differ in the last bit from numpy's AVX-512 code), except in a kernel
that runs only where numba's logarithm gives numpy's bits (:func:`logs_match`: on
processors without AVX-512, or with numpy's AVX-512 code switched off); elsewhere its
numpy reference runs.

One module per compiled part: ``search`` (the job search of a big city), ``location``
(the location choice's utilities), ``logit`` (the logit choice's pick), ``labour`` (the
matching, the wages), ``ties`` (the search for partners), ``categorical`` (categorical
draws). numba is optional (``pip install clustersim[fast]``). Without it, or with the
environment variable ``CLUSTERSIM_KERNELS=numpy``, or where numba does not load, the
numpy references run. numba is imported the first time a kernel is worth running
(:func:`worth`) or a process knows it will repay the import (:func:`prefer`: a long
spin-up, a sweep's worker with many months to run), and a kernel compiled (or read from
numba's cache) the first time it runs, so runs that never need one do not pay for it.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "CATEGORY_ENTRIES",
    "CHOICE_ENTRIES",
    "ENV",
    "LOGIT_ENTRIES",
    "MATCH_ENTRIES",
    "PAYBACK_MONTHS",
    "SEARCH_ENTRIES",
    "SPIN_UP_MONTHS",
    "TIE_ENTRIES",
    "WAGE_ENTRIES",
    "categories",
    "enabled",
    "location_income",
    "location_utilities",
    "logit_pick",
    "logs_match",
    "match_labour",
    "prefer",
    "search_reachable",
    "tie_pairs",
    "wages",
    "worth",
]

_log = logging.getLogger(__name__)

#: Environment variable: ``numpy`` runs the numpy references even where numba is installed.
ENV = "CLUSTERSIM_KERNELS"


def enabled() -> bool:
    """Whether compiled kernels are used (numba importable and not switched off).

    ``CLUSTERSIM_KERNELS`` is read at each call: setting it switches kernels off from
    the next search on, within a process too.
    """
    if os.environ.get(ENV, "").strip().lower() == "numpy":
        return False
    return _numba() is not None


#: Entries of a month's job search (seekers' (home, sector) pairs x the nodes each
#: reaches) from which its kernel runs: below, numpy's search takes a few milliseconds a
#: month, less than importing numba costs (0.3 s and about 90 MB of resident memory).
SEARCH_ENTRIES = 1_000_000
#: Entries of a month's location choice (choosers x the nodes each weighs) from which
#: its kernels run: they save 30-75 ns an entry (about 4-5x), so from 200,000 entries a
#: month they repay numba's import within 30 months.
CHOICE_ENTRIES = 200_000
#: Seekers x nodes of a month's labour matching from which its kernel runs (see
#: ``SEARCH_ENTRIES``; below, the :data:`PAYBACK_MONTHS` rule decides).
MATCH_ENTRIES = 500_000
#: Draws of one call of ``draws.categories`` from which its kernel runs (in practice:
#: once numba is imported for another kernel, see :func:`worth`).
CATEGORY_ENTRIES = 1_000_000
#: Seeking firms x nodes of a month's search for partners from which its kernel runs (in
#: practice: once numba is imported for another kernel).
TIE_ENTRIES = 1_000_000
#: Entries (choosers x options) of a logit choice from which its kernel runs (in practice:
#: once numba is imported for another kernel; it saves about 6 ns an entry).
LOGIT_ENTRIES = 1_000_000
#: Firms and nodes of a month's wage setting from which its kernel runs (in practice:
#: once numba is imported for another kernel).
WAGE_ENTRIES = 1_000_000


#: Months of ``minimum`` entries after which numpy has cost a process about what
#: importing numba and loading its first kernel costs (0.25 s; numpy takes 13-20 ns an
#: entry more than the kernels, measured from 10,000 to a million talents: 60 months of
#: 200,000 location-choice entries): from then on the kernels run for months of any size
#: (see :func:`worth`).
PAYBACK_MONTHS = 60

#: Months of a spin-up run in this process (not restored from the cache) from which the
#: kernels run from its first month (:func:`prefer`, called by
#: :func:`clustersim.model.spinup.run_spin_up`), whatever the city's size: a small town's
#: months are too small for :func:`worth`'s rule to pay numba's import within a spin-up,
#: but the spin-ups repay it. Measured on one core, a small town of 12,000 (1,200
#: months): 1.45 s of CPU with the kernels against 1.66 s in numpy; the first spin-up of
#: a process, which imports numba and loads the kernels, 1.80 s against 1.71 s; three
#: spin-ups 4.9 s against 5.3 s.
SPIN_UP_MONTHS = 1_000

#: Entries each kind of kernel (the name of its minimum) has left to numpy in this process.
_numpy_entries: collections.Counter[str] = collections.Counter()


def worth(entries: int, kind: str) -> bool:
    """Whether a kernel runs for a month of ``entries`` entries (kernels enabled).

    ``kind``: the name of the kernel's minimum in this module (``"CHOICE_ENTRIES"``...).
    It runs for a month of at least that many entries, for any month once this process
    has imported numba (for this kernel or another), and for any month once this process
    has run ``PAYBACK_MONTHS`` months' worth of its minimum in numpy: a sweep's worker
    running many small runs one after the other then pays numba's import once, after
    numpy has cost it about as much (the ski-rental rule: at most twice the cost of
    choosing right from the start), while a process running one small run without a
    long spin-up (see :data:`SPIN_UP_MONTHS`) never imports numba. Both paths give the
    same results, so which one a month takes never changes a run.
    """
    minimum = globals()[kind]
    if entries >= minimum or _numpy_entries[kind] >= PAYBACK_MONTHS * minimum or _imported():
        return enabled()
    _numpy_entries[kind] += entries
    return False


def prefer() -> bool:
    """Run the kernels from now on, for months of any size: numba is imported now.

    For a process that knows it will run enough months to repay numba's import, such as
    a sweep's worker process given many runs (:mod:`clustersim.experiments.execute`),
    instead of learning it after ``PAYBACK_MONTHS`` months in numpy (:func:`worth`).
    Results do not change. Returns whether the kernels are enabled (numba installed, not
    switched off by ``CLUSTERSIM_KERNELS=numpy``).
    """
    return enabled()


def _imported() -> bool:
    """Whether this process has imported numba for its kernels (the import is paid)."""
    return _numba.cache_info().currsize > 0


@functools.cache
def _numba() -> Any:
    """numba, or None where it is not installed or does not load (then numpy runs)."""
    try:
        import numba
    except ImportError:
        return None
    except Exception as exc:  # a broken install (llvmlite's library missing: OSError...)
        _log.warning("numba does not load (%s: %s): running numpy only", type(exc).__name__, exc)
        return None
    return numba


def logs_match() -> bool:
    """Whether numba's ``log`` gives numpy's bits on this machine (and kernels are enabled).

    numba's logarithm is the C library's. numpy's is the same function on processors
    without AVX-512, and its own vectorised code, which differs in the last bit for
    about 0.1 % of inputs, where AVX-512 runs (unless ``NPY_DISABLE_CPU_FEATURES``
    switches it off). Both are compared once a process, on 163,840 inputs of the ranges
    the kernels meet (draws in (0, 1], minus their logarithms, and a lognormal spread
    over about 1e-17 to 1e17); a kernel that takes logarithms runs only where they all
    agree, so that a run gives the same bits whichever path a month takes. (A platform
    whose logarithms differed on far fewer inputs than AVX-512's could pass unnoticed;
    the golden set with every kernel, ``scripts/golden_hashes.py --kernels``, would then
    tell.) ``CLUSTERSIM_KERNELS`` is read at each call, as by :func:`enabled`.
    """
    return enabled() and _logs_match()


@functools.cache
def _logs_match() -> bool:
    """The comparison of :func:`logs_match`, made once a process (numba importable)."""
    g = np.random.default_rng(20261207)
    u = 1.0 - g.random(65_536)
    x = np.concatenate([u, -np.log(u), g.lognormal(0.0, 10.0, 32_768)])
    kernel = _compiled(_logs_py)
    return kernel is not None and bool(
        np.array_equal(kernel(x).view(np.uint64), np.log(x).view(np.uint64))
    )


def _logs_py(x: np.ndarray) -> np.ndarray:
    """The ``log`` of each entry, as numba computes it (compiled by :func:`logs_match`)."""
    out = x.copy()
    for i in range(len(x)):
        out[i] = np.log(x[i])
    return out


def _compiled(function: Callable) -> Callable | None:
    """``function`` compiled by numba (nopython, cached on disk), or None without numba."""
    numba = _numba()
    if numba is None:
        return None
    return numba.njit(cache=True, nogil=True)(function)


# the kernels, by the part of the month they compile (each imports the helpers above)
from clustersim.model.kernels.categorical import categories  # noqa: E402
from clustersim.model.kernels.labour import match_labour, wages  # noqa: E402
from clustersim.model.kernels.location import location_income, location_utilities  # noqa: E402
from clustersim.model.kernels.logit import logit_pick  # noqa: E402
from clustersim.model.kernels.search import search_reachable  # noqa: E402
from clustersim.model.kernels.ties import tie_pairs  # noqa: E402
