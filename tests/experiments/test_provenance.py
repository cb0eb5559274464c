"""Tests for clustersim.experiments.provenance: the model fingerprint and the git commit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import clustersim
from clustersim.experiments import provenance
from clustersim.experiments.provenance import (
    analysis_provenance,
    fingerprint_text,
    git_commit,
    model_fingerprint,
    model_sources,
    reporting_runs_of,
)

PACKAGE = Path(clustersim.__file__).resolve().parent


def test_the_fingerprint_covers_the_model_and_policy_folders_and_nothing_else():
    sources = set(model_sources())
    model_files = {
        p.relative_to(PACKAGE).as_posix()
        for folder in ("model", "policy")
        for p in (PACKAGE / folder).rglob("*.py")
    }
    assert sources == model_files
    assert {"model/mechanisms.py", "model/core.py", "policy/base.py"} <= sources
    assert not any(s.startswith(("experiments/", "app/")) for s in sources)


def test_the_fingerprint_changes_with_a_model_edit_or_a_library_version(monkeypatch):
    fp = model_fingerprint()
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert model_fingerprint.__wrapped__() == fp  # stable, not only cached
    real = provenance.model_sources

    def edited(path):
        return lambda: {k: v + (b"# edited\n" if k == path else b"") for k, v in real().items()}

    monkeypatch.setattr(provenance, "model_sources", edited("model/mechanisms.py"))
    mechanism_edit = model_fingerprint.__wrapped__()
    monkeypatch.setattr(provenance, "model_sources", edited("policy/base.py"))
    lever_edit = model_fingerprint.__wrapped__()
    monkeypatch.setattr(provenance, "model_sources", real)
    monkeypatch.setattr(np, "__version__", "0.0.1")
    other_numpy = model_fingerprint.__wrapped__()
    assert len({fp, mechanism_edit, lever_edit, other_numpy}) == 4


def test_a_new_model_module_is_covered_without_being_listed(tmp_path, monkeypatch):
    root = tmp_path / "clustersim"
    (root / "model").mkdir(parents=True)
    (root / "model" / "core.py").write_text("x = 1\n")
    (root / "experiments").mkdir()
    (root / "experiments" / "report.py").write_text("y = 1\n")
    monkeypatch.setattr(provenance, "_PACKAGE_ROOT", root)
    assert set(model_sources()) == {"model/core.py"}
    before = model_fingerprint.__wrapped__()
    (root / "experiments" / "report.py").write_text("y = 2\n")
    assert model_fingerprint.__wrapped__() == before  # a report edit keeps cached runs
    (root / "model" / "phase.py").write_text("z = 1\n")
    assert model_fingerprint.__wrapped__() != before  # a new mechanism module does not


def test_git_commit_is_a_full_hash_in_this_checkout():
    commit = git_commit()
    assert commit is None or (len(commit) == 40 and int(commit, 16) >= 0)


def test_reports_name_the_fingerprint_of_the_runs_they_cover():
    installed = model_fingerprint()
    assert fingerprint_text() == f"model fingerprint {installed}"
    with reporting_runs_of("0123456789abcdef"):
        text = fingerprint_text()
        assert analysis_provenance(None, 3, "x").count(text) == 1
    assert text == (
        "model fingerprint 0123456789abcdef (runs made by another model version, reported "
        f"with --fingerprint; the installed model: {installed})"
    )
    with reporting_runs_of(installed):  # the installed model's own runs: said plainly
        assert fingerprint_text() == f"model fingerprint {installed}"
    assert fingerprint_text() == f"model fingerprint {installed}"  # the context is left
