"""The city-graph contract: node and edge attributes, their ranges, validation, place queries."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np

from clustersim.errors import CityGraphError
from clustersim.params import MAX_EUR_PER_MONTH, MAX_MINUTES

__all__ = [
    "EDGE_ATTRIBUTES",
    "EDGE_KINDS",
    "MAX_COORDINATE_KM",
    "MAX_DISTANCE_KM",
    "MAX_NODE_POPULATION",
    "MAX_TOTAL_POPULATION",
    "MAX_UNIVERSITIES",
    "NODE_ATTRIBUTES",
    "ROLES",
    "as_float",
    "centre_node",
    "place_names",
    "show_value",
    "validate_city_graph",
]

ROLES = ("centre", "district", "subcentre", "hinterland")
"""Allowed values of the node attribute ``role``."""

EDGE_KINDS = ("road", "transport")
"""Allowed values of the edge attribute ``kind``."""

MIN_POPULATION = 1000
"""Smallest population a generator accepts (inhabitants)."""

MAX_TOTAL_POPULATION = 50_000_000
"""Most inhabitants a city graph may have in all (and so at one node): 2.5 times the
20,000,000 that ``city.population`` allows, room for a region of a town and a
megacity; the model keeps a row per creative worker, so the total bounds memory."""

MAX_NODE_POPULATION = MAX_TOTAL_POPULATION
"""Most inhabitants at one node (a node may hold a whole city)."""

MAX_UNIVERSITIES = 100
"""Most universities at one node (a count; the largest capitals have a few dozen)."""

MAX_DISTANCE_KM = 20_000.0
"""Longest distance (km): half the Earth's circumference."""

MAX_COORDINATE_KM = 20_000.0
"""Largest layout coordinate in absolute value (km east or north of the origin)."""

NODE_ATTRIBUTES: dict[str, tuple[type, float | None, float | None, str]] = {
    "name": (str, None, None, "display name of the node, e.g. 'Obidos village 3'"),
    "place": (str, None, None, "town or city the node belongs to, e.g. 'Obidos' or 'Lisbon'"),
    "role": (str, None, None, "one of 'centre', 'district', 'subcentre', 'hinterland'"),
    "population": (int, 0, MAX_NODE_POPULATION, "inhabitants living at the node"),
    "rent": (
        float,
        0.0,
        MAX_EUR_PER_MONTH,
        "EUR per month for a standard dwelling/workspace unit (> 0)",
    ),
    "amenity": (float, 0.0, 1.0, "cultural life index, 0-1 (dimensionless)"),
    "tech": (float, 0.0, 1.0, "broadband and technological facilities index, 0-1"),
    "vacant_space": (float, 0.0, 1.0, "share of the building stock that is vacant, 0 to < 1"),
    "university": (int, 0, MAX_UNIVERSITIES, "number of universities at the node"),
    "openness": (float, 0.0, 1.0, "openness/tolerance index, 0-1 (Florida)"),
    "x": (float, -MAX_COORDINATE_KM, MAX_COORDINATE_KM, "layout coordinate, km (east)"),
    "y": (float, -MAX_COORDINATE_KM, MAX_COORDINATE_KM, "layout coordinate, km (north)"),
}
"""Required node attributes: name -> (type, minimum, maximum, description with unit).

Every number must be finite. ``rent`` must be strictly positive and ``vacant_space``
strictly below 1; :func:`validate_city_graph` enforces both, and that the
populations add up to more than 0 and at most :data:`MAX_TOTAL_POPULATION`.
"""

EDGE_ATTRIBUTES: dict[str, tuple[type, float | None, float | None, str]] = {
    "travel_time": (float, 0.0, MAX_MINUTES, "travel time along the edge, minutes (> 0)"),
    "kind": (str, None, None, "'road' or 'transport' (public transport / rail link)"),
    "distance_km": (float, 0.0, MAX_DISTANCE_KM, "optional: length of the link, km (> 0)"),
}
"""Edge attributes: name -> (type, minimum, maximum, description with unit).

``travel_time`` and ``kind`` are required, ``distance_km`` is optional; both
``travel_time`` and ``distance_km`` must be strictly positive.
"""

_OPTIONAL_EDGE_ATTRIBUTES = frozenset({"distance_km"})
_EXCLUSIVE_MIN = frozenset({"rent", "travel_time", "distance_km"})
_EXCLUSIVE_MAX = frozenset({"vacant_space"})
_CHOICES: dict[str, tuple[str, ...]] = {"role": ROLES, "kind": EDGE_KINDS}
_UNITS = {
    "name": "display name",
    "place": "town or city name",
    "role": "role within the place",
    "population": "inhabitants",
    "rent": "EUR per month",
    "amenity": "index",
    "tech": "index",
    "vacant_space": "share of building stock",
    "university": "count",
    "openness": "index",
    "x": "km",
    "y": "km",
    "travel_time": "minutes",
    "kind": "link type",
    "distance_km": "km",
}


