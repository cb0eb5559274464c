"""City generators sized from a population: small town, medium city, metropolis."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from clustersim.errors import CityGraphError
from clustersim.model.city.contract import show_value
from clustersim.model.city.profiles import GENERATED_KINDS, MIN_POPULATION, PROFILES, Profile

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

UNIVERSITY_MIN_POPULATION = 50_000
"""Inhabitants from which a generated city has a university (an assumption: most European
towns below this size have none; preset towns carry their own count)."""

INHABITANTS_PER_UNIVERSITY = 250_000
"""About one university per this many inhabitants in a generated city of any kind."""


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
    if ok and float(population).is_integer() and population >= MIN_POPULATION:
        return int(population)
    raise CityGraphError(
        f"{kind}: population must be an integer >= {MIN_POPULATION} (inhabitants), "
        f"got {show_value(population)}"
    )


def _node_count(profile: Profile, population: int) -> int:
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


@dataclass
class _Layout:
    """Nodes placed so far: role, position (km), centrality, and the hub a district hangs from.

    Node ids are list positions; the centre is node 0 at (0, 0) with centrality 1.
    ``hub_of`` is -1 for every node that is not a district.
    """

    roles: list[str] = field(default_factory=lambda: ["centre"])
    xs: list[float] = field(default_factory=lambda: [0.0])
    ys: list[float] = field(default_factory=lambda: [0.0])
    centrality: list[float] = field(default_factory=lambda: [1.0])
    hub_of: list[int] = field(default_factory=lambda: [-1])

    def add(self, role: str, x: float, y: float, centrality: float, hub: int = -1) -> None:
        """Append one node."""
        self.roles.append(role)
        self.xs.append(x)
        self.ys.append(y)
        self.centrality.append(centrality)
        self.hub_of.append(hub)


def _build(kind: str, population: Any, rng: Any, name: str) -> nx.Graph:
    """Build a city of ``kind``: centre, optional subcentres, districts, hinterland villages.

    Layout (km, centre at 0,0), node populations (exact total, lognormal jitter
    around role weights: dense centre, lighter outskirts) and attribute noise are
    drawn from ``rng`` only, so the graph is reproducible from its seed. The
    centre's attributes carry no noise: they are the calibration anchor and rise
    smoothly with population. ``G.graph`` holds ``name``, ``kind`` and ``population``.
    """
    rng = _check_rng(rng)
    population = check_population(population, kind)
    if not isinstance(name, str) or not name.strip():
        raise CityGraphError(f"{kind}: name must be a non-empty str, got {show_value(name)}")
    profile = PROFILES[kind]
    n_sub, n_districts, n_hinterland = _structure(kind, _node_count(profile, population))
    scale = min(2.0, max(0.6, (population / profile.reference_population) ** 0.25))

    # The order of the draws below is part of the result: keep it.
    layout = _Layout()
    _place_subcentres(layout, profile, n_sub, scale, rng)
    _place_districts(layout, profile, _districts_per_hub(kind, n_sub, n_districts), scale, rng)
    _place_hinterland(layout, profile, n_hinterland, scale, rng)
    centrality = np.asarray(layout.centrality)
    node_population = _node_populations(profile, layout.roles, centrality, population, rng)
    values = _attribute_values(profile, population, centrality, rng)
    universities = _universities(population, len(layout.roles), n_sub, rng)

    G = nx.Graph(name=name, kind=kind, population=population)
    _add_nodes(G, name, layout, node_population, values, universities)
    _add_edges(G, profile, layout.roles, layout.hub_of, n_sub)
    return G


def _place_subcentres(
    layout: _Layout, profile: Profile, count: int, scale: float, rng: np.random.Generator
) -> None:
    """Put ``count`` subcentres on a ring around the centre."""
    angles, radii = _ring_positions(rng, count, profile.subcentre_radius, scale)
    for angle, radius in zip(angles, radii, strict=True):
        x, y = float(radius * math.cos(angle)), float(radius * math.sin(angle))
        layout.add("subcentre", x, y, profile.subcentre_centrality)


def _districts_per_hub(kind: str, n_sub: int, n_districts: int) -> list[int]:
    """Districts of the centre, then of each subcentre.

    The centre gets about half (medium city) or a third (metropolis); the
    subcentres share the rest evenly.
    """
    if n_sub == 0:
        return [n_districts]
    share = 0.5 if kind == "medium_city" else 0.3
    at_centre = max(2, math.floor(n_districts * share + 0.5))
    rest = n_districts - at_centre
    return [at_centre] + [rest // n_sub + (i < rest % n_sub) for i in range(n_sub)]


def _place_districts(
    layout: _Layout,
    profile: Profile,
    per_hub: list[int],
    scale: float,
    rng: np.random.Generator,
) -> None:
    """Put each hub's districts on a ring around it (hub 0 is the centre, then the subcentres).

    A district's centrality falls from 0.7 to 0.4 of its hub's across the band.
    """
    for hub, count in enumerate(per_hub):
        band = profile.centre_district_radius if hub == 0 else profile.subcentre_district_radius
        angles, radii = _ring_positions(rng, count, band, scale)
        for angle, radius in zip(angles, radii, strict=True):
            x = float(layout.xs[hub] + radius * math.cos(angle))
            y = float(layout.ys[hub] + radius * math.sin(angle))
            outward = (radius / scale - band[0]) / max(band[1] - band[0], 1e-9)
            layout.add("district", x, y, layout.centrality[hub] * (0.7 - 0.3 * outward), hub)


def _place_hinterland(
    layout: _Layout, profile: Profile, count: int, scale: float, rng: np.random.Generator
) -> None:
    """Put ``count`` hinterland villages on a wide ring; centrality falls from 0.15 outwards."""
    angles, radii = _ring_positions(rng, count, profile.hinterland_radius, scale)
    band = profile.hinterland_radius
    for angle, radius in zip(angles, radii, strict=True):
        x, y = float(radius * math.cos(angle)), float(radius * math.sin(angle))
        outward = (radius / scale - band[0]) / max(band[1] - band[0], 1e-9)
        layout.add("hinterland", x, y, 0.15 * (1.0 - outward))


def _node_populations(
    profile: Profile,
    roles: list[str],
    centrality: np.ndarray,
    population: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Node populations summing exactly to ``population``: role weights with lognormal jitter.

    Districts weigh more the more central they are.
    """
    role_weight = np.array([profile.weights[r] for r in roles])
    is_district = np.array([r == "district" for r in roles])
    role_weight = np.where(is_district, role_weight * (0.5 + centrality), role_weight)
    weights = role_weight * rng.lognormal(0.0, _POPULATION_SIGMA, size=len(roles))
    return _allocate(population, weights)


