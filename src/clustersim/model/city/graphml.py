"""Reading and writing city graphs as GraphML files, validated against the contract."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx

from clustersim.errors import CityGraphError
from clustersim.model.city.contract import as_float, show_value, validate_city_graph

__all__ = ["load_graphml", "save_graphml"]


_READ_ERRORS = (ET.ParseError, nx.NetworkXError, OSError, ValueError, KeyError, TypeError)


def _integer_like(text: Any) -> int | None:
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def load_graphml(path: str | os.PathLike[str]) -> nx.Graph:
    """Read a city graph from a GraphML file and validate it.

    GraphML node ids are strings: nodes are relabelled to ``0..N-1`` sorted by
    original id (numerically if all ids are integer-like); when a node's new id
    differs from its original one, the original is kept as ``graphml_id``.
    Defaults filled in: edge ``kind`` -> ``"road"``; node ``place`` -> the graph
    name, else the file stem; ``role`` -> ``"district"`` (if a place then has no
    centre, its most populous node becomes the centre); missing ``x``/``y`` ->
    a deterministic spring layout (seed 0) scaled to 10 km. Everything else is
    required. Refused: ``edgedefault="directed"`` (the model's links run both
    ways), a node id declared twice, two edges between the same nodes, and
    anything :func:`validate_city_graph` refuses (non-finite or out-of-range
    values, populations all 0 or above the maximum). Messages name nodes by
    their ids in the file.

    Args:
        path: The ``.graphml`` file.

    Returns:
        The validated graph (see :func:`validate_city_graph`).

    Raises:
        CityGraphError: If the file is missing, unreadable or not GraphML, or the
            graph breaks the contract; the message is one line naming the file.
    """
    file = Path(path)
    raw = _read(file)
    graph_name = raw.graph.get("name")
    default_place = graph_name if isinstance(graph_name, str) and graph_name else file.stem
    G, defaulted_role = _relabelled(raw, default_place)
    _default_centres(G, defaulted_role)
    _default_layout(G)
    file_ids = {new: str(original) for new, original in enumerate(_file_order(raw))}
    return validate_city_graph(G, source=file.name, node_ids=file_ids)


def _read(file: Path) -> nx.Graph:
    """The raw GraphML graph of ``file``; raise CityGraphError if it is missing or unreadable."""
    if not file.exists():
        raise CityGraphError(f"{file}: no such GraphML file")
    if not file.is_file():
        raise CityGraphError(f"{file}: not a file")
    try:
        raw = nx.read_graphml(file)
        repeated = _repeated_node_id(file)
    except _READ_ERRORS as error:
        detail = " ".join(str(error).split()) or type(error).__name__
        detail = detail if len(detail) <= 80 else detail[:77] + "..."
        raise CityGraphError(f"{file}: not a readable GraphML file ({detail})") from error
    if repeated is not None:
        raise CityGraphError(
            f"{file}: node {_file_id(repeated)} is declared more than once; node ids must be unique"
        )
    if raw.is_directed():
        raise CityGraphError(
            f'{file}: edgedefault="directed" is not supported: links in the model run both '
            'ways; write <graph edgedefault="undirected">'
        )
    if raw.is_multigraph():
        u, v = _repeated_edge(raw)
        raise CityGraphError(
            f"{file}: edge ({_file_id(u)}, {_file_id(v)}) appears more than once; "
            "give each pair of nodes one edge"
        )
    return raw


def _repeated_node_id(file: Path) -> str | None:
    """The first node id the file declares twice, or None.

    networkx merges repeated ``<node id=...>`` elements silently (the last one's
    data wins), so the file itself is scanned.
    """
    seen: set[str | None] = set()
    for _, element in ET.iterparse(file):
        if element.tag.rpartition("}")[2] == "node":
            node_id = element.get("id")
            if node_id in seen:
                return node_id
            seen.add(node_id)
        element.clear()
    return None


def _repeated_edge(raw: nx.MultiGraph) -> tuple[Any, Any]:
    """The first pair of nodes joined by more than one edge."""
    seen: set[frozenset[Any]] = set()
    for u, v in raw.edges():
        pair = frozenset((u, v))
        if pair in seen:
            return u, v
        seen.add(pair)
    raise AssertionError("a multigraph without a repeated edge")  # pragma: no cover


def _file_id(node_id: Any) -> str:
    """A node id as written in the file: plain when an integer, else quoted."""
    text = str(node_id)
    return text if text.isdigit() else show_value(text)


def _relabelled(raw: nx.Graph, default_place: str) -> tuple[nx.Graph, set[int]]:
    """``raw`` with nodes ``0..N-1`` and default ``place``, ``role`` and edge ``kind``.

    Returns:
        The new graph, named ``default_place``, and the nodes whose role was defaulted.
    """
    originals = list(raw.nodes)
    numeric = [_integer_like(node) for node in originals]
    position = {node: i for i, node in enumerate(originals)}
    order = [position[node] for node in _file_order(raw)]

    G = nx.Graph()
    G.graph.update(
        {k: v for k, v in raw.graph.items() if k not in ("node_default", "edge_default")}
    )
    G.graph["name"] = default_place
    new_id = {}
    defaulted_role: set[int] = set()
    for new, i in enumerate(order):
        original = originals[i]
        new_id[original] = new
        data = dict(raw.nodes[original])
        if numeric[i] != new:
            data.setdefault("graphml_id", str(original))
        data.setdefault("place", default_place)
        if "role" not in data:
            data["role"] = "district"
            defaulted_role.add(new)
        G.add_node(new, **data)
    for u, v, data in raw.edges(data=True):
        attributes = dict(data)
        attributes.setdefault("kind", "road")
        attributes.pop("id", None)
        G.add_edge(new_id[u], new_id[v], **attributes)
    return G, defaulted_role


def _file_order(raw: nx.Graph) -> list[Any]:
    """The file's node ids in their new order ``0..N-1``: by number if all are integers."""
    originals = list(raw.nodes)
    numeric = [_integer_like(node) for node in originals]
    if all(n is not None for n in numeric):
        return [originals[i] for i in sorted(range(len(originals)), key=lambda i: numeric[i])]
    return sorted(originals, key=str)


