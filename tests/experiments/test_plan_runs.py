"""Plans as they ran, read back from run directories: levers, budgets, levers that ran dry."""

from __future__ import annotations

import json

import pandas as pd

from clustersim.experiments.plan_runs import budget_stops, lever_label, plan_contents


def _run(tmp_path, name, policy, budget, levers):
    run_dir = tmp_path / name
    run_dir.mkdir()
    config = {"policy": policy, "institutions": {"municipality_budget": budget}}
    (run_dir / "config.json").write_text(json.dumps(config))
    pd.DataFrame(
        levers,
        columns=["policy", "lever", "start", "duration", "status", "stop_step", "stop_reason",
                 "spent"],
    ).astype({"stop_step": "Int64"}).to_parquet(run_dir / "policies.parquet")  # fmt: skip
    return str(run_dir)


def test_plans_and_budget_stops_from_the_runs_index(tmp_path):
    hub = {"creative_hub": {"intensity": 2.0, "start": 12, "duration": None}}
    out = "budget exhausted: monthly cost of 15,000 EUR, 2,000 EUR left"
    runs = pd.DataFrame(
        {
            "site": ["town"] * 4,
            "arm": ["none", "none", "hub", "hub"],
            "replicate": [0, 1, 0, 1],
            "status": ["ok", "ok", "ok", "failed"],
            "run_dir": [
                _run(tmp_path, "a", {}, 5e6, []),
                _run(tmp_path, "b", {}, 5e6, []),
                _run(tmp_path, "c", hub, 3e5, [["creative_hub", "CreativeHub", 12, None,
                                                 "stopped", 79, out, 3e5]]),
                _run(tmp_path, "d", hub, 3e5, [["creative_hub", "CreativeHub", 12, None,
                                                 "stopped", 10, out, 1.0]]),
            ],
        }
    )  # fmt: skip
    plans = plan_contents(runs)
    row = plans[plans["arm"] == "hub"].iloc[0]
    assert (row["lever"], row["intensity"], row["start"], row["budget"]) == (
        "Creative hub",
        2.0,
        12,
        3e5,
    )
    assert plans[plans["arm"] == "none"]["policy"].tolist() == [""]
    stops = budget_stops(runs)  # the failed run is left out
    assert stops[
        ["arm", "lever", "runs", "stopped", "first_month", "last_month"]
    ].values.tolist() == [["hub", "Creative hub", 1, 1, 79, 79]]
    assert stops["reason"].iloc[0] == out and stops["spent"].iloc[0] == 3e5


def test_levers_that_completed_are_no_budget_stop(tmp_path):
    runs = pd.DataFrame(
        {
            "site": ["town"],
            "arm": ["fest"],
            "status": ["ok"],
            "run_dir": [
                _run(tmp_path, "a", {"festival": {}}, 1e6,
                     [["festival", "Festival", 12, 24, "stopped", 36, "completed", 5e5]])
            ],
        }
    )  # fmt: skip
    assert budget_stops(runs).empty
    assert lever_label("festival_2") == "Festival 2"


def test_runs_without_policy_tables_are_skipped(tmp_path):
    runs = pd.DataFrame({"site": ["x"], "arm": ["y"], "status": ["ok"], "run_dir": [str(tmp_path)]})
    assert budget_stops(runs).empty and plan_contents(runs).empty
