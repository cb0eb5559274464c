"""Experiment designs and the driver: seeds shared by arms, end to end runs, kill and resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from clustersim.errors import ConfigError
from clustersim.experiments.cli import (
    Design,
    _parser,
    available,
    expected_run_dirs,
    main,
    run_experiment,
)
from clustersim.experiments.runner import is_complete, model_fingerprint, replicate_seed
from clustersim.model.compose import config_dir

BIN = Path(sys.executable).parent


def _design(tmp_path: Path, **changes) -> Path:
    raw = {
        "name": "tiny",
        "kind": "comparison",
        "title": "Tiny comparison",
        "root_seed": 5,
        "replicates": 3,
        "steps": 24,
        "baseline": "none",
        "n_jobs": 1,
        "sites": {
            "town": {
                "label": "Town of 5,000",
                "overrides": ["city=small_town", "city.population=5000"],
            }
        },
        "arms": {"none": ["plan=none"], "talent": ["plan=talent_first"]},
        "analysis": {"n_boot": 200},
    }
    raw.update(changes)
    path = tmp_path / f"{raw['name']}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_shipped_designs_share_replicate_seeds_across_sites_and_arms():
    assert {"town_vs_metropolis", "scaling", "policy_sweep"} <= set(available())
    for name in available():
        design = Design.named(name)
        specs = design.specs()
        assert len(specs) == design.n_runs
        by_replicate: dict[int, set[int]] = {}
        for spec in specs:
            by_replicate.setdefault(spec.labels["replicate"], set()).add(spec.seed)
            assert spec.labels["experiment"] == name and spec.steps == design.steps
        assert all(len(seeds) == 1 for seeds in by_replicate.values())  # common random numbers
        assert [next(iter(by_replicate[r])) for r in sorted(by_replicate)] == [
            replicate_seed(design.root_seed, r) for r in range(design.replicates)
        ]


def test_flagship_compares_real_plans_in_a_small_town_and_a_metropolis():
    design = Design.named("town_vs_metropolis")
    assert design.kind == "comparison" and design.baseline == "none"
    assert set(design.sites) == {"small_town", "metropolis"}
    assert "city=region" in design.sites["small_town"].overrides
    assert "city=metropolis" in design.sites["metropolis"].overrides
    plans = [
        o.split("=", 1)[1]
        for a in design.arms.values()
        for o in a.overrides
        if o.startswith("plan=")
    ]
    assert len(plans) == len(design.arms) >= 3
    for plan in plans:
        assert (config_dir() / "plan" / f"{plan}.yaml").is_file(), plan
    sweep = Design.named("policy_sweep")
    levers = {a.labels.get("lever") for a in sweep.arms.values()} - {"none"}
    assert levers == {p.stem for p in (config_dir() / "policy").glob("*.yaml")} - {"none"}


@pytest.mark.slow
def test_every_shipped_design_composes_into_distinct_runs(tmp_path):
    for name in available():
        design = Design.named(name).with_changes(replicates=1)
        if name == "policy_sweep":  # every lever once (intensity only changes one number)
            design = design.with_changes(arms=[a for a in design.arms if a.endswith("_100")])
        dirs = expected_run_dirs(design, tmp_path)
        assert len(set(dirs)) == design.n_runs, name


def test_design_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="baseline must be one of the arms"):
        Design.load(_design(tmp_path, baseline="nothing"))
    with pytest.raises(ConfigError, match="experiment must be one of"):
        Design.named("no_such_experiment")
    design = Design.load(_design(tmp_path))
    with pytest.raises(ConfigError, match="unknown site"):
        design.with_changes(sites=["mars"])
    assert set(design.with_changes(arms=["talent"]).arms) == {"none", "talent"}
    twin = Design.load(
        _design(tmp_path, name="twin", arms={"none": ["plan=none"], "same": ["plan=none"]})
    )
    with pytest.raises(ConfigError, match="resolve to the same model config"):
        expected_run_dirs(twin, tmp_path)
    assert main(["run", "no_such_experiment"]) == 2


def _lines(echoed: list[str], status: str) -> int:
    return sum(1 for line in echoed if f"] {status} " in line)


def test_tiny_experiment_end_to_end_then_resumed(tmp_path):
    design = Design.load(_design(tmp_path))
    echoed: list[str] = []
    outcome = run_experiment(design, tmp_path / "out", echo=echoed.append)
    assert outcome.ok == 6 and not outcome.failed
    assert _lines(echoed, "ok") == 6
    assert outcome.report.is_file() and outcome.summary.is_file()
    ts = pd.read_parquet(tmp_path / "out" / "timeseries.parquet")
    assert len(ts) == 6 * 25
    assert {"experiment", "site", "arm", "replicate", "seed"} <= set(ts.columns)
    effects = outcome.tables["effects"]
    assert set(effects["arm"]) == {"talent"} and (effects["n_pairs"] == 3).all()
    assert (tmp_path / "out" / "tables" / "effects.csv").is_file()
    assert "talent" in outcome.summary.read_text()

    echoed.clear()
    again = run_experiment(design, tmp_path / "out", echo=echoed.append)
    assert _lines(echoed, "skipped") == 6 and _lines(echoed, "ok") == 0
    pd.testing.assert_frame_equal(again.tables["effects"], outcome.tables["effects"])


def test_scaling_and_policy_sweep_reports(tmp_path):
    scaling = Design.load(
        _design(
            tmp_path,
            name="tinyscale",
            kind="scaling",
            replicates=2,
            steps=12,
            sites={
                f"t{p}": {"overrides": ["city=small_town", f"city.population={p}"]}
                for p in (5000, 10000, 20000)
            },
            arms={"none": ["plan=none"]},
        )
    )
    out = run_experiment(scaling, tmp_path / "scale", echo=lambda _m: None)
    fits = out.tables["scaling"].set_index("metric")
    assert out.ok == 6 and fits.loc["creative_employment", "n_runs"] == 6
    assert 0.5 < fits.loc["creative_employment", "exponent"] < 1.5
    assert "beta" in out.summary.read_text()

    sweep = Design.load(
        _design(
            tmp_path,
            name="tinysweep",
            kind="policy_sweep",
            replicates=2,
            steps=24,
            common=["institutions.municipality_budget=100000000"],
            arms={
                "none": {"overrides": ["plan=none"], "labels": {"lever": "none", "intensity": 0}}
            },
            grid={"levers": ["festival", "talent_attraction"], "intensities": [1.0, 2.0]},
        )
    )
    assert set(sweep.arms) == {
        "none",
        "festival_100",
        "festival_200",
        "talent_attraction_100",
        "talent_attraction_200",
    }
    out = run_experiment(sweep, tmp_path / "sweep", echo=lambda _m: None)
    cost = out.tables["cost"].set_index("arm")
    assert out.ok == 10 and len(cost) == 4
    assert (cost["total_spend"] > 0).all()
    assert (out.out_dir / "figures" / "cost_effectiveness.png").is_file()


def _complete(out: Path) -> dict[str, int]:
    return {
        p.parent.name: p.stat().st_mtime_ns
        for p in (out / "runs").glob("*/meta.json")
        if is_complete(p.parent)
    }


@pytest.mark.slow
def test_driver_killed_part_way_resumes_without_losing_or_redoing_runs(tmp_path):
    path = _design(
        tmp_path,
        name="killme",
        replicates=4,
        steps=60,
        sites={"town": {"overrides": ["city=small_town", "city.population=12000"]}},
        arms={
            "none": ["plan=none"],
            "talent": ["plan=talent_first"],
            "creative": ["plan=creative_city"],
        },
    )
    out = tmp_path / "out"
    cmd = [str(BIN / "clustersim-experiment"), "run", str(path), "--out", str(out), "--n-jobs", "2"]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while len(_complete(out)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker processes
        proc.wait()
    before = _complete(out)
    assert 2 <= len(before) < 12, "the sweep should have been killed part-way"

    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = _complete(out)
    assert len(after) == 12
    assert all(after[k] == before[k] for k in before)  # nothing finished was redone
    assert done.stderr.count("] skipped ") == len(before)
    assert done.stderr.count("] ok ") == 12 - len(before)
    assert "report:" in done.stdout


@pytest.mark.slow
def test_experiment_through_a_hydra_launcher_shares_runs_with_the_driver(tmp_path):
    path = _design(tmp_path, replicates=2, steps=12)
    out = tmp_path / "out"
    res = subprocess.run(
        [
            str(BIN / "clustersim-experiment"),
            "run",
            str(path),
            "--out",
            str(out),
            "--launcher",
            "basic",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (out / "jobs" / "0" / ".hydra").is_dir() and (out / "report.html").is_file()
    design = Design.load(out / "experiment.yaml")
    expected = expected_run_dirs(design, out / "runs")
    assert all(is_complete(d) for d in expected), (
        [d.name for d in expected],
        sorted(p.name for p in (out / "runs").iterdir()),
    )
    metas = [json.loads(p.read_text()) for p in (out / "runs").glob("*/meta.json")]
    assert sorted((m["labels"]["arm"], m["labels"]["replicate"]) for m in metas) == [
        ("none", 0),
        ("none", 1),
        ("talent", 0),
        ("talent", 1),
    ]
    echoed: list[str] = []
    run_experiment(design, out, echo=echoed.append)  # local driver: everything already done
    assert _lines(echoed, "skipped") == 4


def test_docs_name_only_real_experiments_launchers_and_options():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "experiments.md").read_text()
    plugin = {"basic", "joblib", "ray", "submitit_local", "submitit_slurm"}
    shipped = {p.stem for p in (config_dir() / "hydra" / "launcher").glob("*.yaml")}
    named = set(re.findall(r"hydra/launcher=(\w+)", docs)) | set(
        re.findall(r"--launcher (\w+)", docs)
    )
    named -= {"NAME"}  # the placeholder in "name them with hydra/launcher=NAME"
    assert named and named <= plugin | shipped, named - plugin - shipped
    for name in re.findall(r"clustersim-experiment run (\w+)(?![\w.])", docs):
        assert name in available(), name
    options = {
        a.option_strings[0]
        for a in _parser()._subparsers._group_actions[0].choices["run"]._actions
        if a.option_strings
    }
    for option in set(re.findall(r"`(--[a-z-]+)", docs)) - {"--multirun"}:
        assert option in options, option


def test_a_failing_arm_is_reported_and_the_rest_still_analysed(tmp_path, capsys):
    path = _design(
        tmp_path,
        name="partly_broken",
        replicates=2,
        steps=24,
        arms={
            "none": ["plan=none"],
            "talent": ["plan=talent_first"],
            "broken": ["city=graphml", f"city.graphml={tmp_path}/missing.graphml"],
        },
    )
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--n-jobs", "1"])
    assert code == 1
    captured = capsys.readouterr()
    assert captured.err.count("] failed ") == 2 and captured.err.count("] ok ") == 4
    assert captured.err.count("failed: ") == 2 and "missing.graphml" in captured.err
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert sorted(runs["status"]) == ["failed", "failed", "ok", "ok", "ok", "ok"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "2 run(s) failed" in html and "missing.graphml" in html
    effects = pd.read_csv(tmp_path / "out" / "tables" / "effects.csv")
    assert set(effects["arm"]) == {"talent"}


def test_resume_reuses_finished_runs_and_re_runs_stale_ones_saying_how_many(tmp_path, capsys):
    path = _design(tmp_path, name="stale", replicates=2, steps=12)
    cmd = ["run", str(path), "--out", str(tmp_path / "out"), "--n-jobs", "1"]
    assert main(cmd) == 0
    assert "resuming" not in capsys.readouterr().err  # nothing to resume the first time
    metas = sorted((tmp_path / "out" / "runs").glob("*/meta.json"))
    assert len(metas) == 4
    for i, path_ in enumerate(metas[:2]):  # made by another model version, or an older clustersim
        meta = json.loads(path_.read_text())
        assert meta["model_fingerprint"] == model_fingerprint()
        meta["model_fingerprint"] = "0123456789abcdef" if i == 0 else None
        path_.write_text(json.dumps(meta))

    assert main(cmd) == 0
    err = capsys.readouterr().err
    assert (
        "stale: resuming: 2 finished run(s) reused, 2 stale run(s) made by a different "
        "model version re-run, 0 other(s) to run" in err
    )
    assert err.count("] skipped ") == 2 and err.count("] ok ") == 2
    assert err.count("replaced a stale run of another model version") == 2
    assert all(json.loads(p.read_text())["model_fingerprint"] == model_fingerprint() for p in metas)
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert list(runs["status"]) == ["ok"] * 4
    assert set(runs["model_fingerprint"]) == {model_fingerprint()}
    assert main(cmd) == 0
    assert "4 finished run(s) reused, 0 stale" in capsys.readouterr().err
