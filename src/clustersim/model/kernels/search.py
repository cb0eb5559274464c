"""The job search over the reachable nodes of a big city, compiled.

See ``draws._search_reachable``, which defines it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from clustersim.model.kernels import _compiled, enabled


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
