"""The runner: seeds, config hash, run directories, skip-if-complete, recorded failures."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest

from clustersim import __version__
from clustersim.errors import ConfigError
from clustersim.experiments import runner as runner_module
from clustersim.experiments.provenance import model_fingerprint
from clustersim.experiments.runner import (
    RUN_LOCK,
    RunSpec,
    compose_config,
    config_hash,
    is_complete,
    parse_overrides,
    replicate_seed,
    replicate_seeds,
    run_dir_name,
    run_spec,
    run_status,
    why_not_ok,
)
from clustersim.files import temporary_sibling
from clustersim.model.compose import load_config
from clustersim.model.results import RESULT_FILES

TINY = ("city=small_town", "city.population=5000")


def test_replicate_seeds_are_seedsequence_children_independent_of_count():
    seeds = replicate_seeds(7, 6)
    assert len(set(seeds)) == 6
    assert seeds[:3] == replicate_seeds(7, 3)
    assert [replicate_seed(7, i) for i in range(6)] == seeds
    child = np.random.SeedSequence(7).spawn(6)[4]
    assert seeds[4] == int(child.generate_state(1, dtype=np.uint32)[0])
    assert replicate_seeds(8, 3) != seeds[:3]
    with pytest.raises(ValueError):
        replicate_seed(-1, 0)


def test_config_hash_ignores_the_seed_but_not_parameters():
    a = compose_config(TINY, seed=1, steps=5)
    b = compose_config(TINY, seed=2, steps=5)
    c = compose_config((*TINY, "talent.review_rate=0.03"), seed=1, steps=5)
    d = compose_config(TINY, seed=1, steps=6)
    assert config_hash(a) == config_hash(b)
    assert len({config_hash(a), config_hash(c), config_hash(d)}) == 3
    assert (a.seed, b.seed) == (1, 2)
    assert run_dir_name(config_hash(a), 1).endswith("-s1")


PLAN = ("city=small_town", "city.population=5000", "plan=creative_city")
STARTS = tuple(
    (f"policy.{lever}.start", month)
    for month, lever in enumerate(
        ["creative_hub", "festival", "broadband", "cluster_management"], 1
    )
)


def _composed_by_hydra(overrides, *, seed, steps, values):
    """The config with every value given to Hydra as an override (the way without a shortcut)."""
    city = dict(o.split("=", 1) for o in overrides if o.startswith("city="))["city"]
    rest = [o for o in overrides if not o.startswith("city=")]
    extra = [f"{p}={(v.item() if hasattr(v, 'item') else v)!r}" for p, v in values]
    cfg, _ = load_config(city, steps=steps, seed=seed, overrides=[*rest, *extra])
    return cfg


def test_lever_settings_of_sampled_points_compose_as_hydra_composes_them(monkeypatch):
    """Points differing only in lever settings share one Hydra composition and give the same
    configs as composing each one; the levers' checks see the values set (start <= steps)."""
    compositions = []
    monkeypatch.setattr(
        runner_module,
        "load_config",
        lambda *a, **k: compositions.append(a) or load_config(*a, **k),
    )
    runner_module._compose_cached.cache_clear()
    points = [
        (*STARTS, ("policy.creative_hub.boost", np.float64(0.3)), ("talent.review_rate", 0.03)),
        (*STARTS, ("policy.festival.month_of_year", np.int64(3)), ("policy.festival.visitors", 5)),
        (*STARTS, ("policy.broadband.tech_gain", 0.0), ("policy.creative_hub.target", "focus")),
    ]
    for values in points:
        cfg = compose_config(PLAN, seed=4, steps=6, values=values)
        assert cfg == _composed_by_hydra(PLAN, seed=4, steps=6, values=values)
        assert config_hash(cfg) == config_hash(
            _composed_by_hydra(PLAN, seed=4, steps=6, values=values)
        )
    assert cfg.policy["creative_hub"]["target"] == "focus"
    assert cfg.policy["festival"]["start"] == 2
    assert (
        type(compose_config(PLAN, seed=4, steps=6, values=points[1]).policy["festival"]["visitors"])
        is int
    )
    # the first two points share the plan's composition; a string setting is Hydra's to parse
    assert len(compositions) == 2
    with pytest.raises(
        ConfigError, match=r"policy\.creative_hub\.start must be <= steps \(6\), got 12"
    ):
        compose_config(PLAN, seed=4, steps=6, values=STARTS[1:])
    with pytest.raises(
        ConfigError, match=r"policy\.creative_hub\.boost must be >= 0 and <= 1, got -1"
    ):
        compose_config(PLAN, seed=4, steps=6, values=(*STARTS, ("policy.creative_hub.boost", -1)))
    with pytest.raises(
        ConfigError, match=r"no_such is not a known parameter of policy\.creative_hub"
    ):
        compose_config(PLAN, seed=4, values=(("policy.creative_hub.no_such", 1),))
    with pytest.raises(ConfigError, match="transport lever, which is off"):
        compose_config(PLAN, seed=4, values=(("policy.transport.start", 1),))
    assert compose_config(PLAN, seed=4, steps=24).policy["creative_hub"]["boost"] == 0.15


