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

Runs a minute = replicates / wall seconds x 60. Mesa's BoltzmannWealth(10k) is
timed in this process before and after (agent-steps per second on one core, as in
``bench_model.py``), and the load average is printed, so figures made on a busy
machine can be told from figures made on a quiet one.

Usage::

    python benchmarks/bench_sweep.py [--replicates 40] [--n-jobs 2] [--steps 120]
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


def main(argv: list[str] | None = None) -> int:
    """Run the sweep cold and warm; print runs a minute against the reference."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--replicates", type=int, default=40)
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
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        env = {**os.environ, "CLUSTERSIM_CACHE_DIR": str(work / "cache")}
        design = work / "bench_sweep.yaml"
        design.write_text(
            yaml.safe_dump(
                _design(args.replicates, args.steps, args.population, args.n_jobs, args.city)
            )
        )
        load_before = os.getloadavg()
        reference_before = _boltzmann_rate()
        cold = _run(design, work / "cold", args.n_jobs, env, force=False)
        warm = _run(design, work / "warm", args.n_jobs, env, force=True)
        reference_after = _boltzmann_rate()
        load_after = os.getloadavg()
        run_s, sources = _run_seconds(work / "warm")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = args.replicates
    result = {
        "replicates": n,
        "n_jobs": args.n_jobs,
        "steps": args.steps,
        "population": args.population,
        "city": args.city,
        "cold_s": cold,
        "warm_s": warm,
        "cold_runs_per_min": n / cold * 60,
        "warm_runs_per_min": n / warm * 60,
        "warm_run_s_mean": run_s / n,
        "warm_spin_up_sources": sorted(set(sources)),
        "boltzmann_agent_steps_per_s": [reference_before, reference_after],
        "loadavg": [load_before, load_after],
    }
    print(
        f"sweep of {n} runs ({args.city} of {args.population:,}, {args.steps} months), "
        f"{args.n_jobs} workers"
    )
    print(f"  cold (spin-ups run):    {cold:7.1f} s  {result['cold_runs_per_min']:6.1f} runs/min")
    print(f"  warm (spin-ups cached): {warm:7.1f} s  {result['warm_runs_per_min']:6.1f} runs/min")
    print(f"  a warm run's own time:  {run_s / n:7.2f} s (spin-up from {', '.join(set(sources))})")
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
