"""Whole-model speed and memory benchmark of CreativeClusterModel, against Mesa's BoltzmannWealth.

Measures, on one pinned core:

* agent-steps per second (sum over steps of Mesa agents alive after the step,
  divided by the wall time of the step loop; construction is timed separately),
* the same figure for Mesa's own BoltzmannWealth example with 10,000 agents, timed
  in the same worker process right before and right after the clustersim run, and
  the **ratio** clustersim / BoltzmannWealth (the speed target: machines are shared
  and noisy, a ratio measured side by side is not),
* the spin-up: construction with an empty spin-up cache (the spin-up is run) and
  with a warm one (the cached end state is loaded), in a temporary
  ``CLUSTERSIM_CACHE_DIR`` per benchmark run,
* memory per agent (tracemalloc peak, RSS growth and agent-table bytes),

for a 556k metropolis (about 10,000 initial talents before issue 9), a
1M-population metropolis and a scaling series of metropolis populations (log-log
slope of seconds per step against mean agents alive; 1 means cost grows
linearly with agents).

Every measurement runs in a fresh child process (this script with ``--worker``)
so that RSS figures and allocator state do not leak from one case to the next.
The script works with model code that has no spin-up (before issue 9): run it
with ``PYTHONPATH=<other checkout>/src`` to measure that code with the same venv.

Usage::

    python benchmarks/bench_model.py [--quick] [--json out.json] [--profile]
                                     [--compare baseline.json]
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
import importlib.util  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
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

# population of the metropolis generator that gave ~10,000 initial talents (1.8 %)
# before issue 9; kept as the same input so that old and new code are compared on it
TEN_K_CITY = ("metropolis", 556_000)
METROPOLIS_1M = ("metropolis", 1_000_000)
SCALING_POPULATIONS = (125_000, 250_000, 500_000, 1_000_000, 2_000_000)

# The reference: Mesa's BoltzmannWealth example as shipped with Mesa, at the size of
# Mesa's own benchmark configuration "large" (10,000 agents on a 100 x 100 grid).
REFERENCE_NAME = "BoltzmannWealth(10k)"
REFERENCE_MODULE = "mesa.examples.basic.boltzmann_wealth_model.model"
REFERENCE_AGENTS = 10_000
REFERENCE_GRID = (100, 100)
# medians of two full runs of the same code differed by up to 13 % on the busy machine
NOISE = 0.15

CACHE_ENV = "CLUSTERSIM_CACHE_DIR"  # clustersim.model.spinup_cache.CACHE_ENV
# set by tests/conftest.py for launched commands: would switch the spin-up off
_TEST_ENV = "CLUSTERSIM_TESTS_DRAWN_START"


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


def _step_loop(model: Any, steps: int) -> dict[str, Any]:
    """Call ``model.step()`` ``steps`` times; the same loop times clustersim and the reference.

    After each step it adds the number of Mesa agents alive to the
    agent-step count; wall time (``perf_counter``) and CPU time
    (``process_time``) cover the loop only.
    """
    alive_per_step: list[int] = []
    step = model.step
    count = _agent_counter(model)
    step_s: list[float] = []
    clock = time.perf_counter
    gc.collect()
    cpu0 = time.process_time()
    t0 = last = clock()
    for _ in range(steps):
        step()
        now = clock()
        step_s.append(now - last)
        last = now
        alive_per_step.append(count())
    run_s = clock() - t0
    run_cpu_s = time.process_time() - cpu0
    tenth = max(steps // 10, 1)
    return {
        "steps": steps,
        "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "agent_steps": sum(alive_per_step),
        "final_agents": alive_per_step[-1],
        "peak_agents": max(alive_per_step),
        "first_tenth_s_per_step": sum(step_s[:tenth]) / tenth,
        "last_tenth_s_per_step": sum(step_s[-tenth:]) / tenth,
    }


def _agent_counter(model: Any) -> Any:
    """``len(model.agents)`` as a function; clustersim counts its agents without making them.

    ``model.count_agents()`` (since issue 14) does not make the talents' agents that
    nobody has read; older code and the reference have only ``len(model.agents)``.
    """
    count = getattr(model, "count_agents", None)
    if count is not None:
        return count
    agents = model.agents
    return lambda: len(agents)


def _run_reference(steps: int) -> dict[str, Any]:
    """Build and step Mesa's BoltzmannWealth (10k agents, 100 x 100 grid) in this process."""
    module = __import__(REFERENCE_MODULE, fromlist=["BoltzmannWealth", "BoltzmannScenario"])
    width, height = REFERENCE_GRID
    gc.collect()
    t0 = time.perf_counter()
    model = module.BoltzmannWealth(
        module.BoltzmannScenario(rng=SEED, n=REFERENCE_AGENTS, width=width, height=height)
    )
    init_s = time.perf_counter() - t0
    result = {"init_s": init_s, "init_agents": _agent_counter(model)(), **_step_loop(model, steps)}
    del model
    gc.collect()
    return result


