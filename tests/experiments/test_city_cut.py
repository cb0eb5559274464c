"""experiments/city_cut.py: bad options refused in one line; a short run writes its table."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("city_cut", ROOT / "experiments" / "city_cut.py")
city_cut = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(city_cut)


def test_bad_options_are_one_line_and_exit_2_before_any_run(tmp_path, capsys):
    out = ["--out", str(tmp_path / "out")]
    assert city_cut.main(["--seeds", "0", *out]) == 2
    assert city_cut.main(["--cuts", "0.6", "5", *out]) == 2
    assert city_cut.main(["--size-weights", "-1", *out]) == 2
    assert city_cut.main(["--set", "talent.revew_rate=0.1", *out]) == 2
    assert city_cut.main(["--set", "policy=[festival]", *out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and all(line.startswith("city_cut: ") for line in err)
    assert "--seeds must be 1-1000" in err[0]
    assert "--cuts 5" in err[1] and "neighbourhood_exponent must be > 0 and <= 1" in err[1]
    assert "talent.size_weight must be >= 0" in err[2]
    assert "revew_rate" in err[3] and "without policy" in err[4]
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_short_run_writes_one_row_per_history_and_its_table(tmp_path):
    out = tmp_path / "out"
    argv = ["--seeds", "2", "--cuts", "0.6", "0.8", "--size-weights", "1"]
    argv += ["--set", "spin_up.months=2", "--n-jobs", "1", "--out", str(out)]
    script = ROOT / "experiments" / "city_cut.py"
    done = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    runs = pd.read_csv(out / "city_cut.csv")
    assert len(runs) == 4 and set(runs["seed"]) == {0, 1}
    nodes = runs.groupby("cut")["nodes"].first()
    assert nodes[0.8] > 2 * nodes[0.6]  # the finer cut has many more neighbourhoods
    assert (runs["town_talents"] > 0).all()
    table = (out / "city_cut.md").read_text()
    assert "| 1 | 0.6 |" in table and "| 1 | 0.8 |" in table and "| 1.00 |" in table
