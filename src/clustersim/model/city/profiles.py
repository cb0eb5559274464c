"""Kinds of generated city and their profiles: shape, size and attribute levels by kind."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CITY_KINDS", "GENERATED_KINDS", "MIN_POPULATION", "PROFILES", "Profile"]

GENERATED_KINDS = ("small_town", "medium_city", "metropolis")
"""Names of the city generators, smallest first (see :func:`clustersim.model.city.generate`).

The one list of generated kinds: the configuration's ``city.kind`` choices and the
app's city menu derive from it.
"""

CITY_KINDS = GENERATED_KINDS
"""The generated kinds under the name users import (``city.CITY_KINDS``)."""

MIN_POPULATION = 1000
"""Smallest population a generator accepts (inhabitants)."""


@dataclass(frozen=True)
class Profile:
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


PROFILES: dict[str, Profile] = {
    "small_town": Profile(
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
            "tech": (0.5, 0.6),
            "vacant_space": (0.12, 0.08),
            "openness": (0.35, 0.45),
        },
        periphery_levels={
            "rent": (175.0, 250.0),
            "amenity": (0.08, 0.12),
            "tech": (0.4, 0.45),
            "vacant_space": (0.2, 0.15),
            "openness": (0.28, 0.35),
        },
    ),
    "medium_city": Profile(
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
            "tech": (0.65, 0.8),
            "vacant_space": (0.07, 0.05),
            "openness": (0.5, 0.6),
        },
        periphery_levels={
            "rent": (250.0, 380.0),
            "amenity": (0.15, 0.25),
            "tech": (0.5, 0.65),
            "vacant_space": (0.1, 0.08),
            "openness": (0.4, 0.5),
        },
    ),
    "metropolis": Profile(
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
            "tech": (0.88, 0.95),
            "vacant_space": (0.03, 0.02),
            "openness": (0.7, 0.85),
        },
        periphery_levels={
            "rent": (360.0, 600.0),
            "amenity": (0.3, 0.4),
            "tech": (0.8, 0.85),
            "vacant_space": (0.07, 0.05),
            "openness": (0.55, 0.65),
        },
    ),
}
"""The profile of each generated kind, keyed by kind (the keys are :data:`GENERATED_KINDS`)."""
