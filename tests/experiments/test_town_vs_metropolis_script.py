"""experiments/town_vs_metropolis.py: the flagship as a script, the command with its name given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_help_names_the_script_and_the_command_it_runs():
    script = ROOT / "experiments" / "town_vs_metropolis.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("python experiments/town_vs_metropolis.py")
    assert "clustersim-experiment run town_vs_metropolis" in proc.stdout
    assert "--replicates" in proc.stdout  # the command's own options follow
