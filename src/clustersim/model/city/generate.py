"""City generators: the family's shapes (compact, polycentric) sized from a population."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from clustersim.errors import CityGraphError
from clustersim.model.city.contract import show_value
from clustersim.model.city.family import (
    FamilyParams,
    attribute_levels,
    expected_universities,
    neighbourhood_spacing,
    node_count,
    stochastic_round,
    urban_speed,
)
from clustersim.model.city.profiles import (
    GENERATED_KINDS,
    MAX_POPULATION,
    MIN_POPULATION,
    SHAPES,
    Shape,
)

__all__ = [
    "check_population",
    "generate",
    "kind_for",
    "medium_city",
    "metropolis",
    "small_town",
    "spread_universities",
]

_RURAL_SPEED = 45.0  # km/h on roads to hinterland villages
_POPULATION_SIGMA = 0.25  # lognormal jitter of node population weights
_RENT_SIGMA = 0.08
_INDEX_SIGMA = 0.05
_POSITION_SIGMA = 0.1  # jitter of district positions, in neighbourhood spacings
_ROAD_REACH = 1.5  # districts closer than this many spacings are joined by a street
_SUBCENTRE_RING = 0.55  # subcentres lie at about this share of the urban radius
_VILLAGE_GAP = (4.0, 14.0)  # km beyond the urban edge, in a town of 10,000
_VILLAGE_GAP_ELASTICITY = 0.15  # the hinterland widens with population
_TRANSPORT_SPEED = 32.0  # km/h on centre-subcentre transport links
_TRANSPORT_WAIT = 4.0  # minutes of waiting/access per transport trip


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator (e.g. np.random.default_rng(42)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_population(population: Any, kind: str) -> int:
    """Return ``population`` as an int, or raise CityGraphError naming the allowed range."""
    ok = isinstance(population, (int, np.integer, float, np.floating)) and not isinstance(
        population, (bool, np.bool_)
    )
    if ok and float(population).is_integer() and MIN_POPULATION <= population <= MAX_POPULATION:
        return int(population)
    raise CityGraphError(
        f"{kind}: population must be an integer from {MIN_POPULATION} to {MAX_POPULATION:,} "
        f"(inhabitants), got {show_value(population)}"
    )


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (largest remainder)."""
    quotas = total * weights / weights.sum()
    counts = np.floor(quotas).astype(np.int64)
    shortfall = total - int(counts.sum())
    order = np.argsort(-(quotas - counts), kind="stable")
    counts[order[:shortfall]] += 1
    return counts


@dataclass
class _Layout:
    """Nodes placed so far: role, position (km), centrality.

    Node ids are list positions; the centre is node 0 at (0, 0) with centrality 1.
    """

    roles: list[str] = field(default_factory=lambda: ["centre"])
    xs: list[float] = field(default_factory=lambda: [0.0])
    ys: list[float] = field(default_factory=lambda: [0.0])
    centrality: list[float] = field(default_factory=lambda: [1.0])

    def add(self, role: str, x: float, y: float, centrality: float) -> None:
        """Append one node."""
        self.roles.append(role)
        self.xs.append(x)
        self.ys.append(y)
        self.centrality.append(centrality)


