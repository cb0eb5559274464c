"""One city family, continuous in population: how a generated city's attributes follow its size.

Every generated city, whatever its shape (:mod:`~clustersim.model.city.profiles`),
takes its node attributes from the same smooth functions of the city's population
``P`` and the node's centrality ``c`` (1 at the centre, falling outward):

- an attribute's *centre level* and *periphery level* are set by their values in a
  town of 10,000 and a city of 1,000,000 inhabitants and follow a straight line
  through them on log population: in log for rents and speeds (a power law
  ``level ~ P ** elasticity``), in logit for the 0-1 indices (so they stay inside
  0 and 1 at any size);
- a node lies between them by its centrality,
  ``value = periphery + (centre - periphery) * c`` (with noise, see the generator);
- the number of nodes is ``base_nodes + (P / 1000) ** neighbourhood_exponent``
  and the neighbourhoods' spacing follows from ``density``;
- the expected number of universities is ``p(P) * max(1, P / inhabitants_per_university)``
  with ``p(P) = 1 / (1 + (university_half_population / P) ** university_steepness)``,
  the chance that a city of that size has one; the count is drawn by stochastic
  rounding, so its expectation is continuous in ``P`` and no threshold exists.

Nothing here depends on the kind of city: a small town of 2,000,000 inhabitants has
the rents of a city of 2,000,000. The 10k and 1M levels are stylised assumptions,
chosen to keep the levels the former per-kind tables gave at 12,000, 150,000 and
1,000,000 inhabitants (``docs/model.md``, section 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from clustersim.params import param

__all__ = [
    "ATTRIBUTES",
    "FamilyParams",
    "attribute_levels",
    "expected_universities",
    "neighbourhood_spacing",
    "node_count",
    "scaled_level",
    "stochastic_round",
    "urban_speed",
]

ATTRIBUTES = ("rent", "amenity", "tech", "vacant_space", "openness")
"""The node attributes the family sets from population and centrality."""

_LOG_ATTRIBUTES = frozenset({"rent"})  # power laws; the others are logit-linear 0-1 indices
_SMALL, _LARGE = 10_000.0, 1_000_000.0  # the two anchor populations of every level

_SOURCE = "assumption (keeps the former per-kind levels at 12k, 150k and 1M)"
_RENT_SOURCE = (
    "assumption; elasticity ~0.19 at the centre, between the urban-cost (0.03-0.08) and "
    "land-price (~0.8) elasticities of Combes, Duranton & Gobillon 2019"
)


def _index(default: float, what: str, where: str, size: str) -> float:
    return param(
        default,
        unit="index",
        doc=f"{what} at the {where} of a city of {size} inhabitants",
        source=_SOURCE,
        gt=0.0,
        lt=1.0,
    )


def _rent(default: float, where: str, size: str, source: str) -> float:
    return param(
        default,
        unit="EUR/month",
        doc=f"rent at the {where} of a city of {size} inhabitants",
        source=source,
        gt=0.0,
        le=100_000.0,
    )


@dataclass
class FamilyParams:
    """How a generated city's node attributes, node count and universities follow population."""

    base_nodes: int = param(
        3,
        unit="nodes",
        doc="nodes of a city before neighbourhoods are added (a village has this plus one)",
        ge=1,
        le=50,
    )
    neighbourhood_exponent: float = param(
        0.7,
        unit="-",
        doc="nodes grow as (population / 1000) ** this: a handful for a village, about "
        "130 for 1M, about 1,030 for 20M (one neighbourhood per ~8k-20k residents in cities)",
        gt=0.0,
        le=1.0,
    )
    density: float = param(
        3_000.0,
        unit="inhabitants per km2",
        doc="residential density that sets the spacing of neighbourhoods",
        source="assumption (above Eurostat's urban-centre threshold of 1,500 per km2)",
        gt=0.0,
        le=100_000.0,
    )
    rent_centre_10k: float = _rent(440.0, "centre", "10,000", _RENT_SOURCE)
    rent_centre_1m: float = _rent(1_040.0, "centre", "1,000,000", _RENT_SOURCE)
    rent_periphery_10k: float = _rent(220.0, "periphery", "10,000", _SOURCE)
    rent_periphery_1m: float = _rent(415.0, "periphery", "1,000,000", _SOURCE)
    amenity_centre_10k: float = _index(0.54, "cultural amenity", "centre", "10,000")
    amenity_centre_1m: float = _index(0.87, "cultural amenity", "centre", "1,000,000")
    amenity_periphery_10k: float = _index(0.10, "cultural amenity", "periphery", "10,000")
    amenity_periphery_1m: float = _index(0.32, "cultural amenity", "periphery", "1,000,000")
    tech_centre_10k: float = _index(0.56, "broadband and technology", "centre", "10,000")
    tech_centre_1m: float = _index(0.90, "broadband and technology", "centre", "1,000,000")
    tech_periphery_10k: float = _index(0.43, "broadband and technology", "periphery", "10,000")
    tech_periphery_1m: float = _index(0.81, "broadband and technology", "periphery", "1,000,000")
    vacant_space_centre_10k: float = _index(0.10, "vacant space share", "centre", "10,000")
    vacant_space_centre_1m: float = _index(0.03, "vacant space share", "centre", "1,000,000")
    vacant_space_periphery_10k: float = _index(0.17, "vacant space share", "periphery", "10,000")
    vacant_space_periphery_1m: float = _index(0.065, "vacant space share", "periphery", "1,000,000")
    openness_centre_10k: float = _index(0.41, "openness", "centre", "10,000")
    openness_centre_1m: float = _index(0.74, "openness", "centre", "1,000,000")
    openness_periphery_10k: float = _index(0.32, "openness", "periphery", "10,000")
    openness_periphery_1m: float = _index(0.57, "openness", "periphery", "1,000,000")
    urban_speed_10k: float = param(
        25.0, unit="km/h", doc="speed on the streets of a town of 10,000 (congestion slows "
        "larger cities)", gt=0.0, le=200.0,
    )  # fmt: skip
    urban_speed_1m: float = param(
        20.0, unit="km/h", doc="speed on the streets of a city of 1,000,000", gt=0.0, le=200.0
    )
    university_half_population: float = param(
        60_000.0,
        unit="inhabitants",
        doc="population at which a city has a university with probability one half",
        source="assumption (most European towns below 50k have none; most cities above 100k one)",
        gt=0.0,
        le=20_000_000.0,
    )
    university_steepness: float = param(
        3.0,
        unit="-",
        doc="how fast that probability rises with log population (logistic exponent)",
        gt=0.0,
        le=20.0,
    )
    inhabitants_per_university: float = param(
        250_000.0,
        unit="inhabitants",
        doc="in large cities, about one university per this many inhabitants",
        gt=0.0,
        le=20_000_000.0,
    )


