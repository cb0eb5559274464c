"""Market access from the graph: the people a node reaches, its gateway, its external price."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from clustersim import CreativeClusterModel
from clustersim.model import city
from clustersim.model.config import MarketParams
from clustersim.model.market_access import gateway_node, market_access, market_potential
from lever_runs import town_and_city


def expected_potential(graph: nx.Graph, market: MarketParams) -> np.ndarray:
    """Market potential recomputed from the graph alone (networkx's Dijkstra, not the model's)."""
    gateway = gateway_node(graph)
    to_gateway = nx.single_source_dijkstra_path_length(graph, gateway, weight="travel_time")
    values = []
    for i in sorted(graph):
        times = nx.single_source_dijkstra_path_length(graph, i, weight="travel_time")
        inside = sum(
            graph.nodes[j]["population"] * np.exp(-t / market.decay) for j, t in times.items()
        )
        outside = market.outside_population * np.exp(
            -(to_gateway[i] + market.outside_time) / market.decay
        )
        values.append(inside + outside)
    return np.array(values)


def test_market_potential_is_computed_from_the_graphs_people_and_travel_times() -> None:
    graph = city.preset_region("obidos", rng=np.random.default_rng(1))
    model = CreativeClusterModel(city=graph, rng=1)
    market = model.params.market
    np.testing.assert_allclose(model.market_potential, expected_potential(graph, market))
    np.testing.assert_allclose(
        model.market_access,
        (model.market_potential / market.reference_potential) ** market.price_elasticity,
    )


def test_the_gateway_is_the_centre_of_the_most_populous_place() -> None:
    graph = town_and_city()  # town nodes 0-3, the city's 4-7
    assert gateway_node(graph) == 4
    alone = city.small_town(12_000, rng=np.random.default_rng(0))
    assert gateway_node(alone) == 0


def test_a_town_nearer_its_large_city_reaches_more_people_and_sells_dearer() -> None:
    near = CreativeClusterModel(city=town_and_city(travel_time=20.0), rng=0)
    far = CreativeClusterModel(city=town_and_city(travel_time=90.0), rng=0)
    town = slice(0, 4)
    assert (near.market_potential[town] > far.market_potential[town]).all()
    assert (near.market_access[town] > far.market_access[town]).all()
    # the city's own access hardly depends on the town
    np.testing.assert_allclose(near.market_access[4:], far.market_access[4:], rtol=0.01)


def test_external_prices_follow_market_access() -> None:
    model = CreativeClusterModel(city=town_and_city(), rng=0)
    price = model.market.external_price  # by node and sector, before ties and reach
    digital = model.sector_traits["digital"].astype(bool)
    analogue = price[:, ~digital] / model.export_price_factor[model.place][:, None]
    expected = model.params.firm.unit_price * model.market_access
    np.testing.assert_allclose(analogue, np.repeat(expected[:, None], analogue.shape[1], axis=1))
    assert price[0, 0] < price[4, 0]  # the town reaches fewer people than the city


def test_a_larger_city_reaches_more_people() -> None:
    sizes = (5_000, 20_000, 45_000)
    centres = [
        CreativeClusterModel(city=city.small_town(p, rng=np.random.default_rng(4)), rng=0)
        for p in sizes
    ]
    potentials = [m.market_potential[0] for m in centres]
    assert potentials == sorted(potentials)


def test_changing_a_travel_time_changes_market_access_at_once() -> None:
    model = CreativeClusterModel(city=town_and_city(travel_time=60.0), rng=0)
    before = model.market_access.copy()
    model.set_travel_time(0, 4, 20.0)
    assert (model.market_access[:4] > before[:4]).all()
    np.testing.assert_allclose(
        model.market_potential, expected_potential(model.graph, model.params.market)
    )


def test_outside_markets_nearer_raise_access_everywhere() -> None:
    graph = town_and_city()
    base = CreativeClusterModel(city=graph, rng=0)
    nearer = CreativeClusterModel(city=graph, rng=0, market={"outside_time": 60.0})
    assert (nearer.market_access > base.market_access).all()


def test_market_access_formula() -> None:
    access = market_access(np.array([3e6, 30e6]), 30e6, 0.2)
    assert access == pytest.approx([0.1**0.2, 1.0])
    t = np.array([[0.0, 30.0], [30.0, 0.0]])
    mp = market_potential(t, np.array([100.0, 0.0]), 1, 1000.0, 30.0, 30.0)
    assert mp == pytest.approx([100 + 1000 * np.exp(-2.0), 100 * np.exp(-1.0) + 1000 * np.exp(-1)])