def test_parse_overrides_types_values_and_drops_hydra_keys():
    labels = parse_overrides(
        ["city=region", "+replicate=3", "x.y=0.5", "hydra.job.chdir=true", "policy=[festival]"]
    )
    assert labels == {"city": "region", "replicate": 3, "x.y": 0.5, "policy": "[festival]"}


def test_run_writes_a_complete_directory_with_metadata(tmp_path):
    spec = RunSpec(overrides=TINY, seed=11, labels={"arm": "none", "replicate": 0}, steps=4)
    record = run_spec(spec, tmp_path)
    assert record.status == "ok", record.error
    assert record.run_dir.parent == tmp_path
    assert is_complete(record.run_dir, record.config_hash, 11)
    for name in (*RESULT_FILES, "meta.json"):
        assert (record.run_dir / name).is_file()
    meta = json.loads((record.run_dir / "meta.json").read_text())
    assert meta["status"] == "ok" and meta["error"] is None
    assert meta["seed"] == 11 and meta["config_hash"] == record.config_hash
    assert meta["clustersim_version"] == __version__
    assert meta["model_fingerprint"] == model_fingerprint()
    assert "git_commit" in meta and meta["wall_time_s"] > 0 and meta["host"]
    assert meta["labels"] == {"arm": "none", "replicate": 0}
    config = json.loads((record.run_dir / "config.json").read_text())
    assert config["seed"] == 11 and config["steps"] == 4
    ts = pd.read_parquet(record.run_dir / "timeseries.parquet")
    assert list(ts["step"]) == [0, 1, 2, 3, 4]


def test_complete_runs_are_skipped_and_broken_ones_redone(tmp_path):
    spec = RunSpec(overrides=TINY, seed=3, steps=3)
    first = run_spec(spec, tmp_path)
    meta_before = (first.run_dir / "meta.json").stat().st_mtime_ns
    again = run_spec(spec, tmp_path)
    assert again.status == "skipped" and again.run_dir == first.run_dir
    assert (first.run_dir / "meta.json").stat().st_mtime_ns == meta_before
    (first.run_dir / "timeseries.parquet").unlink()  # broken: a result file is missing
    assert not is_complete(first.run_dir)
    redone = run_spec(spec, tmp_path)
    assert redone.status == "ok" and is_complete(first.run_dir)
    assert run_spec(spec, tmp_path, force=True).status == "ok"


def test_same_seed_same_tables_other_seed_other_tables(tmp_path):
    a = run_spec(RunSpec(overrides=TINY, seed=5, steps=6), tmp_path / "a")
    b = run_spec(RunSpec(overrides=TINY, seed=5, steps=6), tmp_path / "b")
    c = run_spec(RunSpec(overrides=TINY, seed=6, steps=6), tmp_path / "a")
    read = lambda r: pd.read_parquet(r.run_dir / "timeseries.parquet")  # noqa: E731
    pd.testing.assert_frame_equal(read(a), read(b))
    assert not read(a).equals(read(c))


def test_a_failing_run_is_recorded_and_retried(tmp_path):
    spec = RunSpec(
        overrides=("city=graphml", f"city.graphml={tmp_path}/missing.graphml"),
        seed=1,
        labels={"arm": "broken"},
        steps=3,
    )
    record = run_spec(spec, tmp_path / "runs")
    assert record.status == "failed"
    assert "missing.graphml" in record.error
    meta = json.loads((record.run_dir / "meta.json").read_text())
    assert meta["status"] == "failed" and meta["config_hash"] == record.config_hash
    assert "Traceback" in meta["traceback"]
    assert not is_complete(record.run_dir)
    assert run_spec(spec, tmp_path / "runs").status == "failed"  # retried, not skipped


