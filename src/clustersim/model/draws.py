"""Weighted random draws for many choosers at once, all from the model's one generator.

A logit choice by the Gumbel-max trick (:func:`logit_choice`), a pick in proportion to
weights per row, rows shared by many choosers (:func:`choose_rows`), the job search's
pick of a node over the nodes within commuting reach (:func:`search_nodes`,
:class:`ReachableRows`), and the sampled choice sets of a city of many nodes
(:func:`sample_alternatives`). The mechanisms of :mod:`clustersim.model.mechanisms`
call these; each function says which draws it takes, so that a faster way of drawing
can be shown to pick the same.
"""

from __future__ import annotations

import numpy as np

from clustersim.model import kernels

__all__ = [
    "ChoiceSets",
    "ReachableRows",
    "categories",
    "choose_rows",
    "logit_choice",
    "sample_alternatives",
    "search_nodes",
]


def categories(rng: np.random.Generator, n: int, size: int, p: np.ndarray) -> np.ndarray:
    """``rng.choice(n, size=size, p=p)``: ``size`` draws of ``0..n-1`` with probabilities ``p``.

    With ``size`` 0 no call is made (numpy's checks of ``p`` cost about 10 us a call,
    and a call for no draw takes no number from the stream either). Where kernels run
    (:func:`clustersim.model.kernels.worth`), the compiled picks from the same draws
    (about 5x faster for thousands of draws); ``p`` must then be valid, as numpy's
    checks are skipped (every caller passes the sectors' weights).

    Examples:
        >>> categories(np.random.default_rng(0), 3, 0, np.array([0.5, 0.5, 0.0]))
        array([], dtype=int64)
    """
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    if len(p) == n and kernels.worth(size, "CATEGORY_ENTRIES"):
        cdf = np.asarray(p, dtype=np.float64).cumsum()  # Generator.choice's own cdf
        cdf /= cdf[-1]
        return kernels.categories(cdf, rng.random(size))  # its picks from its draws, compiled
    return rng.choice(n, size=size, p=p)


