"""Fields phase: amenity, the knowledge field, commuting reach, agglomeration within reach.

Amenity and knowledge are refreshed every month (institutions open and close,
levers add bonuses); travel times and reach only when the graph's travel
times change.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from mesa import Model

from clustersim.model import market_access
from clustersim.model import mechanisms as mech

__all__ = [
    "agglomeration",
    "culture_field",
    "refresh_fields",
    "refresh_reach",
    "shortest_travel_times",
]


def culture_field(model: Model) -> np.ndarray:
    """Amenity from cultural institutions at each node, decaying with travel time.

    Kept until the travel times, the decay or an institution (node, strength) change:
    a city of hundreds of nodes and institutions would otherwise redo the same
    exponentials every month. The array returned is read-only.
    """
    ip = model.params.institutions
    key = (ip.amenity_decay, tuple((i.node, i.strength) for i in model.cultural_institutions))
    cached = getattr(model, "_culture_cache", None)
    if cached is not None and cached[0] is model.travel_time and cached[1] == key:
        return cached[2]
    field = np.zeros(model.n_nodes)
    for inst in model.cultural_institutions:
        field += inst.strength * np.exp(-model.travel_time[:, inst.node] / ip.amenity_decay)
    field.setflags(write=False)
    model._culture_cache = (model.travel_time, key, field)  # holds the array: no id reuse
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
    """All-pairs shortest travel times (minutes) and the reaches derived from them.

    ``commute_reach`` weighs the nodes a worker or shopper reaches;
    ``agglomeration_reach`` weighs the jobs that count toward a node's density
    (``exp(-t / firm.agglomeration_decay)``, no cut-off); ``market_potential``
    counts the people each node reaches, in the region and outside it, and
    ``market_access`` is the external price multiplier it gives
    (:mod:`clustersim.model.market_access`).
    """
    lab = model.params.labour
    model.travel_time = shortest_travel_times(model.graph)
    model.commute_reach = mech.reach_weights(model.travel_time, lab.commute_decay, lab.max_commute)
    model.agglomeration_reach = mech.reach_weights(
        model.travel_time, model.params.firm.agglomeration_decay
    )
    mp = model.params.market
    model.market_potential = market_access.market_potential(
        model.travel_time,
        model.population0,
        model.gateway,
        mp.outside_population,
        mp.outside_time,
        mp.decay,
    )
    model.market_access = market_access.market_access(
        model.market_potential, mp.reference_potential, mp.price_elasticity
    )


def agglomeration(model: Model, jobs_at: np.ndarray, own_jobs: float = 0.0) -> np.ndarray:
    """Agglomeration benefit at each node from the creative jobs within reach.

    ``own_jobs`` adds jobs at the node itself: a founder weighing a node counts
    the job they would bring (a lone firm in an empty town has benefit 1).
    """
    fp = model.params.firm
    density = mech.effective_density(model.agglomeration_reach, jobs_at) + own_jobs
    return mech.agglomeration_benefit(
        density, fp.agglomeration_elasticity, fp.agglomeration_reference, fp.agglomeration_cap
    )
