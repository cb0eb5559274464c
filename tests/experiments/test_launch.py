"""The clustersim command, launched for real as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from clustersim import simulate
from conftest import run_cli


def test_run_writes_tables_config_and_summary(tmp_path):
    out = tmp_path / "out"
    proc = run_cli(
        ["city=small_town", "steps=12", "seed=7", "city.population=5000", f"hydra.run.dir={out}"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "creative_employment" in proc.stdout
    for name in ("timeseries.parquet", "firms.parquet", "config.json", "summary.json"):
        assert (out / name).is_file(), name
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 13
    assert json.loads((out / "summary.json").read_text())["seed"] == 7
    assert json.loads((out / "config.json").read_text())["city"]["population"] == 5000


_COUNT_BUILDS = """
import sys
import clustersim.model.core as core
from clustersim.experiments.launch import main

built = []
init = core.CreativeClusterModel.__init__
def counting(self, *args, **kwargs):
    built.append(1)
    init(self, *args, **kwargs)
core.CreativeClusterModel.__init__ = counting
sys.argv = ["clustersim", *sys.argv[1:]]
try:
    main()
finally:
    print("models built:", len(built), file=sys.stderr)
"""


@pytest.mark.parametrize(("job_setting", "builds"), [([], 1), (["hydra.job.chdir=false"], 2)])
def test_a_single_run_builds_its_model_once(tmp_path, job_setting, builds):
    """The check before Hydra starts builds the model; the run takes it instead of a second.

    Not when a hydra.job setting may give the job another folder or environment (the
    spin-up cache folder comes from the environment): then the job builds its own.
    """
    out = tmp_path / "out"
    args = ["city=small_town", "steps=6", "seed=3", "city.population=5000", f"hydra.run.dir={out}"]
    args += job_setting
    proc = subprocess.run(
        [sys.executable, "-c", _COUNT_BUILDS, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"models built: {builds}" in proc.stderr
    ts = pd.read_parquet(out / "timeseries.parquet")
    expected = simulate("small_town", steps=6, seed=3, overrides=["city.population=5000"])
    pd.testing.assert_frame_equal(ts, expected.timeseries, check_dtype=False)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["steps=-5"], "steps must be >= 1"),
        (["city=atlantis"], "city must be one of"),
        (["talent.amenity_weight=abc"], "talent.amenity_weight must be a number, got 'abc'"),
        (["talent.nonsense=1"], "talent.nonsense is not a known parameter"),
        (["city.population=10"], "city.population must be >= 1000"),
        (["city=graphml", "city.graphml=missing.graphml"], "missing.graphml"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, args, expected):
    proc = run_cli(args, tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr
    assert list(Path(tmp_path).iterdir()) == []


# ---------------------------------------------------------------- every override form is checked
def _refused(capsys, args: list[str]) -> str:
    """Run ``clustersim ARGS`` in-process; it must refuse with exit 2 and one stderr line."""
    from clustersim.experiments.launch import main

    assert main(args) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("clustersim: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["++talent.revew_rate=0.5"],
            "++ overrides a key, it cannot add one); did you mean 'talent.review_rate'?",
        ),
        (["+steps=12"], "steps is already in the config: write steps=12 (without +)"),
        (["hydra_junk=1"], "hydra_junk is not a known parameter"),
        (["~talent.revew_rate"], "did you mean 'talent.review_rate'?"),
        (["revew_rate=0.1"], "did you mean 'talent.review_rate'?"),
        (["plna=obidos"], "did you mean 'plan'?"),
        (["plan=obidoss"], "plan must be one of barnsley, catanzaro, creative_city"),
        (["plan=obidoss"], "got 'obidoss'; did you mean 'obidos'?"),
        (["city=small_twon"], "did you mean 'small_town'?"),
        (["policy=[festival,creative_hbu]"], "did you mean 'creative_hub'?"),
        (
            ["policy.festival.intensity=2"],
            "policy.festival.intensity is a setting of the festival lever, which is off: "
            "switch it on with policy=[festival]",
        ),
        (
            ["policy=[festival]", "policy.festival.intensty=2"],
            "did you mean 'policy.festival.intensity'?",
        ),
        (
            ["hydra.job.nme=x"],
            "hydra.job.nme is not a known Hydra setting of hydra.job; "
            "did you mean 'hydra.job.name'?",
        ),
        (["hydra/launchr=joblib"], "did you mean 'hydra/launcher'?"),
        (["seed=1,2"], "seed=1,2 is a sweep: run it with --multirun (-m)"),
        (["+replicate=1"], "+replicate works in a multirun only"),
        (["steps=2", "city@talent=small_town"], "@package overrides are not supported"),
        (["talent"], "cannot read the override 'talent'"),
        (["--config-dir", "/tmp"], "--config-dir is not supported"),
        (["--config-name", "other"], "--config-name is not supported"),
        (["--cfg", "jobb"], "invalid choice: 'jobb'"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_a_typo_in_any_override_form_is_one_line_with_a_suggestion(
    tmp_path, monkeypatch, capsys, args, expected
):
    monkeypatch.chdir(tmp_path)
    assert expected in _refused(capsys, args)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "city=small_twon,metropolis"], "got 'small_twon'; did you mean 'small_town'?"),
        (["-m", "seed=0,1", "talent.revew_rate=0.1,0.2"], "did you mean 'talent.review_rate'?"),
        (["-m", "plan=none,obidoss"], "did you mean 'obidos'?"),
        (["-m", "policy=[festival],[festval]"], "did you mean 'festival'?"),
        (["-m", "firm.agglomeration_cap=20,-1"], "firm.agglomeration_cap must be > 0"),
        # a large sweep is checked value by value: the bad value is found all the same
        (
            ["-m", "seed=range(0,50)", "firm.agglomeration_cap=20,40,-1"],
            "firm.agglomeration_cap must be > 0",
        ),
        (["-m", "seed=range(0,50)", "city=small_town,medium_citty"], "did you mean 'medium_city'?"),
        (["-m", "hydra/launcher=joblibb", "seed=0,1"], "did you mean 'joblib'?"),
        (
            ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobz=2", "seed=0,1"],
            "(launcher joblib); did you mean 'hydra.launcher.n_jobs'?",
        ),
        (
            ["-m", "hydra.launcher.partition=cpu", "seed=0,1"],
            "choose the launcher that has it first",
        ),
        (["-m", "hydra.sweep.dir=a,b", "seed=0,1"], "Hydra's settings cannot be swept"),
        (["-m", "+hydra.sweeper.params.seed='0,1'"], "give sweeps on the command line"),
        (["-m", "+replicate=-1"], "+replicate must be whole numbers >= 0; got -1"),
        (["-m", "+replicate=range(0,2)", "+xp.site=a"], "+replicate and +xp.* do not go together"),
        (["-m", "replicate=range(0,2)"], "add it with +replicate=range(0,2)"),
        (["-m", "+talent.review_rate=0.1,0.2"], "write talent.review_rate=0.1 (without +)"),
        (
            ["-m", "+xp.site=a", "+xp.arm=b", "+xp.replicate=0"],
            "experiment.yaml, which is not there",
        ),
        (["-m", "seed=interval(0,1)"], "sweeps take lists (a,b,c), choice(...) or range(...)"),
        (["-m", "--cfg", "job"], "give only one of --run, --multirun, --cfg and --info"),
    ],
)
def test_every_run_of_a_multirun_is_checked_before_hydra_starts(
    tmp_path, monkeypatch, capsys, args, expected
):
    monkeypatch.chdir(tmp_path)
    assert expected in _refused(capsys, args)
    assert list(tmp_path.iterdir()) == []


def test_design_runs_of_a_multirun_must_be_in_the_saved_design(tmp_path, monkeypatch, capsys):
    from clustersim.experiments.design import Design
    from conftest import write_design

    monkeypatch.chdir(tmp_path)
    sweep = tmp_path / "sweep"
    Design.load(write_design(tmp_path)).save(sweep / "experiment.yaml")
    base = ["-m", f"hydra.sweep.dir={sweep}", "+xp.arm=none", "+xp.replicate=0"]
    assert "did you mean 'town'?" in _refused(capsys, [*base, "+xp.site=twon"])
    args = ["-m", f"hydra.sweep.dir={sweep}", "+xp.site=town", "+xp.arm=none", "+xp.replicate=3"]
    assert "+xp.replicate must be whole numbers >= 0 and < 3; got 3" in _refused(capsys, args)
    args = [*base, "+xp.site=town", "steps=2"]
    assert "+xp.* runs take their overrides from the design" in _refused(capsys, args)
    assert sorted(p.name for p in sweep.iterdir()) == ["experiment.yaml"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["city=../../x"], "city takes a name from configs/city/, not a path: got '../../x'"),
        (["city=/etc/x"], "your own GraphML file: city=graphml city.graphml=PATH"),
        (["plan=../../../../tmp/x/evil_plan"], "plan takes a name from configs/plan/, not a path"),
        (["policy=[../x]"], "policy takes a name from configs/policy/, not a path: got '../x'"),
        (["policy=[festival,sub/x]"], "not a path: got 'sub/x'"),
        (["-m", "city=small_town,../x"], "not a path: got '../x'"),
        (["-m", "hydra/launcher=../../x", "seed=0,1"], "hydra/launcher takes a name"),
        (["hydra.searchpath=[file:///tmp]"], "clustersim reads its configs from"),
    ],
)
def test_config_names_never_leave_their_folder(tmp_path, monkeypatch, capsys, args, expected):
    evil = tmp_path / "x"  # a YAML file a path could reach: it is never read
    evil.mkdir()
    (evil / "evil_plan.yaml").write_text("steps: 1\n")
    monkeypatch.chdir(evil)
    assert expected in _refused(capsys, args)
    assert sorted(p.name for p in evil.iterdir()) == ["evil_plan.yaml"]


@pytest.mark.parametrize(
    "args",
    [
        ["++talent.revew_rate=0.5", "steps=2"],
        ["-m", "city=small_twon,metropolis"],
        ["+steps=12"],
        ["hydra_junk=1"],
    ],
)
def test_refused_for_real_leaves_no_outputs_multirun_or_log(tmp_path, args):
    proc = run_cli(args, tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "did you mean" in lines[0] or "without +" in lines[0] or "hydra_junk" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_legitimate_forms_still_run(tmp_path):
    out = tmp_path / "one"
    proc = run_cli(["++steps=2", "city.population=5000", f"hydra.run.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_parquet(out / "timeseries.parquet")) == 3

    sweep = tmp_path / "sweep"
    args = ["-m", "steps=2", "city.population=5000", "seed=3", "+replicate=range(0,2)"]
    proc = run_cli([*args, f"hydra.sweep.dir={sweep}", "+hydra.job.env_set.X=1"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    metas = [json.loads(p.read_text()) for p in sorted((sweep / "runs").glob("*/meta.json"))]
    assert [m["status"] for m in metas] == ["ok", "ok"]
    assert sorted(m["labels"]["replicate"] for m in metas) == [0, 1]

    proc = run_cli(["--cfg", "job", "policy=[festival]", "policy.festival.intensity=2"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "intensity: 2" in proc.stdout
    for flags in (["--help"], ["--info", "defaults"]):
        proc = run_cli(flags, tmp_path)
        assert proc.returncode == 0, proc.stderr
    # Hydra lists every folder of configs/ as a group: the help says which two are not
    help_text = run_cli(["--help"], tmp_path).stdout
    assert "experiment lists the designs of" in help_text and "neither is an option" in help_text
    assert "city: " in help_text and "policy: " in help_text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "sweep"]


def _fake_ray(monkeypatch, *, fails: bool = False):
    """A stand-in ``ray`` module whose ``init`` sets a Python SIGTERM handler, as Ray's does."""
    import signal
    import types

    fake = types.ModuleType("ray")

    def ray_exit(signum, frame):  # Ray's own: sys.exit(signum)
        raise SystemExit(signum)

    def init(*args, **kwargs):
        signal.signal(signal.SIGTERM, ray_exit)
        if fails:
            raise ConnectionError("no Ray cluster at that address")
        return "context"

    fake.init = init
    monkeypatch.setitem(sys.modules, "ray", fake)
    return fake, init, ray_exit


@pytest.mark.parametrize("fails", [False, True], ids=["started", "init-fails"])
def test_ray_init_is_wrapped_once_and_gives_sigterm_back_to_its_python_handler(monkeypatch, fails):
    import signal

    from clustersim.experiments import launch

    fake, init, ray_exit = _fake_ray(monkeypatch, fails=fails)
    set_for_sigterm = []
    real_signal = signal.signal

    def spy(signum, handler):
        if signum == signal.SIGTERM:
            set_for_sigterm.append(handler)
        return real_signal(signum, handler)

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(signal, "signal", spy)
    try:
        launch._quiet_sigterm_after_ray_init()
        launch._quiet_sigterm_after_ray_init()  # a second call does not wrap the wrapper
        assert fake.init is not init and fake.init.__wrapped__ is init
        if fails:
            with pytest.raises(ConnectionError, match="no Ray cluster"):
                fake.init(address="ray://nowhere:10001")
        else:
            assert fake.init(address="local") == "context"
        # init set Ray's handler; the wrapper set it once more, over the C handler Ray's
        # failure signal handler would have put there (its "*** SIGTERM received" dump)
        assert set_for_sigterm == [ray_exit, ray_exit]
    finally:
        real_signal(signal.SIGTERM, before)
