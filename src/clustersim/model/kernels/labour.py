"""The labour matching, compiled (see ``mechanisms.match_labour``)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from clustersim.model.kernels import _compiled


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
        # cumulative vacancies <= position (numpy's searchsorted "right" over all of them),
        # counted within the node's firms: every open firm has a vacancy, so the entries
        # before the node's first firm are <= lo_node <= position and those after its
        # last exceed the node's end >= position (the count is the same, in fewer steps)
        lo, hi = seg[node * n_sectors], seg[(node + 1) * n_sectors]
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
    slower than numpy's vectorised ones). The job search weighs every hiring node, as
    numpy's dense search does (its search over reachable nodes makes the same picks).
    Integer arrays are int64; ``n_sectors`` is numpy's (one more than the largest
    sector of firms and seekers).
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


def _wages_py(
    wage: np.ndarray,
    place: np.ndarray,
    idle_home: np.ndarray,
    firm_node: np.ndarray,
    vacancies: np.ndarray,
    hires: np.ndarray,
    talents_at: np.ndarray,
    alive: np.ndarray,
    revenue: np.ndarray,
    labour: np.ndarray,
    params: np.ndarray,
) -> np.ndarray:
    """Each place's new wage, as ``phases.labour._adjust_wages`` sets it, in one pass.

    ``params``: wage adjustment, productivity pull, wage floor, labour share. The sums
    by place are numpy's ``bincount``: each in row order, from zero.
    """
    adjustment, pull, floor, share = params[0], params[1], params[2], params[3]
    n_places = len(wage)
    unemployed = np.zeros(n_places, dtype=np.int64)
    for h in idle_home:
        unemployed[place[h]] += 1
    open_jobs = np.zeros(n_places)
    for f in range(len(firm_node)):
        open_jobs[place[firm_node[f]]] += float(max(vacancies[f], 0))
    hired = np.zeros(n_places, dtype=np.int64)
    for f in hires:
        hired[place[firm_node[f]]] += 1
    talents = np.zeros(n_places)
    for node in range(len(talents_at)):
        talents[place[node]] += float(talents_at[node])
    made = np.zeros(n_places)  # revenue and effective labour of the living firms by place
    staff = np.zeros(n_places)
    for f in alive:
        made[place[firm_node[f]]] += revenue[f]
        staff[place[firm_node[f]]] += labour[f]
    out = np.empty(n_places)
    for p in range(n_places):  # NaN goes where numpy's clip, where and maximum take it
        tightness = ((open_jobs[p] - hired[p]) - unemployed[p]) / max(talents[p], 1.0)
        x = adjustment * tightness
        change = x if x != x else min(max(x, -0.01), 0.01)
        w = wage[p] * (1.0 + change)
        if staff[p] > 0:
            target = share * made[p] / staff[p]
            if target == target:  # no pull toward a NaN target
                w = w + pull * (target - w)
        out[p] = w if (w != w or w >= floor) else floor
    return out


@functools.cache
def _wage_kernel() -> Callable | None:
    return _compiled(_wages_py)


def wages(*args: np.ndarray) -> np.ndarray:
    """The compiled ``_wages_py`` (kernels must be enabled)."""
    return _wage_kernel()(*args)
