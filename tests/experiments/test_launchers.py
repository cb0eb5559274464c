"""Hydra multirun sweeps launched for real: joblib, Ray (a head started here), submitit local.

Every job goes through the runner, so results land in ``<sweep dir>/runs/<hash>-s<seed>``,
re-launching skips finished runs, and a failing job is recorded while the others go on.
"""

from __future__ import annotations

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
    """A Ray head on 127.0.0.1, started here and stopped by its process group id."""
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    log = open(tmp_path / "ray_head.log", "w")
    head = subprocess.Popen(
        [
            str(BIN / "ray"),
            "start",
            "--head",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
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
        yield f"127.0.0.1:{port}"
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
    sweep = tmp_path / "sweep"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_ADDRESS": ray_head}
    proc, out = _sweep(
        sweep, "hydra/launcher=ray_cluster", "city=small_town", *SMALL, "seed=0,1", env=env
    )
    assert proc.returncode == 0, out
    assert f"Initializing ray with config: {{'address': '{ray_head}'" in out, out
    assert "Connected to Ray cluster" in out, out
    metas = _metas(sweep)
    assert len(metas) == 2 and all(m["status"] == "ok" for m in metas.values()), out
    assert {m["seed"] for m in metas.values()} == {0, 1}
    assert all(m["pid"] != proc.pid for m in metas.values())  # ran in Ray workers
    assert all(is_complete(sweep / "runs" / k) for k in metas)


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
