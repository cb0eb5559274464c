"""The model's mechanisms as vectorised, side-effect-free functions over numpy arrays.

Each function is one rule of the model with its source from the literature
(see ``docs/model.md``). The model holds the state and calls these once per
month for all agents at once; tests call them on tiny hand-built inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clustersim.model import kernels
from clustersim.model.draws import ChoiceSets, ReachableRows, choose_rows, search_nodes

__all__ = [
    "agglomeration_benefit",
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
    "match_labour",
    "reach_weights",
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
    node = search_nodes(seeker_home, s, effective, reach, vac_node > 0, rng, reach_rows)
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
    alternatives: np.ndarray | ChoiceSets | None = None,
    compiled: bool = False,
) -> np.ndarray:
    """Location utilities of each talent (rows) for each node plus a last column "leave".

    With ``alternatives`` (node ids, one row per talent: the sampled choice set of a
    large city, :func:`~clustersim.model.draws.sample_alternatives`) the columns are
    those nodes instead of every node, in that order, then "leave". Given as
    :class:`~clustersim.model.draws.ChoiceSets`, the columns' sampling corrections are
    added too. ``compiled`` does the element work in two compiled passes
    (:mod:`clustersim.model.kernels`, which must be enabled), with the same
    operations in the same order: the same utilities.

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
    sets = alternatives if isinstance(alternatives, ChoiceSets) else None
    node_ids = sets.nodes if sets is not None else alternatives
    terms = dict(
        sector=sector, skill=skill, employer_node=employer_node, wage=wage,
        max_commute=max_commute, node_income=node_income, amenity=amenity,
        openness=openness, rent=rent, ties=ties, log_size=log_size, travel_time=travel_time,
    )  # fmt: skip
    weights = (wage_weight, openness_weight, rent_weight, commute_weight, ties_weight)
    utilities = (_compiled_utilities if compiled else _numpy_utilities)(
        node_ids, sets, amenity_taste, home, retention, place,
        (*weights, move_cost, place_change_cost), **terms,
    )  # fmt: skip
    outside = wage_weight * np.log(outside_income) + amenity_taste * outside_amenity
    outside = (
        outside + openness_weight * outside_openness - rent_weight * outside_rent / outside_income
    )
    costs = np.where(home >= 0, move_cost + place_change_cost + emigration_cost, 0.0)
    utilities[:, -1] = outside - costs
    return utilities


def _numpy_utilities(
    node_ids: np.ndarray | None,
    sets: ChoiceSets | None,
    amenity_taste: np.ndarray,
    home: np.ndarray,
    retention: np.ndarray,
    place: np.ndarray,
    weights: tuple[float, ...],
    **term: Any,
) -> np.ndarray:
    """The node columns of :func:`talent_location_utilities` in numpy (the reference)."""
    wage_w, open_w, rent_w, commute_w, ties_w, move_cost, change_cost = weights
    nodes, expected, commute, at = _alternatives(node_ids, **term)
    n_cols = expected.shape[1]
    utilities = np.empty((len(term["sector"]), n_cols + 1))
    u = utilities[:, :n_cols]
    np.log(expected, out=u)
    u *= wage_w
    u += amenity_taste[:, None] * at["amenity"]
    u += open_w * at["openness"]
    u -= rent_w * at["rent"] / expected
    u -= commute_w * commute
    u += ties_w * at["ties"]
    if term["log_size"] is not None:
        u += at["log_size"]
    home_place = np.where(home >= 0, place[np.maximum(home, 0)], -1)
    same_place = place[nodes] == home_place[:, None]
    moved = nodes != home[:, None]
    u -= move_cost * moved
    u -= change_cost * ~same_place
    u += retention[:, None] * same_place
    if sets is not None:
        u += sets.correction()
    return utilities


def _compiled_utilities(
    node_ids: np.ndarray | None,
    sets: ChoiceSets | None,
    amenity_taste: np.ndarray,
    home: np.ndarray,
    retention: np.ndarray,
    place: np.ndarray,
    weights: tuple[float, ...],
    **term: Any,
) -> np.ndarray:
    """The node columns of :func:`talent_location_utilities` from the compiled kernels."""
    sector = np.asarray(term["sector"], dtype=np.int64)
    dense = node_ids is None
    n_cols = term["node_income"].shape[0] if dense else node_ids.shape[1]
    nodes = np.zeros((0, 0), dtype=np.int64) if dense else node_ids
    expected = np.empty((len(sector), n_cols))
    commute = np.empty((len(sector), n_cols))
    kernels.location_income(
        nodes, dense, sector, term["skill"], np.asarray(term["employer_node"], dtype=np.int64),
        term["wage"], float(term["max_commute"]), _floats(term["node_income"]),
        _floats(term["travel_time"]), expected, commute,
    )  # fmt: skip
    utilities = np.empty((len(sector), n_cols + 1))
    np.log(expected, out=utilities[:, :n_cols])
    if sets is None:
        employer, fixed = np.zeros(0, dtype=np.int64), 0
        is_always, node_correction = np.zeros(0, dtype=np.bool_), np.zeros(0)
    else:
        employer, fixed, is_always, node_correction = sets.kernel_terms()
    log_size = term["log_size"]
    kernels.location_utilities(
        utilities, expected, commute, nodes, dense, sector, amenity_taste,
        np.asarray(home, dtype=np.int64), retention, _floats(term["amenity"]),
        _floats(term["openness"]), _floats(term["rent"]), _floats(term["ties"]),
        np.zeros(0) if log_size is None else _floats(log_size),
        np.asarray(place, dtype=np.int64), np.array(weights, dtype=np.float64),
        sets is not None, np.asarray(employer, dtype=np.int64), fixed, is_always,
        node_correction,
    )  # fmt: skip
    return utilities


def _floats(values: np.ndarray) -> np.ndarray:
    """``values`` as a C-ordered float64 array (the kernels' argument types)."""
    return np.ascontiguousarray(values, dtype=np.float64)


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
        flat = nodes.astype(np.int64) * node["node_income"].shape[1] + sector[:, None]
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
