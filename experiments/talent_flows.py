"""Where a place's creative workers come from and where they go, decade by decade.

Usage: ``python experiments/talent_flows.py [--city region] [--seeds 3] [--years 60]
[--spin-up-years 0] [--set KEY=VALUE ...] [--n-jobs 2] [--out results/talent_flows]``.

Runs ``--city`` without policy (by default from the drawn initial state, so the
decades show the way to the model's long-run state that a spin-up takes) and, at
the end of every year, compares the creative workers (talents) living in the focus
place with those of a year before. Each one who left is counted by where to:
another place of the region (``out:moved_to_city``), out of the region
(``out:left_region``), into other work (``out:to_other_work``) or retirement
(``out:retired``); each one who came, by where from: another place of the region
(``in:moved_from_city``; a talent who arrived in the region earlier) or, for those
who arrived in the region within the year, by origin (``in:local``: a resident taking
up creative work, ``in:graduate``, ``in:immigrant``). A talent who moved to another
place and retired or left the occupation there within the year counts as moved.
Someone who comes and goes within one year is not seen. Levers are refused (``plan``
and ``policy.*`` settings): the flows are those of the place without policy. The
flows add up: talents at the end of a year are those at its start plus what came
minus what left.

Writes ``talent_flows.csv`` (one row per seed and year) and ``talent_flows.md`` (per
decade, mean of the seeds). ``--set`` passes config overrides, e.g.
``--set talent.size_weight=1``.
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
from clustersim.experiments.blas import one_blas_thread
from clustersim.experiments.script_checks import check_script
from clustersim.files import write_text_atomically
from clustersim.model.compaction import archive_of
from clustersim.model.state import TalentOrigin

OUT_CHANNELS = ("out:moved_to_city", "out:left_region", "out:to_other_work", "out:retired")
_ENTRY = (TalentOrigin.LOCAL, TalentOrigin.GRADUATE, TalentOrigin.IMMIGRANT)
IN_CHANNELS = ("in:moved_from_city", *(f"in:{o.label}" for o in _ENTRY))


def focus_talents(model: CreativeClusterModel) -> np.ndarray:
    """Permanent ids of the living talents whose home is in the focus place (sorted).

    Ids, not rows: rows are renumbered when the tables are compacted
    (:mod:`clustersim.model.compaction`), ids stay with their talent.
    """
    t = model.talents
    live = t.live
    rows = live[model.place[t.home[live]] == model.focus_place]
    return archive_of(model).ids("talents", rows)


def year_flows(model: CreativeClusterModel, before: np.ndarray, start: int) -> dict[str, int]:
    """Flows of one year: ``before`` were the focus place's talents (ids) at month ``start``."""
    after = focus_talents(model)
    gone = np.setdiff1d(before, after, assume_unique=True)
    came = np.setdiff1d(after, before, assume_unique=True)
    # every talent ever, by id, archived ones included (their last home, how they left)
    talents = model.talent_table().set_index("talent_id")
    focus = model.place_names[model.focus_place]
    left = talents.loc[gone]
    # a talent keeps its home when removed: one whose home is now in another place moved
    # there first (and may have retired or left the occupation there since)
    moved = (left["place"] != focus).to_numpy()
    here = ~moved & left["left_step"].notna().to_numpy()  # removed while living here
    region = left["left_region"].to_numpy(dtype=bool)
    other = left["to_other_work"].to_numpy(dtype=bool)
    out = {
        "out:moved_to_city": int(moved.sum()),
        "out:left_region": int((here & region).sum()),
        "out:to_other_work": int((here & ~region & other).sum()),
        "out:retired": int((here & ~region & ~other).sum()),
    }
    arrived = talents.loc[came]
    new = (arrived["arrived_step"] > start).to_numpy()
    out["in:moved_from_city"] = int((~new).sum())
    origins = arrived["origin"].astype(str).to_numpy()[new]
    for channel in IN_CHANNELS[1:]:
        out[channel] = int((origins == channel.removeprefix("in:")).sum())
    out["talents_start"], out["talents_end"] = len(before), len(after)
    return out


def run_one(city: str, seed: int, years: int, spin_up_years: int, sets: list[str]) -> list[dict]:
    """One seed: a row of flows per year."""
    overrides = [f"spin_up.months={12 * spin_up_years}", *sets]
    cfg, _ = load_config(city, None, seed=seed, overrides=overrides)
    model = CreativeClusterModel.from_config(cfg)
    rows, before = [], focus_talents(model)
    for year in range(1, years + 1):
        start = model.steps
        model.run_for(12)
        rows.append({"seed": seed, "year": year, **year_flows(model, before, start)})
        before = focus_talents(model)
    return rows


def by_decade(runs: pd.DataFrame) -> pd.DataFrame:
    """Flows summed per decade and seed, then averaged over the seeds."""
    runs = runs.assign(decade=(runs["year"] - 1) // 10 + 1)
    flows = list(IN_CHANNELS + OUT_CHANNELS)
    per_seed = runs.groupby(["decade", "seed"]).agg(
        {**dict.fromkeys(flows, "sum"), "talents_start": "first", "talents_end": "last"}
    )
    return per_seed.groupby("decade").mean()


def markdown(table: pd.DataFrame, title: str) -> str:
    """The per-decade table (mean of the seeds)."""
    cols = ["talents_start", *IN_CHANNELS, *OUT_CHANNELS, "talents_end"]
    head = ["decade", *(c.replace("_", " ") for c in cols)]
    lines = [f"{title}\n", "| " + " | ".join(head) + " |", "|" + " ---: |" * len(head)]
    for decade, row in table[cols].iterrows():
        lines.append(f"| {decade} | " + " | ".join(f"{row[c]:,.0f}" for c in cols) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", default="region")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--years", type=int, default=60)
    parser.add_argument("--spin-up-years", type=int, default=0)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/talent_flows"))
    args = parser.parse_args(argv)
    problem, _ = check_script(
        (
            ("--seeds", args.seeds, 1, 1000),
            ("--years", args.years, 1, 200),
            ("--spin-up-years", args.spin_up_years, 0, 200),
            ("--n-jobs", args.n_jobs, 1, 64),
        ),
        args.sets,
        args.city,
        "the flows are measured without policy",
    )
    if problem:  # one line, before any run and before writing anything
        print(f"talent_flows: {problem}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    jobs = [(args.city, s, args.years, args.spin_up_years, args.sets) for s in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.n_jobs, initializer=one_blas_thread) as pool:
        runs = pd.DataFrame(
            [row for rows in pool.map(run_one, *zip(*jobs, strict=True)) for row in rows]
        )
    settings = ", ".join(args.sets) or "defaults"
    title = (
        f"Talent flows of the focus place of `{args.city}` ({settings}; {args.spin_up_years}-year "
        f"spin-up; mean of {args.seeds} seeds; people per decade)"
    )
    table = by_decade(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(args.out / "talent_flows.csv", runs.to_csv(index=False))
    write_text_atomically(args.out / "talent_flows.md", markdown(table, title))
    print(markdown(table, title))
    print(f"{len(jobs)} runs in {time.perf_counter() - started:.0f} s; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
