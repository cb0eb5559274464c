"""The model's mechanisms as vectorised, side-effect-free functions over numpy arrays.

Each function is one rule of the model with its source from the literature
(see ``docs/model.md``). The model holds the state and calls these once per
month for all agents at once; tests call them on tiny hand-built inputs.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ReachableRows",
    "agglomeration_benefit",
    "choose_rows",
    "collaboration_kernel",
    "collaboration_targets",
    "effective_density",
    "exit_hazard",
    "exit_risk_factor",
    "expected_income",
    "export_price_factor",
    "firm_output",
    "founder_node_utility",
    "hiring_targets",
    "knowledge_field",
    "local_unit_prices",
    "logit_choice",
    "match_labour",
    "reach_weights",
    "sample_alternatives",
    "sector_mix_spillover",
    "talent_location_utilities",
]


def reach_weights(
    travel_time: np.ndarray, decay: float, max_time: float | None = None
) -> np.ndarray:
    """Distance-decay weights exp(-t/decay), zero beyond ``max_time`` (commuting reach).

    Examples:
        >>> reach_weights(np.array([[0.0, 30.0], [30.0, 0.0]]), 30.0, max_time=20.0)
        array([[1., 0.],
               [0., 1.]])
    """
    with np.errstate(over="ignore"):  # a tiny decay: t / decay overflows, its weight is 0
        w = np.exp(-travel_time / decay)
    if max_time is not None:
        w = np.where(travel_time <= max_time, w, 0.0)
    return w


def logit_choice(utilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pick one column per row with multinomial-logit probabilities (Gumbel-max trick).

    ``-inf`` marks an unavailable option. Each row must have one finite entry.
    The Gumbel noise is Generator.gumbel's, -log(-log(1 - u)) of the same uniform
    draws, with the logarithms taken by numpy's vectorised ``log`` (about twice as
    fast); a draw u = 0 (probability 2**-53) gives +inf noise instead of a redraw.
    """
    if utilities.size == 0:
        return np.zeros(utilities.shape[0], dtype=np.int64)
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


