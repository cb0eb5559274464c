"""Provenance of a run: the model fingerprint and the git commit of the source tree."""

from __future__ import annotations

import functools
import hashlib
import importlib
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

__all__ = [
    "MODEL_LIBRARIES",
    "MODEL_PACKAGES",
    "analysis_provenance",
    "fingerprint_text",
    "git_commit",
    "model_fingerprint",
    "model_sources",
    "reported_fingerprint",
    "reporting_runs_of",
]

HASH_LENGTH = 16

MODEL_PACKAGES = ("model", "policy")
"""Sub-packages of ``clustersim`` whose code determines a run's numbers, taken as folders."""

MODEL_LIBRARIES = ("numpy", "networkx", "mesa")
"""Libraries whose version is part of :func:`model_fingerprint` (RNG streams, algorithms)."""

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def model_sources() -> dict[str, bytes]:
    """Every ``.py`` file under :data:`MODEL_PACKAGES`, by path relative to the package.

    Windows line endings are normalised so a checkout on another system gives the
    same fingerprint.
    """
    sources = {}
    for package in MODEL_PACKAGES:
        for path in sorted((_PACKAGE_ROOT / package).rglob("*.py")):
            rel = path.relative_to(_PACKAGE_ROOT).as_posix()
            sources[rel] = path.read_bytes().replace(b"\r\n", b"\n")
    return sources


@functools.cache
def model_fingerprint() -> str:
    """Short hash of the model code and libraries that determine a run's results.

    It covers every source file of the model and policy packages (the folders
    ``clustersim/model/`` and ``clustersim/policy/`` as installed, so a new module
    there is covered without being listed) and the versions of
    :data:`MODEL_LIBRARIES` (numpy, networkx and mesa: their random streams and
    algorithms can change results). Together with the config hash and the seed it
    identifies what a run computed: a finished run recorded with another fingerprint
    was made by another model version and is not reused (it is *stale*).

    Neither ``clustersim.__version__`` nor the git commit would do: the version does
    not change when the model is edited in a development checkout, and the commit
    changes on an edit of the docs. Editing the experiments or the app leaves the
    fingerprint alone; any edit in the model or policy packages, even of a comment,
    changes it. Computed once per process.

    Returns:
        The first 16 hex digits of a SHA-256 digest.
    """
    digest = hashlib.sha256()
    for rel, source in model_sources().items():
        digest.update(f"{rel} {len(source)}\n".encode())
        digest.update(source)
    for library in MODEL_LIBRARIES:
        version = importlib.import_module(library).__version__
        digest.update(f"{library}=={version}\n".encode())
    return digest.hexdigest()[:HASH_LENGTH]


@functools.cache
def git_commit() -> str | None:
    """The git commit of the clustersim source tree, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(_PACKAGE_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def analysis_provenance(toy: str | None, n_ok: int, detail: str) -> str:
    """The report line of an analysis: version, commit, model (or toy model), runs, details.

    Args:
        toy: the toy model's name, or None for clustersim runs.
        n_ok: runs that finished.
        detail: what else identifies the analysis (seeds, replicates, months).
    """
    from datetime import UTC, datetime

    from clustersim.version import __version__

    commit = git_commit()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    what = f"toy model {toy}" if toy else f"{fingerprint_text()}; {n_ok} runs ok"
    return (
        f"clustersim {__version__}"
        + (f", commit {commit[:10]}" if commit else "")
        + f"; {what}; {detail}; written {when}"
    )


#: The model fingerprint of the runs a report is being written for, when it is not the
#: installed model's (``clustersim-experiment report --fingerprint``).
_REPORTED: ContextVar[str | None] = ContextVar("reported_fingerprint", default=None)


@contextmanager
def reporting_runs_of(fingerprint: str | None) -> Iterator[None]:
    """Reports written inside name ``fingerprint`` as their runs' model (None: the installed)."""
    token = _REPORTED.set(fingerprint)
    try:
        yield
    finally:
        _REPORTED.reset(token)


def reported_fingerprint() -> str | None:
    """The fingerprint given to :func:`reporting_runs_of`, None if it is the installed model's."""
    runs = _REPORTED.get()
    return None if runs == model_fingerprint() else runs


def fingerprint_text() -> str:
    """``model fingerprint X`` of the runs a report covers, for its provenance line.

    The installed model's, or inside :func:`reporting_runs_of` another version's, which
    the line then says (with the installed model's beside it, so that the report's commit
    is not read as the runs').
    """
    installed, runs = model_fingerprint(), reported_fingerprint()
    if runs is None:
        return f"model fingerprint {installed}"
    return (
        f"model fingerprint {runs} (runs made by another model version, reported with "
        f"--fingerprint; the installed model: {installed})"
    )
