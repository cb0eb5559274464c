"""Fields phase: amenity around cultural institutions, the knowledge field, commuting reach.

Amenity and knowledge are refreshed every month (institutions open and close,
levers add bonuses); travel times and reach only when the graph's travel
times change.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from mesa import Model

from clustersim.model import mechanisms as mech

__all__ = ["culture_field", "refresh_fields", "refresh_reach", "shortest_travel_times"]


def culture_field(model: Model) -> np.ndarray:
    """Amenity from cultural institutions at each node, decaying with travel time."""
    ip = model.params.institutions
    field = np.zeros(model.n_nodes)
    for inst in model.cultural_institutions:
        field += inst.strength * np.exp(-model.travel_time[:, inst.node] / ip.amenity_decay)
    return field


def refresh_fields(model: Model) -> None:
    """Amenity (base, cultural institutions, policy bonus) and the knowledge field.

    ``amenity = clip(amenity_base + culture + amenity_bonus, 0, 1.5)``; knowledge
    decays with travel time from each university and is scaled by the policy
    ``knowledge_multiplier`` (Valero & Van Reenen 2019).
    """
    ip = model.params.institutions
    model.amenity = np.clip(model.amenity_base + culture_field(model) + model.amenity_bonus, 0, 1.5)
    uni_nodes = np.array([u.node for u in model.universities], dtype=int)
    field = mech.knowledge_field(model.travel_time, uni_nodes, ip.knowledge_decay)
    model.knowledge = field * model.knowledge_multiplier


def shortest_travel_times(graph: nx.Graph) -> np.ndarray:
    """All-pairs shortest travel times (minutes) over the edges' ``travel_time``, by node id.

    Rows and columns follow the node ids 0..n-1, as the model's node arrays do,
    whatever order the nodes were added to the graph in.

    Examples:
        >>> g = nx.path_graph(3)
        >>> nx.set_edge_attributes(g, 10.0, "travel_time")
        >>> shortest_travel_times(g)
        array([[ 0., 10., 20.],
               [10.,  0., 10.],
               [20., 10.,  0.]])
    """
    nodes = range(graph.number_of_nodes())
    return nx.floyd_warshall_numpy(graph, nodelist=nodes, weight="travel_time")


def refresh_reach(model: Model) -> None:
    """All-pairs shortest travel times (minutes) and the commuting reach derived from them."""
    lab = model.params.labour
    model.travel_time = shortest_travel_times(model.graph)
    model.commute_reach = mech.reach_weights(model.travel_time, lab.commute_decay, lab.max_commute)
