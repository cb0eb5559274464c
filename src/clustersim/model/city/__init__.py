"""City graphs: generators sized from a population, partner-town presets, and GraphML loading."""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from clustersim.errors import CityGraphError

__all__ = [
    "CITY_KINDS",
    "EDGE_ATTRIBUTES",
    "EDGE_KINDS",
    "MIN_POPULATION",
    "NODE_ATTRIBUTES",
    "PRESETS",
    "ROLES",
    "Preset",
    "centre_node",
    "generate",
    "load_graphml",
    "medium_city",
    "metropolis",
    "place_names",
    "preset_region",
    "region",
    "save_graphml",
    "small_town",
    "validate_city_graph",
]

CITY_KINDS = ("small_town", "medium_city", "metropolis")
"""Names of the city generators, smallest first (see :func:`generate`)."""

ROLES = ("centre", "district", "subcentre", "hinterland")
"""Allowed values of the node attribute ``role``."""

EDGE_KINDS = ("road", "transport")
"""Allowed values of the edge attribute ``kind``."""

MIN_POPULATION = 1000
"""Smallest population a generator accepts (inhabitants)."""

NODE_ATTRIBUTES: dict[str, tuple[type, float | None, float | None, str]] = {
    "name": (str, None, None, "display name of the node, e.g. 'Obidos village 3'"),
    "place": (str, None, None, "town or city the node belongs to, e.g. 'Obidos' or 'Lisbon'"),
    "role": (str, None, None, "one of 'centre', 'district', 'subcentre', 'hinterland'"),
    "population": (int, 0, None, "inhabitants living at the node"),
    "rent": (float, 0.0, None, "EUR per month for a standard dwelling/workspace unit (> 0)"),
    "amenity": (float, 0.0, 1.0, "cultural life index, 0-1 (dimensionless)"),
    "accessibility": (float, 0.0, 1.0, "access to external markets and transport hubs, 0-1"),
    "tech": (float, 0.0, 1.0, "broadband and technological facilities index, 0-1"),
    "vacant_space": (float, 0.0, 1.0, "share of the building stock that is vacant, 0 to < 1"),
    "university": (int, 0, None, "number of universities at the node"),
    "openness": (float, 0.0, 1.0, "openness/tolerance index, 0-1 (Florida)"),
    "x": (float, None, None, "layout coordinate, km (east)"),
    "y": (float, None, None, "layout coordinate, km (north)"),
}
"""Required node attributes: name -> (type, minimum, maximum, description with unit).

``None`` means unbounded. ``rent`` must be strictly positive and ``vacant_space``
strictly below 1; :func:`validate_city_graph` enforces both.
"""

EDGE_ATTRIBUTES: dict[str, tuple[type, float | None, float | None, str]] = {
    "travel_time": (float, 0.0, None, "travel time along the edge, minutes (> 0)"),
    "kind": (str, None, None, "'road' or 'transport' (public transport / rail link)"),
    "distance_km": (float, 0.0, None, "optional: length of the link, km (> 0)"),
}
"""Edge attributes: name -> (type, minimum, maximum, description with unit).

``travel_time`` and ``kind`` are required, ``distance_km`` is optional; both
``travel_time`` and ``distance_km`` must be strictly positive.
"""

_OPTIONAL_EDGE_ATTRIBUTES = frozenset({"distance_km"})
_EXCLUSIVE_MIN = frozenset({"rent", "travel_time", "distance_km"})
_EXCLUSIVE_MAX = frozenset({"vacant_space"})
_CHOICES: dict[str, tuple[str, ...]] = {"role": ROLES, "kind": EDGE_KINDS}
_UNITS = {
    "name": "display name",
    "place": "town or city name",
    "role": "role within the place",
    "population": "inhabitants",
    "rent": "EUR per month",
    "amenity": "index",
    "accessibility": "index",
    "tech": "index",
    "vacant_space": "share of building stock",
    "university": "count",
    "openness": "index",
    "x": "km",
    "y": "km",
    "travel_time": "minutes",
    "kind": "link type",
    "distance_km": "km",
}


# --------------------------------------------------------------------------- generators


@dataclass(frozen=True)
class _Profile:
    """Shape and attribute levels of one kind of city.

    Attribute levels are (value at the lower, value at the upper end of the
    ``typical`` population range) for the centre and for the periphery; a node's
    value lies between them according to its centrality. The levels are stylised
    plausibility assumptions (rents in EUR/month, indices 0-1), not measured data:
    calibrate them per place where data exist.
    """

    kind: str
    typical: tuple[float, float]
    node_count: tuple[float, float, float, int, int]  # a, b, reference population, min, max
    reference_population: float  # geometry scales with (population / reference) ** 0.25
    subcentre_radius: tuple[float, float]
    centre_district_radius: tuple[float, float]
    subcentre_district_radius: tuple[float, float]
    hinterland_radius: tuple[float, float]
    hinterland_travel_time: tuple[float, float]
    urban_speed: float  # km/h on urban roads
    transport_speed: float  # km/h on centre-subcentre transport links
    transport_wait: float  # minutes of waiting/access per transport trip
    subcentre_centrality: float
    weights: dict[str, float]  # population weight per role
    centre_levels: dict[str, tuple[float, float]]
    periphery_levels: dict[str, tuple[float, float]]


_RURAL_SPEED = 45.0  # km/h on roads to hinterland villages
_POPULATION_SIGMA = 0.25  # lognormal jitter of node population weights
_RENT_SIGMA = 0.08
_INDEX_SIGMA = 0.05

