"""Atomic writes and file locks: a file or a directory appears whole or not at all.

Every writer in clustersim (run results, aggregated tables, reports, designs)
goes through these helpers. Temporary names are unique per process and call
(``.<name>.<pid>.<random>.tmp``), so concurrent writers never share one, and a
reader never sees a partial file: it is moved into place in one step.

Writers that must not run twice at once (one run, one folder's tables) hold a
lock (:func:`hold_lock`, the operating system's ``flock`` through ``filelock``). The
lock file records its holder (process id, host, since when, command), so a process
that finds it taken can say who has it (:func:`lock_holder`). The lock ends with its
process: a killed holder never leaves a folder locked. Leftover temporaries of a
killed writer are removed by the next holder of the lock (:func:`remove_temporaries`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from clustersim.errors import ClusterSimError

__all__ = [
    "LockHeld",
    "hold_lock",
    "lock_holder",
    "remove_temporaries",
    "temporaries",
    "temporary_sibling",
    "write_atomically",
    "write_file_atomically",
    "write_text_atomically",
]

_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp")
"""A temporary name made by :func:`temporary_sibling`."""

COMMAND_CHARS = 300
"""How much of the holder's command line a lock records."""


def temporary_sibling(path: str | os.PathLike) -> Path:
    """A unique temporary name next to ``path`` (same folder, so ``os.replace`` is atomic).

    Examples:
        >>> name = temporary_sibling("/data/table.parquet").name
        >>> name.startswith(f".table.parquet.{os.getpid()}.") and name.endswith(".tmp")
        True
    """
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
    is renamed into place in one step; into an existing one (or one another process
    made meanwhile) the files are moved one by one with ``os.replace``, the last one
    named last (the completion marker).
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(directory)
    tmp.mkdir()
    try:
        for name, writer in files.items():
            writer(tmp / name)
        if not directory.exists():
            try:
                os.replace(tmp, directory)
                return directory
            except OSError:  # made by another process meanwhile: move the files in
                directory.mkdir(exist_ok=True)
        for name in files:
            os.replace(tmp / name, directory / name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return directory


def temporaries(path: str | os.PathLike) -> list[Path]:
    """Temporary siblings of ``path`` and, when it is a directory, temporaries directly in it.

    Only names made by :func:`temporary_sibling` count; other dot files are not touched.
    """
    path = Path(path)
    found = []
    if path.parent.is_dir():
        found += [
            p
            for p in path.parent.iterdir()
            if (m := _TEMPORARY.fullmatch(p.name)) and m["name"] == path.name
        ]
    if path.is_dir():
        found += [p for p in path.iterdir() if _TEMPORARY.fullmatch(p.name)]
    return sorted(found)


def remove_temporaries(path: str | os.PathLike) -> int:
    """Remove what writers killed part-way left of ``path`` (see :func:`temporaries`).

    Call it only while holding the lock that every writer of ``path`` holds: then
    no temporary found belongs to a live writer. Returns how many were removed.
    """
    found = temporaries(path)
    for tmp in found:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
    return len(found)


class LockHeld(ClusterSimError):
    """Another process holds a lock; the message names it.

    Attributes:
        lock: the lock file.
        holder: the holder, as :func:`lock_holder` describes it.
    """

    def __init__(self, lock: Path, holder: str) -> None:
        super().__init__(f"{lock} is held by {holder}")
        self.lock = lock
        self.holder = holder


def _command() -> str:
    args = [Path(sys.argv[0]).name if sys.argv else "python", *sys.argv[1:]]
    text = " ".join(args).replace("\n", " ").replace("\r", " ")
    return text if len(text) <= COMMAND_CHARS else text[: COMMAND_CHARS - 3] + "..."


def _record_holder(fd: int) -> None:
    """Write who holds the lock into the lock file just taken (``filelock``'s ``on_acquired``)."""
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": _command(),
    }
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(holder).encode())


def lock_holder(lock: str | os.PathLike) -> str:
    """Who holds the lock file ``lock``, in one line (as its holder recorded it).

    Examples:
        ``pid 4242 on node7 since 2026-05-04 10:12:03 UTC (clustersim-experiment run tiny)``
    """
    try:
        holder = json.loads(Path(lock).read_text(encoding="utf-8"))
        return (
            f"pid {holder['pid']} on {holder['host']} since {holder['since']} ({holder['command']})"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (not recorded yet)"


@contextmanager
def hold_lock(
    lock: str | os.PathLike,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Hold the lock file ``lock`` for the ``with`` block (made if missing).

    The lock is re-entrant within a process and ends with it (a killed holder
    leaves no folder locked). It needs a file system with ``flock`` (local disks,
    NFSv4, Lustre mounted with ``flock``).

    Args:
        lock: the lock file.
        wait: when another process holds it, wait for it (True) or raise
            :class:`LockHeld` at once (False).
        on_wait: told once, in one line, whom this process is waiting for.

    Raises:
        LockHeld: ``wait`` is False and another process holds the lock.
    """
    lock = Path(lock)
    lock.parent.mkdir(parents=True, exist_ok=True)
    held = FileLock(lock, is_singleton=True, on_acquired=_record_holder)
    try:
        held.acquire(blocking=False)
    except Timeout:
        if not wait:
            raise LockHeld(lock, lock_holder(lock)) from None
        if on_wait is not None:
            on_wait(f"waiting for {lock}: held by {lock_holder(lock)}")
        held.acquire()
    try:
        yield lock
    finally:
        held.release()
