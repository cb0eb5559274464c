"""experiments/path_dependence.py: bad options refused in one line; a short run writes its table."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "path_dependence", ROOT / "experiments" / "path_dependence.py"
)
paths = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(paths)


def test_bad_options_are_one_line_and_exit_2_before_any_run(tmp_path, capsys):
    out = ["--out", str(tmp_path / "out")]
    assert paths.main(["--seeds", "0", *out]) == 2
    assert paths.main(["--plans", "festval", *out]) == 2
    assert paths.main(["--populations", "10", *out]) == 2
    assert paths.main(["--elasticity", "-1", *out]) == 2
    assert paths.main(["--spin-up-years", "500", *out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and all(line.startswith("path_dependence: ") for line in err)
    assert "--seeds must be 1-1000" in err[0] and "did you mean 'festival'" in err[1]
    assert "city.population" in err[2] and "agglomeration_elasticity" in err[3]
    assert "--spin-up-years must be 0-200" in err[4]
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_short_run_with_its_own_spin_up_writes_one_row_per_history(tmp_path):
    out = tmp_path / "out"
    argv = ["--populations", "6000", "--plans", "none", "--seeds", "2", "--years", "1"]
    argv += ["--spin-up-years", "2", "--n-jobs", "1", "--out", str(out)]
    script = ROOT / "experiments" / "path_dependence.py"
    done = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    runs = pd.read_csv(out / "path_dependence.csv")
    assert len(runs) == 2 and set(runs["seed"]) == {0, 1}
    assert (runs["jobs_month0"] > 0).all()
    assert "| 6,000 | none | " in (out / "path_dependence.md").read_text()