def _build(
    kind: str, population: Any, rng: Any, name: str, family: FamilyParams | None = None
) -> nx.Graph:
    """Build a city of shape ``kind`` from the family's functions of its population.

    The node count grows with population (:func:`family.node_count`); the shape
    splits the nodes into subcentres, districts and hinterland villages. Districts
    fill a hexagonal lattice at the family's density outward from the centre and the
    subcentres; villages lie on a ring beyond the urban edge. Node populations (exact
    total, lognormal jitter around weights that rise with centrality) and attribute
    noise are drawn from ``rng`` only, so the graph is reproducible from its seed.
    The centre's attributes carry no noise: they are the family's centre levels.
    ``G.graph`` holds ``name``, ``kind`` and ``population``.
    """
    rng = _check_rng(rng)
    population = check_population(population, kind)
    if not isinstance(name, str) or not name.strip():
        raise CityGraphError(f"{kind}: name must be a non-empty str, got {show_value(name)}")
    family = FamilyParams() if family is None else family
    shape = SHAPES[kind]
    nodes = node_count(family, population)
    n_sub, n_districts, n_villages = shape.split(nodes)
    spacing = neighbourhood_spacing(family, population, nodes)
    urban = 1 + n_sub + n_districts
    radius = spacing * math.sqrt(urban * math.sqrt(3.0) / 2.0 / math.pi)

    # The order of the draws below is part of the result: keep it.
    layout = _Layout()
    _place_subcentres(layout, n_sub, radius, rng)
    _place_districts(layout, shape, n_districts, spacing, radius, rng)
    _set_urban_centrality(layout, shape, radius)
    _place_villages(layout, n_villages, population, rng)
    centrality = np.asarray(layout.centrality)
    node_population = _node_populations(shape, layout.roles, centrality, population, rng)
    values = _attribute_values(family, population, centrality, rng)
    universities = np.zeros(len(layout.roles), dtype=np.int64)
    count = stochastic_round(expected_universities(family, population), rng)
    if count:
        spread_universities(universities, count, n_sub, rng)

    G = nx.Graph(name=name, kind=kind, population=population)
    _add_nodes(G, name, layout, node_population, values, universities)
    _add_edges(G, layout.roles, spacing, urban_speed(family, population))
    return G


def _place_subcentres(layout: _Layout, count: int, radius: float, rng: np.random.Generator) -> None:
    """Put ``count`` subcentres on a ring at about half the urban radius, evenly spread."""
    if count == 0:
        return
    offset = rng.uniform(0.0, 2.0 * math.pi)
    angles = offset + 2.0 * math.pi * np.arange(count) / count
    angles = angles + rng.normal(0.0, 0.5 / count, size=count)
    radii = _SUBCENTRE_RING * radius * rng.uniform(0.85, 1.15, size=count)
    for angle, r in zip(angles, radii, strict=True):
        layout.add("subcentre", float(r * math.cos(angle)), float(r * math.sin(angle)), 0.0)


def _hex_lattice(spacing: float, extent: float) -> np.ndarray:
    """Points (x, y) of a hexagonal lattice of ``spacing`` km within ``extent`` km of (0, 0)."""
    k = math.ceil(extent / spacing / (math.sqrt(3.0) / 2.0)) + 1
    i, j = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    x = spacing * (i + 0.5 * j).ravel()
    y = spacing * (math.sqrt(3.0) / 2.0 * j).ravel()
    inside = np.hypot(x, y) <= extent
    return np.column_stack([x[inside], y[inside]])


def _place_districts(
    layout: _Layout,
    shape: Shape,
    count: int,
    spacing: float,
    radius: float,
    rng: np.random.Generator,
) -> None:
    """Fill ``count`` lattice points nearest the hubs (centre, subcentres) with districts.

    A point's distance to a subcentre counts divided by the subcentre's pull, so the
    centre gathers the most districts. Ties are broken at random.
    """
    if count == 0:
        return
    hubs = np.column_stack([layout.xs, layout.ys])
    pull = np.array([1.0] + [shape.subcentre_pull] * (len(hubs) - 1))
    points = _hex_lattice(spacing, 2.0 * radius + 3.0 * spacing)
    to_hub = np.hypot(points[:, None, 0] - hubs[None, :, 0], points[:, None, 1] - hubs[None, :, 1])
    free = to_hub.min(axis=1) > 0.6 * spacing
    points, to_hub = points[free], to_hub[free]
    score = (to_hub / pull).min(axis=1) * (1.0 + 0.02 * rng.random(len(points)))
    chosen = points[np.argsort(score, kind="stable")[:count]]
    chosen = chosen + rng.normal(0.0, _POSITION_SIGMA * spacing, size=chosen.shape)
    for x, y in chosen:
        layout.add("district", float(x), float(y), 0.0)


