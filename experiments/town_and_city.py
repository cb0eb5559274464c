"""A town next to a city, against the city: what talents weigh, where founders go, start-ups.

Usage: ``python experiments/town_and_city.py [--city hodmezovasarhely] [--seeds 3]
[--years 25] [--set KEY=VALUE ...] [--n-jobs 2] [--out results/town_and_city]``.

For a region (``region`` or a preset with its nearest large city) it measures, per
place, without policy, from the stationary start (the default spin-up):

- **what a talent weighs** at month 0, seed 0: the terms of the location utility
  (docs/model.md section 7.1) averaged over each place's nodes weighted by their
  homes, for a talent of average taste: income (``wage_weight * ln`` of the expected
  income per skill unit), amenity, openness, rent (negative), ties and the size term;
- **what a unit of output earns** at month 0, seed 0 (node means, sector-weighted):
  local price, external price, market access and the spillover factor
  (agglomeration, mix and knowledge; section 7.3);
- **where founders go**: of the start-ups founded by talents living in each place
  in the first ``--years`` years, the share located in that same place;
- **how start-ups fare**: start-ups founded in the first ``--years`` years, by the
  place they are in: how many, the share surviving three years, and their mean peak
  size.

Writes ``town_and_city.md`` (the four tables). ``--set`` passes config overrides
(e.g. ``--set firm.home_distance_weight=4``); levers are refused.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from clustersim import CreativeClusterModel, load_config
from clustersim.experiments.blas import one_blas_thread
from clustersim.experiments.script_checks import check_script
from clustersim.files import write_text_atomically
from clustersim.model.phases import demography
from clustersim.model.phases.aggregates import talents_by_node_sector
from clustersim.model.phases.moves import node_income, size_terms
from clustersim.model.phases.rents import dwellings
from clustersim.model.state import FirmOrigin

SURVIVAL_MONTHS = 36


def build(city: str, seed: int, sets: list[str], steps: int = 1) -> CreativeClusterModel:
    """The model of ``city`` at month 0 (after the default spin-up)."""
    cfg, _ = load_config(city, None, steps=steps, seed=seed, overrides=list(sets))
    return CreativeClusterModel.from_config(cfg)


def _by_place(model: CreativeClusterModel, values: np.ndarray, weight: np.ndarray) -> list:
    return [
        float(np.average(values[model.place == p], weights=weight[model.place == p]))
        for p in range(len(model.place_names))
    ]


def utility_terms(model: CreativeClusterModel) -> pd.DataFrame:
    """Home-weighted place means of the location utility's terms (average taste)."""
    tp = model.params.talent
    talents_ns = talents_by_node_sector(model)
    weight = model.sector_traits["weight"]
    income = node_income(model, talents_ns) @ weight
    homes = dwellings(model)
    per, log_size = size_terms(model)
    terms = {
        "income": tp.wage_weight * np.log(np.maximum(income, 1.0)),
        "amenity": tp.amenity_weight * model.amenity,
        "openness": tp.openness_weight * model.openness,
        "rent": -tp.rent_weight * model.rent / np.maximum(income, 1.0),
        "ties": tp.ties_weight
        * (np.log1p(talents_ns if per is None else talents_ns / per[:, None]) @ weight),
        "size": np.zeros(model.n_nodes) if log_size is None else log_size,
    }
    table = pd.DataFrame({k: _by_place(model, v, homes) for k, v in terms.items()})
    table.insert(0, "place", model.place_names)
    table["sum"] = table[list(terms)].sum(axis=1)
    return table


def unit_terms(model: CreativeClusterModel) -> pd.DataFrame:
    """Node-mean, sector-weighted prices, market access and spillover per place."""
    mk, weight = model.market, model.sector_traits["weight"]
    even = np.ones(model.n_nodes)
    table = pd.DataFrame(
        {
            "local_price": _by_place(model, mk.local_price @ weight, even),
            "external_price": _by_place(model, mk.external_price @ weight, even),
            "market_access": _by_place(model, model.market_access, even),
            "spillover": _by_place(model, mk.spillover @ weight, even),
        }
    )
    table.insert(0, "place", model.place_names)
    return table