def _count_at_most(cum: np.ndarray, u: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Per pick ``i``, how many entries of the non-decreasing row ``cum[rows[i]]`` are <= ``u[i]``.

    ``rows`` defaults to one row per pick. A bisection over the columns of every row at
    once: ``log2(columns)`` gathers instead of comparing every entry (the same
    comparisons decide, so the count is exactly ``(cum[rows] <= u[:, None]).sum(axis=1)``).
    """
    cols = cum.shape[1]
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


def effective_density(kernel: np.ndarray, jobs_at: np.ndarray) -> np.ndarray:
    """Creative jobs within reach of each node: ``D_j = sum_k kernel[j, k] * jobs_k``.

    With ``kernel = exp(-travel_time / decay)`` a node counts its own jobs in
    full and its neighbours' discounted by travel time (Ahlfeldt et al. 2015).

    Examples:
        >>> effective_density(np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([10.0, 0.0]))
        array([10.,  5.])
    """
    return kernel @ np.asarray(jobs_at, float)


def agglomeration_benefit(
    density: np.ndarray, elasticity: float, reference: float, cap: float | None
) -> np.ndarray:
    """Output multiplier from density: ``g = (min(D, cap) / reference)^elasticity``, at least 1.

    ``density`` counts creative jobs within reach (:func:`effective_density`).
    An elasticity of about 0.05 is the literature's (Ciccone & Hall 1996;
    Melo, Graham & Noland 2009): doubling density raises output by 3.5%. Below
    the reference density the benefit is 1, not a penalty. With ``cap=None``
    the benefit grows without bound and, through founders' location choice and
    firm survival, strong increasing returns lock in on one location; with a
    cap several locations can share (Arthur 1990, Math. Soc. Sci. 19:235-251).

    Examples:
        >>> agglomeration_benefit(np.array([0.5, 1.0, 32.0, 1024.0]), 0.2, 1.0, 32.0)
        array([1., 1., 2., 2.])
    """
    d = np.asarray(density, float)
    if cap is not None:
        d = np.minimum(d, cap)
    return np.power(np.maximum(d / reference, 1.0), elasticity)


def export_price_factor(
    volume: np.ndarray, volume0: np.ndarray, elasticity: float | None
) -> np.ndarray:
    """Outside buyers' price for each place's creative output, relative to the start.

    Outside demand for a place's output (one Armington variety) has a constant
    price elasticity: the price is ``(volume / volume0)^(-1/elasticity)``, 1 at
    the reference volume. ``elasticity=None`` (a price-taker), places without a
    reference volume and places that export nothing now get factor 1.

    Examples:
        >>> export_price_factor(np.array([200.0, 50.0, 7.0]), np.array([100.0, 100.0, 0.0]), 5.0)
        array([0.87055056, 1.14869835, 1.        ])
    """
    out = np.ones(np.shape(volume))
    if elasticity is None:
        return out
    ok = (volume0 > 0) & (volume > 0)
    out[ok] = np.power(volume[ok] / volume0[ok], -1.0 / elasticity)
    return out


def sector_mix_spillover(
    employment_in_reach: np.ndarray, specialisation_weight: float, diversity_weight: float
) -> np.ndarray:
    """Specialisation (MAR) and diversity (Jacobs) spillover multiplier by node and sector.

    ``employment_in_reach[j, s]`` is creative employment of sector s within reach
    of node j. Specialisation is the own-sector share, diversity is 1 - HHI of
    sector shares (Glaeser et al. 1992; Boschma & Fritsch 2009 for the creative
    class). Returns a (nodes x sectors) multiplier >= 1.

    Examples:
        >>> sector_mix_spillover(np.array([[1.0, 1.0]]), 0.2, 0.2)
        array([[1.2, 1.2]])
    """
    total = employment_in_reach.sum(axis=1, keepdims=True)
    share = np.divide(
        employment_in_reach, total, out=np.zeros(employment_in_reach.shape), where=total > 0
    )
    diversity = np.where(total[:, 0] > 0, 1.0 - (share * share).sum(axis=1), 0.0)
    return 1.0 + specialisation_weight * share + diversity_weight * diversity[:, None]


def knowledge_field(
    travel_time: np.ndarray, university_nodes: np.ndarray, decay: float
) -> np.ndarray:
    """University knowledge reaching each node: sum over universities of exp(-t/decay).

    Knowledge spills over to neighbours with distance (Valero & Van Reenen 2019).

    Examples:
        >>> knowledge_field(np.array([[0.0, 30.0], [30.0, 0.0]]), np.array([0]), 30.0).round(3)
        array([1.   , 0.368])
    """
    if len(university_nodes) == 0:
        return np.zeros(travel_time.shape[0])
    return np.exp(-travel_time[:, university_nodes] / decay).sum(axis=1)


def firm_output(
    productivity: np.ndarray, spillover: np.ndarray, effective_labour: np.ndarray, alpha: float
) -> np.ndarray:
    """Output q = A * spillover * L^alpha (decreasing returns to labour for alpha < 1)."""
    return productivity * spillover * np.power(np.maximum(effective_labour, 0.0), alpha)


def local_unit_prices(
    household_budget: np.ndarray,
    local_supply: np.ndarray,
    reach: np.ndarray,
    price_cap: float,
    supply_in_reach: np.ndarray | None = None,
) -> np.ndarray:
    """Unit price of local sales by node and sector from a Huff-type demand split.

    Households at node k spend ``household_budget[k, s]`` on sector s and split it
    over suppliers in reach in proportion to ``reach[k, j] * supply[j, s]``. The
    revenue of a supplier at j per unit sold is then sum_k reach[k, j] B[k, s] / Z[k, s]
    with Z = reach @ supply: more competitors in reach lower everyone's price.
    Budgets with no supplier in reach leak out of the region. Prices are capped
    at ``price_cap`` (scarcity cannot raise them without limit). ``supply_in_reach``:
    Z when the caller has it.

    Examples:
        >>> reach = np.eye(2)
        >>> local_unit_prices(np.array([[100.0], [100.0]]), np.array([[10.0], [50.0]]), reach, 1e9)
        array([[10.],
               [ 2.]])
    """
    z = reach @ local_supply if supply_in_reach is None else supply_in_reach
    ratio = np.divide(household_budget, z, out=np.zeros_like(household_budget), where=z > 0)
    return np.minimum(reach.T @ ratio, price_cap)


def hiring_targets(
    employees: np.ndarray,
    margin: np.ndarray,
    sensitivity: float,
    target_margin: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Change in employees each firm wants: grow when the margin beats the target, shrink when not.

    The target is max(L, 1) * sensitivity * (margin - target_margin), rounded
    stochastically (up with probability equal to the fraction) so that small
    firms also move (an adaptive firm rule; an assumption).
    """
    raw = np.maximum(employees, 1) * sensitivity * (margin - target_margin)
    base = np.floor(raw)
    return (base + (rng.random(raw.shape) < (raw - base))).astype(np.int64)


