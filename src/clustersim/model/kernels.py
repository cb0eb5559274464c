"""Compiled kernels (numba) behind the numpy functions that define what they compute.

A kernel here does, in one compiled pass, what a numpy reference function in
:mod:`clustersim.model.draws` or :mod:`clustersim.model.mechanisms` does in many
array operations, with the same floating-point operations in the same order, so
that its results are identical (``tests/model/test_kernels.py`` compares them on
random inputs and on whole runs). The one freedom the compiler keeps is which NaN's
sign survives when two NaN operands meet; no choice can depend on it.
Random numbers are drawn by the caller from the model's numpy generator and
passed in: a run draws the same numbers with and without numba.

numba is optional (``pip install clustersim[fast]``). Without it, or with the
environment variable ``CLUSTERSIM_KERNELS=numpy``, the numpy references run.
numba is imported, and a kernel compiled (or read from numba's cache), the first
time a kernel is asked for, so runs that never need one do not pay for it.
"""

from __future__ import annotations

import collections
import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "CHOICE_ENTRIES",
    "ENV",
    "PAYBACK_MONTHS",
    "SEARCH_ENTRIES",
    "enabled",
    "location_income",
    "location_utilities",
    "search_reachable",
    "worth",
]

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


#: Months of ``minimum`` entries after which numpy has cost a process about what
#: importing numba and loading a kernel costs: from then on the kernel runs for months of
#: any size (see :func:`worth`).
PAYBACK_MONTHS = 30

#: Entries each kind of kernel (keyed by its ``minimum``) has left to numpy in this process.
_numpy_entries: collections.Counter[int] = collections.Counter()


def worth(entries: int, minimum: int) -> bool:
    """Whether a kernel runs for a month of ``entries`` entries (kernels enabled).

    It runs for a month of at least ``minimum`` entries, and for any month once this
    process has run ``PAYBACK_MONTHS`` months' worth of such entries (``minimum`` each)
    in numpy: a sweep's worker running many small runs one after the other then pays
    numba's import once, after numpy has cost it about as much (the ski-rental rule: at
    most twice the cost of choosing right from the start), while a process running one
    small run never imports numba. Both paths give the same results, so which one a
    month takes never changes a run.
    """
    if entries >= minimum or _numpy_entries[minimum] >= PAYBACK_MONTHS * minimum:
        return enabled()
    _numpy_entries[minimum] += entries
    return False


@functools.cache
def _numba() -> Any:
    try:
        import numba
    except ImportError:
        return None
    return numba


def _compiled(function: Callable) -> Callable | None:
    """``function`` compiled by numba (nopython, cached on disk), or None without numba."""
    numba = _numba()
    if numba is None:
        return None
    return numba.njit(cache=True, nogil=True)(function)


def _search_reachable_py(
    start: np.ndarray,
    nodes: np.ndarray,
    reach: np.ndarray,
    by_sector: np.ndarray,
    n_nodes: int,
    pair_home: np.ndarray,
    pair_sector: np.ndarray,
    pair_of: np.ndarray,
    random: np.ndarray,
) -> np.ndarray:
    """The job search's picks over reachable nodes (see ``draws._search_reachable``).

    Home ``h`` reaches ``nodes[start[h]:start[h + 1]]`` (ascending) with ``reach`` values.
    Per (home, sector) pair its weights ``reach * by_sector[sector * n_nodes + node]`` are
    summed left to right (numpy's cumsum); per seeker ``u = random * total`` and the pick
    is the reachable node after the last partial sum ``<= u`` (clipped to the last one),
    -1 when the total is not positive.
    """
    n_pairs = len(pair_home)
    offset = np.zeros(n_pairs + 1, dtype=np.int64)
    for p in range(n_pairs):
        h = pair_home[p]
        offset[p + 1] = offset[p] + start[h + 1] - start[h]
    cum = np.empty(offset[n_pairs], dtype=np.float64)
    total = np.zeros(n_pairs, dtype=np.float64)
    for p in range(n_pairs):
        h = pair_home[p]
        base = pair_sector[p] * n_nodes
        acc = 0.0
        at = offset[p]
        for j in range(start[h], start[h + 1]):
            acc = acc + reach[j] * by_sector[base + nodes[j]]
            cum[at] = acc
            at += 1
        total[p] = acc
    pick = np.full(len(pair_of), -1, dtype=np.int64)
    for i in range(len(pair_of)):
        p = pair_of[i]
        if not total[p] > 0.0:
            continue
        u = random[i] * total[p]
        lo = offset[p]
        hi = offset[p + 1]
        first = lo
        while lo < hi:  # entries <= u come first: count them by bisection
            mid = (lo + hi) // 2
            if cum[mid] <= u:
                lo = mid + 1
            else:
                hi = mid
        k = min(lo - first, offset[p + 1] - first - 1)
        pick[i] = nodes[start[pair_home[p]] + k]
    return pick