def _set_urban_centrality(layout: _Layout, shape: Shape, radius: float) -> None:
    """Centrality of every urban node: the strongest hub's pull, decaying over the urban radius.

    ``c = max(exp(-d_centre / R), max over subcentres of pull * exp(-d_s / R))``: 1 at
    the centre, the shape's pull at a subcentre, about 0.37 at the urban edge.
    """
    xs, ys = np.asarray(layout.xs), np.asarray(layout.ys)
    is_sub = np.array([role == "subcentre" for role in layout.roles])
    c = np.exp(-np.hypot(xs, ys) / radius)
    for s in np.flatnonzero(is_sub):
        near = shape.subcentre_pull * np.exp(-np.hypot(xs - xs[s], ys - ys[s]) / radius)
        c = np.maximum(c, near)
    c[0] = 1.0
    layout.centrality = [float(v) for v in c]


def _place_villages(layout: _Layout, count: int, population: int, rng: np.random.Generator) -> None:
    """Put ``count`` hinterland villages on a band beyond the urban edge.

    The band starts 4-14 km beyond the farthest urban node in a town of 10,000 and
    widens with population (elasticity 0.15); a village's centrality falls from
    0.15 at the band's inner edge to 0 at its outer edge.
    """
    if count == 0:
        return
    edge = max(math.hypot(x, y) for x, y in zip(layout.xs, layout.ys, strict=True))
    widen = (population / 10_000.0) ** _VILLAGE_GAP_ELASTICITY
    low, high = _VILLAGE_GAP[0] * widen, _VILLAGE_GAP[1] * widen
    offset = rng.uniform(0.0, 2.0 * math.pi)
    angles = offset + 2.0 * math.pi * np.arange(count) / count
    angles = angles + rng.normal(0.0, 0.5 / count, size=count)
    gaps = rng.uniform(low, high, size=count)
    for angle, gap in zip(angles, gaps, strict=True):
        r = edge + gap
        outward = (gap - low) / (high - low)
        layout.add(
            "hinterland",
            float(r * math.cos(angle)),
            float(r * math.sin(angle)),
            0.15 * (1.0 - outward),
        )