def _attribute_values(
    profile: Profile, population: int, centrality: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Rent and index attributes per node, between the periphery and the centre level.

    Both levels move with the population's position in the kind's ``typical``
    range (log scale); nodes lie between them by centrality, with lognormal noise
    except at the centre, clipped to the two levels.
    """
    low, high = profile.typical
    t = (math.log(population) - math.log(low)) / (math.log(high) - math.log(low))
    t = min(1.0, max(0.0, t))
    values: dict[str, np.ndarray] = {}
    for attribute, (centre_lo, centre_hi) in profile.centre_levels.items():
        periphery_lo, periphery_hi = profile.periphery_levels[attribute]
        at_centre = centre_lo + (centre_hi - centre_lo) * t
        at_periphery = periphery_lo + (periphery_hi - periphery_lo) * t
        sigma = _RENT_SIGMA if attribute == "rent" else _INDEX_SIGMA
        jitter = rng.lognormal(0.0, sigma, size=len(centrality))
        jitter[0] = 1.0  # the centre is the calibration anchor: no noise
        raw = (at_periphery + (at_centre - at_periphery) * centrality) * jitter
        values[attribute] = np.clip(raw, min(at_centre, at_periphery), max(at_centre, at_periphery))
    return values


def _universities(population: int, n: int, n_sub: int, rng: np.random.Generator) -> np.ndarray:
    """Universities per node, by population whatever the kind.

    None below :data:`UNIVERSITY_MIN_POPULATION` inhabitants; from there about one per
    :data:`INHABITANTS_PER_UNIVERSITY` (at least one), one at the centre, more spread
    by :func:`spread_universities`. How many graduates they send into the labour market
    follows the place's population, not their number (``institutions.graduates_per_1000``).
    """
    universities = np.zeros(n, dtype=np.int64)
    if population < UNIVERSITY_MIN_POPULATION:
        return universities
    count = max(1, round(population / INHABITANTS_PER_UNIVERSITY))
    if count == 1:
        universities[0] = 1
    else:
        spread_universities(universities, count, n_sub, rng)
    return universities


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


def _add_edges(
    G: nx.Graph, profile: Profile, roles: list[str], hub_of: list[int], n_sub: int
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
    moderate tech (0.4-0.6, lower in the hinterland), 8-20% vacant space, amenity
    concentrated in the centre; villages hang off the core on long rural roads
    (8-25 min). No university below 50,000
    inhabitants (see :func:`_universities`); presets set the town's own count.

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

    15-30 nodes. Centre rent 550-850 EUR, tech 0.5-0.8,
    one university at the centre from 50,000 inhabitants (about one per 250,000, see
    :func:`_universities`); subcentres are linked to the centre by public transport.

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
    centre and subcentres, tech 0.8-0.95, 2-7% vacant space, about one university
    per 250,000 inhabitants (half at the centre, the rest at subcentres; see
    :func:`_universities`).

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
    """Build a city with the generator named ``kind`` (one of the generated kinds).

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
    if kind not in GENERATED_KINDS:
        raise CityGraphError(
            f"city kind must be one of {', '.join(GENERATED_KINDS)}; got {show_value(kind)}"
        )
    return _build(kind, population, rng, name)


def kind_for(population: int) -> str:
    """The generator matching a population: <50k small town, <400k medium city, else metropolis."""
    if population < 50_000:
        return "small_town"
    if population < 400_000:
        return "medium_city"
    return "metropolis"
