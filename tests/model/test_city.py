"""Tests for clustersim.model.city: generated, preset and loaded city graphs obey the contract."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from clustersim.errors import CityGraphError
from clustersim.model import city
from clustersim.model.city import (
    CITY_KINDS,
    EDGE_ATTRIBUTES,
    NODE_ATTRIBUTES,
    PRESETS,
    centre_node,
    generate,
    load_graphml,
    place_names,
    preset_region,
    region,
    save_graphml,
    validate_city_graph,
)
from clustersim.model.city.family import (
    ATTRIBUTES,
    FamilyParams,
    attribute_levels,
    expected_universities,
    node_count,
)

POPULATIONS = (1_000, 5_000, 50_000, 150_000, 1_000_000, 5_000_000)
FAMILY = FamilyParams()


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def graph_data(G: nx.Graph) -> tuple[dict, list, list]:
    nodes = [(n, dict(d)) for n, d in G.nodes(data=True)]
    edges = sorted((min(u, v), max(u, v), sorted(d.items())) for u, v, d in G.edges(data=True))
    return dict(G.graph), nodes, edges


def assert_contract(G: nx.Graph) -> None:
    assert isinstance(G, nx.Graph) and not G.is_directed()
    assert nx.is_connected(G)
    assert list(G.nodes) == list(range(len(G)))
    assert all(type(n) is int for n in G)
    assert isinstance(G.graph["name"], str)
    for _, data in G.nodes(data=True):
        for attribute, (kind, low, high, _) in NODE_ATTRIBUTES.items():
            value = data[attribute]
            assert type(value) is kind, (attribute, value)
            if low is not None:
                assert value >= low, (attribute, value)
            if high is not None:
                assert value <= high, (attribute, value)
        assert data["rent"] > 0
        assert data["vacant_space"] < 1
        assert data["role"] in city.ROLES
    for _, _, data in G.edges(data=True):
        assert data["travel_time"] > 0
        assert data["kind"] in ("road", "transport")
    assert validate_city_graph(G) is G


# ----------------------------------------------------------------------------- generators


@pytest.mark.parametrize("kind", CITY_KINDS)
@pytest.mark.parametrize("population", POPULATIONS)
def test_generated_city_obeys_contract_and_sums_population(kind: str, population: int) -> None:
    G = generate(kind, population, rng=rng(7), name="Testville")
    assert_contract(G)
    assert sum(d["population"] for _, d in G.nodes(data=True)) == population
    assert len(G) == node_count(FAMILY, population)
    assert place_names(G) == ["Testville"]
    assert G.nodes[centre_node(G, "Testville")]["name"] == "Testville centre"


def test_named_generators_match_generate_and_defaults() -> None:
    assert graph_data(city.small_town(rng=rng(1))) == graph_data(
        generate("small_town", 12_000, rng=rng(1), name="Small town")
    )
    assert city.medium_city(rng=rng(1)).graph["name"] == "Medium city"
    G = city.metropolis(rng=rng(1))
    assert G.graph["name"] == "Metropolis"
    assert sum(d["population"] for _, d in G.nodes(data=True)) == 1_000_000


@pytest.mark.parametrize("kind", CITY_KINDS)
def test_same_seed_same_graph_different_seed_different_graph(kind: str) -> None:
    first = generate(kind, 80_000, rng=rng(42), name="A")
    again = generate(kind, 80_000, rng=rng(42), name="A")
    other = generate(kind, 80_000, rng=rng(43), name="A")
    assert graph_data(first) == graph_data(again)
    assert graph_data(first) != graph_data(other)


def test_bigger_population_gives_more_nodes_and_higher_centre_rent() -> None:
    def centre_rent(G: nx.Graph) -> float:
        return G.nodes[0]["rent"]

    pairs = [
        ("small_town", 5_000, 40_000),
        ("medium_city", 60_000, 400_000),
        ("metropolis", 600_000, 8_000_000),
    ]
    for kind, smaller, bigger in pairs:
        a = generate(kind, smaller, rng=rng(3), name="A")
        b = generate(kind, bigger, rng=rng(3), name="A")
        assert len(b) > len(a), kind
        assert centre_rent(b) > centre_rent(a), kind
    town = city.small_town(12_000, rng=rng(5))
    medium = city.medium_city(150_000, rng=rng(5))
    metro = city.metropolis(1_000_000, rng=rng(5))
    assert len(town) < len(medium) < len(metro)
    assert centre_rent(town) < centre_rent(medium) < centre_rent(metro)


def test_plausible_levels_small_town_versus_metropolis() -> None:
    town = city.small_town(12_000, rng=rng(2))
    metro = city.metropolis(2_000_000, rng=rng(2))
    town_centre, metro_centre = town.nodes[0], metro.nodes[0]
    assert 350 <= town_centre["rent"] <= 500
    assert 900 <= metro_centre["rent"] <= 1500
    for data in town.nodes.values():
        assert data["rent"] <= town_centre["rent"]
        assert data["amenity"] <= town_centre["amenity"]
        assert 0.08 <= data["vacant_space"] <= 0.2
    for data in metro.nodes.values():
        assert data["rent"] <= metro_centre["rent"]
        assert 0.8 <= data["tech"] <= 0.95
        assert 0.02 <= data["vacant_space"] <= 0.07
    # Villages hang off the urban edge on rural roads (45 km/h), minutes apart.
    for u, v, data in town.edges(data=True):
        if "hinterland" in (town.nodes[u]["role"], town.nodes[v]["role"]):
            assert data["travel_time"] == pytest.approx(2 + data["distance_km"] / 45 * 60, abs=0.2)
            assert 5 <= data["travel_time"] <= 30
    # Polycentric metropolis with about one university per 250k inhabitants.
    roles = [d["role"] for d in metro.nodes.values()]
    assert roles.count("centre") == 1 and roles.count("subcentre") >= 3
    assert sum(d["university"] for d in metro.nodes.values()) in (7, 8)
    assert metro_centre["university"] >= 1
    assert metro_centre["openness"] > town_centre["openness"]


def _weighted_means(G: nx.Graph) -> dict[str, float]:
    population = np.array([d["population"] for d in G.nodes.values()], dtype=float)
    return {
        attribute: float(np.average([d[attribute] for d in G.nodes.values()], weights=population))
        for attribute in ATTRIBUTES
    }


def test_every_shape_takes_its_attributes_from_the_same_functions_of_population() -> None:
    """No per-kind table: at one population every shape has the same centre levels."""
    for population in (1_000, 12_000, 80_000, 450_000, 3_000_000, 20_000_000):
        levels = attribute_levels(FAMILY, population)
        for kind in CITY_KINDS:
            centre = generate(kind, population, rng=rng(4), name="T").nodes[0]
            for attribute, (at_centre, at_periphery) in levels.items():
                assert centre[attribute] == pytest.approx(at_centre, abs=0.006), (kind, attribute)
                assert min(at_centre, at_periphery) > 0
    # the small town of two million has a city's rents, not a town's
    assert city.small_town(2_000_000, rng=rng(1)).nodes[0]["rent"] == pytest.approx(
        city.metropolis(2_000_000, rng=rng(1)).nodes[0]["rent"]
    )


@pytest.mark.parametrize("kind", CITY_KINDS)
def test_attributes_are_continuous_in_population_across_the_whole_range(kind: str) -> None:
    """Neighbouring populations (18% apart, 1,000 to 20,000,000) give close cities.

    The population-weighted mean of every attribute, averaged over 6 graph seeds,
    changes by less than 10% a step, and at the former thresholds (50,000 for
    universities and the small-town generator, 400,000 for the metropolis) by almost
    nothing.
    """
    grid = np.unique(np.round(np.geomspace(1_000, 20_000_000, 60)).astype(int))

    def mean_city(population: int) -> dict[str, float]:
        runs = [_weighted_means(generate(kind, population, rng=rng(s), name="T")) for s in range(6)]
        return {a: float(np.mean([r[a] for r in runs])) for a in ATTRIBUTES}

    previous = mean_city(int(grid[0]))
    for population in grid[1:]:
        current = mean_city(int(population))
        for attribute in ATTRIBUTES:
            step = abs(current[attribute] / previous[attribute] - 1)
            assert step < 0.10, (attribute, int(population), step)
        previous = current
    for threshold in (50_000, 400_000):
        below, above = mean_city(threshold - 1), mean_city(threshold + 1)
        for attribute in ATTRIBUTES:
            assert above[attribute] == pytest.approx(below[attribute], rel=1e-3), attribute
        assert expected_universities(FAMILY, threshold + 1) == pytest.approx(
            expected_universities(FAMILY, threshold - 1), rel=1e-3
        )


@pytest.mark.parametrize("kind", CITY_KINDS)
def test_node_count_grows_with_population_from_a_handful_to_a_thousand(kind: str) -> None:
    counts = [len(generate(kind, p, rng=rng(0), name="T")) for p in (*POPULATIONS, 20_000_000)]
    assert counts == sorted(counts)
    assert 4 <= counts[0] <= 6  # a village: a handful of nodes
    assert 100 <= len(generate(kind, 1_000_000, rng=rng(0), name="T")) <= 200
    assert counts[-1] >= 1_000  # a city of twenty million: about a thousand neighbourhoods
    # in cities of a million and more, one neighbourhood per ~5,000-20,000 residents
    for population in (1_000_000, 5_000_000, 20_000_000):
        assert 5_000 <= population / node_count(FAMILY, population) <= 20_000


@pytest.mark.parametrize(
    ("kind", "population"),
    [
        ("small_town", 12_000),
        ("small_town", 60_000),
        ("medium_city", 40_000),
        ("medium_city", 150_000),
        ("metropolis", 390_000),
        ("metropolis", 1_000_000),
    ],
)
def test_universities_follow_population_whatever_the_shape(kind, population):
    """Over graph seeds the university count averages the family's expected number.

    A city of that size has a university with a chance that rises smoothly with its
    population, and about one per 250,000 inhabitants when large; the first is at
    the centre.
    """
    counts = []
    for seed in range(120):
        G = city.generate(kind, population, rng=rng(seed), name="Town")
        counts.append(sum(d["university"] for d in G.nodes.values()))
        if counts[-1]:
            assert G.nodes[0]["university"] >= 1
    expected = expected_universities(FAMILY, population)
    fraction = expected % 1  # stochastic rounding's variance is fraction * (1 - fraction)
    standard_error = np.sqrt(fraction * (1 - fraction) / len(counts))
    assert abs(np.mean(counts) - expected) < 4 * standard_error + 0.01, (np.mean(counts), expected)
    assert max(counts) - min(counts) <= 1  # stochastic rounding: floor or ceiling of the mean


@pytest.mark.parametrize("bad", [999, 0, -5, 1500.5, "12000", True, 20_000_001])
def test_population_out_of_range_is_rejected_with_range(bad: object) -> None:
    with pytest.raises(
        CityGraphError, match=r"population must be an integer from 1000 to 20,000,000"
    ) as info:
        city.small_town(bad, rng=rng())  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_unknown_kind_and_missing_rng_are_rejected() -> None:
    with pytest.raises(CityGraphError, match="city kind must be one of small_town"):
        generate("village", 5_000, rng=rng(), name="X")
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        city.small_town(rng=42)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- regions


def test_region_links_centres_with_one_transport_edge() -> None:
    town = city.small_town(9_000, rng=rng(1), name="Hilltown")
    big = city.metropolis(700_000, rng=rng(2), name="Capital")
    G = region(town, big, travel_time=42.0, distance_km=55.0)
    assert_contract(G)
    n_town = len(town)
    assert len(G) == n_town + len(big)
    assert {G.nodes[n]["place"] for n in range(n_town)} == {"Hilltown"}
    assert {G.nodes[n]["place"] for n in range(n_town, len(G))} == {"Capital"}
    assert G.graph["name"] == "Hilltown - Capital region"
    assert G.graph["focus"] == "Hilltown"
    assert place_names(G) == ["Hilltown", "Capital"]
    links = [
        (u, v, d) for u, v, d in G.edges(data=True) if G.nodes[u]["place"] != G.nodes[v]["place"]
    ]
    assert len(links) == 1
    u, v, data = links[0]
    assert {u, v} == {centre_node(G, "Hilltown"), centre_node(G, "Capital")}
    assert data == {"travel_time": 42.0, "kind": "transport", "distance_km": 55.0}
    capital_centre = G.nodes[centre_node(G, "Capital")]
    assert capital_centre["x"] - G.nodes[0]["x"] == pytest.approx(55.0)
    total = sum(d["population"] for d in G.nodes.values())
    assert total == 9_000 + 700_000
    # The inputs are left untouched.
    assert graph_data(town) == graph_data(city.small_town(9_000, rng=rng(1), name="Hilltown"))


def test_region_rejects_same_place_and_bad_travel_time() -> None:
    a = city.small_town(rng=rng(1))
    b = city.small_town(rng=rng(2))
    with pytest.raises(CityGraphError, match="both contain place 'Small town'"):
        region(a, b, travel_time=30.0)
    c = city.medium_city(rng=rng(3))
    with pytest.raises(CityGraphError, match="travel_time must be > 0"):
        region(a, c, travel_time=0.0)


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_every_preset_builds_with_census_population(key: str) -> None:
    preset = PRESETS[key]
    G = preset_region(key, rng=rng(11))
    assert_contract(G)
    assert G.graph["focus"] == preset.town
    assert place_names(G) == [preset.town, preset.city]
    town = [d for d in G.nodes.values() if d["place"] == preset.town]
    assert sum(d["population"] for d in town) == preset.population
    assert sum(d["university"] for d in town) == preset.university
    big = [d for d in G.nodes.values() if d["place"] == preset.city]
    assert sum(d["population"] for d in big) == preset.city_population
    assert sum(d["university"] for d in big) >= 1
    link = G.edges[centre_node(G, preset.town), centre_node(G, preset.city)]
    assert link["kind"] == "transport"
    assert link["travel_time"] == preset.travel_time
    assert "approximate" in preset.notes


def test_preset_population_override_and_features() -> None:
    G = preset_region("obidos", rng=rng(0), population=30_000)
    town = [d for d in G.nodes.values() if d["place"] == "Obidos"]
    assert sum(d["population"] for d in town) == 30_000
    # Obidos' technology park lifts tech above a plain small town's centre.
    plain = city.small_town(11_772, rng=rng(0), name="Obidos")
    assert preset_region("obidos", rng=rng(0)).nodes[0]["tech"] > plain.nodes[0]["tech"]
    assert "chocolate festival" in PRESETS["obidos"].notes.lower()
    assert "1873" in PRESETS["viareggio"].notes
    assert PRESETS["catanzaro"].city == "Reggio Calabria"
    with pytest.raises(CityGraphError, match="unknown preset 'atlantis'; choose one of"):
        preset_region("atlantis", rng=rng())
    with pytest.raises(CityGraphError, match="population must be an integer from 1000 to 20,000"):
        preset_region("mizil", rng=rng(), population=10)


def test_preset_same_seed_reproducible() -> None:
    assert graph_data(preset_region("genoa", rng=rng(9))) == graph_data(
        preset_region("genoa", rng=rng(9))
    )


# ----------------------------------------------------------------------------- GraphML


def test_graphml_round_trip_keeps_every_attribute(tmp_path) -> None:
    G = preset_region("viareggio", rng=rng(4))
    path = tmp_path / "viareggio.graphml"
    save_graphml(G, path)
    loaded = load_graphml(path)
    assert graph_data(loaded) == graph_data(G)
    for node in G:
        for attribute in NODE_ATTRIBUTES:
            assert type(loaded.nodes[node][attribute]) is type(G.nodes[node][attribute])


GRAPHML_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="name" for="node" attr.name="name" attr.type="string"/>
  <key id="place" for="node" attr.name="place" attr.type="string"/>
  <key id="population" for="node" attr.name="population" attr.type="int"/>
  <key id="rent" for="node" attr.name="rent" attr.type="string"/>
  <key id="amenity" for="node" attr.name="amenity" attr.type="double"/>
  <key id="tech" for="node" attr.name="tech" attr.type="double"/>
  <key id="vacant_space" for="node" attr.name="vacant_space" attr.type="double"/>
  <key id="university" for="node" attr.name="university" attr.type="double"/>
  <key id="openness" for="node" attr.name="openness" attr.type="double"/>
  <key id="travel_time" for="edge" attr.name="travel_time" attr.type="double"/>
  <graph edgedefault="undirected">
"""


