"""Path dependence: do identical towns with different random histories end apart?

Usage: ``python experiments/path_dependence.py [--seeds 12] [--years 10] [--n-jobs 2]
[--populations 6000 12000 24000] [--plans none creative_hub] [--elasticity 1]
[--reference 64] [--spin-up-years 100] [--out results/path_dependence]``.

One small town (``city.seed=3``: the same graph every time) at each population,
with each plan (``none`` or a lever of ``configs/policy/``), run with ``--seeds``
random histories (the seed drives the spin-up and the years after it).
A history *has a cluster* when, at the end, the busiest node's creative density
(jobs within reach, ``firm.agglomeration_decay``) is at least twice
``firm.agglomeration_reference``: there the agglomeration benefit is at least
``2^elasticity``. Path dependence shows as a town size and plan where some
histories have a cluster and others do not, and keep them (Arthur 1990).

``--spin-up-years`` sets the spin-up's length: by default the model's own (100
years), with which the table of docs/experiments.md was measured. Until households
moved only into vacant homes (7 December 2026), some histories ran away during a
100-year spin-up, to a billion residents, and a run needed gigabytes and hours; the
table was then measured with 60 years.

Writes ``path_dependence.csv`` (one row per run) and ``path_dependence.md`` (the
table of docs/experiments.md: per population and plan, histories with a cluster
and the range of creative jobs at month 0 and at the end). Bad options get a one-line
message and exit 2 before any run and before anything is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from clustersim import CreativeClusterModel, load_config
from clustersim.errors import ConfigError
from clustersim.experiments.blas import one_blas_thread
from clustersim.experiments.script_checks import check_script, probe_model
from clustersim.files import write_file_atomically, write_text_atomically
from clustersim.model.phases.aggregates import jobs_by_node_sector
from clustersim.model.schema_spinup import SpinUpParams

CITY_SEED = 3
CLUSTER_FACTOR = 2.0
SPIN_UP_YEARS = SpinUpParams().months // 12  # the model's own spin-up


def busiest_density(model: CreativeClusterModel) -> float:
    """The largest creative density (jobs within agglomeration reach) over the nodes."""
    jobs_at = jobs_by_node_sector(model).sum(axis=1)
    return float((model.agglomeration_reach @ jobs_at).max())


def overrides_for(
    population: int, plan: str, elasticity: float, reference: float, spin_up_years: int
) -> list[str]:
    """The config overrides of one cell (the town, its returns, its plan, its spin-up)."""
    overrides = [
        f"city.population={population}",
        f"city.seed={CITY_SEED}",
        f"firm.agglomeration_elasticity={elasticity}",
        f"firm.agglomeration_reference={reference}",
    ]
    if plan != "none":
        overrides.append(f"policy=[{plan}]")
    overrides.append(f"spin_up.months={12 * spin_up_years}")
    return overrides


def run_one(
    population: int,
    plan: str,
    seed: int,
    years: int,
    elasticity: float,
    reference: float,
    spin_up_years: int = SPIN_UP_YEARS,
) -> dict:
    """One history: creative jobs and the busiest density at month 0 and at the end."""
    overrides = overrides_for(population, plan, elasticity, reference, spin_up_years)
    cfg, _ = load_config("small_town", seed=seed, overrides=overrides)
    model = CreativeClusterModel.from_config(cfg)
    start_jobs, start_density = model.records[0]["creative_employment"], busiest_density(model)
    model.run_for(12 * years)
    end_density = busiest_density(model)
    return {
        "population": population,
        "plan": plan,
        "seed": seed,
        "jobs_month0": start_jobs,
        "jobs_end": model.records[-1]["creative_employment"],
        "density_month0": start_density,
        "density_end": end_density,
        "cluster_month0": start_density >= CLUSTER_FACTOR * reference,
        "cluster_end": end_density >= CLUSTER_FACTOR * reference,
    }


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per population and plan: histories with a cluster, and the range of creative jobs."""
    rows = []
    for (population, plan), g in runs.groupby(["population", "plan"], sort=True):
        rows.append(
            {
                "population": population,
                "plan": plan,
                "histories": len(g),
                "cluster_month0": int(g["cluster_month0"].sum()),
                "cluster_end": int(g["cluster_end"].sum()),
                "kept": int((g["cluster_month0"] & g["cluster_end"]).sum()),
                "jobs_end_min": g["jobs_end"].min(),
                "jobs_end_max": g["jobs_end"].max(),
            }
        )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, years: int) -> str:
    """The summary as the Markdown table of docs/experiments.md."""
    lines = [
        f"| population | plan | histories with a cluster at month 0 | after {years} years "
        "| kept it | creative jobs at the end (min-max) |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.population:,} | {r.plan} | {r.cluster_month0} of {r.histories} "
            f"| {r.cluster_end} of {r.histories} | {r.kept} "
            f"| {r.jobs_end_min:.0f}-{r.jobs_end_max:.0f} |"
        )
    return "\n".join(lines) + "\n"


def check_options(args: argparse.Namespace) -> str | None:
    """The first problem with the options, in one line (None: all can run)."""
    ranges = [
        ("--seeds", args.seeds, 1, 1000),
        ("--years", args.years, 1, 200),
        ("--n-jobs", args.n_jobs, 1, 64),
        ("--spin-up-years", args.spin_up_years, 0, 200),
    ]
    returns = [
        f"firm.agglomeration_elasticity={args.elasticity}",
        f"firm.agglomeration_reference={args.reference}",
    ]
    problem, _ = check_script(ranges, returns, "small_town", "")
    if problem:
        return problem
    for population in args.populations:  # each cell's config builds (no spin-up, no run)
        for plan in args.plans:
            overrides = overrides_for(  # built without its spin-up: a check, not a run
                population, plan, args.elasticity, args.reference, spin_up_years=0
            )
            try:
                probe_model("small_town", overrides)
            except ConfigError as err:
                return f"--populations {population} --plans {plan}: {err}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--populations", type=int, nargs="+", default=[6000, 12000, 24000])
    parser.add_argument("--plans", nargs="+", default=["none", "creative_hub"])
    parser.add_argument("--elasticity", type=float, default=1.0)
    parser.add_argument("--reference", type=float, default=64.0)
    parser.add_argument("--spin-up-years", type=int, default=SPIN_UP_YEARS)
    parser.add_argument("--out", type=Path, default=Path("results/path_dependence"))
    args = parser.parse_args(argv)
    problem = check_options(args)
    if problem:  # one line, before any run and before writing anything
        print(f"path_dependence: {problem}", file=sys.stderr)
        return 2
    tasks = [
        (p, plan, s, args.years, args.elasticity, args.reference, args.spin_up_years)
        for p in args.populations
        for plan in args.plans
        for s in range(args.seeds)
    ]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.n_jobs, initializer=one_blas_thread) as pool:
        runs = pd.DataFrame(list(pool.map(run_one, *zip(*tasks, strict=True))))
    table = summary(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    write_file_atomically(args.out / "path_dependence.csv", lambda p: runs.to_csv(p, index=False))
    text = markdown(table, args.years)
    write_text_atomically(args.out / "path_dependence.md", text)
    print(text)
    print(f"{len(tasks)} runs in {time.perf_counter() - start:.0f} s; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
