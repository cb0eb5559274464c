"""The clustersim command, launched for real as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

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