def _build(city: str, population: int, **groups: Any) -> tuple[Any, float, float]:
    """Construct a model; returns it with the wall and CPU seconds of construction."""
    from clustersim import CreativeClusterModel

    gc.collect()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    model = CreativeClusterModel(rng=SEED, city=city, population=population, **groups)
    return model, time.perf_counter() - t0, time.process_time() - cpu0


def _spin_up_info(model: Any) -> dict[str, Any]:
    """How month 0 was reached (code before issue 9 has no spin-up: 0 months, "none")."""
    return {
        "spin_up_months": int(getattr(model, "spin_up_months", 0)),
        "spin_up_source": str(getattr(model, "spin_up_source", "none")),
    }


def _cache_bytes() -> int:
    """Bytes of the spin-up files in ``$CLUSTERSIM_CACHE_DIR`` (0 when unset or empty)."""
    folder = os.environ.get(CACHE_ENV)
    if not folder or not Path(folder).is_dir():
        return 0
    return sum(p.stat().st_size for p in Path(folder).glob("*.npz"))


def _run_spin_up(city: str, population: int) -> dict[str, Any]:
    """Construction from the drawn state (no spin-up) and with an empty cache (the spin-up)."""
    import clustersim  # noqa: F401  (imported before any clock starts)

    out: dict[str, Any] = {"city": city, "population": population}
    out["cache_bytes_before"] = _cache_bytes()
    if _has_spin_up():
        model, out["draw_s"], out["draw_cpu_s"] = _build(city, population, spin_up={"months": 0})
        del model
    model, out["cold_init_s"], out["cold_init_cpu_s"] = _build(city, population)
    out.update(_spin_up_info(model))
    out["cache_bytes"] = _cache_bytes()
    out["init_talents"] = int(model.talents.alive.sum())
    out["init_agents"] = _agent_counter(model)()
    return out


def _has_spin_up() -> bool:
    """Whether the model code has the ``spin_up`` parameter group (issue 9 and later)."""
    return importlib.util.find_spec("clustersim.model.spinup") is not None


def _run_case(city: str, population: int, steps: int, mode: str, reference: bool) -> dict[str, Any]:
    """Build and step one model in this process.

    ``mode`` is "time" (timed loop, with the reference before and after when
    ``reference``), "rss" (peak RSS growth, untimed) or "memory" (tracemalloc,
    untimed). RSS and tracemalloc are measured in runs of their own: the
    reference would leave freed memory behind that the model then reuses.
    """
    import clustersim  # noqa: F401  (imported before any clock or trace starts)

    result: dict[str, Any] = {"city": city, "population": population}
    if mode == "time" and reference:
        result["reference_before"] = _run_reference(steps)
    gc.collect()
    rss_before = _rss_bytes()
    hwm_reset = _reset_peak_rss()
    if mode == "memory":
        tracemalloc.start()
    model, result["init_s"], result["init_cpu_s"] = _build(city, population)
    result.update(_spin_up_info(model))
    result["init_talents"] = int(model.talents.alive.sum())
    result["init_firms"] = int(model.firms.alive.sum())
    result["init_agents"] = _agent_counter(model)()
    result.update(_step_loop(model, steps))
    result.update(
        nodes=int(model.n_nodes),
        final_talents=int(model.talents.alive.sum()),
        final_firms=int(model.firms.alive.sum()),
        rows_ever=int(model.talents.n + model.firms.n),
        array_bytes=int(model.talents.nbytes() + model.firms.nbytes()),
    )
    if mode == "memory":
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_peak_bytes"] = peak
    elif mode == "rss":
        result["rss_before_bytes"] = rss_before
        result["rss_peak_bytes"] = _peak_rss_bytes()
        result["rss_growth_bytes"] = result["rss_peak_bytes"] - rss_before
        result["rss_peak_reset"] = hwm_reset
    if mode == "time" and reference:
        del model
        result["reference_after"] = _run_reference(steps)
    return result


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    """The job of one child process."""
    if spec["mode"] == "spinup":
        return _run_spin_up(spec["city"], spec["population"])
    return _run_case(
        spec["city"], spec["population"], spec["steps"], spec["mode"], spec["reference"]
    )


