"""Build a city graph from a :class:`CityConfig`: generated kinds, regions, presets, GraphML."""

from __future__ import annotations

import networkx as nx
import numpy as np

from clustersim.errors import ConfigError, did_you_mean
from clustersim.model.city.config import CityConfig
from clustersim.model.city.generate import generate
from clustersim.model.city.graphml import load_graphml
from clustersim.model.city.profiles import CITY_KINDS
from clustersim.model.city.regions import PRESETS, preset_region, region

__all__ = ["build_city_graph", "city_config_from_name", "rescale_population"]


def build_city_graph(spec: CityConfig, rng: np.random.Generator) -> nx.Graph:
    """Build the city graph a :class:`~clustersim.model.config.CityConfig` describes."""
    if spec.kind in CITY_KINDS:
        return generate(spec.kind, spec.population, rng=rng, name=spec.name, family=spec.family)
    if spec.kind == "region":
        family = spec.family
        town = generate(spec.town_kind, spec.population, rng=rng, name=spec.name, family=family)
        big = generate(
            spec.city_kind, spec.city_population, rng=rng, name=spec.city_name, family=family
        )
        return region(town, big, travel_time=spec.travel_time, distance_km=spec.distance_km)
    if spec.kind == "preset":
        return preset_region(spec.preset, rng=rng, population=spec.population, family=spec.family)
    if spec.kind == "graphml":
        graph = load_graphml(spec.graphml)
        if spec.population is not None:
            rescale_population(graph, spec.population)
        return graph
    raise ConfigError(f"city.kind must be one of {', '.join(CITY_KINDS)}; got {spec.kind!r}")


def rescale_population(graph: nx.Graph, total: int) -> None:
    """Scale node populations to ``total`` (largest remainders keep the sum exact)."""
    nodes = list(graph.nodes)
    pop = np.array([graph.nodes[n]["population"] for n in nodes], dtype=float)
    share = pop / pop.sum() * total if pop.sum() > 0 else np.full(len(pop), total / len(pop))
    base = np.floor(share).astype(int)
    extra = np.argsort(base - share)[: total - base.sum()]
    base[extra] += 1
    for n, value in zip(nodes, base, strict=True):
        graph.nodes[n]["population"] = int(value)


def city_config_from_name(name: str, population: int | None) -> CityConfig:
    """A CityConfig for a generator name or preset key, with an optional population."""
    if name in CITY_KINDS:
        defaults = {"small_town": 12_000, "medium_city": 150_000, "metropolis": 1_000_000}
        return CityConfig(
            kind=name,
            name=name.replace("_", " ").capitalize(),
            population=population or defaults[name],
        )
    if name in PRESETS:
        preset = PRESETS[name]
        return CityConfig(
            kind="preset", preset=name, name=preset.town, population=population or preset.population
        )
    names = [*CITY_KINDS, *sorted(PRESETS)]
    hint = (
        " (a region or a GraphML city is composed from its config: clustersim.simulate"
        f"({name!r}, ...) or CreativeClusterModel.from_config(load_config({name!r})[0]))"
        if name in ("region", "graphml")
        else did_you_mean(name, names)
    )
    raise ConfigError(f"city must be one of {', '.join(names)}; got {name!r}{hint}")
