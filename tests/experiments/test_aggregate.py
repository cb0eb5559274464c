"""Aggregation: a hand-built sweep directory read back into tidy Parquet, one run at a time."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from clustersim.experiments.aggregate import LOCK, OUTPUTS, aggregate, find_runs, label_schema
from clustersim.experiments.cli import main
from clustersim.experiments.provenance import model_fingerprint
from clustersim.files import temporary_sibling
from clustersim.model.results import RESULT_FILES


def _fake_run(
    runs: Path,
    name: str,
    labels: dict,
    *,
    steps: int = 3,
    extra: dict | None = None,
    status: str = "ok",
    seed: int = 1,
    fingerprint: str | None = "current",
) -> Path:
    d = runs / name
    d.mkdir(parents=True)
    meta = {
        "status": status,
        "config_hash": f"hash-{name}",
        "seed": seed,
        "labels": labels,
        "error": None if status == "ok" else "ValueError: boom",
        "wall_time_s": 0.5,
    }
    if fingerprint is not None:  # None: a run from before fingerprints were recorded
        meta["model_fingerprint"] = model_fingerprint() if fingerprint == "current" else fingerprint
    if status == "ok":
        ts = pd.DataFrame(
            {
                "step": range(steps),
                "population": [1000.0 + i for i in range(steps)],
                "creative_employment": [10 * (i + 1) for i in range(steps)],
                **(extra or {}),
            }
        )
        ts.to_parquet(d / "timeseries.parquet", index=False)
        pd.DataFrame({"step": [0, 0], "place": ["Town", "City"], "talents": [1, 2]}).to_parquet(
            d / "places.parquet", index=False
        )
        for other in set(RESULT_FILES) - {"timeseries.parquet", "places.parquet"}:
            if other.endswith(".parquet"):
                pd.DataFrame({"step": [0]}).to_parquet(d / other, index=False)
            else:
                (d / other).write_text("{}")
    (d / "meta.json").write_text(json.dumps(meta))
    return d


def test_aggregate_tidy_rows_labels_and_failures(tmp_path):
    runs = tmp_path / "runs"
    _fake_run(runs, "a-s1", {"site": "town", "arm": "none", "replicate": 0, "x": 1})
    _fake_run(
        runs,
        "b-s1",
        {"site": "town", "arm": "hub", "replicate": 0, "x": 2.5},
        extra={"spend_hub": [0.0, 5.0, 5.0]},
    )
    _fake_run(
        runs, "c-s2", {"site": "city", "arm": "hub", "replicate": 1, "x": "high"}, steps=4, seed=2
    )
    _fake_run(runs, "d-s3", {"site": "city", "arm": "none", "replicate": 1}, status="failed")
    (runs / ".a-s1.tmpxyz").mkdir()  # leftover of an interrupted save: ignored
    assert [p.name for p in find_runs(tmp_path)] == ["a-s1", "b-s1", "c-s2", "d-s3"]

    res = aggregate(tmp_path)
    assert (res.ok, res.failed) == (3, 1)
    assert res.errors == {"d-s3": "ValueError: boom"}
    ts = pd.read_parquet(res.timeseries)
    assert len(ts) == 3 + 3 + 4
    assert list(ts.columns[:7]) == [
        "site",
        "arm",
        "replicate",
        "x",
        "seed",
        "config_hash",
        "run_id",
    ]
    assert ts["x"].tolist()[:4] == ["1", "1", "1", "2.5"]  # mixed types become text
    assert ts.loc[ts["run_id"] == "a-s1", "spend_hub"].isna().all()
    assert ts.loc[ts["run_id"] == "b-s1", "spend_hub"].tolist() == [0.0, 5.0, 5.0]
    assert ts.groupby("run_id")["seed"].first().to_dict() == {"a-s1": 1, "b-s1": 1, "c-s2": 2}
    # streaming: one row group per run, never the whole sweep in one table
    assert pq.ParquetFile(res.timeseries).num_row_groups == 3
    places = pd.read_parquet(res.places)
    assert len(places) == 6 and set(places["place"]) == {"Town", "City"}
    index = pd.read_parquet(res.runs).set_index("run_id")
    assert index.loc["d-s3", "status"] == "failed"
    assert index.loc["d-s3", "error"] == "ValueError: boom"
    assert index.loc["a-s1", "status"] == "ok"


def test_a_run_missing_result_files_counts_as_broken(tmp_path):
    d = _fake_run(tmp_path / "runs", "a-s1", {"arm": "none"})
    (d / "summary.json").unlink()
    res = aggregate(tmp_path)
    assert res.ok == 0 and res.timeseries is None
    assert pd.read_parquet(res.runs)["status"].tolist() == ["broken"]


def test_a_run_whose_table_was_cut_short_is_broken_and_run_again(tmp_path, capsys):
    # a file cut by a full disk or a copy stopped part-way: aggregate raised ArrowInvalid
    # (a traceback) after rewriting runs.parquet with the run as ok
    good = _fake_run(tmp_path / "runs", "a-s1", {"arm": "none"})
    cut = _fake_run(tmp_path / "runs", "b-s1", {"arm": "none"})
    for name in ("timeseries.parquet", "talents.parquet"):
        data = (cut / name).read_bytes()
        (cut / name).write_bytes(data[: len(data) // 2])
    res = aggregate(tmp_path)
    assert res.ok == 1 and res.errors == {"b-s1": "result files missing or cut short"}
    assert pd.read_parquet(res.timeseries)["run_id"].unique().tolist() == [good.name]
    from clustersim.experiments.runner import run_status

    assert run_status(cut) == "broken"  # so a resumed sweep runs it again


def test_a_run_table_that_is_not_parquet_inside_is_one_line_and_nothing_is_written(
    tmp_path, capsys
):
    run = _fake_run(tmp_path / "runs", "a-s1", {"arm": "none"})
    path = run / "timeseries.parquet"
    data = path.read_bytes()
    path.write_bytes(b"PAR1" + b"x" * 64 + data[-4:])  # the magic bytes, a broken footer
    assert main(["aggregate", str(tmp_path)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("clustersim-experiment: error: ")
    assert f"{path}: not a readable Parquet file (" in err[0]
    assert err[0].endswith(f"delete the folder {run} and run the sweep again to recompute that run")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([LOCK, "runs"])  # no table


def test_a_label_named_like_a_column_is_kept_apart(tmp_path):
    _fake_run(tmp_path / "runs", "a-s1", {"population": 5000, "replicate": 0})
    ts = pd.read_parquet(aggregate(tmp_path).timeseries)
    assert ts["label_population"].tolist() == [5000] * 3
    assert ts["population"].tolist() == [1000.0, 1001.0, 1002.0]


def test_the_run_index_lists_every_runs_labels_before_its_status(tmp_path):
    """A key swept only by a later launch into the folder is a label, not a run field."""
    _fake_run(tmp_path / "runs", "a-s1", {"firm.agglomeration_cap": None, "seed": 7})
    _fake_run(tmp_path / "runs", "b-s1", {"firm.agglomeration_cap": 20, "talent.review_rate": 0.1})
    runs = pd.read_parquet(aggregate(tmp_path).runs)
    assert list(runs.columns[:4]) == [
        "firm.agglomeration_cap",
        "talent.review_rate",
        "run_id",
        "status",
    ]
    assert runs["seed"].tolist() == [1, 1]  # the run's own seed


def test_only_the_listed_runs_are_aggregated(tmp_path):
    a = _fake_run(tmp_path / "runs", "a-s1", {"arm": "none"})
    _fake_run(tmp_path / "runs", "b-s1", {"arm": "old"})
    res = aggregate(tmp_path, run_dirs=[a], out_dir=tmp_path / "out")
    assert set(pd.read_parquet(res.timeseries)["arm"]) == {"none"}
    assert res.timeseries.parent == tmp_path / "out"


def test_label_schema_types():
    schema = label_schema(
        [
            {"labels": {"a": 1, "b": 1, "c": True, "seed": 4}},
            {"labels": {"a": 2, "b": 0.5, "c": False, "d": None}},
        ]
    )
    assert {f.name: str(f.type) for f in schema} == {
        "a": "int64",
        "b": "double",
        "c": "bool",
        "d": "string",
    }


def test_runs_of_another_model_version_are_left_out_not_mixed(tmp_path):
    _fake_run(tmp_path / "runs", "a-s1", {"arm": "none"})
    _fake_run(tmp_path / "runs", "b-s1", {"arm": "hub"}, fingerprint="01d01d01d01d01d0")
    _fake_run(tmp_path / "runs", "c-s1", {"arm": "hub"}, fingerprint=None)
    res = aggregate(tmp_path)
    assert (res.ok, res.failed, res.stale) == (1, 0, 2)
    assert res.fingerprint == model_fingerprint() and not res.errors
    assert res.stale_fingerprints == {"01d01d01d01d01d0": 1, "none": 1}
    assert set(pd.read_parquet(res.timeseries)["run_id"]) == {"a-s1"}
    index = pd.read_parquet(res.runs).set_index("run_id")
    assert index["status"].to_dict() == {"a-s1": "ok", "b-s1": "stale", "c-s1": "stale"}
    assert index.loc["b-s1", "model_fingerprint"] == "01d01d01d01d01d0"
    assert "different model version" in index.loc["c-s1", "error"]

    old = aggregate(tmp_path, fingerprint="01d01d01d01d01d0", out_dir=tmp_path / "old")
    assert (old.ok, old.stale) == (1, 2)
    assert set(pd.read_parquet(old.timeseries)["run_id"]) == {"b-s1"}


def test_aggregate_command_says_how_many_stale_runs_it_left_out(tmp_path, capsys):
    _fake_run(tmp_path / "runs", "a-s1", {"arm": "none"})
    _fake_run(tmp_path / "runs", "b-s1", {"arm": "hub"}, fingerprint="01d01d01d01d01d0")
    assert main(["aggregate", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "1 runs ok, 0 failed, 1 stale" in captured.out
    assert "stale: 1 finished run(s) made by a different model version" in captured.err
    assert "01d01d01d01d01d0 (1)" in captured.err
    assert main(["aggregate", str(tmp_path), "--fingerprint", "01d01d01d01d01d0"]) == 1
    assert "1 runs ok, 0 failed, 1 stale (model fingerprint 01d0" in capsys.readouterr().out


HOLD = """
import sys
from clustersim.files import hold_lock
with hold_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_an_aggregation_waits_for_another_one_in_the_folder_and_cleans_its_leftovers(
    tmp_path, capsys
):
    _fake_run(tmp_path / "runs", "a-s1", {"arm": "none"})
    killed = temporary_sibling(tmp_path / "timeseries.parquet")  # an aggregation killed mid-way
    killed.write_bytes(b"PAR1 half a table")
    kept = temporary_sibling(tmp_path / "experiment.yaml")  # not an aggregation's: left alone
    kept.write_text("name: x")
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / LOCK)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "held"
        threading.Timer(0.5, lambda: (other.stdin.write("\n"), other.stdin.flush())).start()
        assert main(["aggregate", str(tmp_path)]) == 0
        assert other.wait(timeout=60) == 0
    finally:
        other.kill()
        other.wait()
    err = capsys.readouterr().err
    assert f"waiting for {tmp_path / LOCK}: held by pid {other.pid} on " in err
    assert len(pd.read_parquet(tmp_path / "timeseries.parquet")) == 3
    assert not killed.exists() and kept.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([LOCK, kept.name, "runs", *OUTPUTS])
