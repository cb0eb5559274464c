"""Does how finely the large city is cut decide who lives in the town next to it?

Usage: ``python experiments/city_cut.py [--seeds 8] [--cuts 0.6 0.8]
[--size-weights 0 1] [--n-jobs 2] [--set KEY=VALUE ...] [--out results/city_cut]``.

The default region (a town of 12,000 next to a city of 500,000) is generated with
each ``city.family.neighbourhood_exponent`` of ``--cuts`` (0.6: the city in 45
neighbourhoods; 0.8: in 147) and each ``talent.size_weight`` of ``--size-weights``
(0: every node one alternative of the location choice, the default; 1: nodes
counted by their homes, McFadden 1978; docs/model.md section 7.1), and run to month
0 with the model's spin-up in ``--seeds`` random histories. It counts the talents
living in the town at month 0. With weight 1 the cut should not matter; with weight
0 a finer cut gives the city more alternatives and draws talents from the town.

Writes ``city_cut.csv`` (one row per run) and ``city_cut.md`` (per weight and cut:
the mean, standard error and range of the town's talents, and the fine cut's mean
over the coarse cut's). ``--set`` passes further config overrides; levers are
refused. Bad options get a one-line message and exit 2 before any run and before
anything is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from clustersim import CreativeClusterModel, load_config
from clustersim.errors import ConfigError
from clustersim.experiments.blas import one_blas_thread
from clustersim.experiments.script_checks import check_script, probe_model
from clustersim.files import write_file_atomically, write_text_atomically


def overrides_for(cut: float, size_weight: float, sets: list[str]) -> list[str]:
    """The config overrides of one cell: the city's cut, the size weight, the user's sets."""
    return [
        f"city.family.neighbourhood_exponent={cut}",
        f"talent.size_weight={size_weight}",
        *sets,
    ]


def town_talents(model: CreativeClusterModel) -> int:
    """Talents living in the focus town now."""
    t = model.talents
    return int((t.alive & (model.place[t.home] == model.focus_place)).sum())


def run_one(cut: float, size_weight: float, seed: int, sets: list[str]) -> dict:
    """One history: the town's talents at month 0 and the city's number of nodes."""
    cfg, _ = load_config("region", seed=seed, overrides=overrides_for(cut, size_weight, sets))
    model = CreativeClusterModel.from_config(cfg)
    return {
        "size_weight": size_weight,
        "cut": cut,
        "seed": seed,
        "nodes": model.n_nodes,
        "town_talents": town_talents(model),
    }


def markdown(runs: pd.DataFrame) -> str:
    """Per weight and cut: mean (standard error), range, and the fine cut over the coarse."""
    lines = [
        "| size weight | neighbourhood exponent | nodes | seeds | town's talents at month 0, "
        "mean (s.e.) | min-max | over the coarsest cut |",
        "|---:|---:|---:|---:|---:|---|---:|",
    ]
    for weight, by_weight in runs.groupby("size_weight", sort=True):
        coarsest = None
        for cut, g in by_weight.groupby("cut", sort=True):
            talents = g["town_talents"].to_numpy(dtype=float)
            mean = talents.mean()
            se = talents.std(ddof=1) / np.sqrt(len(talents)) if len(talents) > 1 else np.nan
            coarsest = mean if coarsest is None else coarsest
            lines.append(
                f"| {weight:g} | {cut:g} | {int(g['nodes'].iloc[0])} | {len(g)} "
                f"| {mean:.1f} ({se:.1f}) | {talents.min():.0f}-{talents.max():.0f} "
                f"| {mean / coarsest:.2f} |"
            )
    return "\n".join(lines) + "\n"


def check_options(args: argparse.Namespace) -> str | None:
    """The first problem with the options, in one line (None: all can run)."""
    ranges = [("--seeds", args.seeds, 1, 1000), ("--n-jobs", args.n_jobs, 1, 64)]
    problem, _ = check_script(ranges, args.set, "region", "the cut is measured without policy")
    if problem:
        return problem
    for weight in args.size_weights:  # each cell's config builds (no spin-up, no run)
        for cut in args.cuts:
            try:
                probe_model("region", overrides_for(cut, weight, args.set))
            except ConfigError as err:
                return f"--cuts {cut:g} --size-weights {weight:g}: {err}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--cuts", type=float, nargs="+", default=[0.6, 0.8])
    parser.add_argument("--size-weights", type=float, nargs="+", default=[0.0, 1.0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=Path("results/city_cut"))
    args = parser.parse_args(argv)
    problem = check_options(args)
    if problem:  # one line, before any run and before writing anything
        print(f"city_cut: {problem}", file=sys.stderr)
        return 2
    tasks = [
        (cut, weight, seed, args.set)
        for weight in args.size_weights
        for cut in args.cuts
        for seed in range(args.seeds)
    ]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.n_jobs, initializer=one_blas_thread) as pool:
        runs = pd.DataFrame(list(pool.map(run_one, *zip(*tasks, strict=True))))
    args.out.mkdir(parents=True, exist_ok=True)
    write_file_atomically(args.out / "city_cut.csv", lambda p: runs.to_csv(p, index=False))
    text = markdown(runs)
    write_text_atomically(args.out / "city_cut.md", text)
    print(text)
    print(f"{len(tasks)} runs in {time.perf_counter() - start:.0f} s; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
