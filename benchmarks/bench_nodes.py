"""Cost per agent-step against the number of nodes: the same city population on 50 to 1,000 nodes.

Issue 10's speed constraint: the per-agent-step cost of a 500-node city stays within 2x
of a 50-node city with the same talents. The cities are street grids of square
neighbourhoods (5-minute edges, one university at the centre node), all holding the
same population, with the model's generated-city defaults for every other attribute
(GraphML defaults). With ``--family KIND`` the cities are instead generated cities of
the continuous family (shape KIND) of the same population, cut into the requested
number of nodes by ``city.family.neighbourhood_exponent`` (everything else at its
default): the same city, finer or coarser.

All cities are built and stepped in **one process on one pinned core**, in turns of
``--chunk`` months each, so a change of machine load hits every city alike; the
ratio of their CPU time per agent-step is the figure to read. Construction (all-pairs
travel times), the month-0 draw and the first months are reported separately.
Mesa's BoltzmannWealth(10k) is timed in the same turns as the usual yardstick.

Usage::

    python benchmarks/bench_nodes.py [--nodes 50 500 1000] [--population 200000]
                                     [--steps 60] [--chunk 10] [--family metropolis]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from clustersim.model.city import generate  # noqa: E402
from clustersim.model.city.family import FamilyParams, node_count  # noqa: E402
from clustersim.model.core import CreativeClusterModel  # noqa: E402

EDGE_MINUTES = 5.0


def grid_city(n_nodes: int, population: int, seed: int = 0) -> nx.Graph:
    """A near-square street grid of ``n_nodes`` neighbourhoods holding ``population``.

    Population falls off from the centre (exp(-2 d / d_max) with lognormal jitter,
    sigma 0.25); the centre node has the one university.
    """
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n_nodes))
    x = np.arange(n_nodes) % side
    y = np.arange(n_nodes) // side
    d = np.hypot(x - x.mean(), y - y.mean())
    centre = int(np.argmin(d))
    weight = np.exp(-2.0 * d / max(d.max(), 1.0)) * rng.lognormal(0.0, 0.25, n_nodes)
    pop = np.floor(population * weight / weight.sum()).astype(int)
    pop[centre] += population - pop.sum()
    g = nx.Graph(name=f"Grid of {n_nodes}")
    for i in range(n_nodes):
        g.add_node(
            i,
            name=f"N{i}",
            place="Grid",
            role="centre" if i == centre else "district",
            population=int(pop[i]),
            rent=400.0,
            amenity=0.7 if i == centre else 0.5,
            tech=0.6,
            vacant_space=0.08,
            university=int(i == centre),
            openness=0.5,
            x=float(x[i]),
            y=float(y[i]),
        )
    for i in range(n_nodes):
        if x[i] + 1 < side and i + 1 < n_nodes:
            g.add_edge(i, i + 1, travel_time=EDGE_MINUTES, kind="road", distance_km=1.0)
        if i + side < n_nodes:
            g.add_edge(i, i + side, travel_time=EDGE_MINUTES, kind="road", distance_km=1.0)
    return g


def family_city(kind: str, n_nodes: int, population: int, seed: int = 0) -> nx.Graph:
    """A generated city of shape ``kind`` cut into ``n_nodes`` nodes by the family's exponent."""
    base = FamilyParams().base_nodes
    if population <= 1000 or n_nodes <= base + 1:
        raise SystemExit(f"--nodes {n_nodes} needs more than {base + 1} nodes and 1,000 people")
    exponent = math.log(n_nodes - base) / math.log(population / 1000)
    if exponent > 1.0:
        most = node_count(FamilyParams(neighbourhood_exponent=1.0), population)
        raise SystemExit(f"--nodes {n_nodes}: a city of {population:,} has at most {most}")
    family = FamilyParams(neighbourhood_exponent=exponent)
    rng = np.random.default_rng(seed)
    return generate(kind, population, rng=rng, name=f"{kind} of {n_nodes}", family=family)


def count_agents(model) -> int:
    """Mesa agents alive: clustersim's ``count_agents()`` (its talents' agents are made only
    when read), ``len(model.agents)`` for the reference."""
    count = getattr(model, "count_agents", None)
    return count() if count is not None else len(model.agents)


def _boltzmann():
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannWealth

    try:
        from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario
    except ImportError:  # Mesa before scenarios
        return BoltzmannWealth(n=10_000, width=100, height=100, rng=0)
    return BoltzmannWealth(scenario=BoltzmannScenario(rng=0, n=10_000, width=100, height=100))


def main(argv: list[str] | None = None) -> int:
    """Build the cities, step them in turns, print CPU µs per agent-step and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[50, 500, 1000])
    parser.add_argument("--population", type=int, default=200_000)
    parser.add_argument("--steps", type=int, default=60, help="timed months per city")
    parser.add_argument("--chunk", type=int, default=10, help="months per turn")
    parser.add_argument("--warmup", type=int, default=3, help="untimed first months")
    parser.add_argument(
        "--family",
        choices=["small_town", "medium_city", "metropolis"],
        default=None,
        help="generated cities of this shape instead of street grids",
    )
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cities = {}
    for n in args.nodes:
        if args.family:
            graph = family_city(args.family, n, args.population)
        else:
            graph = grid_city(n, args.population)
        c = time.process_time()
        model = CreativeClusterModel(city=graph, rng=0, spin_up={"months": 0})
        built = time.process_time() - c
        c = time.process_time()
        model.run_for(args.warmup)
        cities[n] = {"model": model, "build": built, "warmup": time.process_time() - c}
        cities[n].update(cpu=0.0, agent_steps=0, steps=0)
    boltzmann = {"model": _boltzmann(), "cpu": 0.0, "agent_steps": 0}
    for _ in range(math.ceil(args.steps / args.chunk)):
        for entry in [*cities.values(), boltzmann]:
            model = entry["model"]
            c = time.process_time()
            agents = 0
            for _ in range(args.chunk):
                model.step()
                agents += count_agents(model)
            entry["cpu"] += time.process_time() - c
            entry["agent_steps"] += agents
    ref = boltzmann["cpu"] / boltzmann["agent_steps"] * 1e6
    base = min(args.nodes)
    per = {n: e["cpu"] / e["agent_steps"] * 1e6 for n, e in cities.items()}
    kind = f"generated {args.family}" if args.family else "grid"
    print(f"{kind} cities of {args.population:,} inhabitants, {args.steps} months each in turns")
    print(
        f"{'nodes':>6} {'build s':>8} {'agents':>8} {'us/agent-step':>14} "
        f"{'vs ' + str(base) + ' nodes':>12} {'speed / Boltzmann':>18}"
    )
    for n, e in cities.items():
        n_nodes = e["model"].n_nodes
        agents = e["agent_steps"] / (math.ceil(args.steps / args.chunk) * args.chunk)
        print(
            f"{n_nodes:>6} {e['build']:>8.2f} {agents:>8,.0f} {per[n]:>14.3f} "
            f"{per[n] / per[base]:>12.2f} {ref / per[n]:>18.2f}"
        )
    print(f"BoltzmannWealth(10k): {ref:.3f} us per agent-step (CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
