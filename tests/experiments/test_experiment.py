"""clustersim.experiments.experiment: a design run, aggregated and reported in one command."""

from __future__ import annotations

from conftest import run_python, write_design


def test_an_edit_of_the_model_during_a_sweep_leaves_its_runs_in_its_report(tmp_path):
    """The driver took the model fingerprint only when aggregating, after the runs: a model
    edited meanwhile (a researcher's next change) made every run of the sweep stale."""
    design = write_design(
        tmp_path, replicates=2, steps=2, arms={"none": ["plan=none"]}, common=["spin_up.months=0"]
    )
    source = tmp_path / "model_source.py"
    probe = f"""
from pathlib import Path
from clustersim.experiments import provenance
from clustersim.experiments.cli import run_experiment
from clustersim.experiments.design import Design
source = Path({str(source)!r})
source.write_bytes(b"before")
provenance.model_sources = lambda: {{"model.py": source.read_bytes()}}
def echo(line):
    if " ok " in line:  # a run has finished: the model's code is edited
        source.write_bytes(b"after")
outcome = run_experiment(Design.load({str(design)!r}), {str(tmp_path / "out")!r}, n_jobs=2,
                         echo=echo)
print(outcome.ok, outcome.stale)
"""
    out = run_python(probe, CLUSTERSIM_START_METHOD="fork")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["2", "0"]
