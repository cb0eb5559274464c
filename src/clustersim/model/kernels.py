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
    "CATEGORY_ENTRIES",
    "CHOICE_ENTRIES",
    "ENV",
    "MATCH_ENTRIES",
    "PAYBACK_MONTHS",
    "SEARCH_ENTRIES",
    "categories",
    "enabled",
    "location_income",
    "location_utilities",
    "match_labour",
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
#: importing numba and loading its first kernel costs (0.25 s; numpy takes 13-20 ns an
#: entry more than the kernels, measured from 10,000 to a million talents: 60 months of
#: 200,000 location-choice entries): from then on the kernels run for months of any size
#: (see :func:`worth`).
PAYBACK_MONTHS = 60

#: Entries each kind of kernel (keyed by its ``minimum``) has left to numpy in this process.
_numpy_entries: collections.Counter[int] = collections.Counter()


def worth(entries: int, minimum: int) -> bool:
    """Whether a kernel runs for a month of ``entries`` entries (kernels enabled).

    It runs for a month of at least ``minimum`` entries, for any month once this
    process has imported numba (for this kernel or another), and for any month once this
    process has run ``PAYBACK_MONTHS`` months' worth of such entries (``minimum`` each)
    in numpy: a sweep's worker running many small runs one after the other then pays
    numba's import once, after numpy has cost it about as much (the ski-rental rule: at
    most twice the cost of choosing right from the start), while a process running one
    small run never imports numba. Both paths give the same results, so which one a
    month takes never changes a run.
    """
    if entries >= minimum or _numpy_entries[minimum] >= PAYBACK_MONTHS * minimum or _imported():
        return enabled()
    _numpy_entries[minimum] += entries
    return False


def _imported() -> bool:
    """Whether this process has imported numba for its kernels (the import is paid)."""
    return _numba.cache_info().currsize > 0


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


#: Seekers x nodes of a month's labour matching from which its kernel runs (see
#: ``SEARCH_ENTRIES``; below, the :data:`PAYBACK_MONTHS` rule decides).
MATCH_ENTRIES = 500_000


