"""Atomic writes: a file or a directory appears whole or not at all.

Every writer in clustersim (run results, aggregated tables, reports, designs)
goes through these helpers. Temporary names are unique per process and call
(``.<name>.<pid>.<random>.tmp``), so concurrent writers never share one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = [
    "temporary_sibling",
    "write_atomically",
    "write_file_atomically",
    "write_text_atomically",
]


def temporary_sibling(path: str | os.PathLike) -> Path:
    """A unique temporary name next to ``path`` (same folder, so ``os.replace`` is atomic)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def write_file_atomically(path: str | os.PathLike, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp)`` on a temporary sibling, then move it onto ``path`` in one step.

    Examples:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "note.txt"
        >>> _ = write_file_atomically(target, lambda p: p.write_text("hello"))
        >>> target.read_text()
        'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_file_atomically(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_atomically(
    directory: str | os.PathLike, files: Mapping[str, Callable[[Path], object]]
) -> Path:
    """Write files (name -> writer taking a Path) into ``directory`` atomically.

    Everything is written to a temporary sibling directory first. A new directory
    is renamed into place in one step; into an existing one the files are moved
    one by one with ``os.replace``, the last one named last (the completion marker).
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for name, writer in files.items():
            writer(tmp / name)
        if not directory.exists():
            os.replace(tmp, directory)
            return directory
        for name in files:
            os.replace(tmp / name, directory / name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return directory
