"""Sweep throughput: runs per minute of a replicated experiment, end to end, on every core.

Issue 14's sweep target: at least 150 runs a minute for the 10k-talent city (the
metropolis generator at 556,000 inhabitants, the case of ``bench_model.py``), 120
months a run, on the machine's 2 cores. The script writes a comparison design of one
site and one arm (no policy) with ``--replicates`` replicates, and runs it with the
command users run, ``clustersim-experiment run --design ... --n-jobs N`` (a fresh
process: imports, worker processes, every run's tables written atomically, the
aggregation and the HTML report), three times in a temporary spin-up cache folder:

* **cold**: an empty spin-up cache, so every replicate seed first runs its spin-up
  (``spin_up.months``, 1,200 by default) and caches it;
* **warm**: the same design again with ``--force`` (every run recomputed) into a new
  folder: the spin-ups come from the cache, as in any later sweep of the same city and
  seeds (other arms, other policy settings, other months);
* **runs only**: the warm sweep's own seconds per run, from each run's ``meta.json``
  (construction from the cache + the months + writing), summed over runs.

With several sizes (``--replicates 40 100``) the largest runs cold once and every size
runs warm (one root seed: a smaller sweep's replicate seeds are the first of the larger
one's, so its spin-ups are cached too), and a line ``fixed + per_run x runs`` seconds is
fitted through the warm sweeps: the fixed part (starting the command and the workers,
aggregating, the report), the most runs a minute any sweep of the case reaches
(60 / per_run), and the size from which a sweep reaches the target.

Runs a minute = replicates / wall seconds x 60. Mesa's BoltzmannWealth(10k) is
timed in this process before and after (agent-steps per second on one core, as in
``bench_model.py``), and the load average is printed, so figures made on a busy
machine can be told from figures made on a quiet one.

Usage::

    python benchmarks/bench_sweep.py [--replicates 40 [100 ...]] [--n-jobs 2] [--steps 120]
                                     [--population 556000] [--city metropolis] [--json out.json]

With ``--city small_town --population 12000`` the cold sweep is what a sensitivity
analysis or a calibration pays per point (each point has its own parameters, so its
own spin-up): runs a minute cold is their throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent


def _design(
    replicates: int, steps: int, population: int, n_jobs: int, city: str = "metropolis"
) -> dict[str, Any]:
    """A comparison design: one site (``city`` of ``population``), one arm without policy."""
    return {
        "name": "bench_sweep",
        "kind": "comparison",
        "title": "Sweep throughput benchmark",
        "root_seed": 14,
        "replicates": replicates,
        "steps": steps,
        "baseline": "none",
        "n_jobs": n_jobs,
        "sites": {
            "city": {
                "label": f"{city} of {population:,}",
                "overrides": [f"city={city}", f"city.population={population}"],
            }
        },
        "arms": {"none": ["plan=none"]},
    }


def _boltzmann_rate(steps: int = 20) -> float:
    """BoltzmannWealth(10k) agent-steps per second of wall time in this process."""
    sys.path.insert(0, str(HERE))
    from bench_nodes import _boltzmann

    model = _boltzmann()
    started = time.perf_counter()
    agent_steps = 0
    for _ in range(steps):
        model.step()
        agent_steps += len(model.agents)
    return agent_steps / (time.perf_counter() - started)


def _run(design: Path, out: Path, n_jobs: int, env: dict[str, str], force: bool) -> float:
    """Wall seconds of ``clustersim-experiment run`` on the design (fails loudly)."""
    command = [sys.executable, "-m", "clustersim.experiments.cli", "run", "--design", str(design)]
    command += ["--out", str(out), "--n-jobs", str(n_jobs)] + (["--force"] if force else [])
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"bench_sweep: the sweep failed:\n{proc.stderr[-2000:]}")
    return seconds


def _run_seconds(out: Path) -> tuple[float, list[str]]:
    """Summed wall seconds of the runs (their meta.json) and their spin-up sources."""
    total, sources = 0.0, []
    for meta_file in sorted((out / "runs").glob("*/meta.json")):
        meta = json.loads(meta_file.read_text())
        total += float(meta.get("wall_time_s", 0.0))
        sources.append(str(meta.get("spin_up_source")))
    return total, sources


TARGET_RUNS_PER_MIN = 150
"""Issue 14's sweep target (runs a minute, end to end, the 10k-talent city on 2 cores)."""


