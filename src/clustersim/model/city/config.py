"""The configuration's city choice: which city graph to simulate, and the kinds it accepts."""

from __future__ import annotations

from dataclasses import dataclass, field

from clustersim.model.city.contract import MAX_DISTANCE_KM
from clustersim.model.city.family import FamilyParams
from clustersim.model.city.profiles import GENERATED_KINDS, MAX_POPULATION, MIN_POPULATION
from clustersim.params import MAX_MINUTES, param

__all__ = ["CITY_KIND_CHOICES", "CityConfig"]

CITY_KIND_CHOICES = (*GENERATED_KINDS, "region", "preset", "graphml")
"""Allowed values of ``city.kind``: the generated kinds, then a region, a preset, a GraphML file."""


@dataclass
class CityConfig:
    """Which city graph to simulate (see :mod:`clustersim.model.city`)."""

    kind: str = param(
        "small_town",
        source="-",
        unit="-",
        doc="shape of a generated city: small_town (compact), medium_city (polycentric with "
        "hinterland), metropolis (polycentric); region (town + large city), "
        "preset (a URBACT partner town with its nearest large city) or graphml (your own file)",
        choices=CITY_KIND_CHOICES,
    )
    name: str = param("Small town", source="-", unit="-", doc="display name of the (focus) town")
    population: int | None = param(
        12_000,
        source="-",
        unit="inhabitants",
        doc="population of the (focus) town; for GraphML it rescales the whole graph, "
        "null keeps the file's populations",
        ge=MIN_POPULATION,
        le=MAX_POPULATION,
        optional=True,
    )
    preset: str | None = param(
        None, source="-", unit="-", doc="preset key when kind=preset (e.g. obidos)", optional=True
    )
    town_kind: str = param(
        "small_town",
        source="-",
        unit="-",
        doc="shape of the town when kind=region",
        choices=GENERATED_KINDS,
    )
    city_name: str = param(
        "Large city", source="-", unit="-", doc="name of the large city when kind=region"
    )
    city_kind: str = param(
        "metropolis",
        source="-",
        unit="-",
        doc="shape of the large city when kind=region",
        choices=GENERATED_KINDS,
    )
    city_population: int = param(
        500_000,
        source="-",
        unit="inhabitants",
        doc="population of the large city when kind=region",
        ge=MIN_POPULATION,
        le=MAX_POPULATION,
    )
    travel_time: float = param(
        60.0,
        source="-",
        unit="minutes",
        doc="travel time of the transport link between town centre and city centre (region)",
        gt=0,
        le=MAX_MINUTES,
    )
    distance_km: float = param(
        80.0,
        source="-",
        unit="km",
        doc="approximate road distance town-city (region; drawing only)",
        gt=0,
        le=MAX_DISTANCE_KM,
    )
    graphml: str | None = param(
        None, source="-", unit="path", doc="GraphML file when kind=graphml", optional=True
    )
    focus: str | None = param(
        None,
        source="-",
        unit="-",
        doc="place whose metrics fill the time series (default: the town)",
        optional=True,
    )
    seed: int | None = param(
        None,
        source="-",
        unit="-",
        doc="seed of the generated graph's own random stream: runs with different seeds then "
        "share one graph (identical towns, different histories); null draws the graph from "
        "the run's own stream, so each run seed gives its own town",
        ge=0,
        optional=True,
    )
    family: FamilyParams = field(default_factory=FamilyParams)
