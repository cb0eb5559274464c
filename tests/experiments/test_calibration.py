"""Calibration designs: recovery, coverage, identification, resume, launchers, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clustersim.experiments.calibration import (
    OUTPUTS,
    calibrate,
    estimates_table,
    toy_evaluator,
    validation_table,
)
from clustersim.experiments.calibration_space import load_targets, parse_calibration
from clustersim.experiments.cli import main, run_experiment
from clustersim.experiments.design import Design
from clustersim.experiments.moments import MOMENTS
from clustersim.model.compose import config_dir

BIN = Path(sys.executable).parent

VALIDATION_COLUMNS = [
    "moment",
    "target",
    "target_lower",
    "target_upper",
    "model",
    "model_lower",
    "model_upper",
    "used_in_fit",
]


def _quiet(_line: str) -> None:
    pass


def _toy(**calibration) -> dict:
    return {
        "name": "toy_recovery",
        "kind": "calibration",
        "title": "Toy recovery",
        "root_seed": 5,
        "replicates": 4,
        "calibration": {
            "model": "moments_toy",
            "parameters": ["a", "b"],
            "planted": {"a": 0.7, "b": 1.3},
            "fit": ["m1", "m2", "m3"],
            "hold_out": ["m4"],
            "trials": 24,
            "batch": 8,
            "startup": 8,
            "refine": 3,
            **calibration,
        },
    }


def test_a_toy_recovery_finds_the_planted_values_inside_its_intervals(tmp_path):
    out = tmp_path / "out"
    outcome = run_experiment(Design.from_mapping(_toy()), out, echo=_quiet)
    assert all((out / f"{name}.parquet").is_file() for name in OUTPUTS)
    est = pd.read_parquet(out / "estimates.parquet").set_index("parameter")
    # one recovery: within 3 standard errors (how often within the 95% intervals is the
    # coverage test's question)
    assert ((est["estimate"] - est["planted"]).abs() < 3 * est["se"]).all()
    assert (est["upper"] - est["lower"]).lt(0.5).all()  # informative, not the whole range
    assert est["last_step"].lt(0.01).all()  # the refining converged
    val = pd.read_parquet(out / "validation.parquet")
    assert list(val.columns[: len(VALIDATION_COLUMNS)]) == VALIDATION_COLUMNS
    assert val.set_index("moment")["used_in_fit"].to_dict() == {
        "m1": True,
        "m2": True,
        "m3": True,
        "m4": False,
    }
    assert (val["model_lower"] <= val["model"]).all() and (val["model"] <= val["model_upper"]).all()
    html = outcome.report.read_text()
    assert "What this means" in html and "the interval" in html
    assert 'id="fig-validation"' in html and "held out" in html


@pytest.mark.parametrize("model", ["moments_toy", "moments_toy_correlated"])
def test_the_intervals_cover_the_planted_values_at_about_their_level(model):
    """Over 100 recoveries with other seeds, 95% intervals hold the truth about 95% of the time.

    Also when the moments' noises are correlated, as those of one agent-based run are.
    """
    inside, agree = [], []
    for seed in range(100):
        design = _toy(observed_seed=1000 + seed, seed=seed, model=model)
        s = parse_calibration(design["calibration"])
        c = calibrate(s, toy_evaluator(s), defaults=np.ones(2), replicates=4, root_seed=seed)
        inside.append(estimates_table(c)["planted_inside"].to_numpy(dtype=bool))
        agree.append(validation_table(c)["agrees"].to_numpy(dtype=bool))
    coverage = np.mean(inside, axis=0)
    # not too narrow (P(< 88 of 100 | 95%) < 1%) and not uselessly wide
    assert ((coverage >= 0.88) & (coverage <= 0.99)).all(), coverage
    assert np.mean(agree, axis=0)[-1] >= 0.8  # the held-out moment m4 agrees as often


def test_a_parameter_no_moment_depends_on_is_reported_as_not_identified(tmp_path):
    design = _toy(parameters=["a", "b", "c"], planted={"a": 0.7, "b": 1.3, "c": 1.0})
    outcome = run_experiment(Design.from_mapping(design), tmp_path / "out", echo=_quiet)
    est = pd.read_parquet(tmp_path / "out" / "estimates.parquet").set_index("parameter")
    assert est["identified"].to_dict() == {"a": True, "b": True, "c": False}
    assert not est.loc["c", "upper"] - est.loc["c", "lower"] < 2.0  # no interval is claimed
    assert "The fitted moments do not identify c" in outcome.report.read_text()


def test_a_calibration_against_targets_reports_the_misses(tmp_path):
    targets = {
        "m1": {"value": 2.0, "sd": 0.05, "source": "made up"},  # a + b at a = 0.5, b = 1.5
        "m3": {"value": 1.0565, "sd": 0.05, "source": "made up"},  # exp(-a) + 0.3 b there
        "m4": {"value": 1.0, "sd": 0.05, "source": "made up"},  # but a - b is -1 there
    }
    design = _toy(fit=["m1", "m3"], hold_out=["m4"], targets=targets)
    del design["calibration"]["planted"]
    outcome = run_experiment(Design.from_mapping(design), tmp_path / "out", echo=_quiet)
    val = pd.read_parquet(tmp_path / "out" / "validation.parquet").set_index("moment")
    assert val.loc[["m1", "m3"], "agrees"].all() and not val.loc["m4", "agrees"]
    assert "the model misses" in outcome.summary.read_text()


def test_the_shipped_targets_have_a_value_an_uncertainty_and_a_source():
    for path in sorted((config_dir() / "targets").glob("*.yaml")):
        targets, origin = load_targets(path.stem, tuple(MOMENTS))
        assert origin == path.stem and len(targets) >= 5
        for t in targets.values():
            assert t.sd > 0 and "Eurostat" in t.source and t.uncertainty


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"fit": ["m1", "m9"]},
            "calibration.fit must name moments the model measures (m1, m2, m3, m4); got 'm9'",
        ),
        ({"planted": {"a": 3.0, "b": 1.0}}, "calibration.planted.a must lie in its range"),
        ({"fit": ["m1"], "hold_out": []}, "fit has 1 moment(s) for 2 parameters"),
        ({"trails": 3}, "calibration.trails is not a setting"),
        ({"fit": ["m1", "m2"], "hold_out": ["m2"]}, "m2 is both fitted and held out"),
        ({"planted": {"a": float("nan"), "b": 1.0}}, "planted.a must be a finite number"),
        ({"step": 0.5}, "calibration.step must be > 0 and <= 0.25"),
    ],
)
def test_bad_calibration_settings_stop_with_one_line_before_anything_is_written(
    tmp_path, capsys, change, message
):
    path = tmp_path / "bad.yaml"
    design = _toy()
    design["calibration"].update(change)
    path.write_text(yaml.safe_dump(design))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_a_target_without_a_finite_value_or_a_bad_level_stops_with_one_line(tmp_path, capsys):
    design = _toy(targets={"m1": {"value": 1.0, "sd": float("inf")}, "m2": {"value": 1, "sd": 1}})
    del design["calibration"]["planted"]
    design["calibration"].update(fit=["m1", "m2"], hold_out=[])
    for bad, message in (
        (design, "calibration.targets.m1.sd must be a finite number, got inf"),
        (_toy() | {"analysis": {"ci": 1.5}}, "analysis.ci must be a level between 0 and 1"),
    ):
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(bad))
        assert main(["run", "--design", str(path), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_fitted_moment_the_runs_are_too_short_to_measure_stops_before_running(tmp_path, capsys):
    argv = ["run", "calibration_eu", "--steps", "24", "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "calibration.fit: survival_3 needs runs of at least 37 months" in err
    assert not (tmp_path / "out").exists()


def test_unknown_targets_name_the_shipped_files(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    design = _toy()
    del design["calibration"]["planted"]
    design["calibration"]["model"] = "clustersim"
    design |= {"sites": {"town": {"overrides": ["city=small_town"]}}}
    design["calibration"] |= {
        "parameters": ["firm.young_exit_hazard"],
        "targets": "eu_creative_firm",
        "fit": ["survival_1"],
        "hold_out": [],
    }
    path.write_text(yaml.safe_dump(design))
    assert main(["run", "--design", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "calibration.targets must be one of eu_creative_firms" in err
    assert "did you mean 'eu_creative_firms'" in err


def _town(**calibration) -> dict:
    return {
        "name": "town_calibration",
        "kind": "calibration",
        "title": "Tiny town",
        "root_seed": 11,
        "replicates": 1,
        "steps": 24,
        "common": ["spin_up.months=24"],
        "sites": {"town": {"label": "Town of 3,000", "overrides": [
            "city=small_town", "city.population=3000", "plan=none"]}},
        "calibration": {
            "parameters": ["labour.creative_vocation", "firm.entrepreneurship_rate"],
            "ranges": {
                "labour.creative_vocation": [-3.0, -1.5],
                "firm.entrepreneurship_rate": [0.004, 0.016],
            },
            "targets": "eu_creative_firms",
            "fit": ["creative_share", "birth_rate"],
            "hold_out": ["death_rate"],
            "trials": 4,
            "batch": 2,
            "startup": 2,
            "refine": 1,
            "validation_replicates": 2,
            **calibration,
        },
    }  # fmt: skip


def test_an_interrupted_calibration_resumes_without_redoing_finished_runs(tmp_path):
    design = Design.from_mapping(_town() | {"replicates": 2})
    out = tmp_path / "out"
    first = run_experiment(design, out, echo=_quiet)
    assert first.ok > 0 and not first.failed
    est = pd.read_parquet(out / "estimates.parquet")
    metas = sorted((out / "batches").glob("*/runs/*/meta.json"))
    # as if interrupted: the outputs and the last batches' runs were never written
    lost = [m for m in metas if "refine-1" in str(m) or "validation" in str(m)]
    assert lost and len(lost) < len(metas)
    for meta in lost:
        meta.unlink()
    for name in OUTPUTS:
        (out / f"{name}.parquet").unlink()
    kept = {m: m.stat().st_mtime_ns for m in metas if m not in lost}
    again = run_experiment(design, out, echo=_quiet)
    assert all(m.stat().st_mtime_ns == t for m, t in kept.items())  # reused, not redone
    assert all(m.is_file() for m in lost)  # the lost runs were run again
    pd.testing.assert_frame_equal(pd.read_parquet(out / "estimates.parquet"), est)
    assert again.ok == first.ok
    trials = pd.read_parquet(out / "trials.parquet")
    assert trials["stage"].tolist()[:4] == ["search"] * 4
    assert {"jacobian", "refine"} <= set(trials["stage"])
    # common random numbers: every point of the search ran with the same two seeds, and
    # the validation runs with seeds of their own
    seeds = {p.name.split("-s")[1] for p in (out / "batches").glob("search-*/runs/*")}
    assert len(seeds) == 2
    checks = {p.name.split("-s")[1] for p in (out / "batches").glob("validation/runs/*")}
    assert len(checks) == 2 and not checks & seeds


def test_report_rewrites_a_calibration_report_from_its_tables(tmp_path, capsys):
    out = tmp_path / "out"
    run_experiment(Design.from_mapping(_toy()), out, echo=_quiet)
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert "What this means" in (out / "report.html").read_text()
    (out / "estimates.parquet").unlink()
    assert main(["report", str(out)]) == 2
    assert "holds no estimates.parquet" in capsys.readouterr().err


@pytest.mark.slow
def test_a_calibration_runs_through_a_hydra_launcher_with_the_same_result(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(_town(trials=2, refine=0)))
    results = {}
    for launcher in ("local", "basic"):
        out = tmp_path / launcher
        cmd = [str(BIN / "clustersim-experiment"), "run", "--design", str(path), "--out", str(out)]
        res = subprocess.run(
            [*cmd, "--launcher", launcher], capture_output=True, text=True, timeout=900,
            cwd=tmp_path,
        )  # fmt: skip
        assert res.returncode == 0, res.stdout + res.stderr
        results[launcher] = pd.read_parquet(out / "estimates.parquet")
    pd.testing.assert_frame_equal(results["local"], results["basic"])
    assert list((tmp_path / "basic" / "batches").glob("search-000/jobs/*"))  # Hydra's job dirs


def test_samples_sets_the_points_searched_of_a_shipped_calibration():
    from clustersim.experiments.calibration_runs import most_runs

    design = Design.named("calibration_eu")
    small = design.with_changes(samples=8, replicates=1)
    assert parse_calibration(small.calibration).trials == 8
    assert most_runs(small) < most_runs(design)
    s = parse_calibration(design.calibration)
    assert set(s.fit).isdisjoint(s.hold_out) and len(s.fit) >= len(s.factors)
    recovery = parse_calibration(Design.named("calibration_recovery").calibration)
    assert recovery.is_recovery and not recovery.targets


@pytest.mark.slow
def test_the_documented_smoke_run_of_the_shipped_calibration_runs(tmp_path):
    argv = ["run", "calibration_eu", "--samples", "8", "--replicates", "1", "--steps", "48"]
    assert main([*argv, "spin_up.months=0", "--out", str(tmp_path / "out")]) == 0
    val = pd.read_parquet(tmp_path / "out" / "validation.parquet")
    fitted = val[val["used_in_fit"]]
    assert fitted["model"].notna().all()
    assert "smoke run" in (tmp_path / "out" / "report.html").read_text()


class _Stop(Exception):
    pass


def test_an_override_of_an_estimated_parameter_is_said_to_set_only_the_start(tmp_path, monkeypatch):
    import clustersim.experiments.calibration_runs as runs

    starts = []

    def stop(settings, evaluate, *, defaults, **_kwargs):
        starts.append(defaults)
        raise _Stop

    monkeypatch.setattr(runs, "calibrate", stop)
    design = Design.from_mapping(_town()).with_changes(overrides=["labour.creative_vocation=-2"])
    said: list[str] = []
    with pytest.raises(_Stop):
        runs.run_calibration(design, tmp_path / "out", echo=said.append)
    assert any(
        "labour.creative_vocation is estimated" in line and "starts from" in line for line in said
    )
    assert starts[0][0] == -2.0  # the search starts there
