"""Named shapes of the one city family: how the nodes of a generated city are laid out.

A shape fixes only geometry: whether the city has subcentres, how many of its nodes
are hinterland villages, how much the villages weigh. Every node attribute follows
the family's functions of population and centrality
(:mod:`~clustersim.model.city.family`), whatever the shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["CITY_KINDS", "GENERATED_KINDS", "MAX_POPULATION", "MIN_POPULATION", "SHAPES", "Shape"]

GENERATED_KINDS = ("small_town", "medium_city", "metropolis")
"""Names of the city shapes, most compact first (see :func:`clustersim.model.city.generate`).

The one list of generated kinds: the configuration's ``city.kind`` choices and the
app's city menu derive from it.
"""

CITY_KINDS = GENERATED_KINDS
"""The generated kinds under the name users import (``city.CITY_KINDS``)."""

MIN_POPULATION = 1000
"""Smallest population a generator accepts (inhabitants)."""

MAX_POPULATION = 20_000_000
"""Largest population a generator accepts (inhabitants): about 1,000 nodes."""


@dataclass(frozen=True)
class Shape:
    """Geometry of one named shape of the city family.

    Attributes:
        kind: The shape's name (a :data:`GENERATED_KINDS` entry).
        description: One line for users.
        hinterland_share: Share of the non-centre nodes that are hinterland villages.
        nodes_per_subcentre: Urban nodes per subcentre (0: monocentric).
        min_subcentres: Fewest subcentres of a polycentric shape (when it has the nodes).
        subcentre_pull: Centrality of a subcentre, against 1 at the main centre; it
            also weighs how far districts gather around the subcentre.
        village_weight: Population weight of a village, against 3 at the centre.
    """

    kind: str
    description: str
    hinterland_share: float
    nodes_per_subcentre: float
    min_subcentres: int
    subcentre_pull: float
    village_weight: float

    def split(self, nodes: int) -> tuple[int, int, int]:
        """Split ``nodes`` into (subcentres, districts, villages); the centre is the rest (1)."""
        villages = math.floor(self.hinterland_share * (nodes - 1) + 0.5)
        urban = nodes - 1 - villages  # non-centre urban nodes
        subcentres = 0
        if self.nodes_per_subcentre > 0:
            wanted = math.floor((urban + 1) / self.nodes_per_subcentre + 0.5)
            subcentres = min(urban, max(self.min_subcentres, wanted))
        return subcentres, urban - subcentres, villages


SHAPES: dict[str, Shape] = {
    "small_town": Shape(
        kind="small_town",
        description="compact: one centre, districts around it, half the nodes hinterland villages",
        hinterland_share=0.5,
        nodes_per_subcentre=0.0,
        min_subcentres=0,
        subcentre_pull=0.0,
        village_weight=0.8,
    ),
    "medium_city": Shape(
        kind="medium_city",
        description="polycentric with a hinterland: a centre, a subcentre per ~12 urban "
        "nodes (at least one), a fifth of the nodes suburban villages",
        hinterland_share=0.2,
        nodes_per_subcentre=12.0,
        min_subcentres=1,
        subcentre_pull=0.7,
        village_weight=0.5,
    ),
    "metropolis": Shape(
        kind="metropolis",
        description="polycentric: a centre and a subcentre per ~12 nodes (at least three), "
        "no hinterland",
        hinterland_share=0.0,
        nodes_per_subcentre=12.0,
        min_subcentres=3,
        subcentre_pull=0.8,
        village_weight=0.5,
    ),
}
"""The shape of each generated kind, keyed by kind (the keys are :data:`GENERATED_KINDS`)."""
