"""The clustersim-experiment command: run, resume, report, failures, stale runs, docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from clustersim.experiments.cli import _parse, _parser, main, run_experiment
from clustersim.experiments.design import Design, available, expected_run_dirs
from clustersim.experiments.provenance import model_fingerprint
from clustersim.model.compose import config_dir
from conftest import write_design as _design


def test_an_unknown_experiment_is_bad_input():
    assert main(["run", "no_such_experiment"]) == 2


def test_overrides_may_follow_the_options_as_the_docs_show_them(capsys):
    args = _parse(["run", "tvm", "--site", "small_town", "talent.review_rate=0.04", "--force"])
    assert args.site == ["small_town"] and args.force
    assert args.overrides == ["talent.review_rate=0.04"]
    args = _parse(["run", "tvm", "a=1", "--launcher", "slurm", "hydra.launcher.partition=cpu"])
    assert args.overrides == ["a=1", "hydra.launcher.partition=cpu"]
    with pytest.raises(SystemExit):
        _parse(["run", "tvm", "--no-such-option"])
    with pytest.raises(SystemExit):
        _parse(["list", "extra"])
    assert "unrecognized arguments: extra" in capsys.readouterr().err


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
        for command in _parser()._subparsers._group_actions[0].choices.values()
        for a in command._actions
        if a.option_strings
    }
    # options of clustersim-experiment; the Ray section's table and advice name `ray start` flags
    before, _, after = docs.partition("## Ray and SLURM")
    ours = before + after.split("\n## ", 1)[-1]
    for option in set(re.findall(r"`(--[a-z-]+)", ours)) - {"--multirun"}:
        assert option in options, option


def test_a_failing_arm_is_reported_and_the_rest_still_analysed(tmp_path, capsys):
    path = _design(
        tmp_path,
        name="partly_broken",
        replicates=2,
        steps=24,
        arms={
            "none": ["plan=none"],
            "talent": ["policy=talent_attraction"],
            "broken": ["city=graphml", f"city.graphml={tmp_path}/missing.graphml"],
        },
    )
    # a positional design file, the form before --design, still works
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
    cmd = ["run", "--design", str(path), "--out", str(tmp_path / "out"), "--n-jobs", "1"]
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


def test_report_of_runs_made_by_an_earlier_model_version_with_fingerprint(tmp_path, capsys):
    # a folder run by an earlier clustersim: its runs are stale for the installed model,
    # and --fingerprint reports them as they are, saying whose they are
    out = tmp_path / "out"
    path = _design(tmp_path, name="old", replicates=2, steps=12)
    assert main(["run", "--design", str(path), "--out", str(out), "--n-jobs", "1"]) == 0
    old = "0123456789abcdef"
    for meta_path in sorted((out / "runs").glob("*/meta.json")):
        meta = json.loads(meta_path.read_text())
        meta_path.write_text(json.dumps({**meta, "model_fingerprint": old}))
    capsys.readouterr()
    written = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    line = _refused(capsys, ["report", str(out)])  # the installed model's: none finished
    assert line.endswith(
        f"was made by the installed model (fingerprint {model_fingerprint()}); fingerprints "
        f"of its finished runs: {old} (4); run the design again, or give one of them with "
        "--fingerprint"
    )
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == written

    assert main(["report", str(out), "--fingerprint", old]) == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["status"]) == ["ok"] * 4
    html = (out / "report.html").read_text()
    assert (
        f"model fingerprint {old} (runs made by another model version, reported with "
        f"--fingerprint; the installed model: {model_fingerprint()})" in html
    )
    assert "stale" not in html
    assert (out / "tables" / "effects.csv").is_file()
    assert f"model fingerprint {old} (runs made by another" in (out / "summary.md").read_text()

    line = _refused(capsys, ["report", str(out), "--fingerprint", "fedcba9876543210"])
    assert line.endswith(f"fingerprints of its finished runs: {old} (4)")

    # half of them re-run by the installed model: those are left out of the old report,
    # without the advice to run the experiment again (which would not bring them in)
    assert main(["run", "--design", str(path), "--out", str(out), "--n-jobs", "1"]) == 0
    metas = sorted((out / "runs").glob("*/meta.json"))
    for meta_path in metas[:2]:
        meta = json.loads(meta_path.read_text())
        meta_path.write_text(json.dumps({**meta, "model_fingerprint": old}))
    capsys.readouterr()
    assert main(["report", str(out), "--fingerprint", old]) == 1
    err = capsys.readouterr().err
    assert f"note: 2 finished run(s) made by model versions other than {old} are left out" in err
    assert "run the experiment again" not in err
    html = (out / "report.html").read_text()
    assert f"2 run(s) were made by model versions other than the one reported ({old})" in html
    # the two left are one arm's (the run folders are named by config hash): the report
    # says there is nothing to compare instead of failing on an empty effects figure
    assert "No plan can be compared with the baseline (none): no site has finished runs" in html
    assert "(the runs left out are listed above)" in html
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert "effects.png" not in figures and "timeseries.png" in figures  # none of the last's

    # every run failed: the tables and the report of earlier runs go, runs.parquet says why
    for meta_path in metas:
        meta = json.loads(meta_path.read_text())
        meta_path.write_text(json.dumps({**meta, "status": "failed", "error": "boom"}))
    capsys.readouterr()
    assert main(["report", str(out), "--fingerprint", old]) == 2  # no run of it finished
    assert main(["report", str(out)]) == 1
    err = capsys.readouterr().err
    assert "no run finished; see " in err and "; the earlier report is removed" in err
    left = sorted(p.name for p in out.iterdir())
    assert left == sorted([".aggregate.lock", "experiment.yaml", "runs", "runs.parquet"]), left
    assert set(pd.read_parquet(out / "runs.parquet")["status"]) == {"failed"}
    calibration = tmp_path / "calibration"
    Design.named("calibration_eu").save(calibration / "experiment.yaml")
    line = _refused(capsys, ["report", str(calibration), "--fingerprint", old])
    assert "--fingerprint: a calibration design's report is rewritten from the tables" in line
    assert [p.name for p in calibration.iterdir()] == ["experiment.yaml"]


def test_discover_on_runs_of_another_model_version_asks_for_their_fingerprint(tmp_path, capsys):
    # it used to aggregate first: runs.parquet rewritten with every run stale, then "no
    # run has finished"
    out = tmp_path / "disc"
    design = Design.named("discovery_small_town").with_changes(samples=4, steps=12)
    design.save(out / "experiment.yaml")
    run = expected_run_dirs(design, out / "runs")[0]  # one of the design's runs, finished
    run.mkdir(parents=True)
    (run / "meta.json").write_text(
        json.dumps({"status": "ok", "model_fingerprint": "0123456789abcdef"})
    )
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    line = _refused(capsys, ["discover", str(out)])
    assert line.endswith(
        f"no finished run in {out} was made by the installed model (fingerprint "
        f"{model_fingerprint()}); fingerprints of its finished runs: 0123456789abcdef (1); "
        "run the design again, or give one of them with --fingerprint"
    )
    line = _refused(capsys, ["discover", str(out), "--fingerprint", "fedcba9876543210"])
    assert "was made by model fingerprint fedcba9876543210" in line
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


# ---------------------------------------------------------------- bad input: one line, exit 2
def _refused(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("clustersim-experiment: error: ")
    return lines[0]


def test_a_design_name_is_looked_up_only_in_the_experiment_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "x" / "evil_design.yaml"  # reachable by a path: never read by name
    evil.parent.mkdir()
    evil.write_text((config_dir() / "experiment" / "town_vs_metropolis.yaml").read_text())
    line = _refused(capsys, ["run", "../x/evil_design"])
    assert "not paths; got '../x/evil_design' (your own design file: --design FILE)" in line
    assert "did you mean 'town_vs_metropolis'?" in _refused(capsys, ["run", "town_vs_metropolis_"])
    assert "give an experiment name" in _refused(capsys, ["run"])
    assert "not both" in _refused(capsys, ["run", "scaling", "--design", str(evil)])
    assert "no design file at" in _refused(capsys, ["run", "--design", "missing.yaml"])
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil_design.yaml", "x"]


@pytest.mark.parametrize("name", ["../../x", "/tmp/clustersim_evil_abs", "sub/dir"])
def test_a_design_whose_name_is_not_a_slug_writes_nothing(tmp_path, monkeypatch, capsys, name):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = _design(tmp_path, name="tiny")
    path.write_text(path.read_text().replace("name: tiny", f"name: {name}"))
    line = _refused(capsys, ["run", "--design", str(path)])
    assert "name must hold only letters, digits, _ and -" in line and repr(name) in line
    assert list(work.iterdir()) == [] and not Path("/tmp/clustersim_evil_abs").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml", "work"]


def test_bad_overrides_and_launchers_are_refused_before_anything_is_written(tmp_path, capsys):
    path = str(_design(tmp_path))
    out = tmp_path / "out"
    run = ["run", "--design", path, "--out", str(out)]
    assert "did you mean 'talent.review_rate'?" in _refused(capsys, [*run, "talent.revew_rate=1"])
    assert "did you mean 'obidos'?" in _refused(capsys, [*run, "plan=obidoss"])
    assert "did you mean 'joblib'?" in _refused(capsys, [*run, "--launcher", "joblibb"])
    line = _refused(capsys, [*run, "--launcher", "joblib", "hydra.launcher.n_jobz=2"])
    assert "did you mean 'hydra.launcher.n_jobs'?" in line
    line = _refused(capsys, [*run, "--launcher", "joblib", "hydra.sweep.dir=/tmp/elsewhere"])
    assert "the sweep's folder is --out" in line
    assert "not a path" in _refused(capsys, [*run, "--launcher", "../x"])
    assert not out.exists()


def test_aggregate_and_report_of_a_folder_that_is_not_one_are_one_line(tmp_path, capsys):
    missing = tmp_path / "nonexistent"
    assert "does not exist: not a sweep folder" in _refused(capsys, ["aggregate", str(missing)])
    assert not missing.exists()
    line = _refused(capsys, ["aggregate", str(tmp_path)])
    assert "holds no runs/ folder" in line
    assert "holds no experiment.yaml" in _refused(capsys, ["report", str(tmp_path)])
    assert "does not exist: not an experiment or sweep folder" in _refused(
        capsys, ["report", str(missing)]
    )
    assert list(tmp_path.iterdir()) == [] and not missing.exists()
    design = _design(tmp_path)  # a design file given where its output folder belongs
    line = _refused(capsys, ["report", str(design)])
    assert line.endswith(
        f"{design} is a file, not a folder: not an experiment or sweep folder "
        "(clustersim-experiment run and clustersim -m make them)"
    )


def test_aggregate_by_a_fingerprint_no_run_has_is_refused_before_writing(tmp_path, capsys):
    """A wrong --fingerprint used to mark every run stale in a rewritten runs.parquet."""
    for name, fingerprint in (("a-s1", model_fingerprint()), ("b-s1", "0123456789abcdef")):
        (tmp_path / "runs" / name).mkdir(parents=True)
        meta = {"status": "ok", "model_fingerprint": fingerprint}
        (tmp_path / "runs" / name / "meta.json").write_text(json.dumps(meta))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    line = _refused(capsys, ["aggregate", str(tmp_path), "--fingerprint", "zzz"])
    assert line.endswith(
        "--fingerprint takes a model fingerprint, 16 hex digits as each "
        "run's meta.json and runs.parquet record it; got 'zzz'"
    )
    line = _refused(capsys, ["aggregate", str(tmp_path), "--fingerprint", "fedcba9876543210"])
    assert line.endswith(
        f"no finished run in {tmp_path} was made by model fingerprint fedcba9876543210; "
        f"fingerprints of its finished runs: "
        + ", ".join(f"{fp} (1)" for fp in sorted([model_fingerprint(), "0123456789abcdef"]))
    )
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_report_takes_another_baseline_arm_or_says_which_arms_there_are(tmp_path, capsys):
    out = tmp_path / "tiny"
    Design.load(_design(tmp_path)).save(out / "experiment.yaml")
    line = _refused(capsys, ["report", str(out), "--baseline", "talnet"])
    assert line.endswith(
        "--baseline talnet: an experiment's baseline is one of its arms (none, talent); got talnet"
    )
    assert [p.name for p in out.iterdir()] == ["experiment.yaml"]
    assert main(["report", str(out), "--baseline", "arm=talent"]) == 1  # no run to report
    assert "no run finished" in capsys.readouterr().err


def test_a_design_file_is_given_with_design_and_overrides_may_follow(tmp_path):
    path = str(_design(tmp_path))
    args = _parse(["run", "--design", path, "talent.review_rate=0.04", "--force"])
    assert args.design == path and args.force
    from clustersim.experiments.cli import _design as design_of

    assert design_of(args).name == "tiny"
    assert args.overrides == ["talent.review_rate=0.04"]
    assert design_of(_parse(["run", path])).name == "tiny"  # a positional file, as before


def test_list_names_every_design_with_its_runs_and_the_optimisation_s_validation(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == available()
    optimisation = next(line for line in lines if line.startswith("optimisation_small_town"))
    settings = Design.named("optimisation_small_town").optimisation
    per_plan = settings["validation_replicates"]
    assert re.search(r" \d+ runs  ", optimisation)
    assert f"(then {per_plan} runs per plan of the Pareto set)" in optimisation


def test_an_output_folder_that_cannot_be_one_is_one_line(tmp_path, capsys, monkeypatch):
    design = str(_design(tmp_path))
    afile = tmp_path / "afile"
    afile.write_text("mine")
    for out in (afile, afile / "sub"):
        line = _refused(capsys, ["run", "--design", design, "--out", str(out)])
        assert line.endswith(f"--out {out}: {afile} is a file, not a folder")
    assert afile.read_text() == "mine"
    line = _refused(capsys, ["aggregate", str(tmp_path), "--out", str(afile)])
    assert "holds no runs/ folder" in line  # the sweep folder is checked first
    (tmp_path / "runs").mkdir()
    line = _refused(capsys, ["aggregate", str(tmp_path), "--out", str(afile / "x")])
    assert line.endswith(f"--out {afile / 'x'}: {afile} is a file, not a folder")

    def unwritable(*args, **kwargs):  # what a full disk or a folder of another user gives
        raise PermissionError(13, "Permission denied", str(tmp_path / "out" / "runs"))

    monkeypatch.setattr("clustersim.experiments.cli.run_experiment", unwritable)
    assert main(["run", "--design", design, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"clustersim-experiment: error: {tmp_path / 'out' / 'runs'}: Permission denied"]

    def bug(*args, **kwargs):  # an OSError that names no file is a bug: its traceback stays
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr("clustersim.experiments.cli.run_experiment", bug)
    with pytest.raises(OSError, match="Invalid argument"):
        main(["run", "--design", design, "--out", str(tmp_path / "out")])
