"""The search for collaboration partners, compiled (see ``phases.ties``, which defines it)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from clustersim.model.kernels import _compiled


def _tie_pairs_py(
    source: np.ndarray,
    firm_node: np.ndarray,
    firm_sector: np.ndarray,
    alive: np.ndarray,
    firms_at: np.ndarray,
    kernel: np.ndarray,
    other_sector: float,
    u_node: np.ndarray,
    u_firm: np.ndarray,
    u_accept: np.ndarray,
) -> np.ndarray:
    """The new ties (pairs of firm rows) of the seeking firms ``source``, as ``form_ties``.

    Per source node one row of cumulative weights ``kernel[node] * firms_at`` (numpy's
    cumsum); a partner node by ``u_node`` (``draws.choose_rows``: -1 when no weight), a
    firm there by ``u_firm`` among the living firms in stable order of node, accepted
    by ``u_accept`` with probability 1 in the same sector and ``other_sector`` (at most
    1) otherwise; a firm does not tie to itself. A node of -1 indexes the last node, as
    numpy's negative indices do (no run reaches it: the source's own node weighs).
    """
    n_nodes = len(firms_at)
    # the living firms in stable order of node, and where each node's firms start
    start = np.zeros(n_nodes + 1, dtype=np.int64)
    for f in alive:
        start[firm_node[f] + 1] += 1
    for k in range(n_nodes):
        start[k + 1] += start[k]
    at = start[:-1].copy()
    order = np.empty(len(alive), dtype=np.int64)
    for f in alive:
        order[at[firm_node[f]]] = f
        at[firm_node[f]] += 1
    row_of = np.full(n_nodes, -1, dtype=np.int64)
    rows = 0
    for i in range(len(source)):  # one row of weights per source node present
        if row_of[firm_node[source[i]]] < 0:
            row_of[firm_node[source[i]]] = rows
            rows += 1
    cum = np.empty((rows, n_nodes))
    for node in range(n_nodes):
        r = row_of[node]
        if r >= 0:
            acc = 0.0
            for j in range(n_nodes):
                acc = acc + kernel[node, j] * firms_at[j]
                cum[r, j] = acc
    pairs = np.empty((len(source), 2), dtype=np.int64)
    n_pairs = 0
    for i in range(len(source)):
        s = source[i]
        r = row_of[firm_node[s]]
        total = cum[r, n_nodes - 1]
        node = -1
        if total > 0.0:
            x = u_node[i] * total
            lo, hi = 0, n_nodes
            while lo < hi:  # entries <= x come first: count them by bisection
                mid = (lo + hi) // 2
                if cum[r, mid] <= x:
                    lo = mid + 1
                else:
                    hi = mid
            node = min(lo, n_nodes - 1)
        k = node if node >= 0 else n_nodes - 1
        pick = start[k] + np.int64(u_firm[i] * firms_at[k])
        target = order[min(pick, len(order) - 1)]
        accept = 1.0 if firm_sector[s] == firm_sector[target] else other_sector
        if s != target and u_accept[i] < min(accept, 1.0):
            pairs[n_pairs, 0] = s
            pairs[n_pairs, 1] = target
            n_pairs += 1
    return pairs[:n_pairs]


@functools.cache
def _tie_kernel() -> Callable | None:
    return _compiled(_tie_pairs_py)


def tie_pairs(*args: np.ndarray | float) -> np.ndarray:
    """The compiled ``_tie_pairs_py`` (kernels must be enabled)."""
    return _tie_kernel()(*args)
