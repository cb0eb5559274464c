"""Measure the calibration table of docs/model.md, section 9, on the current model.

Usage: ``python experiments/calibration_table.py [--months 240] [--n-jobs 2]
[--out results/calibration]``.

Default settings, no policy, ``--months`` months from the stationary start (the
default spin-up), seeds 0 and 1, in a small town of 12,000 and a medium city of
100,000: the runs of ``tests/model/test_demography.py`` plus the second medium-city
seed. Rates per year are births (exits) over the mean number of firms; survival counts
the firms founded during the run; size shares are those of the firms alive in the last
month; unemployment and the creative share are means over the run. Writes
``calibration.csv`` (one row per run) and ``calibration.md`` (the table, one column per
city with the two seeds side by side).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from clustersim import CreativeClusterModel
from clustersim.experiments.blas import one_blas_thread
from clustersim.experiments.moments import run_moments
from clustersim.files import write_file_atomically, write_text_atomically

RUNS = [
    ("small_town", 12_000, 0),
    ("small_town", 12_000, 1),
    ("medium_city", 100_000, 0),
    ("medium_city", 100_000, 1),
]

#: (row label, EU figure, column of the results, format)
ROWS = [
    ("firm birth rate", "~10% a year", "birth_rate", "{:.1%}"),
    ("firm death rate", "~8% a year", "death_rate", "{:.1%}"),
    ("firms with fewer than 10 employees", "> 90%", "micro_share", "{:.0%}"),
    ("one-person firms", "-", "one_person_share", "{:.0%}"),
    ("new firms surviving 1 year", "~80%", "survival_1", "{:.0%}"),
    ("new firms surviving 3 years", "~57%", "survival_3", "{:.0%}"),
    ("new firms surviving 5 years", "~45%", "survival_5", "{:.0%}"),
    ("unemployment among creative workers", "-", "unemployment", "{:.1%}"),
    ("creative share of employment", "3.7% (EU 2019)", "creative_share", "{:.1%}"),
]


def run_one(city: str, population: int, seed: int, months: int) -> dict:
    """One run: the table's measures (the moments of clustersim.experiments.moments)."""
    model = CreativeClusterModel(rng=seed, city=city, population=population)
    model.run_for(months)
    firms = model.firm_table()
    moments = run_moments(pd.DataFrame(model.records), firms)
    new_firms = int((firms["founded_step"] >= 1).sum())
    return {"city": city, "population": population, "seed": seed, **moments, "new_firms": new_firms}


def table(results: pd.DataFrame) -> str:
    """The markdown table of docs/model.md, section 9."""
    lines = [
        "| measure | EU figure | small town (seed 0, 1) | medium city (seed 0, 1) |",
        "| --- | --- | --- | --- |",
    ]
    for label, eu, column, fmt in ROWS:
        cells = []
        for city in ("small_town", "medium_city"):
            values = results[results["city"] == city].sort_values("seed")[column]
            cells.append(", ".join(fmt.format(v) for v in values))
        lines.append(f"| {label} | {eu} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=240)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default="results/calibration")
    args = parser.parse_args(argv)
    if args.months < 72:
        parser.error(f"--months must be at least 72 (five-year survival), got {args.months}")
    if args.n_jobs < 1:
        parser.error(f"--n-jobs must be at least 1, got {args.n_jobs}")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.n_jobs, initializer=one_blas_thread) as pool:
        futures = [pool.submit(run_one, *key, args.months) for key in RUNS]
        results = pd.DataFrame([future.result() for future in futures])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_file_atomically(out / "calibration.csv", lambda p: results.to_csv(p, index=False))
    text = table(results)
    write_text_atomically(out / "calibration.md", text)
    print(text)
    print(f"{len(RUNS)} runs in {time.perf_counter() - start:.0f} s; written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
