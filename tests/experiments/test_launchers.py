"""Hydra multirun sweeps launched for real: joblib, Ray (a head started here), submitit local.

Every job goes through the runner, so results land in ``<sweep dir>/runs/<hash>-s<seed>``,
re-launching skips finished runs, and a failing job is recorded while the others go on.
Ray runs with token authentication on, and a Ray started on this machine for a sweep
(``ray_local``) must listen on 127.0.0.1 only: nothing of it may be reachable from the network.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from clustersim.experiments.runner import is_complete, replicate_seed
from conftest import ray_auth_env

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SMALL = ["city.population=5000", "steps=6"]


def _sweep(sweep_dir: Path, *args: str, env: dict | None = None, timeout: float = 240):
    cmd = [str(BIN / "clustersim"), "--multirun", f"hydra.sweep.dir={sweep_dir}", *args]
    proc = subprocess.Popen(
        cmd,
        cwd=sweep_dir.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out, _ = proc.communicate(timeout=timeout)
    return proc, out


def _metas(sweep_dir: Path) -> dict[str, dict]:
    return {
        p.parent.name: json.loads(p.read_text())
        for p in sorted((sweep_dir / "runs").glob("*/meta.json"))
    }


def test_joblib_sweep_records_failures_aggregates_and_resumes(tmp_path):
    sweep = tmp_path / "sweep"
    args = [
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "city=small_town,graphml",
        f"city.graphml={tmp_path}/missing.graphml",
        *SMALL,
        "seed=42",
        "+replicate=range(0,2)",
    ]
    proc, out = _sweep(sweep, *args)
    assert proc.returncode == 0, out
    metas = _metas(sweep)
    ok = {k: m for k, m in metas.items() if m["status"] == "ok"}
    failed = {k: m for k, m in metas.items() if m["status"] == "failed"}
    assert len(ok) == 2 and len(failed) == 2, out
    assert sorted(m["seed"] for m in ok.values()) == sorted(replicate_seed(42, i) for i in range(2))
    assert {m["labels"]["replicate"] for m in ok.values()} == {0, 1}
    assert all(m["labels"]["city"] == "small_town" for m in ok.values())
    assert all("missing.graphml" in m["error"] for m in failed.values())
    assert all(m["pid"] != proc.pid for m in metas.values())  # jobs ran in joblib workers

    agg = subprocess.run(
        [str(BIN / "clustersim-experiment"), "aggregate", str(sweep)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert agg.returncode == 1, agg.stderr  # some runs failed: listed, and the exit code says so
    assert "2 runs ok, 2 failed" in agg.stdout
    ts = pd.read_parquet(sweep / "timeseries.parquet")
    assert len(ts) == 2 * 7
    assert {"city", "replicate", "root_seed", "seed", "run_id", "creative_employment"} <= set(
        ts.columns
    )
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert (runs["status"] == "failed").sum() == 2

    # re-launch after losing one finished run: only it (and the failed ones) are redone
    stamps = {k: (sweep / "runs" / k / "summary.json").stat().st_mtime_ns for k in ok}
    lost = sorted(ok)[0]
    for f in (sweep / "runs" / lost).iterdir():
        f.unlink()
    (sweep / "runs" / lost).rmdir()
    proc, out = _sweep(sweep, *args)
    assert proc.returncode == 0, out
    assert out.count("run skipped") == 1, out
    again = _metas(sweep)
    assert is_complete(sweep / "runs" / lost)
    for k in ok:
        if k != lost:
            assert (sweep / "runs" / k / "summary.json").stat().st_mtime_ns == stamps[k]
            assert again[k]["finished_at"] == ok[k]["finished_at"]
    assert all(again[k]["status"] == "failed" for k in failed)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ who listens where (Linux /proc)

RAY_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch for a single-machine instance: at "0" its node address is 127.0.0.1 and every
server binds to it (read when ray is imported; Ray has no ray.init argument for it)."""


def _descendants(root: int) -> set[int]:
    """``root`` and every process below it (by parent id, read from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue  # ended meanwhile
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return family


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _listening_tcp() -> dict[str, tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """Socket inode -> (address, port) of every listening TCP socket, IPv4 and IPv6 (ss -ltn)."""
    found = {}
    for table in ("tcp", "tcp6"):
        with open(f"/proc/net/{table}") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] != "0A":  # 0A: LISTEN
                    continue
                host, port = fields[1].split(":")
                raw = bytes.fromhex(host)  # 32-bit words in host (little-endian) order
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found[fields[9]] = (ipaddress.ip_address(raw), int(port, 16))
    return found


def _is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is loopback too
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _listeners(root: int) -> set[tuple[str, int, str]]:
    """(process name, pid, "address:port") of every TCP socket listening in ``root``'s tree."""
    tcp = _listening_tcp()
    seen = set()
    for pid in _descendants(root):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        for inode in _socket_inodes(pid):
            if inode in tcp:
                address, port = tcp[inode]
                seen.add((name, pid, f"{address}:{port}"))
    return seen