def node_xml(node_id: str, name: str, population: int, rent: str = "400") -> str:
    values = {
        "name": name,
        "place": "Hand",
        "population": population,
        "rent": rent,
        "amenity": 0.5,
        "tech": 0.5,
        "vacant_space": 0.1,
        "university": 0,
        "openness": 0.4,
    }
    data = "".join(f'<data key="{k}">{v}</data>' for k, v in values.items())
    return f'<node id="{node_id}">{data}</node>\n'


def edge_xml(u: str, v: str, minutes: float | None = 5.0) -> str:
    data = "" if minutes is None else f'<data key="travel_time">{minutes}</data>'
    return f'<edge source="{u}" target="{v}">{data}</edge>\n'


def write(tmp_path, body: str, name: str = "hand.graphml"):
    path = tmp_path / name
    path.write_text(GRAPHML_HEAD + body + "</graph></graphml>\n", encoding="utf-8")
    return path


def test_hand_written_graphml_gets_defaults_and_integer_ids(tmp_path) -> None:
    body = (
        node_xml("b", "Market", 500)
        + node_xml("a", "Old town", 2_000)
        + node_xml("c", "Farm", 100)
        + edge_xml("a", "b")
        + edge_xml("b", "c", 12.5)
    )
    G = load_graphml(write(tmp_path, body))
    assert list(G.nodes) == [0, 1, 2]
    assert [G.nodes[n]["graphml_id"] for n in G] == ["a", "b", "c"]
    assert G.nodes[0]["role"] == "centre"  # the most populous node of a role-less place
    assert G.nodes[1]["role"] == "district"
    assert G.nodes[0]["rent"] == 400.0 and type(G.nodes[0]["rent"]) is float
    assert type(G.nodes[0]["university"]) is int
    assert all(d["kind"] == "road" for _, _, d in G.edges(data=True))
    assert all(isinstance(d["x"], float) and isinstance(d["y"], float) for d in G.nodes.values())
    # The layout for missing coordinates is deterministic.
    again = load_graphml(write(tmp_path, body, "again.graphml"))
    assert [d["x"] for d in again.nodes.values()] == [d["x"] for d in G.nodes.values()]