_PROFILES: dict[str, _Profile] = {
    "small_town": _Profile(
        kind="small_town",
        typical=(1_000, 50_000),
        node_count=(4.0, 4.0, 1_000, 6, 14),
        reference_population=12_000,
        subcentre_radius=(0.0, 0.0),
        centre_district_radius=(0.6, 1.5),
        subcentre_district_radius=(0.0, 0.0),
        hinterland_radius=(5.0, 15.0),
        hinterland_travel_time=(8.0, 25.0),
        urban_speed=25.0,
        transport_speed=30.0,
        transport_wait=5.0,
        subcentre_centrality=0.6,
        weights={"centre": 3.0, "subcentre": 2.0, "district": 1.5, "hinterland": 0.8},
        centre_levels={
            "rent": (350.0, 500.0),
            "amenity": (0.45, 0.6),
            "accessibility": (0.3, 0.35),
            "tech": (0.5, 0.6),
            "vacant_space": (0.12, 0.08),
            "openness": (0.35, 0.45),
        },
        periphery_levels={
            "rent": (175.0, 250.0),
            "amenity": (0.08, 0.12),
            "accessibility": (0.2, 0.25),
            "tech": (0.4, 0.45),
            "vacant_space": (0.2, 0.15),
            "openness": (0.28, 0.35),
        },
    ),
    "medium_city": _Profile(
        kind="medium_city",
        typical=(50_000, 500_000),
        node_count=(15.0, 7.0, 50_000, 15, 30),
        reference_population=150_000,
        subcentre_radius=(3.0, 5.0),
        centre_district_radius=(1.0, 2.5),
        subcentre_district_radius=(0.8, 1.8),
        hinterland_radius=(7.0, 14.0),
        hinterland_travel_time=(8.0, 30.0),
        urban_speed=22.0,
        transport_speed=30.0,
        transport_wait=4.0,
        subcentre_centrality=0.7,
        weights={"centre": 2.5, "subcentre": 2.0, "district": 1.5, "hinterland": 0.5},
        centre_levels={
            "rent": (550.0, 850.0),
            "amenity": (0.65, 0.8),
            "accessibility": (0.5, 0.7),
            "tech": (0.65, 0.8),
            "vacant_space": (0.07, 0.05),
            "openness": (0.5, 0.6),
        },
        periphery_levels={
            "rent": (250.0, 380.0),
            "amenity": (0.15, 0.25),
            "accessibility": (0.35, 0.5),
            "tech": (0.5, 0.65),
            "vacant_space": (0.1, 0.08),
            "openness": (0.4, 0.5),
        },
    ),
    "metropolis": _Profile(
        kind="metropolis",
        typical=(500_000, 10_000_000),
        node_count=(30.0, 15.0, 500_000, 30, 60),
        reference_population=1_000_000,
        subcentre_radius=(6.0, 12.0),
        centre_district_radius=(2.0, 4.0),
        subcentre_district_radius=(1.5, 3.0),
        hinterland_radius=(0.0, 0.0),
        hinterland_travel_time=(8.0, 30.0),
        urban_speed=20.0,
        transport_speed=35.0,
        transport_wait=4.0,
        subcentre_centrality=0.8,
        weights={"centre": 1.8, "subcentre": 1.8, "district": 1.2, "hinterland": 0.5},
        centre_levels={
            "rent": (900.0, 1500.0),
            "amenity": (0.85, 0.95),
            "accessibility": (0.9, 0.95),
            "tech": (0.88, 0.95),
            "vacant_space": (0.03, 0.02),
            "openness": (0.7, 0.85),
        },
        periphery_levels={
            "rent": (360.0, 600.0),
            "amenity": (0.3, 0.4),
            "accessibility": (0.7, 0.75),
            "tech": (0.8, 0.85),
            "vacant_space": (0.07, 0.05),
            "openness": (0.55, 0.65),
        },
    ),
}


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator (e.g. np.random.default_rng(42)), "
            f"got {type(rng).__name__}"
        )
    return rng


def _check_population(population: Any, kind: str) -> int:
    """Return ``population`` as an int, or raise CityGraphError naming the allowed range."""
    ok = isinstance(population, (int, np.integer, float, np.floating)) and not isinstance(
        population, (bool, np.bool_)
    )
    if ok and float(population).is_integer() and population >= MIN_POPULATION:
        return int(population)
    raise CityGraphError(
        f"{kind}: population must be an integer >= {MIN_POPULATION} (inhabitants), "
        f"got {_show(population)}"
    )


def _node_count(profile: _Profile, population: int) -> int:
    """Node count growing with log10(population), clipped to the kind's range."""
    a, b, reference, low, high = profile.node_count
    raw = a + b * math.log10(population / reference)
    return int(min(high, max(low, math.floor(raw + 0.5))))


def _structure(kind: str, n: int) -> tuple[int, int, int]:
    """Split ``n`` nodes into (subcentres, districts, hinterland); the centre is the rest (1)."""
    if kind == "small_town":
        n_sub = 0
        n_districts = 1 + (n >= 10) + (n >= 13)
    elif kind == "medium_city":
        n_sub = 1 + (n >= 20) + (n >= 27)
        n_hinterland = 3 + (n >= 22) + (n >= 28)
        return n_sub, n - 1 - n_sub - n_hinterland, n_hinterland
    else:
        n_sub = int(min(6, max(3, math.floor(n / 9 + 0.5))))
        return n_sub, n - 1 - n_sub, 0
    return n_sub, n_districts, n - 1 - n_sub - n_districts