def _watched_sweep(
    sweep_dir: Path, *args: str, env: dict, timeout: float = 300
) -> tuple[subprocess.Popen, str, set[tuple[str, int, str]]]:
    """Run a sweep like :func:`_sweep`, recording every listening socket of its process tree."""
    log_path = sweep_dir.parent / f"{sweep_dir.name}.log"
    cmd = [str(BIN / "clustersim"), "--multirun", f"hydra.sweep.dir={sweep_dir}", *args]
    seen: set[tuple[str, int, str]] = set()
    with open(log_path, "w") as log:  # a file, not a pipe: a full pipe would stall the sweep
        proc = subprocess.Popen(
            cmd, cwd=sweep_dir.parent, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the sweep did not end within {timeout} s")
                seen |= _listeners(proc.pid)
                time.sleep(0.2)
        finally:
            if proc.poll() is None:  # timed out or interrupted: stop the sweep and its Ray
                for pid in sorted(_descendants(proc.pid), reverse=True):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                proc.wait()
    return proc, log_path.read_text(), seen


def _exposed(seen: set[tuple[str, int, str]]) -> list[str]:
    return sorted(
        f"{name} (pid {pid}) listens on {where}"
        for name, pid, where in seen
        if not _is_loopback(ipaddress.ip_address(where.rsplit(":", 1)[0]))
    )


def test_socket_reader_sees_a_listener_and_its_address(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        seen = _listeners(os.getpid())
    assert any(pid == os.getpid() and where == f"127.0.0.1:{port}" for _, pid, where in seen)
    assert _exposed(seen) == []
    assert _exposed({("x", 1, "0.0.0.0:80"), ("y", 2, ":::81"), ("z", 3, "::ffff:127.0.0.1:82")})
    assert _exposed({("z", 3, "::ffff:127.0.0.1:82"), ("w", 4, "::1:83")}) == []


@pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="reads sockets from Linux /proc")
def test_ray_local_sweep_listens_on_loopback_only(tmp_path):
    """A new Ray instance for a 2-job sweep: every port of it on 127.0.0.1, auth on."""
    sweep = tmp_path / "sweep"
    env = ray_auth_env(tmp_path)  # no RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER: the launcher's job
    proc, out, seen = _watched_sweep(
        sweep, "hydra/launcher=ray_local", "city=small_town", *SMALL, "seed=0,1", env=env
    )
    assert proc.returncode == 0, out
    metas = _metas(sweep)
    assert len(metas) == 2 and all(m["status"] == "ok" for m in metas.values()), out
    assert all(m["pid"] != proc.pid for m in metas.values())  # ran in Ray workers
    assert any(name == "gcs_server" for name, _, _ in seen), f"no Ray server seen: {seen}"
    assert _exposed(seen) == [], (
        "Ray started by hydra/launcher=ray_local listens beyond this machine; "
        f"{RAY_LOOPBACK_ENV}=0 must be set before ray is imported:\n" + "\n".join(_exposed(seen))
    )


def _wait_for_port(port: int, head: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if head.poll() is not None:
            raise RuntimeError(f"ray head exited with {head.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"ray head not listening on {port}")


@pytest.fixture
def ray_head(tmp_path):
    """A Ray head on 127.0.0.1 only, with token authentication, stopped by its process group.

    Yields its address and the environment (token) a driver needs to join it.
    """
    port = _free_port()
    env = {**ray_auth_env(tmp_path), RAY_LOOPBACK_ENV: "0"}  # a single-machine cluster
    log = open(tmp_path / "ray_head.log", "w")
    head = subprocess.Popen(
        [
            str(BIN / "ray"),
            "start",
            "--head",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            f"--ray-client-server-port={_free_port()}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--block",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, head)
        yield f"127.0.0.1:{port}", env, head
    finally:
        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 5)):
            try:
                os.killpg(head.pid, sig)  # the head, GCS, raylet and workers share its group
            except ProcessLookupError:
                break
            try:
                head.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(head.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()


def test_ray_launcher_on_an_existing_head(tmp_path, ray_head):
    address, head_env, head = ray_head
    sweep = tmp_path / "sweep"
    env = {**head_env, "RAY_ADDRESS": address}  # same token; authentication stays on
    proc, out, seen = _watched_sweep(
        sweep, "hydra/launcher=ray_cluster", "city=small_town", *SMALL, "seed=0,1", env=env
    )
    assert proc.returncode == 0, out
    assert f"Initializing ray with config: {{'address': '{address}'" in out, out
    assert "Connected to Ray cluster" in out, out
    metas = _metas(sweep)
    assert len(metas) == 2 and all(m["status"] == "ok" for m in metas.values()), out
    assert {m["seed"] for m in metas.values()} == {0, 1}
    assert all(m["pid"] != proc.pid for m in metas.values())  # ran in Ray workers
    assert all(is_complete(sweep / "runs" / k) for k in metas)
    head_ports = _listeners(head.pid)
    assert any(name == "gcs_server" for name, _, _ in head_ports), head_ports
    assert _exposed(head_ports | seen) == []  # a single-machine head: nothing beyond loopback


def test_submitit_local_launcher(tmp_path):
    sweep = tmp_path / "sweep"
    proc, out = _sweep(
        sweep,
        "hydra/launcher=submitit_local",
        "hydra.sweeper.max_batch_size=2",
        "city=small_town",
        *SMALL,
        "seed=3,4",
    )
    assert proc.returncode == 0, out
    metas = _metas(sweep)
    assert len(metas) == 2 and all(m["status"] == "ok" for m in metas.values()), out
    assert len({m["pid"] for m in metas.values()} | {proc.pid}) == 3  # one process per job
    assert (sweep / ".submitit").is_dir()
