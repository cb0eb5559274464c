"""Whole-model throughput and memory benchmark for CreativeClusterModel.

Measures, on one pinned core:

* agent-steps per second (sum over steps of Mesa agents alive after the step,
  divided by the wall time of the step loop; construction is timed separately),
* memory per agent (tracemalloc peak, RSS growth and agent-table bytes),

for a city with about 10,000 initial talents, a 1M-population metropolis and a
scaling series of metropolis populations (log-log slope of seconds per step
against mean agents alive; 1 means cost grows linearly with agents).

Every measurement runs in a fresh child process (this script with ``--worker``)
so that RSS figures and allocator state do not leak from one case to the next.

Usage::

    python benchmarks/bench_model.py [--quick] [--json out.json] [--profile]
"""

from __future__ import annotations

import os

# One core: no BLAS/OpenMP thread pools. Must be set before numpy is imported
# (here and in the child processes, which inherit the environment).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import datetime as dt  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

TARGET_AGENT_STEPS_PER_S = 1_000_000
SEED = 0
FULL_STEPS = 120
QUICK_STEPS = 24
FULL_REPEATS = 3

# population of the metropolis generator giving ~10,000 initial talents (1.8 %)
TEN_K_CITY = ("metropolis", 556_000)
METROPOLIS_1M = ("metropolis", 1_000_000)
SCALING_POPULATIONS = (125_000, 250_000, 500_000, 1_000_000, 2_000_000)


# --------------------------------------------------------------------------- pinning