def test_an_invalid_config_is_recorded_not_raised(tmp_path):
    record = run_spec(RunSpec(overrides=(*TINY, "firm.returns_to_labour=7"), seed=0), tmp_path)
    assert record.status == "failed" and record.config_hash is None
    assert record.run_dir.name.startswith("invalid-")
    assert "firm.returns_to_labour" in record.error
    meta = json.loads((record.run_dir / "meta.json").read_text())
    assert meta["status"] == "failed" and meta["overrides"][-1] == "firm.returns_to_labour=7"


# modules that do not change what a run computes: views, analysis, tooling
def _set_fingerprint(run_dir, value):
    meta = json.loads((run_dir / "meta.json").read_text())
    if value is None:
        meta.pop("model_fingerprint")
    else:
        meta["model_fingerprint"] = value
    (run_dir / "meta.json").write_text(json.dumps(meta))


def test_a_run_of_another_model_version_is_stale_and_re_run(tmp_path):
    spec = RunSpec(overrides=TINY, seed=4, steps=3)
    first = run_spec(spec, tmp_path)
    assert first.status == "ok" and not first.stale
    again = run_spec(spec, tmp_path)  # same model: reused
    assert again.status == "skipped" and not again.stale
    before = json.loads((first.run_dir / "meta.json").read_text())
    tables = pd.read_parquet(first.run_dir / "timeseries.parquet")

    _set_fingerprint(first.run_dir, "0123456789abcdef")  # made by another model version
    assert run_status(first.run_dir) == "stale" and not is_complete(first.run_dir)
    # what a search says of such a run (the model's code edited while it ran)
    why = why_not_ok(first.run_dir)
    assert "another model version" in why and "run the command again" in why
    assert "0123456789abcdef" in why and model_fingerprint() in why
    assert is_complete(first.run_dir, fingerprint="0123456789abcdef")
    redone = run_spec(spec, tmp_path)
    assert redone.status == "ok" and redone.stale and redone.run_dir == first.run_dir
    after = json.loads((first.run_dir / "meta.json").read_text())
    assert after["model_fingerprint"] == model_fingerprint()
    assert after["started_at"] >= before["finished_at"]
    assert is_complete(first.run_dir, first.config_hash, 4)
    pd.testing.assert_frame_equal(pd.read_parquet(first.run_dir / "timeseries.parquet"), tables)
    assert [p.name for p in tmp_path.iterdir()] == [first.run_dir.name]  # replaced in place

    _set_fingerprint(first.run_dir, None)  # from before fingerprints were recorded
    assert run_status(first.run_dir) == "stale"
    assert "fingerprint none" in why_not_ok(first.run_dir)
    assert run_spec(spec, tmp_path).stale
    assert run_spec(spec, tmp_path).status == "skipped"


def test_a_stale_run_being_re_run_no_longer_passes_for_finished(tmp_path, monkeypatch):
    spec = RunSpec(overrides=TINY, seed=8, steps=3)
    first = run_spec(spec, tmp_path)
    _set_fingerprint(first.run_dir, "0123456789abcdef")
    seen = []

    def boom(cfg):  # the re-run dies (a crash, or a killed process): what is on disk then?
        seen.append(run_status(first.run_dir, fingerprint="0123456789abcdef"))
        raise RuntimeError("model crashed")

    monkeypatch.setattr(importlib.import_module("clustersim.model.simulate"), "run_config", boom)
    record = run_spec(spec, tmp_path)
    assert seen == ["missing"]  # the stale meta.json went before the tables are replaced
    assert record.status == "failed" and record.stale and "model crashed" in record.error
    assert run_status(first.run_dir) == "failed"
    assert not is_complete(first.run_dir, fingerprint="0123456789abcdef")


def test_composing_inside_a_running_hydra_app_keeps_its_state():
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from clustersim.model.compose import config_dir

    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose_config(("city=small_town", "city.population=5123", "steps=7"), seed=3)
        assert GlobalHydra.instance().is_initialized()  # the app's state survives
    assert cfg.steps == 7 and cfg.seed == 3


