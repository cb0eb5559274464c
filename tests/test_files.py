"""Atomic writes and locks under real concurrency: separate processes, killed holders."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clustersim.files import (
    LockHeld,
    hold_lock,
    lock_holder,
    remove_temporaries,
    temporaries,
    temporary_sibling,
    write_atomically,
    write_file_atomically,
    write_text_atomically,
)

HOLD = """
import sys
from clustersim.files import hold_lock
with hold_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _holder(lock: Path) -> subprocess.Popen:
    """Another process holding ``lock`` until its standard input gets a line (or it is killed)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock), "--as", "the-holder"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def _release(proc: subprocess.Popen) -> None:
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=30) == 0


def _write_big(args: tuple[str, int]) -> None:
    path, n = args
    payload = (str(n) * 200_000).encode()
    for _ in range(5):
        write_file_atomically(path, lambda p: p.write_bytes(payload))


def _save_dir(args: tuple[str, int]) -> None:
    path, n = args
    files = {"a.txt": lambda p: p.write_text(str(n)), "b.txt": lambda p: p.write_text("done")}
    write_atomically(path, files)


def test_temporary_names_are_unique_per_process_and_call(tmp_path):
    names = {temporary_sibling(tmp_path / "t.parquet").name for _ in range(100)}
    assert len(names) == 100
    assert all(n.startswith(f".t.parquet.{os.getpid()}.") and n.endswith(".tmp") for n in names)


def test_concurrent_writers_never_collide_and_leave_whole_files(tmp_path):
    table, run = tmp_path / "table.bin", tmp_path / "run"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.map(_write_big, [(str(table), n) for n in range(3)])
        pool.map(_save_dir, [(str(run), n) for n in range(6)])  # a new directory, at once
    data = table.read_bytes()
    assert len(data) == 200_000 and len(set(data)) == 1  # one writer's bytes, whole
    assert sorted(p.name for p in run.iterdir()) == ["a.txt", "b.txt"]
    assert run.joinpath("a.txt").read_text() in {str(n) for n in range(6)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "table.bin"]  # no temporaries


def test_only_temporaries_of_the_path_are_removed(tmp_path):
    run = tmp_path / "abc-s1"
    run.mkdir()
    left = temporary_sibling(run)  # a save killed part-way: a directory
    left.mkdir()
    (left / "timeseries.parquet").write_text("half")
    meta = temporary_sibling(run / "meta.json")  # a file write killed part-way
    meta.write_text("{")
    other = temporary_sibling(tmp_path / "abc-s12")  # another run's: not ours
    other.mkdir()
    keep = [tmp_path / ".abc-s1.notes", run / ".lock", run / "meta.json"]
    for path in keep:
        path.write_text("x")
    assert temporaries(run) == sorted([left, meta])
    assert remove_temporaries(run) == 2
    assert not left.exists() and not meta.exists()
    assert other.exists() and all(p.exists() for p in keep)
    assert remove_temporaries(tmp_path / "missing" / "x") == 0


def test_a_held_lock_names_its_holder_and_waits_for_it_or_refuses(tmp_path):
    lock = tmp_path / "out" / ".aggregate.lock"
    proc = _holder(lock)
    said: list[str] = []
    try:
        with pytest.raises(LockHeld) as refused, hold_lock(lock, wait=False):
            pytest.fail("the lock is held by another process")
        line = str(refused.value)
        assert "\n" not in line and str(lock) in line
        assert f"pid {proc.pid} on {socket.gethostname()} since " in line
        assert "UTC (-c " in line and "--as the-holder" in line  # the holder's command
        assert json.loads(lock.read_text())["pid"] == proc.pid

        def release_soon():
            time.sleep(0.5)
            _release(proc)

        thread = threading.Thread(target=release_soon, daemon=True)
        thread.start()
        with hold_lock(lock, on_wait=said.append):  # waits for the holder to let go
            assert json.loads(lock.read_text())["pid"] == os.getpid()
        thread.join()
    finally:
        proc.kill()
        proc.wait()
    assert len(said) == 1 and said[0].startswith(f"waiting for {lock}: held by pid {proc.pid} ")


def test_a_killed_holder_leaves_nothing_locked(tmp_path):
    lock = tmp_path / ".lock"
    proc = _holder(lock)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with hold_lock(lock, wait=False):  # free at once, though the file and its record remain
        assert json.loads(lock.read_text())["pid"] == os.getpid()


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    lock = tmp_path / ".lock"
    with hold_lock(lock, wait=False), hold_lock(lock, wait=False):
        pass
    with hold_lock(lock, wait=False):
        pass


def test_an_unrecorded_holder_is_still_named(tmp_path):
    assert lock_holder(tmp_path / "none.lock") == "another process (not recorded yet)"
    write_text_atomically(tmp_path / "bad.lock", "{")
    assert lock_holder(tmp_path / "bad.lock") == "another process (not recorded yet)"