def _fit(sizes: list[int], seconds: list[float]) -> dict[str, float] | None:
    """Least-squares line ``seconds = fixed + per_run * runs`` through the warm sweeps.

    From it: the most runs a minute any sweep of this case reaches (``60 / per_run``),
    and the sweep size from which it reaches ``TARGET_RUNS_PER_MIN`` (inf when never).
    """
    if len(set(sizes)) < 2:
        return None
    per_run, fixed = (float(v) for v in np.polyfit(sizes, seconds, 1))
    rate = TARGET_RUNS_PER_MIN / 60
    gap = 1 - rate * per_run  # runs/s = n / (fixed + per_run n) >= rate  <=>  n gap >= rate fixed
    needed = rate * fixed / gap if gap > 0 else float("inf")
    return {
        "fixed_s": fixed,
        "per_run_s": per_run,
        "most_runs_per_min": 60 / per_run if per_run > 0 else float("inf"),
        "runs_for_target": max(needed, 0.0),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the sweep cold and warm; print runs a minute against the reference."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--replicates",
        type=int,
        nargs="+",
        default=[40],
        help="sweep sizes (default 40); with several, the largest runs cold once, each runs "
        "warm, and a line fixed + per-run seconds is fitted through the warm sweeps",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--population", type=int, default=556_000)
    parser.add_argument(
        "--city",
        default="metropolis",
        help="city kind (default metropolis; small_town --population 12000 is the town of "
        "the sensitivity analyses, whose cold sweep is their cost per point)",
    )
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.replicates))
    if sizes[0] < 1:
        parser.error(f"--replicates must be >= 1, got {sizes[0]}")
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    warm: dict[int, float] = {}
    try:
        env = {**os.environ, "CLUSTERSIM_CACHE_DIR": str(work / "cache")}
        designs = {}
        for n in sizes:  # one root seed: a smaller sweep's seeds are the larger one's first
            designs[n] = work / f"bench_sweep_{n}.yaml"
            designs[n].write_text(
                yaml.safe_dump(_design(n, args.steps, args.population, args.n_jobs, args.city))
            )
        load_before = os.getloadavg()
        reference_before = _boltzmann_rate()
        n_cold = sizes[-1]
        cold = _run(designs[n_cold], work / "cold", args.n_jobs, env, force=False)
        for n in sizes:
            warm[n] = _run(designs[n], work / f"warm{n}", args.n_jobs, env, force=True)
        reference_after = _boltzmann_rate()
        load_after = os.getloadavg()
        run_s, sources = _run_seconds(work / f"warm{n_cold}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fit = _fit(sizes, [warm[n] for n in sizes])
    result = {
        "replicates": sizes,
        "n_jobs": args.n_jobs,
        "steps": args.steps,
        "population": args.population,
        "city": args.city,
        "cold_replicates": n_cold,
        "cold_s": cold,
        "cold_runs_per_min": n_cold / cold * 60,
        "warm_s": {str(n): warm[n] for n in sizes},
        "warm_runs_per_min": {str(n): n / warm[n] * 60 for n in sizes},
        "warm_run_s_mean": run_s / n_cold,
        "warm_spin_up_sources": sorted(set(sources)),
        "fit": fit,
        "boltzmann_agent_steps_per_s": [reference_before, reference_after],
        "loadavg": [load_before, load_after],
    }
    print(
        f"sweeps of {args.city} of {args.population:,}, {args.steps} months, {args.n_jobs} workers"
    )
    rows = [(f"cold, {n_cold} runs (spin-ups run):", cold, n_cold)]
    rows += [(f"warm, {n} runs (spin-ups cached):", warm[n], n) for n in sizes]
    for label, seconds, n in rows:
        print(f"  {label:<34} {seconds:7.1f} s  {n / seconds * 60:6.1f} runs/min")
    origin = ", ".join(set(sources))
    print(f"  {'a warm run own time:':<34} {run_s / n_cold:7.2f} s (spin-up from {origin})")
    if fit:
        print(
            f"  fit: {fit['fixed_s']:.2f} s + {fit['per_run_s']:.3f} s a run; at most "
            f"{fit['most_runs_per_min']:.0f} runs/min; {TARGET_RUNS_PER_MIN} runs/min from "
            f"{fit['runs_for_target']:.0f} runs on"
        )
    print(
        f"  BoltzmannWealth(10k): {reference_before:,.0f} / {reference_after:,.0f} "
        "agent-steps/s (before / after, one core)"
    )
    print(f"  load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