# --------------------------------------------------------------------------- profile

_PHASE_DIR = "clustersim/model/"


def _profile_case(city: str, population: int, steps: int, top: int) -> str:
    """cProfile of ``model.step`` (construction excluded): top entries and the model's functions."""
    model, _, _ = _build(city, population)
    profiler = cProfile.Profile(time.process_time)  # CPU time: robust to a shared core
    profiler.enable()
    for _ in range(steps):
        model.step()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt
    rows = []
    for (filename, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():
        path = filename.replace(os.sep, "/")
        if _PHASE_DIR in path:
            where = path.split(_PHASE_DIR, 1)[1]
            rows.append((cumtime, tottime, calls, f"{where}:{line}({func})"))
    rows.sort(reverse=True)
    out.write(
        f"clustersim.model functions by cumulative CPU time, >= 0.5 % ({steps} steps, "
        f"{1e3 * total / steps:.2f} ms/step profiled)\n"
    )
    out.write(f"{'cum %':>7}{'cum ms/step':>13}{'own ms/step':>13}{'calls':>8}  function\n")
    for cumtime, tottime, calls, name in rows:
        if cumtime < 0.005 * total:  # below 0.5 % of the step
            break
        out.write(
            f"{100 * cumtime / total:>7.1f}{1e3 * cumtime / steps:>13.3f}"
            f"{1e3 * tottime / steps:>13.3f}{calls:>8}  {name}\n"
        )
    out.write("\n")
    stats.strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --------------------------------------------------------------------------- parent side


def _spawn(spec: dict[str, Any], cache_dir: Path) -> dict[str, Any]:
    """Run one job in a fresh interpreter, with ``cache_dir`` as spin-up cache; its JSON result."""
    env = dict(os.environ)
    env[CACHE_ENV] = str(cache_dir)
    env.pop(_TEST_ENV, None)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed for {spec}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rate(run: dict[str, Any], seconds: str = "run_s") -> float:
    return run["agent_steps"] / run[seconds]


def _reference_totals(run: dict[str, Any]) -> dict[str, Any]:
    """The reference runs before and after one clustersim run, pooled."""
    before, after = run["reference_before"], run["reference_after"]
    pooled = {k: before[k] + after[k] for k in ("agent_steps", "run_s", "run_cpu_s")}
    return {
        "before_agent_steps_per_s": _rate(before),
        "after_agent_steps_per_s": _rate(after),
        "agent_steps_per_s": _rate(pooled),
        "agent_steps_per_cpu_s": _rate(pooled, "run_cpu_s"),
        "cpu_wall_ratio": pooled["run_cpu_s"] / pooled["run_s"],
        "init_s": (before["init_s"] + after["init_s"]) / 2,
    }


def _derive(run: dict[str, Any]) -> dict[str, Any]:
    run = dict(run)
    run["s_per_step"] = run["run_s"] / run["steps"]
    run["mean_agents"] = run["agent_steps"] / run["steps"]
    run["agent_steps_per_s"] = _rate(run)
    run["agent_steps_per_cpu_s"] = _rate(run, "run_cpu_s")
    run["us_per_agent_step"] = 1e6 * run["run_s"] / run["agent_steps"]
    if "reference_before" in run:
        ref = _reference_totals(run)
        run["reference"] = ref
        run["ratio"] = run["agent_steps_per_s"] / ref["agent_steps_per_s"]
        run["ratio_cpu"] = run["agent_steps_per_cpu_s"] / ref["agent_steps_per_cpu_s"]
    return run


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["run_s"])[len(runs) // 2]  # odd repeats


def _spin_up_summary(spin: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Spin-up run (cold cache) and cache load (warm cache: the timed runs' construction)."""
    return {
        "months": spin["spin_up_months"],
        "cold_source": spin["spin_up_source"],
        "warm_sources": sorted({r["spin_up_source"] for r in runs}),
        "draw_s": spin.get("draw_s"),
        "cold_init_s": spin["cold_init_s"],
        "cold_init_cpu_s": spin["cold_init_cpu_s"],
        "warm_init_s": statistics.median(r["init_s"] for r in runs),
        "warm_init_cpu_s": statistics.median(r["init_cpu_s"] for r in runs),
        "cache_bytes": spin["cache_bytes"],
        "cache_bytes_before": spin["cache_bytes_before"],
    }


def _reference_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median ratio over the repeats, and the reference speeds behind it."""
    ratios = [r["ratio"] for r in runs]
    return {
        "ratio": statistics.median(ratios),
        "ratio_all": ratios,
        "ratio_cpu": statistics.median(r["ratio_cpu"] for r in runs),
        "reference_agent_steps_per_s": statistics.median(
            r["reference"]["agent_steps_per_s"] for r in runs
        ),
        "reference_before_after": [
            (r["reference"]["before_agent_steps_per_s"], r["reference"]["after_agent_steps_per_s"])
            for r in runs
        ],
        "reference_cpu_wall_ratio": statistics.median(
            r["reference"]["cpu_wall_ratio"] for r in runs
        ),
        "reference_init_s": statistics.median(r["reference"]["init_s"] for r in runs),
    }


def measure(
    city: str,
    population: int,
    steps: int,
    repeats: int,
    *,
    memory: bool,
    reference: bool,
    cache_root: Path,
) -> dict[str, Any]:
    """One case: the spin-up (empty cache), then ``repeats`` timed runs (warm cache).

    The timed runs bracket the clustersim loop with the reference when
    ``reference``; ``memory`` adds one RSS and one tracemalloc run.
    """
    cache_dir = cache_root / f"{city}-{population}"
    cache_dir.mkdir(parents=True, exist_ok=False)  # empty: the first construction spins up
    spin = _spawn({"mode": "spinup", "city": city, "population": population}, cache_dir)
    log(
        f"  {city} {population:>9,} construction: {spin['spin_up_months']} months spin-up "
        f"({spin['spin_up_source']}) {spin['cold_init_s']:.2f} s"
    )
    spec = {"city": city, "population": population, "steps": steps, "reference": reference}
    runs = []
    for i in range(repeats):
        run = _derive(_spawn({**spec, "mode": "time"}, cache_dir))
        ratio = f", ratio {run['ratio']:.2f}" if reference else ""
        log(
            f"  {city} {population:>9,} run {i + 1}/{repeats}: "
            f"{run['agent_steps_per_s']:>12,.0f} agent-steps/s, "
            f"{run['s_per_step'] * 1e3:7.2f} ms/step, init {run['init_s']:.2f} s "
            f"({run['spin_up_source']}){ratio}"
        )
        runs.append(run)
    med = _median_run(runs)
    case = {k: med[k] for k in _CASE_KEYS}
    case.update(
        repeats=repeats,
        init_s=statistics.median(r["init_s"] for r in runs),
        run_s=statistics.median(r["run_s"] for r in runs),
        run_s_all=[r["run_s"] for r in runs],
        run_cpu_s=statistics.median(r["run_cpu_s"] for r in runs),
        spin_up=_spin_up_summary(spin, runs),
    )
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
    case["array_bytes_per_agent"] = case["array_bytes"] / case["peak_agents"]
    if reference:
        case["reference"] = _reference_summary(runs)
    if memory:
        rss = _spawn({**spec, "reference": False, "mode": "rss"}, cache_dir)
        case["rss_growth_bytes"] = rss["rss_growth_bytes"]
        case["rss_bytes_per_agent"] = rss["rss_growth_bytes"] / rss["peak_agents"]
        mem = _spawn({**spec, "reference": False, "mode": "memory"}, cache_dir)
        case["tracemalloc_peak_bytes"] = mem["tracemalloc_peak_bytes"]
        case["tracemalloc_bytes_per_agent"] = mem["tracemalloc_peak_bytes"] / mem["peak_agents"]
        log(
            f"  {city} {population:>9,} RSS growth {_mib(rss['rss_growth_bytes'])} MiB, "
            f"tracemalloc peak {_mib(mem['tracemalloc_peak_bytes'])} MiB"
        )
    return case


_CASE_KEYS = (
    "city",
    "population",
    "steps",
    "nodes",
    "init_talents",
    "init_firms",
    "init_agents",
    "final_agents",
    "peak_agents",
    "mean_agents",
    "agent_steps",
    "first_tenth_s_per_step",
    "last_tenth_s_per_step",
    "rows_ever",
    "array_bytes",
    "spin_up_months",
)


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


def _code_info() -> dict[str, Any]:
    """Which clustersim the workers import (PYTHONPATH counts) and its git commit."""
    spec = importlib.util.find_spec("clustersim")
    origin = Path(spec.origin).resolve().parent if spec and spec.origin else None
    info: dict[str, Any] = {"clustersim_path": str(origin), "has_spin_up": _has_spin_up()}
    if origin is None:
        return info

    def git(*args: str) -> str | None:
        proc = subprocess.run(
            ["git", "-C", str(origin), *args], capture_output=True, text=True, check=False
        )
        return proc.stdout.strip() if proc.returncode == 0 else None

    info["clustersim_commit"] = git("rev-parse", "--short", "HEAD")
    status = git("status", "--porcelain", "--", ".")
    info["clustersim_uncommitted_changes"] = bool(status) if status is not None else None
    return info


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
        **_code_info(),
    }


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f}"


def _print_speed(result: dict[str, Any]) -> None:
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


def _print_reference(result: dict[str, Any]) -> None:
    print(
        f"reference: Mesa {REFERENCE_NAME} ({REFERENCE_MODULE}, {REFERENCE_AGENTS:,} agents, "
        f"{REFERENCE_GRID[0]}x{REFERENCE_GRID[1]} grid), same steps, same process, "
        "before and after the clustersim loop"
    )
    header = (
        f"{'case':<17}{'clustersim a-s/s':>17}{'Boltzmann a-s/s':>16}  {'before/after':<32}"
        f"{'ratio':>7}{'ratio cpu':>10}{'all ratios':>20}{'cpu/wall cs/ref':>16}"
    )
    print(header)
    print("-" * len(header))
    for name, c in result["cases"].items():
        ref = c.get("reference")
        if ref is None:
            continue
        ba = "; ".join(f"{b / 1e3:.0f}k/{a / 1e3:.0f}k" for b, a in ref["reference_before_after"])
        ratios = " ".join(f"{x:.2f}" for x in ref["ratio_all"])
        print(
            f"{name:<17}{c['agent_steps_per_s']:>17,.0f}{ref['reference_agent_steps_per_s']:>16,.0f}"
            f"  {ba:<32}{ref['ratio']:>7.2f}{ref['ratio_cpu']:>10.2f}{ratios:>20}"
            f"{c['cpu_wall_ratio']:>9.2f}/{ref['reference_cpu_wall_ratio']:.2f}"
        )


def _print_spin_up(result: dict[str, Any]) -> None:
    print(f"spin-up (temporary {CACHE_ENV} per run; construction wall s, cpu s in brackets)")
    header = (
        f"{'case':<17}{'months':>7}{'drawn state':>12}{'empty cache (spin-up)':>24}"
        f"{'warm cache (load)':>20}{'cache MiB':>10}{'sources cold/warm':>20}"
    )
    print(header)
    print("-" * len(header))
    for name, c in result["cases"].items():
        s = c["spin_up"]
        draw = f"{s['draw_s']:.2f}" if s["draw_s"] is not None else "-"
        cold = f"{s['cold_init_s']:.2f} ({s['cold_init_cpu_s']:.2f})"
        warm = f"{s['warm_init_s']:.2f} ({s['warm_init_cpu_s']:.2f})"
        sources = f"{s['cold_source']}/{','.join(s['warm_sources'])}"
        print(
            f"{name:<17}{s['months']:>7}{draw:>12}{cold:>24}{warm:>20}"
            f"{_mib(s['cache_bytes']):>10}{sources:>20}"
        )


def _print_memory(result: dict[str, Any]) -> None:
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


def _print_scaling(result: dict[str, Any]) -> None:
    sc = result["scaling"]
    print("scaling (metropolis generator): seconds/step vs mean agents")
    header = (
        f"{'population':>12}{'nodes':>7}{'mean agents':>13}{'ms/step':>10}{'agent-steps/s':>15}"
        f"{'cpu/wall':>9}{'spin-up s':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in sc["points"]:
        print(
            f"{row['population']:>12,}{row['nodes']:>7}{row['mean_agents']:>13,.0f}"
            f"{row['s_per_step'] * 1e3:>10.2f}{row['agent_steps_per_s']:>15,.0f}"
            f"{row['cpu_wall_ratio']:>9.2f}{row['spin_up_s']:>10.2f}"
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


def print_report(result: dict[str, Any]) -> None:
    """Readable tables and the verdict lines."""
    m = result["machine"]
    print()
    print(
        f"clustersim benchmark  {result['date']}  steps={result['steps']}  "
        f"repeats={result['repeats']} (median)  seed={SEED}"
    )
    print(
        f"code: {m['clustersim_path']} (commit {m.get('clustersim_commit')}, uncommitted "
        f"changes: {m.get('clustersim_uncommitted_changes')}; spin-up: {m['has_spin_up']})"
    )
    print(
        f"CPU: {m['cpu_model']} ({m['cpu_count']} cores, pinned to cpu {m['pinned_cpu']}); "
        f"Python {m['python']}, numpy {m['numpy']}, mesa {m['mesa']}"
    )
    print(
        f"load average start/end: {m['loadavg_start']} / {m['loadavg_end']} "
        "(cpu/wall < 1: the core was shared during the timed loop)"
    )
    parts = [_print_speed, _print_reference, _print_spin_up, _print_memory]
    if result["scaling"] is not None:
        parts.append(_print_scaling)
    for part in parts:
        print()
        part(result)
    print()
    for line in result["verdict"]:
        print(line)


def log(msg: str) -> None:
    """Progress line, flushed so a redirected run can be followed."""
    print(msg, flush=True)


def _scaling(
    cases: dict[str, dict[str, Any]], steps: int, repeats: int, cache_root: Path
) -> dict[str, Any]:
    """Seconds per step against mean agents over the metropolis populations."""
    points = []
    for pop in SCALING_POPULATIONS:
        if ("metropolis", pop) == METROPOLIS_1M:
            case = cases["1M metropolis"]
        else:
            case = measure(
                "metropolis",
                pop,
                steps,
                repeats,
                memory=False,
                reference=False,
                cache_root=cache_root,
            )
        point = {k: case[k] for k in _SCALING_KEYS}
        point["spin_up_s"] = case["spin_up"]["cold_init_s"]
        points.append(point)
    xs = [p["mean_agents"] for p in points]
    ys = [p["s_per_step"] for p in points]
    slope, r2 = loglog_slope(xs, ys)
    fixed_s, marginal_s = affine_fit(xs, ys)
    # robustness checks against other processes sharing the machine
    slope_best, _ = loglog_slope(xs, [p["best_s_per_step"] for p in points])
    slope_cpu, _ = loglog_slope(xs, [p["cpu_s_per_step"] for p in points])
    return {
        "points": points,
        "slope": slope,
        "r2": r2,
        "slope_best_run": slope_best,
        "slope_cpu_time": slope_cpu,
        "fixed_s_per_step": fixed_s,
        "marginal_s_per_agent_step": marginal_s,
    }


_SCALING_KEYS = (
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


def _verdict(cases: dict[str, dict[str, Any]], baseline: dict[str, Any] | None) -> list[str]:
    """The ratio to the reference per case, against a baseline result when given."""
    lines = []
    for name, c in cases.items():
        ref = c["reference"]
        line = (
            f"RATIO {name}: clustersim / {REFERENCE_NAME} = {ref['ratio']:.2f} "
            f"(cpu-time ratio {ref['ratio_cpu']:.2f}; {c['agent_steps_per_s']:,.0f} vs "
            f"{ref['reference_agent_steps_per_s']:,.0f} agent-steps/s)"
        )
        old = (baseline or {}).get("cases", {}).get(name, {}).get("reference")
        if old is not None:
            share = ref["ratio"] / old["ratio"]
            if share >= 1.0:
                holds = "HOLDS"
            elif share >= 1.0 - NOISE:
                holds = f"below, but within the run-to-run noise (+-{NOISE:.0%})"
            else:
                holds = "DOES NOT HOLD"
            line += (
                f"; baseline {old['ratio']:.2f} (cpu {old['ratio_cpu']:.2f}) -> "
                f"{share:.2f}x of baseline: 'at or above' {holds}"
            )
        lines.append(line)
    ten_k = cases["10k-talent city"]
    rate = ten_k["agent_steps_per_s"]
    status = "MEETS" if rate >= TARGET_AGENT_STEPS_PER_S else "MISSES"
    lines.append(
        f"absolute: 10k-talent city {status} the {TARGET_AGENT_STEPS_PER_S:,} agent-steps/s "
        f"target on one core: {rate:,.0f} agent-steps/s (per CPU-second "
        f"{ten_k['agent_steps_per_cpu_s']:,.0f}, cpu/wall {ten_k['cpu_wall_ratio']:.2f})"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_STEPS} steps, one repeat")
    parser.add_argument("--json", type=Path, help="write all numbers to this JSON file")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile model.step on the 10k-talent city (top 25 entries)",
    )
    parser.add_argument(
        "--compare", type=Path, help="a JSON result of an earlier run: compare the ratios"
    )
    parser.add_argument(
        "--no-scaling", action="store_true", help="skip the scaling series (main cases only)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    cpu = pin_to_one_core()
    loadavg_start = _loadavg()

    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0

    steps = QUICK_STEPS if args.quick else FULL_STEPS
    repeats = 1 if args.quick else FULL_REPEATS
    baseline = json.loads(args.compare.read_text(encoding="utf-8")) if args.compare else None
    cache_root = Path(tempfile.mkdtemp(prefix="clustersim-bench-cache-"))
    try:
        cases: dict[str, dict[str, Any]] = {}
        for name, (city, pop) in (
            ("10k-talent city", TEN_K_CITY),
            ("1M metropolis", METROPOLIS_1M),
        ):
            log(f"{name} ({city}, population {pop:,})")
            cases[name] = measure(
                city, pop, steps, repeats, memory=True, reference=True, cache_root=cache_root
            )
        scaling = None
        if not args.no_scaling:
            log("scaling series")
            scaling = _scaling(cases, steps, repeats, cache_root)
        result = {
            "date": dt.date.today().isoformat(),
            "steps": steps,
            "repeats": repeats,
            "seed": SEED,
            "reference": {
                "model": REFERENCE_NAME,
                "module": REFERENCE_MODULE,
                "agents": REFERENCE_AGENTS,
                "grid": list(REFERENCE_GRID),
            },
            "target_agent_steps_per_s": TARGET_AGENT_STEPS_PER_S,
            "machine": machine_info(cpu),
            "cases": cases,
            "scaling": scaling,
            "verdict": _verdict(cases, baseline),
        }
        result["machine"]["loadavg_start"] = loadavg_start
        result["machine"]["loadavg_end"] = _loadavg()
        print_report(result)

        if args.profile:
            os.environ[CACHE_ENV] = str(cache_root / f"{TEN_K_CITY[0]}-{TEN_K_CITY[1]}")
            os.environ.pop(_TEST_ENV, None)
            print()
            print(f"cProfile of model.step, 10k-talent city, {steps} steps:")
            print(_profile_case(*TEN_K_CITY, steps, top=25))
    finally:
        shutil.rmtree(cache_root, ignore_errors=True)

    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
