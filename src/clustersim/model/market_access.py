"""Market access from the region's graph: market potential and the external price it gives.

A node's market potential is the population it reaches, each person discounted by
the travel time to them (Harris 1954): the region's own nodes (its large city
among them) and an explicit outside world, the national and European markets
beyond the region, reached through the region's gateway (the centre of its most
populous place: its intercity station and motorway). The external price of a
node's creative output rises with its market potential with the elasticity of
the wage equation of economic geography, ``price ~ potential ^ (1 / sigma)``
(Fujita, Krugman & Venables 1999; Redding & Venables 2004; Hanson 2005; Head &
Mayer 2006). Nothing here depends on what kind of city a graph came from: only
populations and travel times count, so the transport lever acts only through
travel times.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from clustersim.model.city import centre_node, place_names

__all__ = ["gateway_node", "market_access", "market_potential"]


def market_potential(
    travel_time: np.ndarray,
    population: np.ndarray,
    gateway: int,
    outside_population: float,
    outside_time: float,
    decay: float,
) -> np.ndarray:
    """People each node reaches, discounted by travel time: the region's and the outside world's.

    ``M_i = sum_j population_j * exp(-t_ij / decay)
    + outside_population * exp(-(t_i,gateway + outside_time) / decay)``.

    Examples:
        >>> t = np.array([[0.0, 60.0], [60.0, 0.0]])
        >>> market_potential(t, np.array([10_000.0, 300_000.0]), 1, 0.0, 0.0, 60.0).round()
        array([120364., 303679.])
        >>> market_potential(t, np.zeros(2), 1, 1e6, 60.0, 60.0).round()
        array([135335., 367879.])
    """
    inside = np.exp(-travel_time / decay) @ population
    outside = outside_population * np.exp(-(travel_time[:, gateway] + outside_time) / decay)
    return inside + outside


def market_access(potential: np.ndarray, reference: float, elasticity: float) -> np.ndarray:
    """Multiplier of the external price: ``(potential / reference) ^ elasticity``.

    1 at the reference potential; a node that reaches ten times fewer people
    gets ``0.1 ^ elasticity`` of the price (0.63 at the default 0.2).

    Examples:
        >>> market_access(np.array([1e5, 1e6, 4e6]), 1e6, 0.2).round(3)
        array([0.631, 1.   , 1.32 ])
    """
    return np.power(np.maximum(potential, 0.0) / reference, elasticity)


def gateway_node(graph: nx.Graph) -> int:
    """The region's gateway to the outside world: the centre of its most populous place.

    Ties go to the place listed first (:func:`~clustersim.model.city.place_names`).
    """
    places = place_names(graph)
    totals = dict.fromkeys(places, 0.0)
    for _, data in graph.nodes(data=True):
        totals[data["place"]] += float(data["population"])
    return int(centre_node(graph, max(places, key=totals.__getitem__)))
