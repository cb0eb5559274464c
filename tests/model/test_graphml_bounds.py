"""GraphML files: finite, bounded attributes, refusals named by the node's id in the file."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clustersim.errors import CityGraphError
from clustersim.model import city
from clustersim.model.city import (
    EDGE_ATTRIBUTES,
    NODE_ATTRIBUTES,
    load_graphml,
    validate_city_graph,
)
from clustersim.model.city.contract import MAX_NODE_POPULATION, MAX_TOTAL_POPULATION
from clustersim.model.core import CreativeClusterModel
from graphml_files import edge_values, node_values, three_node_city, write_city

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def refused(path, *parts: str) -> str:
    """Load ``path``, expect a one-line CityGraphError containing every part; return it."""
    with pytest.raises(CityGraphError) as info:
        load_graphml(path)
    message = str(info.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, (part, message)
    return message


def test_a_valid_file_loads_and_runs(tmp_path):
    G = load_graphml(three_node_city(tmp_path / "ok.graphml"))
    assert [G.nodes[n]["population"] for n in G] == [1000, 1500, 2000]
    model = CreativeClusterModel(city=G, rng=1)
    model.run_for(1)
    assert all(math.isfinite(v) for v in model.records[-1].values() if isinstance(v, float))


@pytest.mark.parametrize(
    ("attribute", "value", "allowed"),
    [
        ("population", "1e15", "int in [0, 5e+07]"),
        ("population", "1e30", "int in [0, 5e+07]"),
        ("population", "2.5", "int in [0, 5e+07]"),
        ("population", "-1", "int in [0, 5e+07]"),
        ("population", "inf", "int in [0, 5e+07]"),
        ("population", "nan", "int in [0, 5e+07]"),
        ("rent", "inf", "float in (0, 100000]"),
        ("rent", "1e400", "float in (0, 100000]"),
        ("amenity", "nan", "float in [0, 1]"),
        ("vacant_space", "1", "float in [0, 1)"),
        ("university", "101", "int in [0, 100]"),
        ("x", "1e9", "float in [-20000, 20000]"),
        ("y", "-inf", "float in [-20000, 20000]"),
    ],
)
def test_bad_node_values_name_the_node_by_its_file_id(tmp_path, attribute, value, allowed):
    path = three_node_city(tmp_path / "bad.graphml", changes={"b": {attribute: value}})
    refused(path, "bad.graphml: node 'b' ('Node 1')", f"attribute {attribute!r}", allowed, value)


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("0", "(0, 600]"), ("inf", "(0, 600]"), ("601", "(0, 600]"), ("-5", "(0, 600]")],
)
def test_travel_times_are_finite_positive_and_at_most_ten_hours(tmp_path, value, allowed):
    nodes = {i: node_values(k) for k, i in enumerate(("10", "20"))}
    path = write_city(tmp_path / "t.graphml", nodes, [("10", "20", edge_values(travel_time=value))])
    refused(path, "edge (10, 20)", "'travel_time'", allowed, value)


def test_distance_km_is_bounded(tmp_path):
    nodes = {i: node_values(k) for k, i in enumerate(("a", "b"))}
    path = write_city(tmp_path / "d.graphml", nodes, [("a", "b", edge_values(distance_km="1e6"))])
    refused(path, "edge ('a', 'b')", "'distance_km'", "float in (0, 20000]")


def test_integer_file_ids_are_named_plainly(tmp_path):
    path = three_node_city(tmp_path / "n.graphml", ("7", "12", "30"), {"12": {"tech": "2"}})
    refused(path, "node 12 ('Node 1')", "'tech'", "float in [0, 1]")


def test_populations_all_zero_are_refused(tmp_path):
    changes = {node: {"population": 0} for node in "abc"}
    path = three_node_city(tmp_path / "empty.graphml", changes=changes)
    refused(path, "empty.graphml", "'population' is 0 at every node", "total > 0")


def test_total_population_is_bounded(tmp_path):
    half = MAX_TOTAL_POPULATION // 2 + 1
    assert half <= MAX_NODE_POPULATION
    changes = {"a": {"population": half}, "b": {"population": half}}
    path = three_node_city(tmp_path / "big.graphml", changes=changes)
    refused(path, "'population' adds up to", "must be <= 5e+07")


def test_largest_allowed_population_loads(tmp_path):
    changes = {"a": {"population": MAX_TOTAL_POPULATION - 3500}}
    G = load_graphml(three_node_city(tmp_path / "large.graphml", changes=changes))
    assert sum(d["population"] for _, d in G.nodes(data=True)) == MAX_TOTAL_POPULATION


def test_directed_files_are_refused(tmp_path):
    nodes = {i: node_values(k) for k, i in enumerate(("a", "b"))}
    path = write_city(
        tmp_path / "dir.graphml", nodes, [("a", "b", edge_values())], edgedefault="directed"
    )
    refused(path, 'edgedefault="directed" is not supported', "undirected")


def test_duplicate_node_ids_are_refused(tmp_path):
    nodes = {i: node_values(k) for k, i in enumerate(("a", "b"))}
    path = write_city(tmp_path / "dup.graphml", nodes, [("a", "b", edge_values())], repeat_node="b")
    refused(path, "node 'b' is declared more than once")


def test_parallel_edges_are_refused(tmp_path):
    nodes = {i: node_values(k) for k, i in enumerate(("a", "b"))}
    edges = [("a", "b", edge_values()), ("b", "a", edge_values(travel_time=9))]
    path = write_city(tmp_path / "twice.graphml", nodes, edges)
    refused(path, "edge (", "appears more than once")


def test_two_centres_are_named_by_file_ids(tmp_path):
    path = three_node_city(tmp_path / "c.graphml", changes={"c": {"role": "centre"}})
    refused(path, "place 'Hand' must have exactly one node with role 'centre', found 'a', 'c'")


def test_graphs_built_in_python_obey_the_same_bounds():
    G = city.small_town(rng=np.random.default_rng(1))
    for node in G:
        G.nodes[node]["population"] = 0
    with pytest.raises(CityGraphError, match="is 0 at every node"):
        validate_city_graph(G, source="my town")
    G = city.small_town(rng=np.random.default_rng(1))
    G.nodes[1]["rent"] = float("inf")
    with pytest.raises(CityGraphError, match=r"my town: node 1 .*'rent'.*got inf"):
        validate_city_graph(G, source="my town")


# ----------------------------------------------------------------------------- properties

NUMERIC_NODE = {k: v for k, v in NODE_ATTRIBUTES.items() if v[0] in (int, float)}
EXCLUSIVE_LOW = {"rent", "travel_time", "distance_km"}
EXCLUSIVE_HIGH = {"vacant_space"}


def bad_text(attribute: str, spec) -> st.SearchStrategy[str]:
    """Text of a value ``attribute`` must refuse: not finite, out of range, not a number."""
    kind, low, high, _ = spec
    above = st.floats(high, 1e300, exclude_min=attribute not in EXCLUSIVE_HIGH)
    below = st.floats(-1e300, low, exclude_max=attribute not in EXCLUSIVE_LOW)
    options = [
        st.sampled_from(["inf", "-inf", "nan", "1e400", "abc", "", "1,5"]),
        above.map(repr),
        below.map(repr),
    ]
    if kind is int:
        options.append(st.floats(0.01, 0.99).map(lambda f: repr(high // 2 + f)))
    return st.one_of(*options)


@st.composite
def bad_node_file(draw):
    """A file id, an attribute and a bad value for it (a node or the edge's travel time)."""
    ids = draw(st.sampled_from([("a", "b", "c"), ("3", "17", "250"), ("x-1", "x 2", "ü")]))
    node = draw(st.sampled_from(ids))
    attribute = draw(st.sampled_from([*sorted(NUMERIC_NODE), "travel_time"]))
    spec = NUMERIC_NODE.get(attribute) or EDGE_ATTRIBUTES["travel_time"]
    return ids, node, attribute, draw(bad_text(attribute, spec))


@PROPERTY
@given(bad_node_file())
def test_any_bad_attribute_is_refused_naming_node_and_attribute(tmp_path, case):
    ids, node, attribute, text = case
    if attribute == "travel_time":
        nodes = {i: node_values(k) for k, i in enumerate(ids)}
        edges = [(ids[0], ids[1], edge_values(travel_time=text)), (ids[1], ids[2], edge_values())]
        path = write_city(tmp_path / "p.graphml", nodes, edges)
        where = "edge ("
    else:
        path = three_node_city(tmp_path / "p.graphml", ids, {node: {attribute: text}})
        where = f"node {node if node.isdigit() else repr(node)} "
    message = refused(path, where, f"{attribute!r}")
    assert "p.graphml" in message


def good_value(attribute: str, spec) -> st.SearchStrategy:
    kind, low, high, _ = spec
    if kind is int:
        return st.integers(int(low), min(int(high), 10**6))
    return st.floats(
        low, high, exclude_min=attribute in EXCLUSIVE_LOW, exclude_max=attribute in EXCLUSIVE_HIGH
    )


@st.composite
def good_nodes(draw) -> list[dict]:
    n = draw(st.integers(1, 4))
    nodes = []
    for i in range(n):
        values = {a: draw(good_value(a, s)) for a, s in NUMERIC_NODE.items()}
        nodes.append(node_values(i, **values))
    nodes[0]["population"] = max(nodes[0]["population"], 1)
    return nodes


@PROPERTY
@given(nodes=good_nodes(), minutes=st.floats(0.0, 600.0, exclude_min=True))
def test_any_valid_file_loads_with_its_values(tmp_path, nodes, minutes):
    ids = [str(i * 7) for i in range(len(nodes))]
    edges = [(a, b, edge_values(travel_time=minutes)) for a, b in itertools.pairwise(ids)]
    G = load_graphml(
        write_city(tmp_path / "good.graphml", dict(zip(ids, nodes, strict=True)), edges)
    )
    assert len(G) == len(nodes)
    for node, values in zip(G, nodes, strict=True):
        for attribute in NUMERIC_NODE:
            assert G.nodes[node][attribute] == pytest.approx(values[attribute], rel=1e-15)
    assert all(d["travel_time"] == minutes for _, _, d in G.edges(data=True))
    assert isinstance(G, nx.Graph) and not G.is_directed()
    if sum(values["population"] for values in nodes) <= 50_000:  # small enough to run here
        model = CreativeClusterModel(city=G, rng=0)
        model.run_for(1)
        for row in model.records + model.place_records:
            assert all(math.isfinite(v) for v in row.values() if isinstance(v, float)), row


def test_a_city_of_a_thousand_neighbourhoods_loads_and_runs(tmp_path):
    # issue 10: the model copes with GraphML cities of 1,000 nodes (a 40 x 25 street grid)
    cols, rows = 40, 25
    nodes = {
        f"n{i}": node_values(
            i,
            population=200 + 40 * ((i * 7919) % 50),
            university=1 if i == 0 else 0,
            x=float(i % cols),
            y=float(i // cols),
        )
        for i in range(cols * rows)
    }
    edges = [(f"n{i}", f"n{i + 1}", edge_values()) for i in range(cols * rows) if (i + 1) % cols]
    edges += [(f"n{i}", f"n{i + cols}", edge_values()) for i in range(cols * (rows - 1))]
    G = load_graphml(write_city(tmp_path / "grid.graphml", nodes, edges))
    assert G.number_of_nodes() == 1000
    model = CreativeClusterModel(city=G, rng=2, spin_up={"months": 0})
    assert model.travel_time.shape == (1000, 1000)
    assert model.travel_time[0, cols * rows - 1] == pytest.approx(5.0 * (cols - 1 + rows - 1))
    model.run_for(3)
    assert len(model.talents.live) > 0 and len(model.firms.live) > 0
    assert all(math.isfinite(v) for v in model.records[-1].values() if isinstance(v, float))


def test_a_generated_city_of_twenty_million_has_a_thousand_nodes_and_runs(tmp_path):
    # issue 10: the family reaches about 1,000 neighbourhoods at 20M; the graph goes
    # through GraphML and runs at 200,000 inhabitants (city.population rescales a file)
    big = city.metropolis(20_000_000, rng=np.random.default_rng(5), name="Megacity")
    assert big.number_of_nodes() >= 1000
    path = tmp_path / "megacity.graphml"
    city.save_graphml(big, path)
    G = load_graphml(path)
    assert G.number_of_nodes() == big.number_of_nodes()
    city.rescale_population(G, 200_000)
    model = CreativeClusterModel(city=G, rng=3, spin_up={"months": 0})
    model.run_for(2)
    assert len(model.talents.live) > 0 and len(model.firms.live) > 0
    assert all(math.isfinite(v) for v in model.records[-1].values() if isinstance(v, float))