@functools.cache
def _search_reachable_kernel() -> Callable | None:
    return _compiled(_search_reachable_py)


def search_reachable(*args: Any) -> np.ndarray | None:
    """The compiled job search over reachable nodes, or None when kernels are off.

    Arguments as ``_search_reachable_py``.
    """
    if not enabled():
        return None
    return _search_reachable_kernel()(*args)


def _location_income_py(
    nodes: np.ndarray,
    dense: bool,
    sector: np.ndarray,
    skill: np.ndarray,
    employer_node: np.ndarray,
    wage: np.ndarray,
    max_commute: float,
    node_income: np.ndarray,
    travel_time: np.ndarray,
    expected: np.ndarray,
    commute: np.ndarray,
) -> None:
    """Income and commuting hours at each node a chooser weighs (``mechanisms._alternatives``).

    Writes ``expected`` and ``commute`` (choosers x columns). Column ``j`` is node ``j``
    when ``dense``, else ``nodes[i, j]``. Income is ``node_income[node, sector] * skill``,
    or the own wage where the employer is within ``max_commute`` minutes (then the
    commute is ``minutes / 60``), at least 1 (NaN stays NaN, as ``np.maximum``).
    """
    for i in range(expected.shape[0]):
        s = sector[i]
        skill_i = skill[i]
        employer = employer_node[i]
        for j in range(expected.shape[1]):
            node = j if dense else nodes[i, j]
            x = node_income[node, s] * skill_i
            hours = 0.0
            if employer >= 0:
                minutes = travel_time[node, employer]
                if minutes <= max_commute:
                    x = wage[i]
                    hours = minutes / 60.0
            if x < 1.0:
                x = 1.0
            expected[i, j] = x
            commute[i, j] = hours


def _location_utilities_py(
    utilities: np.ndarray,
    expected: np.ndarray,
    commute: np.ndarray,
    nodes: np.ndarray,
    dense: bool,
    sector: np.ndarray,
    taste: np.ndarray,
    home: np.ndarray,
    retention: np.ndarray,
    amenity: np.ndarray,
    openness: np.ndarray,
    rent: np.ndarray,
    ties: np.ndarray,
    log_size: np.ndarray,
    place: np.ndarray,
    weights: np.ndarray,
    sampled: bool,
    employer: np.ndarray,
    fixed: int,
    is_always: np.ndarray,
    node_correction: np.ndarray,
) -> None:
    """The location utilities of ``mechanisms.talent_location_utilities``, term by term.

    ``utilities[:, :columns]`` holds ``log(expected)`` on entry (numpy's logarithm) and
    the utilities on return; each term is added in the reference's order with the same
    operations. ``weights``: wage, openness, rent, commute and ties weights, move cost,
    place change cost; ``log_size`` is empty when there is no size term. With
    ``sampled``, the sampling corrections of ``draws.ChoiceSets`` are added last
    (``fixed`` columns home, employer and the always-weighed nodes, then the draws).
    """
    wage_w, open_w, rent_w, commute_w, ties_w, move_cost, change_cost = (
        weights[0], weights[1], weights[2], weights[3], weights[4], weights[5], weights[6]
    )  # fmt: skip
    has_size = len(log_size) > 0
    inf = np.inf
    for i in range(expected.shape[0]):
        s = sector[i]
        h = home[i]
        home_place = place[h] if h >= 0 else -1
        taste_i = taste[i]
        retention_i = retention[i]
        e = employer[i] if sampled else -1
        for j in range(expected.shape[1]):
            node = j if dense else nodes[i, j]
            u = utilities[i, j] * wage_w
            u = u + taste_i * amenity[node]
            u = u + open_w * openness[node]
            u = u - rent_w * rent[node] / expected[i, j]
            u = u - commute_w * commute[i, j]
            u = u + ties_w * ties[node, s]
            if has_size:
                u = u + log_size[node]
            same = place[node] == home_place
            u = u - move_cost * (1.0 if node != h else 0.0)
            u = u - change_cost * (0.0 if same else 1.0)
            u = u + retention_i * (1.0 if same else 0.0)
            if sampled:
                if j == 0:
                    c = -inf if h < 0 else 0.0
                elif j == 1:
                    c = -inf if (e < 0 or e == h) else 0.0
                elif j < fixed:
                    c = -inf if (node == h or node == e) else 0.0
                else:
                    c = node_correction[node]
                    if node == h or node == e or is_always[node]:
                        c = -inf
                u = u + c
            utilities[i, j] = u


@functools.cache
def _location_kernels() -> tuple[Callable, Callable] | None:
    income, utilities = _compiled(_location_income_py), _compiled(_location_utilities_py)
    return None if income is None else (income, utilities)


def location_income(*args: Any) -> None:
    """The compiled ``_location_income_py`` (kernels must be enabled)."""
    _location_kernels()[0](*args)


def location_utilities(*args: Any) -> None:
    """The compiled ``_location_utilities_py`` (kernels must be enabled)."""
    _location_kernels()[1](*args)