def match_labour(
    seeker_home: np.ndarray,
    seeker_sector: np.ndarray,
    firm_node: np.ndarray,
    firm_sector: np.ndarray,
    vacancies: np.ndarray,
    reach: np.ndarray,
    cross_sector: float,
    rng: np.random.Generator,
    reach_rows: ReachableRows | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Match job seekers to firms with vacancies within commuting reach.

    Each seeker applies to one firm chosen with probability proportional to
    ``reach[home, node] * vacancies * (1 if same sector else cross_sector)``,
    sampled in two stages (node, then firm within the node) so the cost grows
    with seekers x nodes, not seekers x firms. Each firm accepts applicants in
    random order up to its vacancies.

    ``reach_rows``: :class:`ReachableRows` of ``reach`` when the caller keeps it
    (computed here otherwise).

    Returns:
        (indices of hired seekers, index of the firm that hired each).
    """
    empty = np.zeros(0, dtype=np.int64)
    open_firms = np.flatnonzero(vacancies > 0)
    if len(seeker_home) == 0 or len(open_firms) == 0:
        return empty, empty
    n_nodes = reach.shape[0]
    n_sectors = int(max(firm_sector.max(), seeker_sector.max())) + 1
    key = firm_node[open_firms].astype(np.int64) * n_sectors + firm_sector[open_firms]
    order = np.argsort(key, kind="stable")
    open_firms, key = open_firms[order], key[order]
    cum = np.cumsum(vacancies[open_firms]).astype(float)
    cum0 = np.concatenate([[0.0], cum])
    seg = np.searchsorted(key, np.arange(n_nodes * n_sectors + 1))
    vac_ns = np.diff(cum0[seg]).reshape(n_nodes, n_sectors)
    vac_node = vac_ns.sum(axis=1)
    # stage 1: node, weighted by reach and sector-adjusted vacancies (nodes without
    # vacancies weigh nothing and are left out: the same draw over fewer columns)
    s = seeker_sector.astype(np.int64)
    # sector-adjusted vacancies of each node, by the seeker's sector
    effective = vac_ns * (1.0 - cross_sector) + cross_sector * vac_node[:, None]
    node = _search_nodes(seeker_home, s, effective, reach, vac_node > 0, rng, reach_rows)
    applied = np.flatnonzero(node >= 0)
    node, s = node[applied], s[applied]
    # stage 2: own sector with probability V_s / (V_s + cross (V - V_s)), else another sector
    own_vac = vac_ns[node, s]
    other_vac = vac_node[node] - own_vac
    p_own = own_vac / np.maximum(own_vac + cross_sector * other_vac, 1e-12)
    own = rng.random(len(applied)) < p_own
    lo_node = cum0[seg[node * n_sectors]]
    lo_own = cum0[seg[node * n_sectors + s]]
    u = rng.random(len(applied))
    position = np.where(
        own,
        lo_own + u * own_vac,
        lo_node + u * other_vac + np.where(lo_node + u * other_vac >= lo_own, own_vac, 0.0),
    )
    firm = open_firms[np.minimum(np.searchsorted(cum, position, side="right"), len(cum) - 1)]
    # each firm accepts applicants in random order up to its vacancies
    shuffle = rng.permutation(len(applied))
    applied, firm = applied[shuffle], firm[shuffle]
    sort = np.argsort(firm, kind="stable")
    applied, firm = applied[sort], firm[sort]
    rank = np.arange(len(firm)) - np.searchsorted(firm, firm, side="left")
    accepted = rank < vacancies[firm]
    return applied[accepted], firm[accepted]


class ReachableRows:
    """The nonzero entries of a reach matrix, row by row, padded in groups of similar length.

    Rows (homes) are grouped by their number of reachable nodes, widths within
    ``_WIDTH_STEP`` of each other; each group holds its rows' reachable nodes (ascending)
    and reach values, padded to the group's widest row with node 0 and reach 0.

    Attributes:
        counts: reachable nodes of each row.
        group: each row's group (-1: nothing within reach).
        row: each row's position in its group.
        nodes, values: per group, its rows' reachable nodes and reach values (rows x width).

    Examples:
        >>> rows = ReachableRows(np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
        >>> rows.counts, rows.group
        (array([2, 1, 0]), array([ 1,  0, -1]))
        >>> rows.nodes[1], rows.values[1]
        (array([[0, 2]]), array([[1. , 0.5]]))
    """

    def __init__(self, reach: np.ndarray) -> None:
        reachable = reach > 0
        self.counts = reachable.sum(axis=1)
        start = np.concatenate([[0], np.cumsum(self.counts)])
        columns = np.append(np.nonzero(reachable)[1], 0)  # the last entry pads short rows
        values = np.append(reach[reachable], 0.0)
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


def _search_nodes(
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
    that are ``hiring``. When most nodes are out of commuting reach (a big city) only
    the reachable ones are weighed (:func:`_search_reachable`), with the same draws and
    picks.
    """
    n_sectors = effective.shape[1]
    pairs, pair_of = np.unique(home.astype(np.int64) * n_sectors + sector, return_inverse=True)
    rows = ReachableRows(reach) if reach_rows is None else reach_rows
    homes = pairs // n_sectors
    if rows.counts[homes].mean() > _DENSE_REACH * reach.shape[1]:
        columns = np.flatnonzero(hiring)  # nodes without vacancies weigh nothing
        weights = reach[homes][:, columns] * effective[columns][:, pairs % n_sectors].T
        pick = choose_rows(weights, rng, pair_of)
        return np.where(pick >= 0, columns[np.maximum(pick, 0)], -1)
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
    :func:`choose_rows` on the full rows, except when a draw rounds up to its row's
    total (probability about 2**-53), where the full row clips to its last node and
    this to the last reachable one. Returns node ids.
    """
    by_sector = np.ascontiguousarray(effective.T).ravel()  # sector-major
    n_nodes = effective.shape[0]
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


def expected_income(
    wage_by_node_sector: np.ndarray,
    jobs_by_node_sector: np.ndarray,
    talents_by_node_sector: np.ndarray,
    reach: np.ndarray,
    unemployment_income: float,
    cross_sector: float,
) -> np.ndarray:
    """Expected monthly income of a talent of each sector living at each node.

    Employment probability is the ratio of jobs to competing talents within
    reach (capped at 0.97); income is p * wage + (1 - p) * unemployment income
    (Glaeser, Kolko & Saiz 2001: wage prospects in location choice).
    """
    jobs = jobs_by_node_sector + cross_sector * (
        jobs_by_node_sector.sum(axis=1, keepdims=True) - jobs_by_node_sector
    )
    jobs_in_reach = reach @ jobs
    talents_in_reach = reach @ talents_by_node_sector
    p = np.clip(jobs_in_reach / (talents_in_reach + 1.0), 0.0, 0.97)
    return p * wage_by_node_sector + (1.0 - p) * unemployment_income


def talent_location_utilities(
    *,
    sector: np.ndarray,
    skill: np.ndarray,
    amenity_taste: np.ndarray,
    home: np.ndarray,
    employer_node: np.ndarray,
    wage: np.ndarray,
    retention: np.ndarray,
    node_income: np.ndarray,
    amenity: np.ndarray,
    openness: np.ndarray,
    rent: np.ndarray,
    ties: np.ndarray,
    log_size: np.ndarray | None,
    travel_time: np.ndarray,
    place: np.ndarray,
    max_commute: float,
    wage_weight: float,
    openness_weight: float,
    rent_weight: float,
    commute_weight: float,
    ties_weight: float,
    move_cost: float,
    place_change_cost: float,
    emigration_cost: float,
    outside_income: float,
    outside_amenity: float,
    outside_openness: float,
    outside_rent: float,
    alternatives: np.ndarray | None = None,
) -> np.ndarray:
    """Location utilities of each talent (rows) for each node plus a last column "leave".

    With ``alternatives`` (node ids, one row per talent: the sampled choice set of a
    large city, :func:`sample_alternatives`) the columns are those nodes instead of
    every node, in that order, then "leave".

    U_ij = wage_weight * log(income_ij) + taste_i * amenity_j + openness_weight * openness_j
    - rent_weight * rent_j / income_ij - commute_weight * hours_ij + ties_weight * ties_j,s
    + log_size_j - moving costs + retention bonus for staying in the home place.
    ``log_size`` (None: 0) is ``size_weight * ln(H_j / H_out)``, a node of H_j homes
    counting as H_j alternatives (McFadden 1978), so the cut into nodes does not matter.
    Income is the talent's own wage where the employer stays in commuting reach,
    else skill times the node's expected income per skill unit for their sector.
    Newcomers have home -1 (no home place: every node costs a move, "leave" means not coming).
    Sources: Glaeser, Kolko & Saiz 2001 (wage, amenity, rent); Florida 2002 and
    Boschma & Fritsch 2009 (openness); Storper & Scott 2009 (ties to jobs and
    people); brain drain as the outside option.
    """
    nodes, expected, commute, at = _alternatives(
        alternatives, sector, skill, employer_node, wage, max_commute,
        node_income=node_income, amenity=amenity, openness=openness, rent=rent, ties=ties,
        log_size=log_size, travel_time=travel_time,
    )  # fmt: skip
    n_cols = expected.shape[1]
    utilities = np.empty((len(sector), n_cols + 1))
    u = utilities[:, :n_cols]
    np.log(expected, out=u)
    u *= wage_weight
    u += amenity_taste[:, None] * at["amenity"]
    u += openness_weight * at["openness"]
    u -= rent_weight * at["rent"] / expected
    u -= commute_weight * commute
    u += ties_weight * at["ties"]
    if log_size is not None:
        u += at["log_size"]
    home_place = np.where(home >= 0, place[np.maximum(home, 0)], -1)
    same_place = place[nodes] == home_place[:, None]
    moved = nodes != home[:, None]
    u -= move_cost * moved
    u -= place_change_cost * ~same_place
    u += retention[:, None] * same_place
    outside = wage_weight * np.log(outside_income) + amenity_taste * outside_amenity
    outside = (
        outside + openness_weight * outside_openness - rent_weight * outside_rent / outside_income
    )
    costs = np.where(home >= 0, move_cost + place_change_cost + emigration_cost, 0.0)
    utilities[:, n_cols] = outside - costs
    return utilities


def _alternatives(
    alternatives: np.ndarray | None,
    sector: np.ndarray,
    skill: np.ndarray,
    employer_node: np.ndarray,
    wage: np.ndarray,
    max_commute: float,
    **node: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The nodes each talent weighs, with income, commuting hours and the attributes there.

    Every node (``alternatives`` None: attributes as rows broadcast over the talents)
    or each talent's own choice set. Income is the own wage where the employer stays
    in commuting reach (then the commute counts), else skill times the node's expected
    income per skill unit; at least 1.
    """
    employed = np.flatnonzero(employer_node >= 0)
    names = [k for k in ("amenity", "openness", "rent", "log_size") if node[k] is not None]
    if alternatives is None:
        nodes = np.arange(len(node["amenity"]))[None, :]
        expected = node["node_income"].T[sector] * skill[:, None]  # rows: talents, cols: nodes
        at = {name: node[name][None, :] for name in names}
        at["ties"] = node["ties"].T[sector]
        to_employer = node["travel_time"].T[employer_node[employed]]  # minutes to the employer
    else:
        nodes = alternatives
        # one flat index into the node x sector tables (faster than a 2-d gather)
        flat = nodes * node["node_income"].shape[1] + sector[:, None]
        expected = node["node_income"].take(flat) * skill[:, None]
        at = {name: node[name].take(nodes) for name in names}
        at["ties"] = node["ties"].take(flat)
        to_employer = node["travel_time"][nodes[employed], employer_node[employed, None]]
    commute = np.zeros_like(expected)
    if len(employed):
        keeps_job = to_employer <= max_commute
        expected[employed] = np.where(keeps_job, wage[employed, None], expected[employed])
        commute[employed] = np.where(keeps_job, to_employer / 60.0, 0.0)
    np.maximum(expected, 1.0, out=expected)
    return nodes, expected, commute, at


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
    n, k = len(weights), len(home)
    always = np.zeros(0, dtype=np.int64) if always is None else np.asarray(always, np.int64)
    counts = np.maximum(np.floor(64 * n * weights / weights.sum()), 1).astype(np.int64)
    q = counts / counts.sum()
    urn = np.repeat(np.arange(n), counts)
    draws = urn[rng.integers(0, len(urn), size=(k, size))]
    fixed = np.broadcast_to(always, (k, len(always)))
    nodes = np.concatenate(
        [np.maximum(home, 0)[:, None], np.maximum(employer_node, 0)[:, None], fixed, draws], axis=1
    )
    correction = np.zeros(nodes.shape)
    correction[home < 0, 0] = -np.inf
    correction[(employer_node < 0) | (employer_node == home), 1] = -np.inf
    own = (fixed == home[:, None]) | (fixed == employer_node[:, None])
    correction[:, 2 : 2 + len(always)][own] = -np.inf
    drawn = correction[:, 2 + len(always) :]
    drawn[:] = (-np.log(size * q))[draws]  # each node's correction, computed once
    taken = (draws == home[:, None]) | (draws == employer_node[:, None])
    if len(always):
        is_always = np.zeros(n, dtype=bool)
        is_always[always] = True
        taken |= is_always[draws]
    drawn[taken] = -np.inf
    return nodes, correction


def exit_hazard(age: np.ndarray, young: float, mature: float, decline: float) -> np.ndarray:
    """Monthly exit hazard of firms of ``age`` months: ``young`` at founding, ``mature`` when old.

    h(a) = mature + (young - mature) * exp(-a / decline): the liability of newness
    (Stinchcombe 1965; Eurostat business demography: survival falls fastest in
    the first years).

    Examples:
        >>> exit_hazard(np.array([0, 24, 1000]), 0.02, 0.005, 24.0).round(4)
        array([0.02  , 0.0105, 0.005 ])
    """
    a = np.maximum(np.asarray(age, float), 0.0)
    return mature + (young - mature) * np.exp(-a / decline)


def exit_risk_factor(margin: np.ndarray, target: float, sensitivity: float) -> np.ndarray:
    """Multiplier of the exit hazard by profit margin: 1 at the target, up to 2 for losses.

    ``2 / (1 + exp(sensitivity * (margin - target)))``: firms earning more than
    the target margin close less often, firms earning less more often (an
    assumption: closing is more likely when the business does not pay).

    Examples:
        >>> exit_risk_factor(np.array([-0.5, 0.05, 0.5]), 0.05, 10.0).round(3)
        array([1.992, 1.   , 0.022])
    """
    x = np.clip(sensitivity * (np.asarray(margin, float) - target), -50.0, 50.0)
    return 2.0 / (1.0 + np.exp(x))


def founder_node_utility(
    unit_revenue: np.ndarray,
    agglomeration: np.ndarray,
    rent: np.ndarray,
    success: np.ndarray,
    workspace_rent_share: float,
    imitation_weight: float,
    noise: float,
) -> np.ndarray:
    """Attractiveness of each node for a new firm (rows: founders, cols: nodes).

    A founder weighs log expected unit revenue including the agglomeration
    benefit g(n_j) (Arthur 1990), workspace rent, and the success of existing
    firms of the chosen sector nearby, which founders imitate (Zhang 2003).
    Divided by ``noise``: the scale of idiosyncratic taste.
    """
    value = np.log(np.maximum(unit_revenue * agglomeration[None, :], 1e-9))
    value -= workspace_rent_share * rent[None, :] / np.maximum(unit_revenue, 1.0)
    value += imitation_weight * success
    return value / noise


def collaboration_targets(
    source_node: np.ndarray,
    firms_at_node: np.ndarray,
    travel_time: np.ndarray,
    market_access: np.ndarray,
    distance_scale: float,
    rng: np.random.Generator,
    kernel: np.ndarray | None = None,
) -> np.ndarray:
    """Node of the partner for each new collaboration tie, or -1 if none exists.

    Partners are found with probability proportional to the firms at a node and
    exp(-t / (scale * (1 + a_i + a_j))): near partners are likelier, and
    market access of both ends stretches the reach for distant ties (global
    networking; Falck, Heblich & Kipar 2010 on cluster networking). ``kernel``: the
    distance part for every pair of nodes (:func:`collaboration_kernel`) when the
    caller keeps it.
    """
    nodes, row = np.unique(source_node, return_inverse=True)  # one row of weights per node
    if kernel is None:
        kernel_rows = collaboration_kernel(travel_time, market_access, distance_scale, nodes)
    else:
        kernel_rows = kernel[nodes]
    return choose_rows(kernel_rows * firms_at_node[None, :], rng, row)


def collaboration_kernel(
    travel_time: np.ndarray,
    market_access: np.ndarray,
    distance_scale: float,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """``exp(-t_ij / (scale * (1 + a_i + a_j)))`` for source nodes ``rows`` (default all).

    The distance part of :func:`collaboration_targets`' weights; it changes only with
    travel times and market access, so the model keeps it between changes.
    """
    a_rows = market_access if rows is None else market_access[rows]
    reach_scale = distance_scale * (1.0 + a_rows[:, None] + market_access[None, :])
    return np.exp(-(travel_time if rows is None else travel_time[rows]) / reach_scale)
