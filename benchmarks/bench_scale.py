"""Cost against the number of agents, up to a region of a million talents, on one core.

Issue 14's targets: the cost exponent in agents stays <= 1.05 from 10k to 1M talents,
and a 1M-talent region runs 120 months in under 2 minutes and under 1 GB of peak
memory on one core.

* **Series** (``--series``, default): the metropolis generator's city of 20 million
  inhabitants cut into ``--nodes`` nodes (200 by default: the node count is held
  fixed, so the series measures agents, not nodes; ``bench_nodes.py`` measures nodes),
  its node populations scaled to 0.556, 1.67, 5.5, 16.7 and 49.9 million inhabitants
  (about 10k, 30k, 100k, 300k and 1M talents). Each size is built with
  ``spin_up.months=0`` (the drawn state: a spin-up of a million talents over 1,200
  months would take longer than the runs measured) in its own process, stepped
  ``--warmup`` untimed months, then ``--steps`` timed months. The slope of log CPU
  seconds per month against log mean Mesa agents is fitted over the series.
* **Region** (``--region``): the largest size, 49.9 million inhabitants (the model
  accepts city graphs up to 50 million), for 120 months in one process: wall and CPU
  seconds of construction and of the months, peak RSS (``VmHWM``) of the whole
  process, talents and Mesa agents at the end.

Each process pins itself to one core and sets the BLAS thread counts to 1. Mesa's
BoltzmannWealth(10k) is timed in the same process before the model (its agent-steps
per CPU second), so each figure comes with the machine's speed of the moment.

Usage::

    python benchmarks/bench_scale.py [--series] [--region] [--nodes 200] [--steps 10]
                                     [--json out.json]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: Inhabitants of the series: about 10k, 30k, 100k, 300k and 1M talents.
POPULATIONS = (556_000, 1_670_000, 5_500_000, 16_700_000, 49_900_000)
#: The generated city whose node populations are scaled (the generator's largest).
BASE_POPULATION = 20_000_000


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def region_graph(population: int, nodes: int) -> Any:
    """The metropolis family's 20-million city on ``nodes`` nodes, scaled to ``population``."""
    from bench_nodes import family_city

    graph = family_city("metropolis", nodes, BASE_POPULATION)
    for _, data in graph.nodes(data=True):
        data["population"] = round(data["population"] * population / BASE_POPULATION)
    graph.graph["name"] = f"Region of {population:,}"
    return graph


def _boltzmann_cpu_rate(steps: int = 20) -> float:
    """BoltzmannWealth(10k) agent-steps per CPU second in this process."""
    from bench_nodes import _boltzmann

    model = _boltzmann()
    started, agent_steps = time.process_time(), 0
    for _ in range(steps):
        model.step()
        agent_steps += len(model.agents)
    return agent_steps / (time.process_time() - started)


def _worker(population: int, nodes: int, warmup: int, steps: int) -> dict[str, Any]:
    """Build one size, step it, return times, agents and peak memory (runs in a child)."""
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    from clustersim.model.core import CreativeClusterModel

    reference = _boltzmann_cpu_rate()
    graph = region_graph(population, nodes)
    wall, cpu = time.perf_counter(), time.process_time()
    model = CreativeClusterModel(rng=0, city=graph, spin_up={"months": 0})
    build = (time.perf_counter() - wall, time.process_time() - cpu)
    for _ in range(warmup):
        model.step()
    wall, cpu, agent_steps = time.perf_counter(), time.process_time(), 0
    for _ in range(steps):
        model.step()
        agent_steps += model.count_agents()
    run_wall, run_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "population": population,
        "nodes": model.n_nodes,
        "build_wall_s": build[0],
        "build_cpu_s": build[1],
        "months": steps,
        "run_wall_s": run_wall,
        "run_cpu_s": run_cpu,
        "mean_agents": agent_steps / steps,
        "talents_end": int(model.talents.alive.sum()),
        "talent_rows_end": int(model.talents.n),
        "agents_end": model.count_agents(),
        "peak_rss_mib": _peak_rss_mib(),
        "cpu_us_per_agent_step": run_cpu / agent_steps * 1e6,
        "boltzmann_cpu_agent_steps_per_s": reference,
        "ratio_cpu": (agent_steps / run_cpu) / reference,
    }


def _spawn(population: int, nodes: int, warmup: int, steps: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", str(population), str(nodes)]
    command += [str(warmup), str(steps)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench_scale: the worker for {population:,} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx
    )


def main(argv: list[str] | None = None) -> int:
    """Run the series and/or the region; print the figures."""
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        population, nodes, warmup, steps = (int(a) for a in sys.argv[2:6])
        print(json.dumps(_worker(population, nodes, warmup, steps)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--series", action="store_true", help="the series of sizes")
    parser.add_argument("--region", action="store_true", help="the 1M-talent region, 120 months")
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--steps", type=int, default=10, help="timed months per size")
    parser.add_argument("--warmup", type=int, default=2, help="untimed months per size")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    if not args.series and not args.region:
        args.series = True
    out: dict[str, Any] = {"loadavg_before": os.getloadavg()}
    if args.series:
        rows = [_spawn(p, args.nodes, args.warmup, args.steps) for p in POPULATIONS]
        slope = loglog_slope(
            [r["mean_agents"] for r in rows], [r["run_cpu_s"] / r["months"] for r in rows]
        )
        out.update(series=rows, slope=slope)
        print(f"series: {args.nodes} nodes, {args.steps} timed months each (CPU time, one core)")
        print(
            f"{'inhabitants':>12} {'talents':>9} {'agents':>9} {'ms/month':>9} "
            f"{'us/agent-step':>13} {'x Boltzmann':>11} {'peak MiB':>9}"
        )
        for r in rows:
            print(
                f"{r['population']:>12,} {r['talents_end']:>9,} {r['mean_agents']:>9,.0f} "
                f"{r['run_cpu_s'] / r['months'] * 1000:>9.0f} {r['cpu_us_per_agent_step']:>13.3f} "
                f"{r['ratio_cpu']:>11.1f} {r['peak_rss_mib']:>9.0f}"
            )
        print(f"cost exponent in agents (log-log slope of CPU s per month): {slope:.3f}")
    if args.region:
        r = _spawn(POPULATIONS[-1], args.nodes, 0, 120)
        out["region"] = r
        print(
            f"region of {r['population']:,} on {r['nodes']} nodes: "
            f"build {r['build_wall_s']:.1f} s, "
            f"120 months {r['run_wall_s']:.1f} s wall ({r['run_cpu_s']:.1f} s CPU), "
            f"{r['talents_end']:,} talents and {r['agents_end']:,} Mesa agents at the end "
            f"({r['talent_rows_end']:,} talent rows), peak RSS {r['peak_rss_mib']:.0f} MiB, "
            f"{r['cpu_us_per_agent_step']:.3f} us per agent-step = {r['ratio_cpu']:.1f}x "
            "BoltzmannWealth(10k)"
        )
    out["loadavg_after"] = os.getloadavg()
    print(
        f"load average: {out['loadavg_before'][0]:.2f} before, {out['loadavg_after'][0]:.2f} after"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