def _ring_positions(
    rng: np.random.Generator,
    count: int,
    radius: tuple[float, float],
    scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Angles (evenly spread, jittered) and radii (uniform in ``radius``) of ``count`` nodes."""
    offset = rng.uniform(0.0, 2.0 * math.pi)
    angles = offset + 2.0 * math.pi * np.arange(count) / max(count, 1)
    angles = angles + rng.normal(0.0, 0.5 / max(count, 1), size=count)
    radii = rng.uniform(radius[0], radius[1], size=count) * scale
    return angles, radii


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (largest remainder)."""
    quotas = total * weights / weights.sum()
    counts = np.floor(quotas).astype(np.int64)
    shortfall = total - int(counts.sum())
    order = np.argsort(-(quotas - counts), kind="stable")
    counts[order[:shortfall]] += 1
    return counts


def _build(kind: str, population: Any, rng: Any, name: str) -> nx.Graph:
    """Build a city of ``kind``: centre, optional subcentres, districts, hinterland villages.

    Layout (km, centre at 0,0), node populations (exact total, lognormal jitter
    around role weights: dense centre, lighter outskirts) and attribute noise are
    drawn from ``rng`` only, so the graph is reproducible from its seed. The
    centre's attributes carry no noise: they are the calibration anchor and rise
    smoothly with population. ``G.graph`` holds ``name``, ``kind`` and ``population``.
    """
    rng = _check_rng(rng)
    population = _check_population(population, kind)
    if not isinstance(name, str) or not name.strip():
        raise CityGraphError(f"{kind}: name must be a non-empty str, got {_show(name)}")
    profile = _PROFILES[kind]
    n = _node_count(profile, population)
    n_sub, n_districts, n_hinterland = _structure(kind, n)
    scale = min(2.0, max(0.6, (population / profile.reference_population) ** 0.25))

    roles: list[str] = ["centre"]
    xs: list[float] = [0.0]
    ys: list[float] = [0.0]
    centrality: list[float] = [1.0]
    hub_of: list[int] = [-1]  # hub (centre or subcentre) a district hangs from

    angles, radii = _ring_positions(rng, n_sub, profile.subcentre_radius, scale)
    for angle, radius in zip(angles, radii, strict=True):
        roles.append("subcentre")
        xs.append(float(radius * math.cos(angle)))
        ys.append(float(radius * math.sin(angle)))
        centrality.append(profile.subcentre_centrality)
        hub_of.append(-1)

    # Districts: the centre gets about half (medium city) or a third (metropolis).
    hubs = [0, *range(1, 1 + n_sub)]
    if n_sub == 0:
        per_hub = [n_districts]
    else:
        share = 0.5 if kind == "medium_city" else 0.3
        at_centre = max(2, math.floor(n_districts * share + 0.5))
        rest = n_districts - at_centre
        per_hub = [at_centre] + [rest // n_sub + (i < rest % n_sub) for i in range(n_sub)]
    for hub, count in zip(hubs, per_hub, strict=True):
        band = profile.centre_district_radius if hub == 0 else profile.subcentre_district_radius
        angles, radii = _ring_positions(rng, count, band, scale)
        for angle, radius in zip(angles, radii, strict=True):
            roles.append("district")
            xs.append(float(xs[hub] + radius * math.cos(angle)))
            ys.append(float(ys[hub] + radius * math.sin(angle)))
            outward = (radius / scale - band[0]) / max(band[1] - band[0], 1e-9)
            centrality.append(centrality[hub] * (0.7 - 0.3 * outward))
            hub_of.append(hub)

    angles, radii = _ring_positions(rng, n_hinterland, profile.hinterland_radius, scale)
    band = profile.hinterland_radius
    for angle, radius in zip(angles, radii, strict=True):
        roles.append("hinterland")
        xs.append(float(radius * math.cos(angle)))
        ys.append(float(radius * math.sin(angle)))
        outward = (radius / scale - band[0]) / max(band[1] - band[0], 1e-9)
        centrality.append(0.15 * (1.0 - outward))
        hub_of.append(-1)

    c = np.asarray(centrality)
    role_weight = np.array([profile.weights[r] for r in roles])
    is_district = np.array([r == "district" for r in roles])
    role_weight = np.where(is_district, role_weight * (0.5 + c), role_weight)
    weights = role_weight * rng.lognormal(0.0, _POPULATION_SIGMA, size=n)
    node_population = _allocate(population, weights)

    low, high = profile.typical
    t = (math.log(population) - math.log(low)) / (math.log(high) - math.log(low))
    t = min(1.0, max(0.0, t))
    values: dict[str, np.ndarray] = {}
    for attribute, (centre_lo, centre_hi) in profile.centre_levels.items():
        periphery_lo, periphery_hi = profile.periphery_levels[attribute]
        at_centre = centre_lo + (centre_hi - centre_lo) * t
        at_periphery = periphery_lo + (periphery_hi - periphery_lo) * t
        sigma = _RENT_SIGMA if attribute == "rent" else _INDEX_SIGMA
        jitter = rng.lognormal(0.0, sigma, size=n)
        jitter[0] = 1.0  # the centre is the calibration anchor: no noise
        raw = (at_periphery + (at_centre - at_periphery) * c) * jitter
        values[attribute] = np.clip(raw, min(at_centre, at_periphery), max(at_centre, at_periphery))

    universities = np.zeros(n, dtype=np.int64)
    if kind == "medium_city":
        universities[0] = 1
    elif kind == "metropolis":
        _spread_universities(universities, max(1, round(population / 250_000)), n_sub, rng)

    G = nx.Graph(name=name, kind=kind, population=population)
    counters = {"subcentre": 0, "district": 0, "hinterland": 0}
    label = {"subcentre": "subcentre", "district": "district", "hinterland": "village"}
    for node, role in enumerate(roles):
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
            accessibility=round(float(values["accessibility"][node]), 3),
            tech=round(float(values["tech"][node]), 3),
            vacant_space=round(float(values["vacant_space"][node]), 3),
            university=int(universities[node]),
            openness=round(float(values["openness"][node]), 3),
            x=round(xs[node], 3),
            y=round(ys[node], 3),
        )
    _add_edges(G, profile, roles, hub_of, n_sub)
    return G


def _spread_universities(
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


def _add_edges(
    G: nx.Graph, profile: _Profile, roles: list[str], hub_of: list[int], n_sub: int
) -> None:
    """Link hubs to their districts, districts in rings, subcentres to the centre, villages."""

    def distance(u: int, v: int) -> float:
        nu, nv = G.nodes[u], G.nodes[v]
        return max(0.1, math.hypot(nu["x"] - nv["x"], nu["y"] - nv["y"]))

    def link(u: int, v: int, kind: str, minutes: float) -> None:
        G.add_edge(
            u,
            v,
            travel_time=round(max(1.0, minutes), 1),
            kind=kind,
            distance_km=round(distance(u, v), 2),
        )

    def road(u: int, v: int) -> None:
        link(u, v, "road", 1.0 + distance(u, v) / profile.urban_speed * 60.0)

    subcentres = list(range(1, 1 + n_sub))
    for s in subcentres:
        minutes = profile.transport_wait + distance(0, s) / profile.transport_speed * 60.0
        link(0, s, "transport", minutes)
    if n_sub >= 2:
        ring = sorted(subcentres, key=lambda s: math.atan2(G.nodes[s]["y"], G.nodes[s]["x"]))
        pairs = zip(ring, ring[1:] + ring[:1], strict=True) if n_sub >= 3 else [ring]
        for u, v in pairs:  # orbital roads between subcentres, faster than streets
            link(u, v, "road", 1.0 + distance(u, v) / profile.transport_speed * 60.0)

    districts_of: dict[int, list[int]] = {}
    for node, hub in enumerate(hub_of):
        if roles[node] == "district":
            districts_of.setdefault(hub, []).append(node)
    for hub, districts in districts_of.items():
        hx, hy = G.nodes[hub]["x"], G.nodes[hub]["y"]
        for d in districts:
            road(hub, d)
        ring = sorted(
            districts, key=lambda d: math.atan2(G.nodes[d]["y"] - hy, G.nodes[d]["x"] - hx)
        )
        if len(ring) >= 3:
            for u, v in zip(ring, ring[1:] + ring[:1], strict=True):
                road(u, v)
        elif len(ring) == 2:
            road(ring[0], ring[1])
    # Contiguous urban fabric: each subcentre's district nearest the centre meets
    # the nearest centre district.
    for s in subcentres:
        own, central = districts_of.get(s, []), districts_of.get(0, [])
        if own and central:
            d = min(own, key=lambda node: distance(0, node))
            road(d, min(central, key=lambda node: distance(d, node)))

    core = [node for node, role in enumerate(roles) if role != "hinterland"]
    low, high = profile.hinterland_travel_time
    for village, role in enumerate(roles):
        if role != "hinterland":
            continue
        nearest = min(core, key=lambda node: distance(village, node))
        minutes = 2.0 + distance(village, nearest) / _RURAL_SPEED * 60.0
        link(village, nearest, "road", min(high, max(low, minutes)))


def small_town(
    population: int = 12_000, *, rng: np.random.Generator, name: str = "Small town"
) -> nx.Graph:
    """A low-density small town: compact centre, one to three districts, hinterland villages.

    6-14 nodes (more villages for larger populations). Centre rent 350-500 EUR,
    low accessibility (0.2-0.35), moderate tech (0.4-0.6, lower in the
    hinterland), 8-20% vacant space, amenity concentrated in the centre; villages
    hang off the core on long rural roads (8-25 min). No university: presets add
    one where the town has it.

    Args:
        population: Inhabitants (>= 1000); node populations sum exactly to it.
        rng: Source of every random draw (layout, population and attribute noise).
        name: Place name; used for ``G.graph["name"]``, ``place`` and node names.

    Returns:
        A graph satisfying the contract checked by :func:`validate_city_graph`.

    Raises:
        CityGraphError: If ``population`` is below 1000 or not an integer.
    """
    return _build("small_town", population, rng, name)


def medium_city(
    population: int = 150_000, *, rng: np.random.Generator, name: str = "Medium city"
) -> nx.Graph:
    """A medium-sized city: centre, one to three subcentres, districts, a few suburban villages.

    15-30 nodes. Centre rent 550-850 EUR, accessibility 0.35-0.7, tech 0.5-0.8,
    one university at the centre; subcentres are linked to the centre by
    public transport.

    Args:
        population: Inhabitants (>= 1000); node populations sum exactly to it.
        rng: Source of every random draw.
        name: Place name.

    Returns:
        A graph satisfying the contract checked by :func:`validate_city_graph`.

    Raises:
        CityGraphError: If ``population`` is below 1000 or not an integer.
    """
    return _build("medium_city", population, rng, name)


def metropolis(
    population: int = 1_000_000, *, rng: np.random.Generator, name: str = "Metropolis"
) -> nx.Graph:
    """A polycentric metropolis: a main centre plus three to six subcentres, each with districts.

    30-60 nodes. Centre rent 900-1500 EUR declining outward, high amenity at the
    centre and subcentres, accessibility 0.7-0.95, tech 0.8-0.95, 2-7% vacant
    space, about one university per 250,000 inhabitants (half at the centre, the
    rest at subcentres).

    Args:
        population: Inhabitants (>= 1000); node populations sum exactly to it.
        rng: Source of every random draw.
        name: Place name.

    Returns:
        A graph satisfying the contract checked by :func:`validate_city_graph`.

    Raises:
        CityGraphError: If ``population`` is below 1000 or not an integer.
    """
    return _build("metropolis", population, rng, name)


def generate(kind: str, population: int, *, rng: np.random.Generator, name: str) -> nx.Graph:
    """Build a city with the generator named ``kind`` (one of :data:`CITY_KINDS`).

    Args:
        kind: ``"small_town"``, ``"medium_city"`` or ``"metropolis"``.
        population: Inhabitants (>= 1000).
        rng: Source of every random draw.
        name: Place name.

    Returns:
        The generated city graph.

    Raises:
        CityGraphError: If ``kind`` is unknown or ``population`` is out of range.
    """
    if kind not in CITY_KINDS:
        raise CityGraphError(f"city kind must be one of {', '.join(CITY_KINDS)}; got {_show(kind)}")
    return _build(kind, population, rng, name)


def _kind_for(population: int) -> str:
    """The generator matching a population: <50k small town, <400k medium city, else metropolis."""
    if population < 50_000:
        return "small_town"
    if population < 400_000:
        return "medium_city"
    return "metropolis"


# --------------------------------------------------------------------------- regions


def region(
    town: nx.Graph, city: nx.Graph, *, travel_time: float, distance_km: float | None = None
) -> nx.Graph:
    """Join a town and a large city with one transport link between their centres.

    Town nodes keep ids ``0..n_town-1``, city nodes follow. The city is shifted
    to the right so its centre lies ``distance_km`` (or, if unknown,
    ``travel_time`` read as km) east of the town centre; this only affects
    drawing. The link models the rail/coach connection whose speed can drain a
    small town towards the core (Qin 2017) or bring it external markets.

    Args:
        town: The focus town (its first place is the focus).
        city: The nearest large city; must not share a place name with ``town``.
        travel_time: Minutes between the two centres (> 0).
        distance_km: Approximate road distance (> 0), stored on the link if given.

    Returns:
        A new graph named ``"<town> - <city> region"`` with ``graph["focus"]`` set
        to the town's place name.

    Raises:
        CityGraphError: If an input graph is invalid, the places overlap, or
            ``travel_time``/``distance_km`` is not positive.
    """
    travel_time = _positive("region", "travel_time", travel_time, "minutes")
    if distance_km is not None:
        distance_km = _positive("region", "distance_km", distance_km, "km")
    validate_city_graph(town, source="region town")
    validate_city_graph(city, source="region city")
    town_places, city_places = place_names(town), place_names(city)
    shared = [p for p in town_places if p in city_places]
    if shared:
        raise CityGraphError(
            f"region: town and city both contain place {shared[0]!r}; give them different names"
        )
    focus, partner = town_places[0], city_places[0]
    town_centre, city_centre = centre_node(town, focus), centre_node(city, partner)
    offset = len(town)
    shift_x = (
        town.nodes[town_centre]["x"]
        + (distance_km if distance_km is not None else travel_time)
        - city.nodes[city_centre]["x"]
    )
    shift_y = town.nodes[town_centre]["y"] - city.nodes[city_centre]["y"]

    G = nx.Graph(name=f"{focus} - {partner} region", focus=focus)
    for node in sorted(town):
        G.add_node(node, **dict(town.nodes[node]))
    for node in sorted(city):
        data = dict(city.nodes[node])
        data["x"] = round(data["x"] + shift_x, 3)
        data["y"] = round(data["y"] + shift_y, 3)
        G.add_node(offset + node, **data)
    for u, v, data in town.edges(data=True):
        G.add_edge(u, v, **dict(data))
    for u, v, data in city.edges(data=True):
        G.add_edge(offset + u, offset + v, **dict(data))
    link = {"travel_time": travel_time, "kind": "transport"}
    if distance_km is not None:
        link["distance_km"] = distance_km
    G.add_edge(town_centre, offset + city_centre, **link)
    return G


def _positive(source: str, field: str, value: Any, unit: str) -> float:
    number = _as_float(value)
    if number is None or not number > 0:
        raise CityGraphError(f"{source}: {field} must be > 0 ({unit}), got {_show(value)}")
    return number


# --------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    """A URBACT partner town with its nearest large city (figures from docs/domain.md).

    Attributes:
        key: Short identifier, e.g. ``"obidos"``.
        town: Town name used as its ``place``.
        country: ISO 3166 country code.
        population: Census population of the town (inhabitants).
        census_year: Year of the census figure (None if only approximate).
        city: Nearest large city name.
        city_population: Approximate population of that city (inhabitants).
        distance_km: Approximate road distance town-city (km).
        travel_time: Approximate travel time town-city (minutes).
        university: Number of universities in the town.
        notes: Sources, caveats and the town's special features.
    """

    key: str
    town: str
    country: str
    population: int
    census_year: int | None
    city: str
    city_population: int
    distance_km: float
    travel_time: float
    university: int
    notes: str


_APPROX = "City population, distance and travel time are approximate (road); town from domain.md."


def _preset(
    key: str,
    town: str,
    country: str,
    population: int,
    census_year: int | None,
    city: tuple[str, int],
    link: tuple[float, float],
    university: int,
    notes: str,
) -> tuple[str, Preset]:
    """A table row: ``city`` is (name, population), ``link`` is (distance km, minutes)."""
    return key, Preset(
        key=key,
        town=town,
        country=country,
        population=population,
        census_year=census_year,
        city=city[0],
        city_population=city[1],
        distance_km=link[0],
        travel_time=link[1],
        university=university,
        notes=f"{notes} {_APPROX}".strip(),
    )


PRESETS: dict[str, Preset] = dict(
    [
        # key, town, country, census population, year, (large city, approx. population),
        # (approx. road km, minutes), universities in town, notes
        _preset(
            "obidos", "Obidos", "PT", 11_772, 2011, ("Lisbon", 545_000), (80.0, 60.0), 0,
            "URBACT Creative Clusters lead partner. Municipality of 142 km2; the town itself "
            "~3,300. Technology park (modelled as higher tech at the centre). Chocolate "
            "festival, ~200k visitors, cost cut from EUR 500k to 250k.",
        ),
        _preset(
            "enguera", "Enguera", "ES", 4_781, 2023, ("Valencia", 800_000), (70.0, 55.0), 0,
            "242 km2, ~20 inhabitants/km2: very low density.",
        ),
        _preset(
            "mizil", "Mizil", "RO", 12_962, 2021, ("Ploiesti", 180_000), (35.0, 35.0), 0,
            "Deindustrialising town; Bucharest is ~90 km away.",
        ),
        _preset(
            "hodmezovasarhely", "Hodmezovasarhely", "HU", 41_634, 2022, ("Szeged", 160_000),
            (25.0, 25.0), 0, "",
        ),
        _preset(
            "viareggio", "Viareggio", "IT", 60_793, 2024, ("Pisa", 90_000), (25.0, 25.0), 0,
            "Carnival since 1873; shipbuilding.",
        ),
        _preset(
            "catanzaro", "Catanzaro", "IT", 79_000, None, ("Reggio Calabria", 170_000),
            (160.0, 110.0), 1,
            "Population ~79,000 (approximate, no census year). Regional capital of Calabria; "
            "Magna Graecia University. Large city: Reggio Calabria, the nearest city larger "
            "than Catanzaro; Lamezia Terme (~35 km, airport) and Cosenza (~95 km, ~65,000) are "
            "closer but smaller, so they cannot play the large-city role.",
        ),
        _preset(
            "barnsley", "Barnsley", "GB", 91_297, 2021, ("Sheffield", 556_000), (20.0, 30.0), 0,
            "Town 91,297; the metropolitan borough has 244,600 (2021), 68% green belt.",
        ),
        _preset(
            "jyvaskyla", "Jyvaskyla", "FI", 149_263, 2024, ("Tampere", 250_000),
            (150.0, 100.0), 1, "University town (University of Jyvaskyla).",
        ),
        _preset(
            "reggio_emilia", "Reggio Emilia", "IT", 172_182, 2024, ("Bologna", 390_000),
            (65.0, 45.0), 1, "UNIMORE campus (University of Modena and Reggio Emilia).",
        ),
        _preset(
            "genoa", "Genoa", "IT", 560_688, 2021, ("Milan", 1_370_000), (145.0, 100.0), 1,
            "European Capital of Culture 2004 (EUR 252m); metropolis reference; "
            "University of Genoa.",
        ),
    ]
)  # fmt: skip
"""URBACT "Creative Clusters in Low Density Urban Areas" partners plus Genoa (domain.md)."""

_TECHNOLOGY_PARK = {"obidos": 0.25}  # tech bonus at the town centre


def preset_region(key: str, *, rng: np.random.Generator, population: int | None = None) -> nx.Graph:
    """Build a partner town and its nearest large city, linked by transport.

    The town is sized by its census population (or ``population``) and the
    generator follows its size (<50k small town, <400k medium city, else
    metropolis); likewise the large city. The town's university count is
    replaced by :attr:`Preset.university`, and Obidos' technology park raises
    tech at its centre.

    Args:
        key: A key of :data:`PRESETS`, e.g. ``"obidos"``.
        rng: Source of every random draw (town first, then the city).
        population: Optional override of the town's population (>= 1000).

    Returns:
        The region graph (see :func:`region`), focus = the town.

    Raises:
        CityGraphError: If ``key`` is unknown or ``population`` is out of range.
    """
    if key not in PRESETS:
        raise CityGraphError(
            f"unknown preset {_show(key)}; choose one of {', '.join(sorted(PRESETS))}"
        )
    preset = PRESETS[key]
    town_population = preset.population if population is None else population
    town_population = _check_population(town_population, f"preset {key!r}")
    town = generate(_kind_for(town_population), town_population, rng=rng, name=preset.town)
    for node in town:
        town.nodes[node]["university"] = 0
    _spread_universities_in_graph(town, preset.university, rng)
    bonus = _TECHNOLOGY_PARK.get(key, 0.0)
    if bonus:
        town.nodes[0]["tech"] = round(min(1.0, town.nodes[0]["tech"] + bonus), 3)
    city = generate(
        _kind_for(preset.city_population), preset.city_population, rng=rng, name=preset.city
    )
    return region(town, city, travel_time=preset.travel_time, distance_km=preset.distance_km)


def _spread_universities_in_graph(G: nx.Graph, count: int, rng: np.random.Generator) -> None:
    if count <= 0:
        return
    subcentres = [node for node in G if G.nodes[node]["role"] == "subcentre"]
    universities = np.zeros(1 + len(subcentres), dtype=np.int64)
    _spread_universities(universities, count, len(subcentres), rng)
    for node, value in zip([0, *subcentres], universities, strict=True):
        G.nodes[node]["university"] = int(value)


# --------------------------------------------------------------------------- queries


def place_names(G: nx.Graph) -> list[str]:
    """Distinct ``place`` values in node order of first appearance (the focus town first)."""
    return list(dict.fromkeys(data["place"] for _, data in G.nodes(data=True) if "place" in data))


def centre_node(G: nx.Graph, place: str) -> int:
    """Node id of ``place``'s centre (the node with ``role == "centre"``).

    Raises:
        CityGraphError: If the graph has no centre for ``place``.
    """
    for node, data in G.nodes(data=True):
        if data.get("place") == place and data.get("role") == "centre":
            return node
    known = ", ".join(repr(p) for p in place_names(G)) or "none"
    raise CityGraphError(
        f"{G.graph.get('name', 'city graph')}: no centre node for place {place!r} (places: {known})"
    )


# --------------------------------------------------------------------------- validation


def _show(value: Any) -> str:
    """A short one-line rendering of a bad value for error messages."""
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= 60 else text[:57] + "..."


def _as_float(value: Any) -> float | None:
    """``value`` as a finite float (accepting numeric strings), or None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _allowed(attribute: str, spec: tuple[type, float | None, float | None, str]) -> str:
    """Human wording of what ``attribute`` allows, e.g. 'float in [0, 1)' or 'int >= 0'."""
    kind, low, high, _ = spec
    if attribute in _CHOICES:
        return "one of " + ", ".join(repr(c) for c in _CHOICES[attribute])
    type_name = kind.__name__
    if low is None and high is None:
        return type_name
    low_text = f"{low:g}" if low is not None else ""
    high_text = f"{high:g}" if high is not None else ""
    if high is None:
        return f"{type_name} {'>' if attribute in _EXCLUSIVE_MIN else '>='} {low_text}"
    if low is None:
        return f"{type_name} {'<' if attribute in _EXCLUSIVE_MAX else '<='} {high_text}"
    left = "(" if attribute in _EXCLUSIVE_MIN else "["
    right = ")" if attribute in _EXCLUSIVE_MAX else "]"
    return f"{type_name} in {left}{low_text}, {high_text}{right}"


def _check_attribute(
    where: str,
    attribute: str,
    value: Any,
    spec: tuple[type, float | None, float | None, str],
) -> Any:
    """Coerce ``value`` to the attribute's type and check its range; raise on failure."""
    kind, low, high, _ = spec
    allowed = _allowed(attribute, spec)
    bad = f"{where}: attribute {attribute!r} must be {allowed}, got {_show(value)}"
    if kind is str:
        if not isinstance(value, str) or not value.strip():
            raise CityGraphError(bad.replace(f"must be {allowed}", "must be a non-empty str"))
        if attribute in _CHOICES and value not in _CHOICES[attribute]:
            raise CityGraphError(bad)
        return value
    number = _as_float(value)
    if number is None:
        raise CityGraphError(bad)
    if kind is int:
        if not number.is_integer():
            raise CityGraphError(bad)
        number = int(number)
    too_low = low is not None and (number <= low if attribute in _EXCLUSIVE_MIN else number < low)
    too_high = high is not None and (
        number >= high if attribute in _EXCLUSIVE_MAX else number > high
    )
    if too_low or too_high:
        raise CityGraphError(bad)
    return number


def _missing(where: str, attribute: str, spec: tuple[type, float | None, float | None, str]) -> str:
    return (
        f"{where}: missing attribute {attribute!r} "
        f"({_allowed(attribute, spec)}, {_UNITS[attribute]})"
    )


def validate_city_graph(G: nx.Graph, *, source: str = "city graph") -> nx.Graph:
    """Check the graph contract the model relies on; coerce numeric attributes in place.

    The contract: an undirected, connected :class:`networkx.Graph` whose node ids
    are the integers ``0..N-1``, with a ``name`` graph attribute, every node
    attribute of :data:`NODE_ATTRIBUTES` in range, ``travel_time`` and ``kind``
    on every edge (see :data:`EDGE_ATTRIBUTES`), and exactly one ``centre`` per
    place. Numbers given as other numeric types or numeric strings (as GraphML
    may deliver them) are converted to ``int``/``float``.

    Args:
        G: The graph to check; its attributes are coerced in place.
        source: What to call the graph in messages, e.g. the file name.

    Returns:
        ``G`` itself, so calls can be chained.

    Raises:
        CityGraphError: On the first violation, with a one-line message naming
            the source, the node or edge, the attribute, the value and what is allowed.
    """
    if not isinstance(G, nx.Graph) or G.is_directed() or G.is_multigraph():
        raise CityGraphError(
            f"{source}: must be an undirected networkx.Graph, got {type(G).__name__}"
        )
    if len(G) == 0:
        raise CityGraphError(f"{source}: graph has no nodes")
    for node in G:
        if not isinstance(node, (int, np.integer)) or isinstance(node, (bool, np.bool_)):
            raise CityGraphError(
                f"{source}: node ids must be the integers 0..{len(G) - 1}, "
                f"got node {_show(node)} ({type(node).__name__})"
            )
    missing_ids = sorted(set(range(len(G))) - {int(node) for node in G})
    if missing_ids:
        raise CityGraphError(
            f"{source}: node ids must be the consecutive integers 0..{len(G) - 1}; "
            f"missing {missing_ids[0]}"
        )
    name = G.graph.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CityGraphError(
            f"{source}: graph attribute 'name' must be a non-empty str, got {_show(name)}"
        )

    for node, data in G.nodes(data=True):
        label = data.get("name")
        where = f"{source}: node {node}" + (f" ({label!r})" if isinstance(label, str) else "")
        for attribute, spec in NODE_ATTRIBUTES.items():
            if attribute not in data:
                raise CityGraphError(_missing(where, attribute, spec))
            data[attribute] = _check_attribute(where, attribute, data[attribute], spec)

    for u, v, data in G.edges(data=True):
        where = f"{source}: edge ({u}, {v})"
        if u == v:
            raise CityGraphError(f"{where}: self-loops are not allowed")
        for attribute, spec in EDGE_ATTRIBUTES.items():
            if attribute not in data:
                if attribute in _OPTIONAL_EDGE_ATTRIBUTES:
                    continue
                raise CityGraphError(_missing(where, attribute, spec))
            data[attribute] = _check_attribute(where, attribute, data[attribute], spec)

    components = nx.number_connected_components(G)
    if components > 1:
        raise CityGraphError(f"{source}: graph is not connected: {components} components")

    centres: dict[str, list[int]] = {place: [] for place in place_names(G)}
    for node, data in G.nodes(data=True):
        if data["role"] == "centre":
            centres[data["place"]].append(node)
    for place, nodes in centres.items():
        if len(nodes) != 1:
            found = "none" if not nodes else ", ".join(str(n) for n in nodes)
            raise CityGraphError(
                f"{source}: place {place!r} must have exactly one node with role 'centre', "
                f"found {found}"
            )
    return G


# --------------------------------------------------------------------------- GraphML


_READ_ERRORS = (ET.ParseError, nx.NetworkXError, OSError, ValueError, KeyError, TypeError)


def _integer_like(text: Any) -> int | None:
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def load_graphml(path: str | os.PathLike[str]) -> nx.Graph:
    """Read a city graph from a GraphML file and validate it.

    GraphML node ids are strings: nodes are relabelled to ``0..N-1`` sorted by
    original id (numerically if all ids are integer-like); when a node's new id
    differs from its original one, the original is kept as ``graphml_id``.
    Defaults filled in: edge ``kind`` -> ``"road"``; node ``place`` -> the graph
    name, else the file stem; ``role`` -> ``"district"`` (if a place then has no
    centre, its most populous node becomes the centre); missing ``x``/``y`` ->
    a deterministic spring layout (seed 0) scaled to 10 km. Everything else is
    required.

    Args:
        path: The ``.graphml`` file.

    Returns:
        The validated graph (see :func:`validate_city_graph`).

    Raises:
        CityGraphError: If the file is missing, unreadable or not GraphML, or the
            graph breaks the contract; the message is one line naming the file.
    """
    file = Path(path)
    if not file.exists():
        raise CityGraphError(f"{file}: no such GraphML file")
    if not file.is_file():
        raise CityGraphError(f"{file}: not a file")
    try:
        raw = nx.read_graphml(file)
    except _READ_ERRORS as error:
        detail = " ".join(str(error).split()) or type(error).__name__
        detail = detail if len(detail) <= 80 else detail[:77] + "..."
        raise CityGraphError(f"{file}: not a readable GraphML file ({detail})") from error

    originals = list(raw.nodes)
    numeric = [_integer_like(node) for node in originals]
    if all(n is not None for n in numeric):
        order = sorted(range(len(originals)), key=lambda i: numeric[i])
    else:
        order = sorted(range(len(originals)), key=lambda i: str(originals[i]))
    graph_name = raw.graph.get("name")
    default_place = graph_name if isinstance(graph_name, str) and graph_name else file.stem

    G = nx.Graph()
    G.graph.update(
        {k: v for k, v in raw.graph.items() if k not in ("node_default", "edge_default")}
    )
    G.graph["name"] = default_place
    new_id = {}
    defaulted_role: set[int] = set()
    for new, i in enumerate(order):
        original = originals[i]
        new_id[original] = new
        data = dict(raw.nodes[original])
        if numeric[i] != new:
            data.setdefault("graphml_id", str(original))
        data.setdefault("place", default_place)
        if "role" not in data:
            data["role"] = "district"
            defaulted_role.add(new)
        G.add_node(new, **data)
    for u, v, data in raw.edges(data=True):
        attributes = dict(data)
        attributes.setdefault("kind", "road")
        attributes.pop("id", None)
        G.add_edge(new_id[u], new_id[v], **attributes)

    _default_centres(G, defaulted_role)
    if any("x" not in data or "y" not in data for _, data in G.nodes(data=True)):
        layout = nx.spring_layout(G, seed=0, weight=None, scale=10.0)
        for node, (px, py) in layout.items():
            G.nodes[node].setdefault("x", round(float(px), 3))
            G.nodes[node].setdefault("y", round(float(py), 3))
    return validate_city_graph(G, source=file.name)


def _default_centres(G: nx.Graph, defaulted_role: set[int]) -> None:
    """Give a place whose roles were all missing a centre: its most populous node."""
    members: dict[Any, list[int]] = {}
    for node, data in G.nodes(data=True):
        members.setdefault(data["place"], []).append(node)
    for nodes in members.values():
        if all(node in defaulted_role for node in nodes):
            biggest = max(nodes, key=lambda n: (_as_float(G.nodes[n].get("population")) or 0, -n))
            G.nodes[biggest]["role"] = "centre"


def save_graphml(G: nx.Graph, path: str | os.PathLike[str]) -> None:
    """Validate a city graph and write it as GraphML (readable by :func:`load_graphml`).

    Args:
        G: A city graph (validated, numeric attributes coerced in place).
        path: Destination file.

    Raises:
        CityGraphError: If the graph is invalid or the file cannot be written.
    """
    file = Path(path)
    validate_city_graph(G, source=file.name)
    try:
        nx.write_graphml(G, file)
    except OSError as error:
        raise CityGraphError(f"{file}: cannot write GraphML ({_show(str(error))})") from error
