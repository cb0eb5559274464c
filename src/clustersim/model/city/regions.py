"""Regions: a town joined to its nearest large city, and the URBACT partner-town presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from clustersim.errors import CityGraphError
from clustersim.model.city.contract import (
    as_float,
    centre_node,
    place_names,
    show_value,
    validate_city_graph,
)
from clustersim.model.city.family import FamilyParams
from clustersim.model.city.generate import (
    check_population,
    generate,
    kind_for,
    spread_universities,
)

__all__ = ["PRESETS", "Preset", "preset_region", "region"]


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
    number = as_float(value)
    if number is None or not number > 0:
        raise CityGraphError(f"{source}: {field} must be > 0 ({unit}), got {show_value(value)}")
    return number


# --------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    """A URBACT partner town with its nearest large city (figures from docs/evidence.md).

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


_APPROX = (
    "City population, distance and travel time are approximate (road); town from docs/evidence.md."
)


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
"""URBACT "Creative Clusters in Low Density Urban Areas" partners plus Genoa (docs/evidence.md)."""

_TECHNOLOGY_PARK = {"obidos": 0.25}  # tech bonus at the town centre


def preset_region(
    key: str,
    *,
    rng: np.random.Generator,
    population: int | None = None,
    family: FamilyParams | None = None,
) -> nx.Graph:
    """Build a partner town and its nearest large city, linked by transport.

    The town is sized by its census population (or ``population``); its shape
    follows its size (<50k compact, <400k medium city, else metropolis), likewise
    the large city's, and every attribute follows the family's functions of
    population. The town's university count is
    replaced by :attr:`Preset.university`, and Obidos' technology park raises
    tech at its centre.

    Args:
        key: A key of :data:`PRESETS`, e.g. ``"obidos"``.
        rng: Source of every random draw (town first, then the city).
        population: Optional override of the town's population (>= 1000).
        family: The family's parameters (``city.family``); the defaults if None.

    Returns:
        The region graph (see :func:`region`), focus = the town.

    Raises:
        CityGraphError: If ``key`` is unknown or ``population`` is out of range.
    """
    if key not in PRESETS:
        raise CityGraphError(
            f"unknown preset {show_value(key)}; choose one of {', '.join(sorted(PRESETS))}"
        )
    preset = PRESETS[key]
    town_population = preset.population if population is None else population
    town_population = check_population(town_population, f"preset {key!r}")
    town = generate(
        kind_for(town_population), town_population, rng=rng, name=preset.town, family=family
    )
    for node in town:
        town.nodes[node]["university"] = 0
    _spread_universities_in_graph(town, preset.university, rng)
    bonus = _TECHNOLOGY_PARK.get(key, 0.0)
    if bonus:
        town.nodes[0]["tech"] = round(min(1.0, town.nodes[0]["tech"] + bonus), 3)
    city = generate(
        kind_for(preset.city_population),
        preset.city_population,
        rng=rng,
        name=preset.city,
        family=family,
    )
    return region(town, city, travel_time=preset.travel_time, distance_km=preset.distance_km)


def _spread_universities_in_graph(G: nx.Graph, count: int, rng: np.random.Generator) -> None:
    if count <= 0:
        return
    subcentres = [node for node in G if G.nodes[node]["role"] == "subcentre"]
    universities = np.zeros(1 + len(subcentres), dtype=np.int64)
    spread_universities(universities, count, len(subcentres), rng)
    for node, value in zip([0, *subcentres], universities, strict=True):
        G.nodes[node]["university"] = int(value)
