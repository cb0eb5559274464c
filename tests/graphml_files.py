"""Small hand-written GraphML city files for tests: valid by default, any value replaceable."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

#: Every node attribute a city file needs, as strings (so any text can be tried).
NODE_KEYS = (
    "name",
    "place",
    "role",
    "population",
    "rent",
    "amenity",
    "tech",
    "vacant_space",
    "university",
    "openness",
    "x",
    "y",
)
EDGE_KEYS = ("travel_time", "kind", "distance_km")


def node_values(index: int, **changes: Any) -> dict[str, Any]:
    """A valid node's attributes (node 0 is the centre), with ``changes`` applied."""
    values = {
        "name": f"Node {index}",
        "place": "Hand",
        "role": "centre" if index == 0 else "district",
        "population": 1000 + 500 * index,
        "rent": 400.0,
        "amenity": 0.5,
        "tech": 0.5,
        "vacant_space": 0.1,
        "university": 0,
        "openness": 0.4,
        "x": float(index),
        "y": 0.0,
    }
    values.update(changes)
    return values


def edge_values(**changes: Any) -> dict[str, Any]:
    """A valid edge's attributes, with ``changes`` applied."""
    return {"travel_time": 5.0, "kind": "road", "distance_km": 3.0, **changes}


def write_city(
    path: Path,
    nodes: dict[str, dict[str, Any]],
    edges: list[tuple[str, str, dict[str, Any]]],
    *,
    edgedefault: str = "undirected",
    repeat_node: str | None = None,
) -> Path:
    """Write a GraphML city: ``nodes`` by file id, ``edges`` as (source, target, attributes).

    Every attribute is declared as a string, so the loader sees the text as written.
    ``repeat_node`` declares that node id a second time.
    """
    keys = [f'  <key id="{k}" for="node" attr.name="{k}" attr.type="string"/>' for k in NODE_KEYS]
    keys += [f'  <key id="{k}" for="edge" attr.name="{k}" attr.type="string"/>' for k in EDGE_KEYS]
    body = []
    for node_id, values in nodes.items():
        data = "".join(f'<data key="{k}">{escape(str(v))}</data>' for k, v in values.items())
        body.append(f"    <node id={quoteattr(node_id)}>{data}</node>")
    if repeat_node is not None:
        body.append(f"    <node id={quoteattr(repeat_node)}/>")
    for source, target, values in edges:
        data = "".join(f'<data key="{k}">{escape(str(v))}</data>' for k, v in values.items())
        body.append(
            f"    <edge source={quoteattr(source)} target={quoteattr(target)}>{data}</edge>"
        )
    text = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
            *keys,
            f'  <graph edgedefault="{edgedefault}">',
            *body,
            "  </graph>",
            "</graphml>",
            "",
        ]
    )
    path.write_text(text, encoding="utf-8")
    return path


def three_node_city(
    path: Path,
    ids: tuple[str, str, str] = ("a", "b", "c"),
    changes: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """A valid three-node chain; ``changes`` maps a file id to attribute changes of that node."""
    changes = changes or {}
    nodes = {node_id: node_values(i, **changes.get(node_id, {})) for i, node_id in enumerate(ids)}
    edges = [(ids[0], ids[1], edge_values()), (ids[1], ids[2], edge_values())]
    return write_city(path, nodes, edges)