def _node_populations(
    shape: Shape,
    roles: list[str],
    centrality: np.ndarray,
    population: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Node populations summing exactly to ``population``, denser toward the centre.

    An urban node weighs ``0.5 + 2.5 * centrality`` (3 at the centre), a village the
    shape's village weight; lognormal jitter on every node.
    """
    is_village = np.array([r == "hinterland" for r in roles])
    weight = np.where(is_village, shape.village_weight, 0.5 + 2.5 * centrality)
    weights = weight * rng.lognormal(0.0, _POPULATION_SIGMA, size=len(roles))
    return _allocate(population, weights)


def _attribute_values(
    family: FamilyParams, population: int, centrality: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Rent and index attributes per node, between the family's periphery and centre level.

    A node lies between the two levels of a city of its size by its centrality, with
    lognormal noise except at the centre, clipped to the two levels.
    """
    values: dict[str, np.ndarray] = {}
    for attribute, (at_centre, at_periphery) in attribute_levels(family, population).items():
        sigma = _RENT_SIGMA if attribute == "rent" else _INDEX_SIGMA
        jitter = rng.lognormal(0.0, sigma, size=len(centrality))
        jitter[0] = 1.0  # the centre is the calibration anchor: no noise
        raw = (at_periphery + (at_centre - at_periphery) * centrality) * jitter
        values[attribute] = np.clip(raw, min(at_centre, at_periphery), max(at_centre, at_periphery))
    return values


def _add_nodes(
    G: nx.Graph,
    name: str,
    layout: _Layout,
    node_population: np.ndarray,
    values: dict[str, np.ndarray],
    universities: np.ndarray,
) -> None:
    """Add the laid-out nodes with names, populations and rounded attributes."""
    counters = {"subcentre": 0, "district": 0, "hinterland": 0}
    label = {"subcentre": "subcentre", "district": "district", "hinterland": "village"}
    for node, role in enumerate(layout.roles):
        if role == "centre":
            node_name = f"{name} centre"
        else:
            counters[role] += 1
            node_name = f"{name} {label[role]} {counters[role]}"
        G.add_node(
            node,
            name=node_name,
            place=name,
            role=role,
            population=int(node_population[node]),
            rent=round(float(values["rent"][node]), 2),
            amenity=round(float(values["amenity"][node]), 3),
            tech=round(float(values["tech"][node]), 3),
            vacant_space=round(float(values["vacant_space"][node]), 3),
            university=int(universities[node]),
            openness=round(float(values["openness"][node]), 3),
            x=round(layout.xs[node], 3),
            y=round(layout.ys[node], 3),
        )


def spread_universities(
    universities: np.ndarray, count: int, n_sub: int, rng: np.random.Generator
) -> None:
    """Put half the universities (rounded up) at the centre, the rest on random subcentres."""
    universities[0] = math.ceil(count / 2)
    remaining = count - int(universities[0])
    if n_sub == 0:
        universities[0] += remaining
        return
    order = 1 + rng.permutation(n_sub)
    for i in range(remaining):
        universities[order[i % n_sub]] += 1


def _add_edges(G: nx.Graph, roles: list[str], spacing: float, speed: float) -> None:
    """Streets between neighbouring urban nodes, transport to subcentres, roads to villages.

    Urban nodes (centre, subcentres, districts) closer than 1.5 spacings are joined
    by a street (``1 + distance / speed * 60`` minutes); parts left apart are joined
    at their nearest pair. Subcentres get a transport link to the centre
    (``4 + distance / 32 km/h * 60``) and orbital roads to their neighbours at the
    same speed. Each village hangs off its nearest urban node by a rural road
    (``2 + distance / 45 km/h * 60``).
    """
    xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in range(len(roles))])
    urban = np.array([i for i, role in enumerate(roles) if role != "hinterland"])

    def distance(u: int, v: int) -> float:
        return max(0.1, float(math.hypot(*(xy[u] - xy[v]))))

    def link(u: int, v: int, kind: str, minutes: float) -> None:
        G.add_edge(
            int(u),
            int(v),
            travel_time=round(max(1.0, minutes), 1),
            kind=kind,
            distance_km=round(distance(u, v), 2),
        )

    def street(u: int, v: int) -> None:
        link(u, v, "road", 1.0 + distance(u, v) / speed * 60.0)

    pos = xy[urban]
    gap = np.hypot(pos[:, None, 0] - pos[None, :, 0], pos[:, None, 1] - pos[None, :, 1])
    for a, b in zip(*np.nonzero(np.triu(gap <= _ROAD_REACH * spacing, k=1)), strict=True):
        street(urban[a], urban[b])
    subcentres = [i for i, role in enumerate(roles) if role == "subcentre"]
    for s in subcentres:
        link(0, s, "transport", _TRANSPORT_WAIT + distance(0, s) / _TRANSPORT_SPEED * 60.0)
    if len(subcentres) >= 2:
        ring = sorted(subcentres, key=lambda s: math.atan2(xy[s][1], xy[s][0]))
        pairs = zip(ring, ring[1:] + ring[:1], strict=True) if len(ring) >= 3 else [ring]
        for u, v in pairs:  # orbital roads between subcentres, faster than streets
            link(u, v, "road", 1.0 + distance(u, v) / _TRANSPORT_SPEED * 60.0)
    _join_parts(G, urban, gap, street)

    for village in (i for i, role in enumerate(roles) if role == "hinterland"):
        nearest = urban[int(np.argmin(np.hypot(*(pos - xy[village]).T)))]
        link(village, nearest, "road", 2.0 + distance(village, nearest) / _RURAL_SPEED * 60.0)