def _default_layout(G: nx.Graph) -> None:
    """Fill missing ``x``/``y`` from a deterministic spring layout (seed 0) scaled to 10 km."""
    if any("x" not in data or "y" not in data for _, data in G.nodes(data=True)):
        layout = nx.spring_layout(G, seed=0, weight=None, scale=10.0)
        for node, (px, py) in layout.items():
            G.nodes[node].setdefault("x", round(float(px), 3))
            G.nodes[node].setdefault("y", round(float(py), 3))


def _default_centres(G: nx.Graph, defaulted_role: set[int]) -> None:
    """Give a place whose roles were all missing a centre: its most populous node."""
    members: dict[Any, list[int]] = {}
    for node, data in G.nodes(data=True):
        members.setdefault(data["place"], []).append(node)
    for nodes in members.values():
        if all(node in defaulted_role for node in nodes):
            biggest = max(nodes, key=lambda n: (as_float(G.nodes[n].get("population")) or 0, -n))
            G.nodes[biggest]["role"] = "centre"


def save_graphml(G: nx.Graph, path: str | os.PathLike[str]) -> None:
    """Validate a city graph and write it as GraphML (readable by :func:`load_graphml`).

    Args:
        G: A city graph (validated, numeric attributes coerced in place).
        path: Destination file.

    Raises:
        CityGraphError: If the graph is invalid or the file cannot be written.
    """
    file = Path(path)
    validate_city_graph(G, source=file.name)
    try:
        nx.write_graphml(G, file)
    except OSError as error:
        raise CityGraphError(f"{file}: cannot write GraphML ({show_value(str(error))})") from error