def scaled_level(small: float, large: float, population: float, *, log: bool) -> float:
    """The level at ``population`` on the line through (10k, ``small``) and (1M, ``large``).

    The line is drawn on log population, in log of the level (``log=True``: a power
    law) or in logit of it (a 0-1 index, which then stays inside 0 and 1).

    Examples:
        >>> round(scaled_level(440.0, 1040.0, 100_000, log=True), 1)
        676.5
        >>> scaled_level(0.5, 0.9, 10_000, log=False)
        0.5
    """
    t = math.log(population / _SMALL) / math.log(_LARGE / _SMALL)
    if log:
        return math.exp(math.log(small) + t * (math.log(large) - math.log(small)))
    lo, hi = math.log(small / (1.0 - small)), math.log(large / (1.0 - large))
    return 1.0 / (1.0 + math.exp(-(lo + t * (hi - lo))))


def attribute_levels(family: FamilyParams, population: float) -> dict[str, tuple[float, float]]:
    """(centre level, periphery level) of every family attribute in a city of ``population``."""
    levels = {}
    for attribute in ATTRIBUTES:
        log = attribute in _LOG_ATTRIBUTES
        centre = scaled_level(
            getattr(family, f"{attribute}_centre_10k"),
            getattr(family, f"{attribute}_centre_1m"),
            population,
            log=log,
        )
        periphery = scaled_level(
            getattr(family, f"{attribute}_periphery_10k"),
            getattr(family, f"{attribute}_periphery_1m"),
            population,
            log=log,
        )
        levels[attribute] = (centre, periphery)
    return levels


def urban_speed(family: FamilyParams, population: float) -> float:
    """Street speed (km/h) in a city of ``population``: a power law through the two anchors."""
    return scaled_level(family.urban_speed_10k, family.urban_speed_1m, population, log=True)


def node_count(family: FamilyParams, population: float) -> int:
    """Nodes of a generated city: ``base_nodes + (population / 1000) ** neighbourhood_exponent``.

    Examples:
        >>> [node_count(FamilyParams(), p) for p in (1_000, 12_000, 1_000_000, 20_000_000)]
        [4, 9, 129, 1028]
    """
    return family.base_nodes + math.floor(
        (population / 1000.0) ** family.neighbourhood_exponent + 0.5
    )


def neighbourhood_spacing(family: FamilyParams, population: float, nodes: int) -> float:
    """Distance (km) between neighbouring nodes of a hexagonal lattice at the family's density.

    Each node houses ``population / nodes`` people on ``that / density`` km2; a
    hexagonal lattice of spacing ``s`` gives each point ``sqrt(3) / 2 * s**2``.
    """
    area = population / nodes / family.density
    return math.sqrt(2.0 * area / math.sqrt(3.0))


def expected_universities(family: FamilyParams, population: float) -> float:
    """Expected number of universities in a city of ``population``.

    ``p * max(1, population / inhabitants_per_university)``, with ``p`` the chance
    that a city of that size has a university at all (a logistic curve in log
    population). Continuous in population: no threshold.

    Examples:
        >>> f = FamilyParams()
        >>> [round(expected_universities(f, p), 3) for p in (12_000, 60_000, 1_000_000)]
        [0.008, 0.5, 3.999]
    """
    ratio = family.university_half_population / population
    chance = 1.0 / (1.0 + ratio**family.university_steepness)
    return chance * max(1.0, population / family.inhabitants_per_university)


def stochastic_round(value: float, rng: np.random.Generator) -> int:
    """``floor(value)``, plus one with probability ``value - floor(value)``: mean ``value``."""
    whole = math.floor(value)
    return whole + int(rng.random() < value - whole)