def firm_history(city: str, seed: int, years: int, sets: list[str]) -> dict:
    """Founders' choices (home place -> firm place) and the start-ups' fates, one seed."""
    model = build(city, seed, sets)
    chosen: list[np.ndarray] = []
    starters = [0]  # start-up founders of this month (they come first in the node choice)
    pick, draw = demography._founder_nodes, demography._start_up_founders

    def drawn(m):
        out = draw(m)
        starters[0] = len(out)
        return out

    def recorded(m, origins, sectors, success):
        nodes = pick(m, origins, sectors, success)
        if m.steps <= 12 * years:
            n = starters[0]
            chosen.append(np.stack([m.place[origins[:n]], m.place[nodes[:n]]], axis=1))
        return nodes

    with (
        mock.patch.object(demography, "_start_up_founders", drawn),
        mock.patch.object(demography, "_founder_nodes", recorded),
    ):
        model.run_for(12 * years + SURVIVAL_MONTHS)
    firms = model.firm_table()
    start_ups = firms[
        (firms["origin"] == FirmOrigin.START_UP.label)
        & (firms["founded_step"] >= 1)
        & (firms["founded_step"] <= 12 * years)
    ]
    lived = start_ups["exit_step"].isna() | (
        start_ups["exit_step"] - start_ups["founded_step"] >= SURVIVAL_MONTHS
    )
    return {
        "choices": np.concatenate(chosen) if chosen else np.zeros((0, 2), dtype=np.int64),
        "places": model.place_names,
        "start_ups": start_ups.assign(survived=lived)[["place", "survived", "peak_employees"]],
    }


def founder_table(histories: list[dict]) -> pd.DataFrame:
    """Per place: start-up founders living there and the share who put their firm there."""
    names = histories[0]["places"]
    choices = np.concatenate([h["choices"] for h in histories])
    rows = []
    for p, name in enumerate(names):
        own = choices[choices[:, 0] == p]
        rows.append({"place": name, "founders": len(own), "stay": (own[:, 1] == p).mean()})
    return pd.DataFrame(rows)


def start_up_table(histories: list[dict]) -> pd.DataFrame:
    """Per place: start-ups, the share surviving three years, mean peak size."""
    firms = pd.concat([h["start_ups"] for h in histories])
    return (
        firms.groupby("place", sort=False)
        .agg(
            start_ups=("survived", "size"),
            survive_3y=("survived", "mean"),
            peak=("peak_employees", "mean"),
        )
        .reset_index()
    )


def markdown(title: str, table: pd.DataFrame) -> str:
    """One table in Markdown, numbers with three significant decimals at most."""
    head = "| " + " | ".join(table.columns) + " |\n|" + " --- |" * len(table.columns) + "\n"
    body = "".join(
        "| " + " | ".join(v if isinstance(v, str) else f"{v:,.3g}" for v in row) + " |\n"
        for row in table.itertuples(index=False)
    )
    return f"### {title}\n\n{head}{body}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", default="hodmezovasarhely")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/town_and_city"))
    args = parser.parse_args(argv)
    problem, probe = check_script(
        (
            ("--seeds", args.seeds, 1, 100),
            ("--years", args.years, 1, 100),
            ("--n-jobs", args.n_jobs, 1, 64),
        ),
        args.sets,
        args.city,
        "the comparison is without policy",
    )
    if problem:  # one line, before any run and before writing anything
        print(f"town_and_city: {problem}", file=sys.stderr)
        return 2
    if len(probe.place_names) < 2:
        print(f"--city {args.city}: a town alone; name a region or a preset", file=sys.stderr)
        return 2
    model = build(args.city, 0, args.sets)
    jobs = [(args.city, s, args.years, args.sets) for s in range(args.seeds)]
    if args.n_jobs == 1:
        histories = [firm_history(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=args.n_jobs, initializer=one_blas_thread) as pool:
            histories = list(pool.map(firm_history, *zip(*jobs, strict=True)))
    settings = ", ".join(args.sets) or "defaults"
    text = f"## {args.city} ({settings})\n\n" + "".join(
        [
            markdown("What a talent weighs at month 0 (utils, seed 0)", utility_terms(model)),
            markdown("What a unit of output earns at month 0 (seed 0)", unit_terms(model)),
            markdown(
                f"Where founders go ({args.seeds} seeds, {args.years} years)",
                founder_table(histories),
            ),
            markdown(
                f"How start-ups fare ({args.seeds} seeds, founded in {args.years} years)",
                start_up_table(histories),
            ),
        ]
    )
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(args.out / "town_and_city.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