HOLD_AND_RUN = """
import sys
from clustersim.experiments.runner import RUN_LOCK, RunSpec, run_spec
from clustersim.files import hold_lock
runs, run_id = sys.argv[1], sys.argv[2]
spec = RunSpec(overrides=("city=small_town", "city.population=5000"), seed=21, steps=4)
with hold_lock(f"{runs}/{run_id}/{RUN_LOCK}"):
    print("held", flush=True)
    sys.stdin.readline()
    print(run_spec(spec, runs).status, flush=True)  # computed while holding the run's lock
"""


def test_a_run_another_process_computes_is_never_computed_twice_nor_its_save_touched(tmp_path):
    spec = RunSpec(overrides=TINY, seed=21, steps=4)
    cfg = compose_config(TINY, seed=21, steps=4)
    run_dir = tmp_path / run_dir_name(config_hash(cfg), 21)
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_RUN, str(tmp_path), run_dir.name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "held"
        saving = temporary_sibling(run_dir)  # the other process's save in progress
        saving.mkdir()
        busy = run_spec(spec, tmp_path, wait=False)
        assert busy.status == "busy" and busy.run_dir == run_dir
        assert saving.is_dir() and not (run_dir / "meta.json").exists()  # left alone

        threading.Timer(0.5, lambda: (other.stdin.write("\n"), other.stdin.flush())).start()
        waited = run_spec(spec, tmp_path)  # waits for the other process, then finds it done
        assert other.stdout.readline().strip() == "ok"
        assert waited.status == "skipped" and is_complete(run_dir, waited.config_hash, 21)
        assert not saving.exists()  # a leftover once its owner let go: removed by the next holder
        assert other.wait(timeout=60) == 0
    finally:
        other.kill()
        other.wait()


def test_a_killed_save_is_cleaned_up_and_the_run_redone(tmp_path):
    spec = RunSpec(overrides=TINY, seed=22, steps=3)
    first = run_spec(spec, tmp_path)
    meta = json.loads((first.run_dir / "meta.json").read_text())
    (first.run_dir / "meta.json").unlink()  # killed after moving the tables in, before meta.json
    left = temporary_sibling(first.run_dir)  # ... and a save killed while writing
    left.mkdir()
    (left / "timeseries.parquet").write_bytes(b"PAR1 half")
    assert run_status(first.run_dir) == "missing"
    redone = run_spec(spec, tmp_path)
    assert redone.status == "ok" and is_complete(first.run_dir)
    assert not left.exists()
    assert json.loads((first.run_dir / "meta.json").read_text())["seed"] == meta["seed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.run_dir.name]
    assert sorted(p.name for p in first.run_dir.iterdir()) == sorted(
        [*RESULT_FILES, "meta.json", RUN_LOCK]
    )


def test_a_run_given_its_composed_config_does_not_compose_again(tmp_path, monkeypatch):
    spec = RunSpec(overrides=TINY, seed=5, steps=6)
    cfg = compose_config(TINY, seed=5, steps=6)

    def _no_compose(*args, **kwargs):
        raise AssertionError("composed again")

    monkeypatch.setattr(runner_module, "compose_config", _no_compose)
    given = run_spec(spec, tmp_path / "given", config=cfg)
    assert given.status == "ok"
    monkeypatch.undo()
    composed = run_spec(spec, tmp_path / "composed")
    assert given.run_dir.name == composed.run_dir.name  # the same run
    read = lambda r: pd.read_parquet(r.run_dir / "timeseries.parquet")  # noqa: E731
    pd.testing.assert_frame_equal(read(given), read(composed))


def test_a_config_given_for_another_run_is_refused(tmp_path):
    cfg = compose_config(TINY, seed=5, steps=6)
    with pytest.raises(ValueError, match="not the spec's"):
        run_spec(RunSpec(overrides=TINY, seed=6, steps=6), tmp_path, config=cfg)
    with pytest.raises(ValueError, match="not the spec's"):
        run_spec(RunSpec(overrides=TINY, seed=5, steps=7), tmp_path, config=cfg)
    assert not any(tmp_path.iterdir())  # nothing written
