"""Check that every kind of city holds still without policy: no month-1 dip, no drift.

Usage: ``python experiments/stationarity.py [--seeds 5] [--years 30] [--n-jobs 2]
[--out results/stationarity] [--only NAME ...] [--spin-up-years Y]
[--set GROUP.FIELD=VALUE ...]``.

For each generated city kind (at its default population), the default region and
every preset, it runs ``--seeds`` seeds from the stationary start (the default
spin-up, or ``--spin-up-years`` of it) for ``--years`` years without policy and
reports, averaged over the seeds, the change of creative employment in month 1
and the drift of the creative share (least-squares slope, percentage points per
decade). The issue's bounds are
|month-1 change| < 2% and |drift| < 0.1 pp per decade. It also reports the trend of
the population (least-squares slope of its logarithm, percent per decade), which
the issue does not bound. Writes ``stationarity.csv``,
``stationarity.md`` (the table of docs/model.md) and ``stationarity.png`` (the
creative share over the years, mean of the seeds, one line per city).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from clustersim import CreativeClusterModel
from clustersim.errors import ConfigError
from clustersim.experiments.blas import one_blas_thread
from clustersim.files import write_file_atomically, write_text_atomically
from clustersim.model.city import GENERATED_KINDS, PRESETS
from clustersim.model.config import CityConfig

DIP_BOUND = 0.02
DRIFT_BOUND = 0.1


def cities() -> dict[str, dict]:
    """Every city the check covers: generated kinds, the default region, the presets."""
    out: dict[str, dict] = {kind: {"city": kind} for kind in GENERATED_KINDS}
    out["region"] = {"city": CityConfig(kind="region")}
    out.update({key: {"city": key} for key in PRESETS})
    return out


def parse_sets(sets: list[str]) -> dict[str, dict]:
    """``group.field=value`` settings as parameter groups (values read as YAML scalars).

    The city is each check's own and the spin-up is ``--spin-up-years``: neither can
    be set here, nor a lever (the check is without policy).

    Raises:
        ValueError: a setting that is not ``group.field=value``, or of those groups.
    """
    groups: dict[str, dict] = {}
    for text in sets:
        key, sep, value = text.partition("=")
        group, dot, field = key.partition(".")
        if not (sep and dot and group and field) or "." in field:
            raise ValueError(f"{text!r}: expected group.field=value")
        if group in ("city", "spin_up", "policy"):
            raise ValueError(f"{text!r}: {group} settings are not allowed here")
        try:
            groups.setdefault(group, {})[field] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ValueError(f"{text!r}: the value is not a number, word or list") from None
    return groups


def run_one(
    name: str,
    seed: int,
    years: int,
    spin_up_years: int | None = None,
    sets: tuple[str, ...] = (),
) -> dict:
    """One city and seed: month-1 change, drift and the yearly creative share.

    ``spin_up_years`` replaces the model's spin-up (``spin_up.months``) when given;
    ``sets`` are parameter settings (``group.field=value``).
    """
    groups = parse_sets(list(sets))
    if spin_up_years is not None:
        groups.setdefault("spin_up", {})["months"] = 12 * spin_up_years
    model = CreativeClusterModel(rng=seed, **cities()[name], **groups)
    model.run_for(12 * years)
    ts = pd.DataFrame(model.records)
    jobs = ts["creative_employment"].to_numpy()
    share = 100 * ts["creative_share"].to_numpy()
    slope = float(np.polyfit(ts["step"] / 120.0, share, 1)[0])
    # the population's trend in percent a decade (not a bound of the issue: reported)
    log_people = np.log(ts["population"].to_numpy())
    population_trend = 100 * float(np.polyfit(ts["step"] / 120.0, log_people, 1)[0])
    return {
        "city": name,
        "seed": seed,
        "month1_change": (jobs[1] - jobs[0]) / max(jobs[0], 1.0),
        "drift_pp_per_decade": slope,
        "share_start": share[0],
        "share_yearly": share[::12].tolist(),
        "population": float(ts["population"].iloc[0]),
        "population_pct_per_decade": population_trend,
    }


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per city: mean month-1 change and drift over the seeds, and whether both are in bounds."""
    table = runs.groupby("city", sort=False).agg(
        population=("population", "first"),
        seeds=("seed", "count"),
        creative_share_pct=("share_start", "mean"),
        month1_change=("month1_change", "mean"),
        drift_pp_per_decade=("drift_pp_per_decade", "mean"),
        population_pct_per_decade=("population_pct_per_decade", "mean"),
    )
    table["holds_still"] = (table["month1_change"].abs() < DIP_BOUND) & (
        table["drift_pp_per_decade"].abs() < DRIFT_BOUND
    )
    return table