# --------------------------------------------------------------------------- validation


def show_value(value: Any) -> str:
    """A short one-line rendering of a bad value for error messages."""
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= 60 else text[:57] + "..."


def as_float(value: Any) -> float | None:
    """``value`` as a finite float (accepting numeric strings), or None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _allowed(attribute: str, spec: tuple[type, float | None, float | None, str]) -> str:
    """Human wording of what ``attribute`` allows, e.g. 'float in [0, 1)' or 'int >= 0'."""
    kind, low, high, _ = spec
    if attribute in _CHOICES:
        return "one of " + ", ".join(repr(c) for c in _CHOICES[attribute])
    type_name = kind.__name__
    if low is None and high is None:
        return type_name
    low_text = f"{low:g}" if low is not None else ""
    high_text = f"{high:g}" if high is not None else ""
    if high is None:
        return f"{type_name} {'>' if attribute in _EXCLUSIVE_MIN else '>='} {low_text}"
    if low is None:
        return f"{type_name} {'<' if attribute in _EXCLUSIVE_MAX else '<='} {high_text}"
    left = "(" if attribute in _EXCLUSIVE_MIN else "["
    right = ")" if attribute in _EXCLUSIVE_MAX else "]"
    return f"{type_name} in {left}{low_text}, {high_text}{right}"


def _check_attribute(
    where: str,
    attribute: str,
    value: Any,
    spec: tuple[type, float | None, float | None, str],
) -> Any:
    """Coerce ``value`` to the attribute's type and check its range; raise on failure."""
    kind, low, high, _ = spec
    if kind is str:
        if not isinstance(value, str) or not value.strip():
            raise CityGraphError(_bad(where, attribute, value, "a non-empty str"))
        if attribute in _CHOICES and value not in _CHOICES[attribute]:
            raise CityGraphError(_bad(where, attribute, value, _allowed(attribute, spec)))
        return value
    number = as_float(value)
    if number is None or (kind is int and not number.is_integer()):
        raise CityGraphError(_bad(where, attribute, value, _allowed(attribute, spec)))
    if kind is int:
        number = int(number)
    too_low = low is not None and (number <= low if attribute in _EXCLUSIVE_MIN else number < low)
    too_high = high is not None and (
        number >= high if attribute in _EXCLUSIVE_MAX else number > high
    )
    if too_low or too_high:
        raise CityGraphError(_bad(where, attribute, value, _allowed(attribute, spec)))
    return number


def _bad(where: str, attribute: str, value: Any, allowed: str) -> str:
    """The one-line message of a bad attribute value (written only when one is bad)."""
    return f"{where}: attribute {attribute!r} must be {allowed}, got {show_value(value)}"


def _missing(where: str, attribute: str, spec: tuple[type, float | None, float | None, str]) -> str:
    return (
        f"{where}: missing attribute {attribute!r} "
        f"({_allowed(attribute, spec)}, {_UNITS[attribute]})"
    )


def validate_city_graph(
    G: nx.Graph, *, source: str = "city graph", node_ids: Mapping[int, str] | None = None
) -> nx.Graph:
    """Check the graph contract the model relies on; coerce numeric attributes in place.

    The contract: an undirected, connected :class:`networkx.Graph` whose node ids
    are the integers ``0..N-1``, with a ``name`` graph attribute, every node
    attribute of :data:`NODE_ATTRIBUTES` finite and in range, populations adding
    up to more than 0 and at most :data:`MAX_TOTAL_POPULATION`, ``travel_time``
    and ``kind`` on every edge (see :data:`EDGE_ATTRIBUTES`), and exactly one
    ``centre`` per place. Numbers given as other numeric types or numeric
    strings (as GraphML may deliver them) are converted to ``int``/``float``.

    Args:
        G: The graph to check; its attributes are coerced in place.
        source: What to call the graph in messages, e.g. the file name.
        node_ids: The id each node had in its file (GraphML), used in messages;
            None names nodes by their ids in ``G``.

    Returns:
        ``G`` itself, so calls can be chained.

    Raises:
        CityGraphError: On the first violation, with a one-line message naming
            the source, the node or edge, the attribute, the value and what is allowed.
    """
    _check_shape(G, source)
    ids = node_ids or {}
    for node, data in G.nodes(data=True):
        label = data.get("name")
        where = f"{source}: node {_node_ref(node, ids)}"
        _check_attributes(where + (f" ({label!r})" if isinstance(label, str) else ""), data)
    for u, v, data in G.edges(data=True):
        where = f"{source}: edge ({_node_ref(u, ids)}, {_node_ref(v, ids)})"
        if u == v:
            raise CityGraphError(f"{where}: self-loops are not allowed")
        _check_attributes(where, data, EDGE_ATTRIBUTES)
    _check_total_population(G, source)
    components = nx.number_connected_components(G)
    if components > 1:
        raise CityGraphError(f"{source}: graph is not connected: {components} components")
    _check_centres(G, source, ids)
    return G