def pin_to_one_core() -> int | None:
    """Restrict this process (and its children) to the first allowed CPU."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


# --------------------------------------------------------------------------- memory probes


def _proc_status_kb(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _rss_bytes() -> int:
    kb = _proc_status_kb("VmRSS")
    if kb is None:  # pragma: no cover - non-Linux fallback
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return kb * 1024


def _peak_rss_bytes() -> int:
    kb = _proc_status_kb("VmHWM")
    if kb is None:  # pragma: no cover - non-Linux fallback
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return kb * 1024


# --------------------------------------------------------------------------- worker side


def _run_case(city: str, population: int, steps: int, mode: str) -> dict[str, Any]:
    """Build and step one model in this process; ``mode`` is "time" or "memory"."""
    from clustersim import CreativeClusterModel

    gc.collect()
    rss_before = _rss_bytes()
    hwm_reset = _reset_peak_rss()
    if mode == "memory":
        tracemalloc.start()

    t0 = time.perf_counter()
    model = CreativeClusterModel(rng=SEED, city=city, population=population)
    init_s = time.perf_counter() - t0

    init_talents = int(model.talents.alive.sum())
    init_firms = int(model.firms.alive.sum())
    init_agents = len(model.agents)
    alive_per_step: list[int] = []
    step = model.step
    agents = model.agents
    step_s: list[float] = []
    clock = time.perf_counter
    cpu0 = time.process_time()
    t0 = last = clock()
    for _ in range(steps):
        step()
        now = clock()
        step_s.append(now - last)
        last = now
        alive_per_step.append(len(agents))
    run_s = clock() - t0
    run_cpu_s = time.process_time() - cpu0
    tenth = max(steps // 10, 1)

    result: dict[str, Any] = {
        "city": city,
        "population": population,
        "steps": steps,
        "nodes": int(model.n_nodes),
        "init_s": init_s,
        "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "init_talents": init_talents,
        "init_firms": init_firms,
        "init_agents": init_agents,
        "final_agents": alive_per_step[-1],
        "final_talents": int(model.talents.alive.sum()),
        "final_firms": int(model.firms.alive.sum()),
        "peak_agents": max(alive_per_step),
        "agent_steps": sum(alive_per_step),
        "first_tenth_s_per_step": sum(step_s[:tenth]) / tenth,
        "last_tenth_s_per_step": sum(step_s[-tenth:]) / tenth,
        "rows_ever": int(model.talents.n + model.firms.n),
        "array_bytes": int(model.talents.nbytes() + model.firms.nbytes()),
    }
    if mode == "memory":
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_peak_bytes"] = peak
    else:
        result["rss_before_bytes"] = rss_before
        result["rss_peak_bytes"] = _peak_rss_bytes()
        result["rss_growth_bytes"] = result["rss_peak_bytes"] - rss_before
        result["rss_peak_reset"] = hwm_reset
    return result


def _profile_case(city: str, population: int, steps: int, top: int) -> str:
    """cProfile of ``model.step`` (construction excluded); top entries by cumulative time."""
    from clustersim import CreativeClusterModel

    model = CreativeClusterModel(rng=SEED, city=city, population=population)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        model.step()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --------------------------------------------------------------------------- parent side


def _spawn(city: str, population: int, steps: int, mode: str) -> dict[str, Any]:
    """Run one case in a fresh interpreter and return its JSON result."""
    spec = json.dumps({"city": city, "population": population, "steps": steps, "mode": mode})
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", spec],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed for {spec}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _derive(run: dict[str, Any]) -> dict[str, Any]:
    run = dict(run)
    run["s_per_step"] = run["run_s"] / run["steps"]
    run["mean_agents"] = run["agent_steps"] / run["steps"]
    run["agent_steps_per_s"] = run["agent_steps"] / run["run_s"]
    run["us_per_agent_step"] = 1e6 * run["run_s"] / run["agent_steps"]
    return run


def measure(
    city: str, population: int, steps: int, repeats: int, *, memory: bool
) -> dict[str, Any]:
    """Median of ``repeats`` timed runs, plus one tracemalloc run if ``memory``."""
    runs = []
    for i in range(repeats):
        run = _derive(_spawn(city, population, steps, "time"))
        log(
            f"  {city} {population:>9,} run {i + 1}/{repeats}: "
            f"{run['agent_steps_per_s']:>12,.0f} agent-steps/s, "
            f"{run['s_per_step'] * 1e3:7.2f} ms/step, init {run['init_s']:.2f} s"
        )
        runs.append(run)
    med = sorted(runs, key=lambda r: r["run_s"])[len(runs) // 2]  # median run (odd repeats)
    case = {
        "city": city,
        "population": population,
        "steps": steps,
        "repeats": repeats,
        "nodes": med["nodes"],
        "init_talents": med["init_talents"],
        "init_firms": med["init_firms"],
        "init_agents": med["init_agents"],
        "final_agents": med["final_agents"],
        "peak_agents": med["peak_agents"],
        "mean_agents": med["mean_agents"],
        "agent_steps": med["agent_steps"],
        "first_tenth_s_per_step": med["first_tenth_s_per_step"],
        "last_tenth_s_per_step": med["last_tenth_s_per_step"],
        "rows_ever": med["rows_ever"],
        "init_s": statistics.median(r["init_s"] for r in runs),
        "run_s": statistics.median(r["run_s"] for r in runs),
        "run_s_all": [r["run_s"] for r in runs],
        "run_cpu_s": statistics.median(r["run_cpu_s"] for r in runs),
        "rss_growth_bytes": statistics.median(r["rss_growth_bytes"] for r in runs),
        "array_bytes": med["array_bytes"],
    }
    case["s_per_step"] = case["run_s"] / steps
    # < 1 when another process shared the core during the timed loop
    case["cpu_wall_ratio"] = case["run_cpu_s"] / case["run_s"]
    case["agent_steps_per_cpu_s"] = case["agent_steps"] / case["run_cpu_s"]
    # best run: the least disturbed by other processes (median is the headline)
    case["best_agent_steps_per_s"] = max(r["agent_steps_per_s"] for r in runs)
    case["best_s_per_step"] = min(r["run_s"] for r in runs) / steps
    case["cpu_s_per_step"] = case["run_cpu_s"] / steps
    case["agent_steps_per_s"] = case["agent_steps"] / case["run_s"]
    case["us_per_agent_step"] = 1e6 * case["run_s"] / case["agent_steps"]
    case["rss_bytes_per_agent"] = case["rss_growth_bytes"] / case["peak_agents"]
    case["array_bytes_per_agent"] = case["array_bytes"] / case["peak_agents"]
    if memory:
        mem = _spawn(city, population, steps, "memory")
        case["tracemalloc_peak_bytes"] = mem["tracemalloc_peak_bytes"]
        case["tracemalloc_bytes_per_agent"] = mem["tracemalloc_peak_bytes"] / mem["peak_agents"]
        log(f"  {city} {population:>9,} tracemalloc peak {_mib(mem['tracemalloc_peak_bytes'])} MiB")
    return case


def loglog_slope(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope of log(y) on log(x) and its R²."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    sxy = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
    syy = sum((b - my) ** 2 for b in ly)
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 1.0
    return slope, r2


def affine_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares intercept and slope of y = a + b * x."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return my - b * mx, b


def _loadavg() -> str | None:
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return None


def machine_info(cpu: int | None) -> dict[str, Any]:
    """CPU, core counts and library versions."""
    model_name = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model_name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu_model": model_name,
        "cpu_count": os.cpu_count(),
        "pinned_cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "mesa": version("mesa"),
        "networkx": version("networkx"),
        "clustersim": version("clustersim"),
    }


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f}"


def print_report(result: dict[str, Any]) -> None:
    """Readable tables and the verdict line."""
    m = result["machine"]
    print()
    print(
        f"clustersim benchmark  {result['date']}  steps={result['steps']}  "
        f"repeats={result['repeats']} (median)  seed={SEED}"
    )
    print(
        f"CPU: {m['cpu_model']} ({m['cpu_count']} cores, pinned to cpu {m['pinned_cpu']}); "
        f"Python {m['python']}, numpy {m['numpy']}, mesa {m['mesa']}"
    )
    print(
        f"load average start/end: {m['loadavg_start']} / {m['loadavg_end']} "
        "(cpu/wall < 1: the core was shared during the timed loop)"
    )
    print()
    header = (
        f"{'case':<17}{'pop':>10}{'nodes':>6}{'talents0':>9}{'agents0':>8}{'mean agents':>12}"
        f"{'init s':>7}{'ms/step':>8}{'first/last 10%':>15}{'agent-steps/s':>14}{'best':>11}"
        f"{'us/a-step':>10}{'cpu/wall':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, c in result["cases"].items():
        first_last = (
            f"{c['first_tenth_s_per_step'] * 1e3:.1f}/{c['last_tenth_s_per_step'] * 1e3:.1f}"
        )
        print(
            f"{name:<17}{c['population']:>10,}{c['nodes']:>6}{c['init_talents']:>9,}"
            f"{c['init_agents']:>8,}{c['mean_agents']:>12,.0f}{c['init_s']:>7.2f}"
            f"{c['s_per_step'] * 1e3:>8.2f}{first_last:>15}{c['agent_steps_per_s']:>14,.0f}"
            f"{c['best_agent_steps_per_s']:>11,.0f}"
            f"{c['us_per_agent_step']:>10.3f}{c['cpu_wall_ratio']:>9.2f}"
        )
    print()
    header = (
        f"{'memory':<17}{'peak agents':>12}{'tracemalloc MiB':>16}{'B/agent':>9}"
        f"{'RSS growth MiB':>15}{'B/agent':>9}{'arrays MiB':>11}{'B/agent':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, c in result["cases"].items():
        if "tracemalloc_peak_bytes" not in c:
            continue
        print(
            f"{name:<17}{c['peak_agents']:>12,}{_mib(c['tracemalloc_peak_bytes']):>16}"
            f"{c['tracemalloc_bytes_per_agent']:>9,.0f}{_mib(c['rss_growth_bytes']):>15}"
            f"{c['rss_bytes_per_agent']:>9,.0f}{_mib(c['array_bytes']):>11}"
            f"{c['array_bytes_per_agent']:>9,.0f}"
        )
    print()
    sc = result["scaling"]
    print("scaling (metropolis generator): seconds/step vs mean agents")
    header = (
        f"{'population':>12}{'nodes':>7}{'mean agents':>13}{'ms/step':>10}{'agent-steps/s':>15}"
        f"{'cpu/wall':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in sc["points"]:
        print(
            f"{row['population']:>12,}{row['nodes']:>7}{row['mean_agents']:>13,.0f}"
            f"{row['s_per_step'] * 1e3:>10.2f}{row['agent_steps_per_s']:>15,.0f}"
            f"{row['cpu_wall_ratio']:>9.2f}"
        )
    print(f"log-log slope = {sc['slope']:.3f} (R² = {sc['r2']:.3f}; 1 = linear in agents)")
    print(
        f"  same slope on the best run of each size: {sc['slope_best_run']:.3f}; "
        f"on CPU time: {sc['slope_cpu_time']:.3f}"
    )
    print(
        f"affine fit: s/step = {sc['fixed_s_per_step'] * 1e3:.2f} ms fixed + "
        f"{sc['marginal_s_per_agent_step'] * 1e6:.3f} us x agents "
        f"(marginal {1 / sc['marginal_s_per_agent_step']:,.0f} agent-steps/s)"
    )
    print()
    print(result["verdict"])


def log(msg: str) -> None:
    """Progress line, flushed so a redirected run can be followed."""
    print(msg, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_STEPS} steps, one repeat")
    parser.add_argument("--json", type=Path, help="write all numbers to this JSON file")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile model.step on the 10k-talent city (top 15 entries)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    cpu = pin_to_one_core()
    loadavg_start = _loadavg()

    if args.worker:
        spec = json.loads(args.worker)
        result = _run_case(spec["city"], spec["population"], spec["steps"], spec["mode"])
        print(json.dumps(result))
        return 0

    steps = QUICK_STEPS if args.quick else FULL_STEPS
    repeats = 1 if args.quick else FULL_REPEATS

    cases: dict[str, dict[str, Any]] = {}
    log(f"~10k-talent city ({TEN_K_CITY[0]}, population {TEN_K_CITY[1]:,})")
    cases["10k-talent city"] = measure(*TEN_K_CITY, steps, repeats, memory=True)
    log(f"1M metropolis ({METROPOLIS_1M[0]}, population {METROPOLIS_1M[1]:,})")
    cases["1M metropolis"] = measure(*METROPOLIS_1M, steps, repeats, memory=True)

    log("scaling series")
    points = []
    for pop in SCALING_POPULATIONS:
        if ("metropolis", pop) == METROPOLIS_1M:
            case = cases["1M metropolis"]
        else:
            case = measure("metropolis", pop, steps, repeats, memory=False)
        points.append(
            {
                k: case[k]
                for k in (
                    "population",
                    "nodes",
                    "init_agents",
                    "mean_agents",
                    "s_per_step",
                    "agent_steps_per_s",
                    "us_per_agent_step",
                    "init_s",
                    "cpu_wall_ratio",
                    "best_s_per_step",
                    "cpu_s_per_step",
                )
            }
        )
    xs = [p["mean_agents"] for p in points]
    ys = [p["s_per_step"] for p in points]
    slope, r2 = loglog_slope(xs, ys)
    fixed_s, marginal_s = affine_fit(xs, ys)
    # robustness checks against other processes sharing the machine
    slope_best, _ = loglog_slope(xs, [p["best_s_per_step"] for p in points])
    slope_cpu, _ = loglog_slope(xs, [p["cpu_s_per_step"] for p in points])

    ten_k = cases["10k-talent city"]
    rate = ten_k["agent_steps_per_s"]
    status = "MEETS" if rate >= TARGET_AGENT_STEPS_PER_S else "MISSES"
    verdict = (
        f"VERDICT: 10k-talent city {status} the {TARGET_AGENT_STEPS_PER_S:,} agent-steps/s "
        f"target on one core: {rate:,.0f} agent-steps/s "
        f"({rate / TARGET_AGENT_STEPS_PER_S:.2f}x target; per CPU-second "
        f"{ten_k['agent_steps_per_cpu_s']:,.0f}, cpu/wall {ten_k['cpu_wall_ratio']:.2f}); "
        f"scaling slope {slope:.2f}"
    )
    result = {
        "date": dt.date.today().isoformat(),
        "steps": steps,
        "repeats": repeats,
        "seed": SEED,
        "target_agent_steps_per_s": TARGET_AGENT_STEPS_PER_S,
        "machine": machine_info(cpu),
        "cases": cases,
        "scaling": {
            "points": points,
            "slope": slope,
            "r2": r2,
            "slope_best_run": slope_best,
            "slope_cpu_time": slope_cpu,
            "fixed_s_per_step": fixed_s,
            "marginal_s_per_agent_step": marginal_s,
        },
        "meets_target": rate >= TARGET_AGENT_STEPS_PER_S,
        "verdict": verdict,
    }
    result["machine"]["loadavg_start"] = loadavg_start
    result["machine"]["loadavg_end"] = _loadavg()
    print_report(result)

    if args.profile:
        print()
        print(f"cProfile of model.step, 10k-talent city, {steps} steps:")
        print(_profile_case(*TEN_K_CITY, steps, top=15))

    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