def markdown(table: pd.DataFrame, settings: str = "") -> str:
    """The summary as a Markdown table, after a line naming ``settings`` if any."""
    lines = [f"Settings: {settings}\n"] if settings else []
    lines += [
        "| city | population | seeds | creative share at month 0 | month-1 change "
        "| drift (pp/decade) | within bounds | population (%/decade) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for city, row in table.iterrows():
        lines.append(
            f"| {city} | {row.population:,.0f} | {row.seeds} | {row.creative_share_pct:.2f}% "
            f"| {100 * row.month1_change:+.2f}% | {row.drift_pp_per_decade:+.3f} "
            f"| {'yes' if row.holds_still else 'NO'} | {row.population_pct_per_decade:+.1f} |"
        )
    return "\n".join(lines) + "\n"


def figure(runs: pd.DataFrame, path: Path) -> None:
    """Creative share over the years, mean of the seeds, one line per city."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for city, group in runs.groupby("city", sort=False):
        mean = np.mean(np.stack(group["share_yearly"].to_numpy()), axis=0)
        ax.plot(np.arange(len(mean)), mean, label=city)
    ax.set_xlabel("years after month 0 (the end of the spin-up)")
    ax.set_ylabel("creative share of employment (%)")
    ax.set_title("Creative share without policy, from the stationary start (mean of the seeds)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--years", type=int, default=30)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/stationarity"))
    parser.add_argument("--only", nargs="*", default=None, help="city names to check")
    parser.add_argument(
        "--spin-up-years",
        type=int,
        default=None,
        help="years of spin-up before month 0 (default: the model's spin_up.months)",
    )
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="GROUP.FIELD=VALUE",
        help="a parameter setting for every run, e.g. talent.size_weight=1",
    )
    args = parser.parse_args(argv)
    names = args.only or list(cities())
    unknown = sorted(set(names) - set(cities()))
    if unknown:
        print(f"--only: unknown city {unknown[0]!r}; known: {', '.join(cities())}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.spin_up_years is not None and not 0 <= args.spin_up_years <= 200:
        print(f"--spin-up-years must be 0-200, got {args.spin_up_years}", file=sys.stderr)
        return 2
    try:  # a bad setting fails here, in one line, before any run
        CreativeClusterModel(
            city="small_town", population=1000, spin_up={"months": 0}, **parse_sets(args.sets)
        )
    except (ValueError, TypeError, ConfigError) as err:
        print(f"--set: {err}", file=sys.stderr)
        return 2
    sets = tuple(args.sets)
    jobs = [
        (name, seed, args.years, args.spin_up_years, sets)
        for name in names
        for seed in range(args.seeds)
    ]
    with ProcessPoolExecutor(max_workers=args.n_jobs, initializer=one_blas_thread) as pool:
        runs = pd.DataFrame(list(pool.map(run_one, *zip(*jobs, strict=True))))
    table = summarise(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    csv = runs.drop(columns="share_yearly").to_csv(index=False)
    write_text_atomically(args.out / "stationarity.csv", csv)
    spin = "" if args.spin_up_years is None else f"{args.spin_up_years}-year spin-up"
    settings = ", ".join([*args.sets, *([spin] if spin else [])])
    write_text_atomically(args.out / "stationarity.md", markdown(table, settings))
    write_file_atomically(args.out / "stationarity.png", lambda path: figure(runs, path))
    print(markdown(table, settings))
    print(f"{len(jobs)} runs in {time.perf_counter() - started:.0f} s; written to {args.out}")
    return 0 if table["holds_still"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