def _node_ref(node: int, node_ids: Mapping[int, str]) -> str:
    """How messages name a node: its id in the file (quoted unless a plain integer)."""
    original = node_ids.get(node)
    if original is None:
        return str(node)
    text = str(original)
    return text if text.strip().isdigit() and text == text.strip() else show_value(text)


def _check_total_population(G: nx.Graph, source: str) -> None:
    """Check that the nodes' populations add up to more than 0 and at most the maximum."""
    total = sum(int(data["population"]) for _, data in G.nodes(data=True))
    if total <= 0:
        raise CityGraphError(
            f"{source}: attribute 'population' is 0 at every node; "
            "the city needs inhabitants (total > 0)"
        )
    if total > MAX_TOTAL_POPULATION:
        raise CityGraphError(
            f"{source}: attribute 'population' adds up to {total} inhabitants; "
            f"the total must be <= {MAX_TOTAL_POPULATION:g}"
        )


def _check_shape(G: Any, source: str) -> None:
    """Check the graph type, its node ids ``0..N-1`` and its ``name``; raise on failure."""
    if not isinstance(G, nx.Graph) or G.is_directed() or G.is_multigraph():
        raise CityGraphError(
            f"{source}: must be an undirected networkx.Graph, got {type(G).__name__}"
        )
    if len(G) == 0:
        raise CityGraphError(f"{source}: graph has no nodes")
    for node in G:
        if not isinstance(node, (int, np.integer)) or isinstance(node, (bool, np.bool_)):
            raise CityGraphError(
                f"{source}: node ids must be the integers 0..{len(G) - 1}, "
                f"got node {show_value(node)} ({type(node).__name__})"
            )
    missing_ids = sorted(set(range(len(G))) - {int(node) for node in G})
    if missing_ids:
        raise CityGraphError(
            f"{source}: node ids must be the consecutive integers 0..{len(G) - 1}; "
            f"missing {missing_ids[0]}"
        )
    name = G.graph.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CityGraphError(
            f"{source}: graph attribute 'name' must be a non-empty str, got {show_value(name)}"
        )


def _check_attributes(
    where: str,
    data: dict[str, Any],
    specs: dict[str, tuple[type, float | None, float | None, str]] = NODE_ATTRIBUTES,
) -> None:
    """Check and coerce, in place, every attribute of ``specs`` in one node's or edge's data."""
    for attribute, spec in specs.items():
        if attribute not in data:
            if attribute in _OPTIONAL_EDGE_ATTRIBUTES:
                continue
            raise CityGraphError(_missing(where, attribute, spec))
        data[attribute] = _check_attribute(where, attribute, data[attribute], spec)


def _check_centres(G: nx.Graph, source: str, node_ids: Mapping[int, str]) -> None:
    """Check that every place has exactly one node with role ``centre``."""
    centres: dict[str, list[int]] = {place: [] for place in place_names(G)}
    for node, data in G.nodes(data=True):
        if data["role"] == "centre":
            centres[data["place"]].append(node)
    for place, nodes in centres.items():
        if len(nodes) != 1:
            found = "none" if not nodes else ", ".join(_node_ref(n, node_ids) for n in nodes)
            raise CityGraphError(
                f"{source}: place {place!r} must have exactly one node with role 'centre', "
                f"found {found}"
            )


# --------------------------------------------------------------------------- queries


def place_names(G: nx.Graph) -> list[str]:
    """Distinct ``place`` values in node order of first appearance (the focus town first)."""
    return list(dict.fromkeys(data["place"] for _, data in G.nodes(data=True) if "place" in data))


def centre_node(G: nx.Graph, place: str) -> int:
    """Node id of ``place``'s centre (the node with ``role == "centre"``).

    Raises:
        CityGraphError: If the graph has no centre for ``place``.
    """
    for node, data in G.nodes(data=True):
        if data.get("place") == place and data.get("role") == "centre":
            return node
    known = ", ".join(repr(p) for p in place_names(G)) or "none"
    raise CityGraphError(
        f"{G.graph.get('name', 'city graph')}: no centre node for place {place!r} (places: {known})"
    )
