"""Initialisation: node arrays from the city graph, institutions, initial talents and firms.

The order of the random draws here is part of a seed's meaning: setting up
nodes draws nothing, then talents (homes, sectors, skills), their employment,
the initial firms (sizes, ages, cash, productivity) are drawn in turn.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.errors import ConfigError
from clustersim.model import city as city_module
from clustersim.model import market_access, metrics
from clustersim.model.agents import CulturalInstitution, Municipality, University
from clustersim.model.phases import accounts
from clustersim.model.phases.aggregates import Census, count_employees, effective_labour
from clustersim.model.phases.fields import culture_field, refresh_fields, refresh_reach
from clustersim.model.phases.production import produce
from clustersim.model.phases.rents import open_housing
from clustersim.model.phases.roster import add_firms, add_talents
from clustersim.model.state import FirmOrigin, TalentOrigin

__all__ = [
    "setup_institutions",
    "setup_nodes",
    "setup_talents_and_firms",
    "university_graduates",
]

_NODE_ATTRIBUTES = (
    "population",
    "rent",
    "amenity",
    "tech",
    "vacant_space",
    "university",
    "openness",
)


def setup_nodes(model: Model) -> None:
    """Node and place arrays from the graph, the policy hooks (neutral), travel times and reach.

    Raises:
        ConfigError: ``city.focus`` names no place of the graph.
    """
    g = model.graph
    n = g.number_of_nodes()
    attr = {k: np.array([g.nodes[i][k] for i in range(n)], dtype=float) for k in _NODE_ATTRIBUTES}
    model.n_nodes = n
    model.graph_edges = metrics.edge_array(g)  # the topology never changes in a run
    model.node_names = [g.nodes[i]["name"] for i in range(n)]
    model.place_names = city_module.place_names(g)
    model.place = np.array([model.place_names.index(g.nodes[i]["place"]) for i in range(n)])
    focus = model.params.city.focus or g.graph.get("focus") or model.place_names[0]
    if focus not in model.place_names:
        raise ConfigError(
            f"city.focus must be one of {', '.join(model.place_names)}; got {focus!r}"
        )
    model.focus_place = model.place_names.index(focus)
    model.focus_nodes = np.flatnonzero(model.place == model.focus_place)
    model.population0 = attr["population"]
    model.base_rent = attr["rent"].copy()
    model.rent = attr["rent"].copy()
    model.amenity_attr = attr["amenity"]
    model.gateway = market_access.gateway_node(g)
    model.tech = attr["tech"].copy()
    model.openness = attr["openness"].copy()
    model.vacant_space0 = attr["vacant_space"]
    model.university_count = attr["university"].astype(int)
    _neutral_policy_hooks(model)
    refresh_reach(model)


def _neutral_policy_hooks(model: Model) -> None:
    """The arrays levers act through, at their no-policy values."""
    n, n_places = model.n_nodes, len(model.place_names)
    model.amenity_bonus = np.zeros(n)
    model.visitor_budget = np.zeros(n)
    model.visitor_demand = np.zeros(n)
    model.rent_factor = np.ones(n)
    model.productivity_bonus = np.zeros(n)
    model.knowledge_multiplier = np.ones(n)
    model.retention_bonus = np.zeros(n_places)
    # extra utility of node j for a new graduate of a university in place p (placements)
    model.graduate_pull = np.zeros((n_places, n))


def university_graduates(
    count: np.ndarray, population: np.ndarray, place: np.ndarray, per_1000: float
) -> np.ndarray:
    """Graduates a year of each university at each node: its share of its place's cohort.

    A place with universities sends ``per_1000`` creative-field graduates a year per
    1,000 inhabitants into the labour market, shared equally among its universities:
    university size follows the size of the place, not a fixed number per university.

    Examples:
        >>> university_graduates(
        ...     np.array([1, 1, 0, 1]), np.array([50_000, 50_000, 20_000, 12_000]),
        ...     np.array([0, 0, 0, 1]), 0.5)
        array([30., 30.,  0.,  6.])
    """
    residents = np.bincount(place, weights=population, minlength=place.max() + 1)
    universities = np.bincount(place, weights=count, minlength=place.max() + 1)
    cohort = per_1000 * residents / 1000.0
    each = np.divide(cohort, universities, out=np.zeros_like(cohort), where=universities > 0)
    return np.where(count > 0, each[place], 0.0)


def setup_institutions(model: Model) -> None:
    """Universities and cultural institutions from the graph, the municipality, the fields.

    Amenity at a node is the graph's amenity; the part its cultural
    institutions explain is kept apart (``amenity_base`` is the rest), so that
    amenity follows when institutions open or close. Where the fields of many
    institutions overlap they explain more than the node's amenity and the rest is
    negative: month 0's amenity is the graph's whatever the number of nodes (a city
    cut into more neighbourhoods has more institutions, not more culture).
    """
    ip = model.params.institutions
    size = university_graduates(
        model.university_count, model.population0, model.place, ip.graduates_per_1000
    )
    model.universities = [
        University(model, int(j), float(size[j]))
        for j in np.flatnonzero(model.university_count > 0)
        for _ in range(model.university_count[j])
    ]
    model.cultural_institutions = [
        CulturalInstitution(model, int(j), ip.culture_strength)
        for j in np.flatnonzero(model.amenity_attr >= ip.culture_threshold)
    ]
    model.incubators = []
    town_hall = city_module.centre_node(model.graph, model.place_names[model.focus_place])
    model.municipality = Municipality(
        model, town_hall, ip.municipality_budget, ip.municipality_income
    )
    model.amenity_base = model.amenity_attr - culture_field(model)
    refresh_fields(model)


def setup_talents_and_firms(model: Model) -> None:
    """Initial talents and residents, initial firms of employed talents, wages, space.

    Talents are a binomial share of each node's population; employed talents
    are grouped by node and sector into firms of geometric size. The initial
    wage of a place is the labour share of revenue per effective worker.
    """
    tp, fp, rng = model.params.talent, model.params.firm, model.rng
    per_node = rng.binomial(model.population0.astype(np.int64), tp.initial_share)
    homes = np.repeat(np.arange(model.n_nodes), per_node)
    n = len(homes)
    sectors = rng.choice(model.n_sectors, size=n, p=model.sector_traits["weight"])
    ids = add_talents(model, homes, sectors, origin=TalentOrigin.INITIAL)
    model.residents = np.maximum(model.population0 - per_node, 0.0)
    model.low_income = model.residents * model.params.rent.low_income_share
    employed = ids[rng.random(n) < fp.initial_employment_rate]
    t = model.talents
    order = np.lexsort((rng.random(len(employed)), t.sector[employed], t.home[employed]))
    employed = employed[order]
    firm_of, firm_nodes, firm_sectors = _group_into_firms(model, employed)
    n_firms = len(firm_nodes)
    ages = rng.integers(0, 120, size=n_firms)
    add_firms(
        model,
        firm_nodes,
        firm_sectors,
        origin=FirmOrigin.INITIAL,
        founded=-ages,
        cash=fp.startup_cash * (1.0 + rng.random(n_firms)),
    )
    t.put("employer", employed, firm_of)
    count_employees(model)
    model.wage = np.full(len(model.place_names), model.params.households.other_wage)
    census = Census.of(model)
    model.export_demand_anchored = False  # anchored at month 0, after the spin-up
    accounts.setup_accounts(model, census)  # households' spending at provisional wages
    produce(model, census, pay=False)
    _initial_wages(model)
    accounts.setup_accounts(model, census)  # again at the initial wages
    produce(model, census, pay=False)
    accounts.open_books(model)
    open_housing(model, census)


def _group_into_firms(
    model: Model, employed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut employed talents, sorted by node and sector, into firms of geometric size.

    Each (node, sector) group of ``k`` talents draws ``k`` geometric sizes, group after
    group (one draw for all: the same numbers), and is cut where the running sum of its
    sizes falls inside it; the last firm takes the rest. Returns the firm (0, 1, ...)
    of each employed talent, and each firm's node and sector.
    """
    t, n_sectors = model.talents, model.n_sectors
    key = t.home[employed].astype(np.int64) * n_sectors + t.sector[employed]
    n = len(employed)
    sizes = model.rng.geometric(1.0 / model.params.firm.mean_initial_size, size=n)
    _, starts, counts = np.unique(key, return_index=True, return_counts=True)
    group = np.repeat(np.arange(len(starts)), counts)  # the group of each talent
    ends = np.cumsum(sizes)
    before = np.concatenate([[0], ends])[starts]  # the sizes' sum before each group
    cut = ends - before[group]  # each group's running sum of its own sizes
    inside = cut < counts[group]
    first = np.zeros(n, dtype=np.int64)  # 1 where a firm's first talent is
    first[starts] = 1
    first[starts[group[inside]] + cut[inside]] = 1
    firm_of = np.cumsum(first) - 1
    firm_key = key[first == 1]
    return firm_of, firm_key // n_sectors, firm_key % n_sectors


def _initial_wages(model: Model) -> None:
    """Each place's wage: the labour share of its firms' revenue per effective worker."""
    lab, f = model.params.labour, model.firms
    labour_of = effective_labour(model)
    for p in range(len(model.place_names)):
        mask = f.alive & (model.place[f.node] == p)
        labour = labour_of[mask].sum()
        if labour > 0:
            value = lab.labour_share * f.revenue[mask].sum() / labour
            model.wage[p] = max(lab.wage_floor, value)
