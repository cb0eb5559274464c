"""City graphs: generators sized from a population, partner-town presets, and GraphML loading.

The package's rooms:

- :mod:`~clustersim.model.city.contract`: the graph contract every city obeys
  (:data:`NODE_ATTRIBUTES`, :data:`EDGE_ATTRIBUTES`, :func:`validate_city_graph`)
  and queries on places (:func:`place_names`, :func:`centre_node`);
- :mod:`~clustersim.model.city.profiles`: the generated kinds (:data:`CITY_KINDS`)
  and their shape and attribute levels;
- :mod:`~clustersim.model.city.generate`: :func:`small_town`, :func:`medium_city`,
  :func:`metropolis` and :func:`generate`;
- :mod:`~clustersim.model.city.regions`: :func:`region` (a town joined to a large
  city) and the URBACT partner-town :data:`PRESETS` (:func:`preset_region`);
- :mod:`~clustersim.model.city.graphml`: :func:`load_graphml` and :func:`save_graphml`;
- :mod:`~clustersim.model.city.build`: :func:`build_city_graph` from a ``CityConfig``
  and :func:`city_config_from_name`.

Import the names from the package, e.g. ``from clustersim.model import city;
city.generate(...)``.
"""

from __future__ import annotations

from clustersim.model.city.build import build_city_graph, city_config_from_name, rescale_population
from clustersim.model.city.contract import (
    EDGE_ATTRIBUTES,
    EDGE_KINDS,
    NODE_ATTRIBUTES,
    ROLES,
    centre_node,
    place_names,
    validate_city_graph,
)
from clustersim.model.city.generate import generate, medium_city, metropolis, small_town
from clustersim.model.city.graphml import load_graphml, save_graphml
from clustersim.model.city.profiles import CITY_KINDS, GENERATED_KINDS, MIN_POPULATION
from clustersim.model.city.regions import PRESETS, Preset, preset_region, region

__all__ = [
    "CITY_KINDS",
    "EDGE_ATTRIBUTES",
    "EDGE_KINDS",
    "GENERATED_KINDS",
    "MIN_POPULATION",
    "NODE_ATTRIBUTES",
    "PRESETS",
    "ROLES",
    "Preset",
    "build_city_graph",
    "centre_node",
    "city_config_from_name",
    "generate",
    "load_graphml",
    "medium_city",
    "metropolis",
    "place_names",
    "preset_region",
    "region",
    "rescale_population",
    "save_graphml",
    "small_town",
    "validate_city_graph",
]