def _vacancy_tables_py(
    firm_node: np.ndarray,
    firm_sector: np.ndarray,
    vacancies: np.ndarray,
    n_nodes: int,
    n_sectors: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Open firms in stable order of (node, sector), their cumulative vacancies, the tables.

    Returns ``ordered`` (open firms), ``seg`` (where each (node, sector) key starts in
    ``ordered``), ``cum0`` (0 and the cumulative vacancies, as floats), ``vac_ns`` and
    ``vac_node`` (open vacancies by node and sector, by node), as
    ``mechanisms.match_labour`` makes them (a counting sort is numpy's stable sort here).
    """
    open_firms = np.flatnonzero(vacancies > 0)
    n_keys = n_nodes * n_sectors
    seg = np.zeros(n_keys + 1, dtype=np.int64)
    for f in open_firms:
        seg[firm_node[f] * n_sectors + firm_sector[f] + 1] += 1
    for k in range(n_keys):
        seg[k + 1] += seg[k]
    at = seg[:-1].copy()
    ordered = np.empty(len(open_firms), dtype=np.int64)
    for f in open_firms:
        k = firm_node[f] * n_sectors + firm_sector[f]
        ordered[at[k]] = f
        at[k] += 1
    count = 0
    cum0 = np.zeros(len(ordered) + 1)
    for i in range(len(ordered)):
        count += vacancies[ordered[i]]
        cum0[i + 1] = float(count)
    vac_ns = np.empty((n_nodes, n_sectors))
    vac_node = np.zeros(n_nodes)
    for n in range(n_nodes):
        for s in range(n_sectors):
            k = n * n_sectors + s
            vac_ns[n, s] = cum0[seg[k + 1]] - cum0[seg[k]]
            vac_node[n] += vac_ns[n, s]  # whole numbers: exact in any order
    return ordered, seg, cum0, vac_ns, vac_node


def _job_search_py(
    seeker_home: np.ndarray,
    seeker_sector: np.ndarray,
    reach: np.ndarray,
    vac_ns: np.ndarray,
    vac_node: np.ndarray,
    cross: float,
    u: np.ndarray,
) -> np.ndarray:
    """Stage 1 of the matching: each seeker's node (-1: none), as numpy's dense search.

    One row of cumulative weights ``reach * effective vacancies`` over the hiring nodes
    per (home, sector) pair; ``u``: one uniform draw per seeker (``draws.choose_rows``).
    """
    n_nodes, n_sectors = vac_ns.shape
    columns = np.flatnonzero(vac_node > 0)
    effective = np.empty((n_nodes, n_sectors))  # numpy's effective vacancies, the same operations
    for n in range(n_nodes):
        for s in range(n_sectors):
            effective[n, s] = vac_ns[n, s] * (1.0 - cross) + cross * vac_node[n]
    pair_key = seeker_home * n_sectors + seeker_sector
    row_of = np.full(n_nodes * n_sectors, -1, dtype=np.int64)
    pairs = np.unique(pair_key)
    weights = np.empty((len(pairs), len(columns)))
    for p in range(len(pairs)):
        row_of[pairs[p]] = p
        h, s = pairs[p] // n_sectors, pairs[p] % n_sectors
        acc = 0.0
        for c in range(len(columns)):
            node = columns[c]
            acc = acc + reach[h, node] * effective[node, s]
            weights[p, c] = acc
    node_of = np.full(len(seeker_home), -1, dtype=np.int64)
    last = len(columns) - 1
    for i in range(len(seeker_home)):
        p = row_of[pair_key[i]]
        total = weights[p, last]
        if not total > 0.0:
            continue
        x = u[i] * total
        lo, hi = 0, len(columns)
        while lo < hi:  # entries <= x come first: count them by bisection
            mid = (lo + hi) // 2
            if weights[p, mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        node_of[i] = columns[min(lo, last)]
    return node_of


def _assign_firms_py(
    node_of: np.ndarray,
    seeker_sector: np.ndarray,
    tables: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    cross: float,
    own: np.ndarray,
    v: np.ndarray,
) -> np.ndarray:
    """Stage 2 of the matching: the firm each applicant (``node_of >= 0``) applies to.

    ``own`` and ``v``: uniform draws per applicant, in ``mechanisms.match_labour``'s
    order: whether the applicant looks in their own sector, then their place in the
    cumulative vacancies.
    """
    ordered, seg, cum0, vac_ns, vac_node = tables
    n_sectors, n_open = vac_ns.shape[1], len(ordered)
    applied = np.flatnonzero(node_of >= 0)
    m = len(applied)
    own_vac, other_vac, p_own = np.empty(m), np.empty(m), np.empty(m)
    for j in range(m):
        node, s = node_of[applied[j]], seeker_sector[applied[j]]
        own_vac[j] = vac_ns[node, s]
        other_vac[j] = vac_node[node] - own_vac[j]
        p_own[j] = own_vac[j] / max(own_vac[j] + cross * other_vac[j], 1e-12)
    firm = np.empty(m, dtype=np.int64)
    for j in range(m):
        node, s = node_of[applied[j]], seeker_sector[applied[j]]
        lo_node = cum0[seg[node * n_sectors]]
        lo_own = cum0[seg[node * n_sectors + s]]
        if own[j] < p_own[j]:
            position = lo_own + v[j] * own_vac[j]
        else:
            position = lo_node + v[j] * other_vac[j]
            position = position + (own_vac[j] if position >= lo_own else 0.0)
        lo, hi = 0, n_open  # cumulative vacancies <= position (numpy's searchsorted "right")
        while lo < hi:
            mid = (lo + hi) // 2
            if cum0[mid + 1] <= position:
                lo = mid + 1
            else:
                hi = mid
        firm[j] = ordered[min(lo, n_open - 1)]
    return firm


def _accept_py(
    applied: np.ndarray, firm: np.ndarray, shuffle: np.ndarray, vacancies: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each firm takes its applicants in the order of ``shuffle``, up to its vacancies.

    The accepted (applicant, firm) pairs in numpy's order: by firm, in shuffled order
    within a firm (a stable counting sort of the shuffled pairs by firm).
    """
    m = len(applied)
    start = np.zeros(len(vacancies) + 1, dtype=np.int64)
    for j in range(m):
        start[firm[j] + 1] += 1
    for k in range(len(vacancies)):
        start[k + 1] += start[k]
    sorted_applied = np.empty(m, dtype=np.int64)
    sorted_firm = np.empty(m, dtype=np.int64)
    accepted = np.zeros(m, dtype=np.bool_)
    taken = np.zeros(len(vacancies), dtype=np.int64)  # the firm's applicants placed so far
    for j in shuffle:
        f = firm[j]
        at = start[f] + taken[f]
        sorted_applied[at], sorted_firm[at] = applied[j], f
        accepted[at] = taken[f] < vacancies[f]  # its rank within the firm
        taken[f] += 1
    return sorted_applied[accepted], sorted_firm[accepted]


@functools.cache
def _match_kernels() -> tuple[Callable, ...]:
    return tuple(
        _compiled(f) for f in (_vacancy_tables_py, _job_search_py, _assign_firms_py, _accept_py)
    )


def match_labour(
    seeker_home: np.ndarray,
    seeker_sector: np.ndarray,
    firm_node: np.ndarray,
    firm_sector: np.ndarray,
    vacancies: np.ndarray,
    reach: np.ndarray,
    cross: float,
    n_sectors: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``mechanisms.match_labour`` compiled (kernels must be enabled): the same hires.

    The same vacancy tables, and the same uniform draws and permutation, drawn by numpy
    from the model's generator between the kernels in the same order (numba could draw
    them too, but passing it a generator costs 7 us a call and its draws are 3-4 times
    slower than numpy's vectorised ones); the job search
    weighs every hiring node, as numpy's dense search does (its search over reachable
    nodes makes the same picks). Integer arrays are int64, ``n_sectors`` is numpy's
    (one more than the largest sector of firms and seekers).
    """
    empty = np.zeros(0, dtype=np.int64)
    if len(seeker_home) == 0 or not (vacancies > 0).any():
        return empty, empty
    tables_of, search, assign, accept = _match_kernels()
    tables = tables_of(firm_node, firm_sector, vacancies, reach.shape[0], n_sectors)
    u = rng.random(len(seeker_home))
    node_of = search(seeker_home, seeker_sector, reach, tables[3], tables[4], cross, u)
    applied = np.flatnonzero(node_of >= 0)
    own, v = rng.random(len(applied)), rng.random(len(applied))
    firm = assign(node_of, seeker_sector, tables, cross, own, v)
    return accept(applied, firm, rng.permutation(len(applied)), vacancies)


#: Draws of one call of ``draws.categories`` from which its kernel runs (in practice:
#: once numba is imported for another kernel, see :func:`worth`).
CATEGORY_ENTRIES = 1_000_000


def _categories_py(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``Generator.choice(len(cdf), size, p=p)`` given numpy's ``cdf`` of ``p`` and its draws ``u``.

    Each pick is the number of entries of the non-decreasing ``cdf`` at or below its
    draw (``cdf.searchsorted(u, "right")``), counted without branching.
    """
    out = np.empty(len(u), dtype=np.int64)
    for i in range(len(u)):
        k = 0
        for j in range(len(cdf)):
            k += cdf[j] <= u[i]
        out[i] = k
    return out


@functools.cache
def _categories_kernel() -> Callable | None:
    return _compiled(_categories_py)


def categories(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The compiled ``_categories_py`` (kernels must be enabled)."""
    return _categories_kernel()(cdf, u)