def logit_choice(utilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pick one column per row with multinomial-logit probabilities (Gumbel-max trick).

    ``-inf`` marks an unavailable option. Each row must have one finite entry.
    The Gumbel noise is Generator.gumbel's, -log(-log(1 - u)) of the same uniform
    draws, with the logarithms taken by numpy's vectorised ``log`` (about twice as
    fast); a draw u = 0 (probability 2**-53) gives +inf noise instead of a redraw.
    Where kernels run and their logarithms are numpy's
    (:func:`clustersim.model.kernels.logs_match`), a compiled pick takes the same draws
    and picks the same options; it skips the logarithms of the options that cannot win
    (the 10,000-talent city's picks, draws included, take 0.37 against 0.61 ms a month).
    """
    if utilities.size == 0:
        return np.zeros(utilities.shape[0], dtype=np.int64)
    if kernels.worth(utilities.size, "LOGIT_ENTRIES") and kernels.logs_match():
        u = rng.random(utilities.shape)  # the reference's draws
        return kernels.logit_pick(np.ascontiguousarray(utilities, dtype=np.float64), u)
    noise = 1.0 - rng.random(utilities.shape)
    np.log(noise, out=noise)
    np.negative(noise, out=noise)
    np.log(noise, out=noise)
    noise -= utilities  # noise now holds -(utilities + gumbel)
    return np.argmin(noise, axis=1)


def choose_rows(
    weights: np.ndarray, rng: np.random.Generator, rows: np.ndarray | None = None
) -> np.ndarray:
    """Pick one column per row with probability proportional to non-negative weights.

    Rows whose weights are all zero get -1. With ``rows``, pick ``i`` is drawn from
    the weights of row ``rows[i]`` (many choosers who share a row of weights, e.g. job
    seekers living at the same node and trained in the same sector): the same picks,
    from the same draws, as ``choose_rows(weights[rows], rng)``, with the cumulative
    sums taken once per distinct row.

    Examples:
        >>> choose_rows(np.array([[0.0, 1.0], [0.0, 0.0]]), np.random.default_rng(0))
        array([ 1, -1])
        >>> weights, rows = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([1, 0, 0])
        >>> choose_rows(weights, np.random.default_rng(0), rows)
        array([-1,  1,  1])
    """
    n = weights.shape[0] if rows is None else len(rows)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1] if rows is None else cum[rows, -1]
    u = rng.random(n) * total
    pick = _count_at_most(cum, u, rows)
    pick = np.minimum(pick, weights.shape[1] - 1)
    return np.where(total > 0, pick, -1)


#: Picks x columns up to which :func:`_count_at_most` compares every entry: a bisection's
#: ten or so array operations a step cost more below (38 against 5 us for 20 picks of 9
#: columns, 86 against 55 us for 200 x 200), less above (159 against 195 us for 700 x 200,
#: 1.3 against 6.8 ms for 8,000 x 500).
_COMPARE_ENTRIES = 50_000


def _count_at_most(cum: np.ndarray, u: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Per pick ``i``, how many entries of the non-decreasing row ``cum[rows[i]]`` are <= ``u[i]``.

    ``rows`` defaults to one row per pick. Up to :data:`_COMPARE_ENTRIES` picks x columns,
    every entry is compared (``(cum[rows] <= u[:, None]).sum(axis=1)``: a few array
    operations); above, a bisection over the columns of every row at once takes
    ``log2(columns)`` gathers instead (the same comparisons decide, so the count is the same).
    """
    cols = cum.shape[1]
    if len(u) * cols <= _COMPARE_ENTRIES:
        return (cum[slice(None) if rows is None else rows] <= u[:, None]).sum(axis=1)
    index = np.arange(len(u)) if rows is None else rows
    lo = np.zeros(len(u), dtype=np.int64)
    hi = np.full(len(u), cols, dtype=np.int64)
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = (lo + hi) // 2
        below = cum[index, np.minimum(mid, cols - 1)] <= u
        lo = np.where(open_ & below, mid + 1, lo)
        hi = np.where(open_ & ~below, mid, hi)


class ReachableRows:
    """The nonzero entries of a reach matrix, row by row, padded in groups of similar length.

    Rows (homes) are grouped by their number of reachable nodes, widths within
    ``_WIDTH_STEP`` of each other; each group holds its rows' reachable nodes (ascending)
    and reach values, padded to the group's widest row with node 0 and reach 0.

    Attributes:
        source: the reach matrix the rows were made from.
        counts: reachable nodes of each row.
        group: each row's group (-1: nothing within reach).
        row: each row's position in its group.
        nodes, values: per group, its rows' reachable nodes and reach values (rows x width).
        start, flat_nodes, flat_values: the rows unpadded, one after another: row ``h``'s
            nodes are ``flat_nodes[start[h]:start[h + 1]]`` (the compiled search's form).

    Examples:
        >>> rows = ReachableRows(np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
        >>> rows.counts, rows.group
        (array([2, 1, 0]), array([ 1,  0, -1]))
        >>> rows.nodes[1], rows.values[1]
        (array([[0, 2]]), array([[1. , 0.5]]))
    """

    def __init__(self, reach: np.ndarray) -> None:
        self.source = reach  # the matrix these rows describe (compared by identity)
        reachable = reach > 0
        self.counts = reachable.sum(axis=1)
        start = np.concatenate([[0], np.cumsum(self.counts)])
        columns = np.append(np.nonzero(reachable)[1], 0)  # the last entry pads short rows
        values = np.append(reach[reachable], 0.0)
        self.start, self.flat_nodes, self.flat_values = start, columns[:-1], values[:-1]
        with np.errstate(divide="ignore"):
            width_class = np.floor(np.log(self.counts) / np.log(_WIDTH_STEP))
        classes = np.unique(width_class[self.counts > 0])
        self.group = np.full(len(self.counts), -1, dtype=np.int64)
        self.row = np.zeros(len(self.counts), dtype=np.int64)
        self.nodes: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        for g, width in enumerate(classes):
            rows = np.flatnonzero((width_class == width) & (self.counts > 0))
            self.group[rows], self.row[rows] = g, np.arange(len(rows))
            offset = np.arange(self.counts[rows].max())
            inside = offset[None, :] < self.counts[rows][:, None]
            at = np.where(inside, start[rows][:, None] + offset, len(values) - 1)
            self.nodes.append(columns[at])
            self.values.append(values[at])


def search_nodes(
    home: np.ndarray,
    sector: np.ndarray,
    effective: np.ndarray,
    reach: np.ndarray,
    hiring: np.ndarray,
    rng: np.random.Generator,
    reach_rows: ReachableRows | None = None,
) -> np.ndarray:
    """Each seeker's node, drawn in proportion to ``reach[home, n] * effective[n, sector]``.

    -1 for a seeker with no vacancy within reach. The weights depend only on a
    seeker's home and sector, so they are built once per pair present, over the nodes
    that are ``hiring`` (``effective`` must be 0 at the others). When the homes present
    reach on average at most ``_DENSE_REACH`` of the nodes (a big city), only the
    reachable ones are weighed (:func:`_search_reachable`), with the same draws and
    picks. ``reach_rows``: the :class:`ReachableRows` of ``reach`` if the caller keeps
    them (made here when missing or made from another matrix).
    """
    n_sectors = effective.shape[1]
    pairs, pair_of = np.unique(home.astype(np.int64) * n_sectors + sector, return_inverse=True)
    fresh = reach_rows is not None and reach_rows.source is reach
    homes = pairs // n_sectors
    reachable = reach_rows.counts[homes] if fresh else (reach[homes] > 0).sum(axis=1)
    if reachable.mean() > _DENSE_REACH * reach.shape[1]:
        columns = np.flatnonzero(hiring)  # nodes without vacancies weigh nothing
        weights = reach[homes][:, columns] * effective[columns][:, pairs % n_sectors].T
        pick = choose_rows(weights, rng, pair_of)
        return np.where(pick >= 0, columns[np.maximum(pick, 0)], -1)
    rows = reach_rows if fresh else ReachableRows(reach)
    return _search_reachable(homes, pairs % n_sectors, pair_of, effective, rows, rng)


#: Share of reachable nodes above which the job search weighs every node.
_DENSE_REACH = 0.5
#: Width ratio of the groups of rows the reachable-node search pads to one width.
_WIDTH_STEP = 1.5


def _search_reachable(
    pair_home: np.ndarray,
    pair_sector: np.ndarray,
    pair_of: np.ndarray,
    effective: np.ndarray,
    reach_rows: ReachableRows,
    rng: np.random.Generator,
) -> np.ndarray:
    """:func:`choose_rows` over the reachable nodes of each (home, sector) pair only.

    A row's cumulative weights at its reachable nodes are those of the full row (the
    nodes left out weigh 0), and the draws are the same, so the picks are those of
    :func:`choose_rows` on the full rows. (They could differ only if a draw rounded up
    to its row's total, where the full row clips to its last node and this to the last
    reachable one; a uniform draw below 1 times a total rounds below the total unless
    the total is subnormal, below about 2.2e-308.) Returns node ids.
    """
    by_sector = np.ascontiguousarray(effective.T, dtype=np.float64).ravel()  # sector-major
    n_nodes = effective.shape[0]
    entries = reach_rows.counts[pair_home].sum()
    if kernels.worth(int(entries), "SEARCH_ENTRIES"):  # the same picks, one compiled pass
        random = rng.random(len(pair_of))
        return kernels.search_reachable(
            reach_rows.start, reach_rows.flat_nodes, reach_rows.flat_values, by_sector,
            n_nodes, pair_home, pair_sector, pair_of, random,
        )  # fmt: skip
    group = reach_rows.group[pair_home]
    width = reach_rows.counts[pair_home]
    total = np.zeros(len(pair_home))
    local = np.zeros(len(pair_home), dtype=np.int64)  # row of each pair in its block
    blocks = []
    for g in np.unique(group[group >= 0]):
        rows = np.flatnonzero(group == g)
        local[rows] = np.arange(len(rows))
        at = reach_rows.row[pair_home[rows]]
        cols = reach_rows.nodes[g][at]
        weights = reach_rows.values[g][at] * by_sector[pair_sector[rows][:, None] * n_nodes + cols]
        padded = np.arange(cols.shape[1])[None, :] >= width[rows][:, None]
        weights[padded] = 0.0  # a pad weighs nothing, whatever node 0's vacancies are
        cum = np.cumsum(weights, axis=1)
        total[rows] = cum[:, -1]
        blocks.append((g, cum, cols, width[rows]))
    u = rng.random(len(pair_of)) * total[pair_of]
    pick = np.full(len(pair_of), -1, dtype=np.int64)
    seeker_group = group[pair_of]
    for g, cum, cols, w in blocks:
        seekers = np.flatnonzero(seeker_group == g)
        row = local[pair_of[seekers]]
        k = np.minimum(_count_at_most(cum, u[seekers], row), w[row] - 1)
        pick[seekers] = cols[row, k]
    return np.where(total[pair_of] > 0, pick, -1)


def sample_alternatives(
    home: np.ndarray,
    employer_node: np.ndarray,
    weights: np.ndarray,
    size: int,
    rng: np.random.Generator,
    always: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Choice sets of a large city: the nodes each chooser weighs, and their utility corrections.

    Columns: the chooser's home node, the node of their employer, the nodes
    ``always`` weighed by everyone (those a lever or a partnership pulls toward),
    then ``size`` nodes drawn with replacement with probability ``q`` proportional
    to ``weights`` (rounded to multiples of 1 / (64 * nodes), at least one each, so
    that a draw is one integer and one lookup: an urn of node ids). The fixed
    columns have correction 0; a drawn node j gets ``-ln(size * q_j)``, so that
    the logit over the set, whose weights are ``exp(V + correction)``, weighs the
    other nodes by an unbiased estimate of the sum of their ``exp(V)`` (sampling of
    alternatives, McFadden 1978). The choice probabilities are consistent as
    ``size`` grows; at a finite size they lean slightly toward the fixed columns
    and leaving. A column that does not apply gets ``-inf``: no home, no employer,
    employer at home, a fixed node that is the chooser's home or employer, or a
    draw of a fixed node (whose own column carries its weight).

    Returns:
        (node ids, corrections), both of shape (choosers, 2 + len(always) + size).
    """
    sets = ChoiceSets.draw(home, employer_node, weights, size, rng, always)
    return sets.nodes, sets.correction(0, len(home))


#: Entries of the largest block of a choice set's draws taken at once (4 MB).
_DRAW_BLOCK = 1_000_000


class ChoiceSets:
    """Sampled choice sets (:func:`sample_alternatives`) whose corrections are made by rows.

    A region's location choice weighs 100 nodes for each of hundreds of thousands of
    choosers: its corrections are made for a block of choosers at a time
    (:meth:`correction`), not held for all at once.

    Attributes:
        nodes: the node ids of each chooser's columns (choosers x (2 + always + size)).
    """

    def __init__(
        self,
        nodes: np.ndarray,
        home: np.ndarray,
        employer_node: np.ndarray,
        always: np.ndarray,
        node_correction: np.ndarray,
    ) -> None:
        self.nodes = nodes
        self._home, self._employer = home, employer_node
        self._always = always
        self._node_correction = node_correction  # -ln(size * q_j) of each node
        self._is_always = np.zeros(len(node_correction), dtype=bool)
        inside = always[(always >= 0) & (always < len(node_correction))]
        self._is_always[inside] = True  # as np.isin: others match none

    @classmethod
    def draw(
        cls,
        home: np.ndarray,
        employer_node: np.ndarray,
        weights: np.ndarray,
        size: int,
        rng: np.random.Generator,
        always: np.ndarray | None = None,
    ) -> ChoiceSets:
        """Draw each chooser's ``size`` nodes; arguments as :func:`sample_alternatives`."""
        n, k = len(weights), len(home)
        always = np.zeros(0, dtype=np.int64) if always is None else np.asarray(always, np.int64)
        counts = np.maximum(np.floor(64 * n * weights / weights.sum()), 1).astype(np.int64)
        q = counts / counts.sum()
        # node ids as int32 (half the memory of a region's sets). The urn's draws are taken
        # in blocks of rows, in int32: they are the draws of one int64 draw for all rows
        # (Lemire's bounded draws from the generator's 32-bit outputs, whose spare half
        # the generator keeps between calls), without a second choosers x size table
        urn = np.repeat(np.arange(n, dtype=np.int32), counts)
        nodes = np.empty((k, 2 + len(always) + size), dtype=np.int32)
        nodes[:, 0] = np.maximum(home, 0)
        nodes[:, 1] = np.maximum(employer_node, 0)
        nodes[:, 2 : 2 + len(always)] = always
        block = max(1, _DRAW_BLOCK // max(size, 1))
        for start in range(0, k, block):
            drawn = rng.integers(0, len(urn), size=(min(block, k - start), size), dtype=np.int32)
            out = nodes[start : start + len(drawn), 2 + len(always) :]
            np.take(urn, drawn, out=out, mode="clip")  # every draw is in range
        return cls(nodes, home, employer_node, always, -np.log(size * q))

    def rows(self, start: int, stop: int) -> ChoiceSets:
        """The choice sets of choosers ``start:stop`` (node ids and their corrections)."""
        block = object.__new__(ChoiceSets)
        block.__dict__.update(self.__dict__)
        block.nodes = self.nodes[start:stop]
        block._home, block._employer = self._home[start:stop], self._employer[start:stop]
        return block

    @property
    def fixed(self) -> int:
        """Columns weighed by everyone whose correction is 0: home, employer, ``always``."""
        return 2 + len(self._always)

    def correction(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """The utility corrections of choosers ``start:stop`` (0, ``-ln(size * q_j)`` or -inf)."""
        stop = len(self.nodes) if stop is None else stop
        home, employer = self._home[start:stop], self._employer[start:stop]
        nodes = self.nodes[start:stop]
        fixed = self.fixed
        correction = np.zeros(nodes.shape)
        correction[home < 0, 0] = -np.inf
        correction[(employer < 0) | (employer == home), 1] = -np.inf
        own = (nodes[:, 2:fixed] == home[:, None]) | (nodes[:, 2:fixed] == employer[:, None])
        correction[:, 2:fixed][own] = -np.inf
        draws = nodes[:, fixed:]
        drawn = correction[:, fixed:]
        drawn[:] = self._node_correction[draws]  # each node's correction, computed once
        taken = (draws == home[:, None]) | (draws == employer[:, None])
        if len(self._always):
            taken |= self._is_always[draws]
        drawn[taken] = -np.inf
        return correction

    def kernel_terms(self) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        """What the compiled location choice needs to make the corrections itself.

        (employer node of each chooser, :attr:`fixed`, whether each node is weighed by
        everyone, each node's ``-ln(size * q_j)``); see ``kernels._location_utilities_py``.
        """
        return self._employer, self.fixed, self._is_always, self._node_correction