def _join_parts(G: nx.Graph, urban: np.ndarray, gap: np.ndarray, street: Any) -> None:
    """Join the urban nodes' separate parts to the centre's part, each at its nearest pair."""
    index = {int(node): k for k, node in enumerate(urban)}
    while True:
        parts = list(nx.connected_components(G.subgraph(urban.tolist())))
        if len(parts) == 1:
            return
        main = next(p for p in parts if 0 in p)
        inside = np.array([index[n] for n in main])
        outside = np.array([index[n] for n in set().union(*(p for p in parts if 0 not in p))])
        block = gap[np.ix_(inside, outside)]
        a, b = np.unravel_index(int(np.argmin(block)), block.shape)
        street(urban[inside[a]], urban[outside[b]])


_ARGS_DOC = """
    Args:
        population: Inhabitants (1,000 to 20,000,000); node populations sum exactly to it.
        rng: Source of every random draw (layout, population and attribute noise,
            universities).
        name: Place name; used for ``G.graph["name"]``, ``place`` and node names.
        family: The family's parameters (``city.family``); the defaults if None.

    Returns:
        A graph satisfying the contract checked by :func:`validate_city_graph`.

    Raises:
        CityGraphError: If ``population`` is out of range or not an integer.
"""


def small_town(
    population: int = 12_000,
    *,
    rng: np.random.Generator,
    name: str = "Small town",
    family: FamilyParams | None = None,
) -> nx.Graph:
    """A compact city: one centre, districts around it, half its nodes hinterland villages.

    Villages hang off the urban edge on rural roads. Attributes, node count and
    universities follow the family's functions of population
    (:mod:`~clustersim.model.city.family`), as in every shape.
    """
    return _build("small_town", population, rng, name, family)


def medium_city(
    population: int = 150_000,
    *,
    rng: np.random.Generator,
    name: str = "Medium city",
    family: FamilyParams | None = None,
) -> nx.Graph:
    """A polycentric city with a hinterland: a subcentre per ~12 urban nodes, a fifth villages.

    Subcentres are linked to the centre by public transport. Attributes follow the
    family's functions of population, as in every shape.
    """
    return _build("medium_city", population, rng, name, family)


def metropolis(
    population: int = 1_000_000,
    *,
    rng: np.random.Generator,
    name: str = "Metropolis",
    family: FamilyParams | None = None,
) -> nx.Graph:
    """A polycentric city without hinterland: a centre and a subcentre per ~12 nodes (>= 3).

    Subcentres are linked to the centre by public transport and to each other by
    orbital roads. Attributes follow the family's functions of population, as in
    every shape.
    """
    return _build("metropolis", population, rng, name, family)


for _generator in (small_town, medium_city, metropolis):
    _generator.__doc__ = (_generator.__doc__ or "") + _ARGS_DOC


def generate(
    kind: str,
    population: int,
    *,
    rng: np.random.Generator,
    name: str,
    family: FamilyParams | None = None,
) -> nx.Graph:
    """Build a city of the shape named ``kind`` (one of the generated kinds).

    Args:
        kind: ``"small_town"``, ``"medium_city"`` or ``"metropolis"``.
        population: Inhabitants (1,000 to 20,000,000).
        rng: Source of every random draw.
        name: Place name.
        family: The family's parameters (``city.family``); the defaults if None.

    Returns:
        The generated city graph.

    Raises:
        CityGraphError: If ``kind`` is unknown or ``population`` is out of range.
    """
    if kind not in GENERATED_KINDS:
        raise CityGraphError(
            f"city kind must be one of {', '.join(GENERATED_KINDS)}; got {show_value(kind)}"
        )
    return _build(kind, population, rng, name, family)


def kind_for(population: int) -> str:
    """The shape presets give a place of ``population``: <50k compact, <400k medium, else metro.

    Only the layout changes with the shape; attributes follow population alone.
    """
    if population < 50_000:
        return "small_town"
    if population < 400_000:
        return "medium_city"
    return "metropolis"