def assert_one_line(error: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, (part, message)


def test_load_error_missing_node_attribute(tmp_path) -> None:
    body = node_xml("0", "Old town", 2_000) + node_xml("1", "Market", 500) + edge_xml("0", "1")
    body = body.replace('<data key="tech">0.5</data>', "", 1)
    with pytest.raises(CityGraphError) as error:
        load_graphml(write(tmp_path, body))
    assert_one_line(error, "hand.graphml", "node 0 ('Old town')", "missing attribute 'tech'")


def test_load_error_out_of_range_value(tmp_path) -> None:
    body = (
        node_xml("0", "Old town", 2_000)
        + node_xml("1", "Market", 500, rent="-5")
        + edge_xml("0", "1")
    )
    with pytest.raises(CityGraphError) as error:
        load_graphml(write(tmp_path, body))
    assert_one_line(
        error, "hand.graphml", "node 1 ('Market')", "'rent' must be float in (0, 100000]", "-5"
    )


def test_load_error_non_numeric_value(tmp_path) -> None:
    body = (
        node_xml("0", "Old town", 2_000)
        + node_xml("1", "Market", 500, rent="cheap")
        + edge_xml("0", "1")
    )
    with pytest.raises(CityGraphError) as error:
        load_graphml(write(tmp_path, body))
    assert_one_line(error, "node 1 ('Market')", "'rent'", "'cheap'")


def test_load_error_missing_edge_travel_time(tmp_path) -> None:
    body = (
        node_xml("0", "Old town", 2_000) + node_xml("1", "Market", 500) + edge_xml("0", "1", None)
    )
    with pytest.raises(CityGraphError) as error:
        load_graphml(write(tmp_path, body))
    assert_one_line(
        error,
        "hand.graphml",
        "edge (0, 1)",
        "missing attribute 'travel_time' (float in (0, 600], minutes)",
    )


def test_load_error_disconnected(tmp_path) -> None:
    body = node_xml("0", "Old town", 2_000) + node_xml("1", "Market", 500)
    with pytest.raises(CityGraphError) as error:
        load_graphml(write(tmp_path, body))
    assert_one_line(error, "hand.graphml", "is not connected: 2 components")


def test_load_error_missing_file_and_not_graphml(tmp_path) -> None:
    missing = tmp_path / "nowhere.graphml"
    with pytest.raises(CityGraphError) as error:
        load_graphml(missing)
    assert_one_line(error, str(missing), "no such GraphML file")
    for text in ("this is not XML\nat all", "<html><body>hi</body></html>", ""):
        junk = tmp_path / "junk.graphml"
        junk.write_text(text, encoding="utf-8")
        with pytest.raises(CityGraphError) as error:
            load_graphml(junk)
        assert_one_line(error, str(junk), "not a readable GraphML file")


# ----------------------------------------------------------------------------- validation


def test_validate_rejects_broken_graphs_with_one_line_messages() -> None:
    G = city.small_town(rng=rng(1))
    G.nodes[2]["amenity"] = 1.3
    with pytest.raises(CityGraphError) as error:
        validate_city_graph(G, source="my town")
    where = "my town: node 2 ('Small town district 2')"
    assert_one_line(error, where, "'amenity'", "[0, 1]", "1.3")

    G = city.small_town(rng=rng(1))
    G.nodes[0]["role"] = "downtown"
    with pytest.raises(CityGraphError, match="'role' must be one of 'centre'"):
        validate_city_graph(G)

    G = city.small_town(rng=rng(1))
    G.nodes[1]["vacant_space"] = 1.0
    with pytest.raises(CityGraphError, match=r"'vacant_space' must be float in \[0, 1\)"):
        validate_city_graph(G)

    G = city.small_town(rng=rng(1))
    u, v = next(iter(G.edges))
    G.edges[u, v]["kind"] = "canal"
    with pytest.raises(CityGraphError, match=rf"edge \({u}, {v}\): attribute 'kind'"):
        validate_city_graph(G)

    G = nx.relabel_nodes(city.small_town(rng=rng(1)), {0: "zero"})
    with pytest.raises(CityGraphError, match="node ids must be the integers"):
        validate_city_graph(G)

    with pytest.raises(CityGraphError, match="graph has no nodes"):
        validate_city_graph(nx.Graph(name="empty"))

    G = city.small_town(rng=rng(1))
    G.nodes[1]["role"] = "centre"
    with pytest.raises(CityGraphError, match="exactly one node with role 'centre', found 0, 1"):
        validate_city_graph(G)


def test_validate_coerces_numeric_types() -> None:
    G = city.small_town(rng=rng(1))
    G.nodes[0]["population"] = 3000.0
    G.nodes[0]["rent"] = "420.5"
    G.nodes[0]["university"] = np.int64(1)
    G.edges[next(iter(G.edges))]["travel_time"] = 5
    validate_city_graph(G)
    assert G.nodes[0]["population"] == 3000 and type(G.nodes[0]["population"]) is int
    assert G.nodes[0]["rent"] == 420.5
    assert type(G.nodes[0]["university"]) is int
    assert type(G.edges[next(iter(G.edges))]["travel_time"]) is float


def test_attribute_tables_describe_units() -> None:
    assert set(NODE_ATTRIBUTES) >= {"rent", "amenity", "population", "x", "y"}
    assert "EUR" in NODE_ATTRIBUTES["rent"][3]
    assert "minutes" in EDGE_ATTRIBUTES["travel_time"][3]
    assert set(city.__all__) >= {"small_town", "PRESETS", "Preset", "load_graphml"}


def test_one_list_of_generated_kinds_each_with_a_shape() -> None:
    from clustersim.model.city.profiles import SHAPES

    assert city.CITY_KINDS == city.GENERATED_KINDS == ("small_town", "medium_city", "metropolis")
    assert tuple(SHAPES) == city.GENERATED_KINDS
    with pytest.raises(CityGraphError, match="city kind must be one of small_town, medium_city"):
        generate("region", 10_000, rng=rng(0), name="A")


def test_every_public_name_is_offered_by_the_package() -> None:
    for name in city.__all__:
        assert hasattr(city, name), name
