"""Many writers in one folder, for real: experiments, aggregations and Hydra sweeps at once."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from clustersim.experiments.aggregate import OUTPUTS
from clustersim.experiments.design import Design, expected_run_dirs
from clustersim.experiments.execute import LAUNCH_MODULE, SWEEP_LOCK
from clustersim.experiments.runner import (
    RUN_LOCK,
    compose_config,
    config_hash,
    is_complete,
    run_dir_name,
)
from clustersim.files import hold_lock, lock_holder
from conftest import write_design

BIN = Path(sys.executable).parent
EXPERIMENT = str(BIN / "clustersim-experiment")


def _leftovers(folder: Path) -> list[str]:
    """Temporary files or directories anywhere under ``folder``."""
    return sorted(str(p) for p in folder.rglob("*.tmp"))


def _by_run(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["run_id", "step"]).reset_index(drop=True)


def _is_locked(lock: Path) -> bool:
    """Whether another open file holds ``lock``'s ``flock`` (probed: taken and let go at once)."""
    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def _wait_for(condition, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def two_at_once(tmp_path_factory):
    """Two ``clustersim-experiment run`` of one design into one folder, started together."""
    root = tmp_path_factory.mktemp("two_at_once")
    path = write_design(root, name="twice", replicates=4, steps=12)
    out = root / "out"
    cmd = [EXPERIMENT, "run", str(path), "--out", str(out), "--n-jobs", "1"]
    procs = [
        subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    done = [(p, *p.communicate(timeout=300)) for p in procs]
    return out, [(p.pid, p.returncode, stdout, stderr) for p, stdout, stderr in done]


def test_two_experiments_into_one_folder_share_the_runs_and_compute_each_once(two_at_once):
    out, results = two_at_once
    for _, code, stdout, stderr in results:
        assert code == 0, stderr
        assert "report:" in stdout
        assert stderr.count("/8] ") == 8  # one line per run
    errs = "".join(stderr for *_, stderr in results)
    assert errs.count("] ok ") == 8  # every run computed exactly once, by one of them
    assert errs.count("] skipped ") == 8  # and found finished by the other
    design = Design.load(out / "experiment.yaml")
    runs = expected_run_dirs(design, out / "runs")
    assert len(runs) == 8 and all(is_complete(d) for d in runs)
    pids = {json.loads((d / "meta.json").read_text())["pid"] for d in runs}
    assert pids <= {pid for pid, *_ in results}  # each run's meta.json names who computed it
    assert (out / "report.html").is_file() and (out / "summary.md").is_file()
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert ts["run_id"].nunique() == 8 and len(ts) == 8 * 13
    assert _leftovers(out) == []


def test_four_aggregations_at_once_all_succeed_and_no_reader_sees_half_a_table(
    two_at_once, tmp_path
):
    out, _ = two_at_once
    folder = tmp_path / "sweep"
    shutil.copytree(out / "runs", folder / "runs")
    cmd = [EXPERIMENT, "aggregate", str(folder)]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    reads = 0
    table = folder / "timeseries.parquet"
    while any(p.poll() is None for p in procs):  # read while they write: whole tables only
        if table.exists():
            assert pq.read_table(table).num_rows == 8 * 13
            reads += 1
        time.sleep(0.01)
    for p in procs:
        stdout, stderr = p.communicate()
        assert p.returncode == 0, stderr
        assert stdout.startswith("8 runs ok, 0 failed")
    expected = _by_run(pd.read_parquet(out / "timeseries.parquet"))
    for name in OUTPUTS:
        assert pq.read_table(folder / name).num_rows > 0
    got = _by_run(pd.read_parquet(table))
    pd.testing.assert_frame_equal(got[expected.columns], expected)
    assert _leftovers(folder) == []


def _launch(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    with open(log, "w") as f:
        return subprocess.Popen(
            [sys.executable, "-m", LAUNCH_MODULE, *args],
            cwd=cwd,
            stdout=f,
            stderr=subprocess.STDOUT,
        )


def test_a_second_sweep_into_a_busy_sweep_directory_is_refused_in_one_line(tmp_path):
    sweep = tmp_path / "sweep"
    model = ["city.population=5000", "steps=4"]
    first_run = sweep / "runs" / run_dir_name(config_hash(compose_config(model, seed=0)), 0)
    with hold_lock(first_run / RUN_LOCK):  # the first sweep's first run waits for this test
        first = _launch(
            ["-m", *model, "seed=0,1", f"hydra.sweep.dir={sweep}"], tmp_path, tmp_path / "1.log"
        )
        _wait_for(
            lambda: f"pid {first.pid} " in lock_holder(sweep / SWEEP_LOCK),
            "the first sweep to hold its directory",
        )
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                LAUNCH_MODULE,
                "-m",
                *model,
                "seed=5,6",
                f"hydra.sweep.dir={sweep}",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert second.returncode == 2, second.stdout + second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith(f"clustersim: error: another sweep is running in {sweep}: ")
    assert f"pid {first.pid} on " in lines[0] and "seed=0,1" in lines[0]
    assert lines[0].endswith("wait for it to end, or choose another hydra.sweep.dir")
    assert first.wait(timeout=300) == 0, (tmp_path / "1.log").read_text()
    # the refused sweep wrote nothing: the job folders and multirun.yaml are the first's
    assert "seed=0,1" in (sweep / "multirun.yaml").read_text()
    assert sorted(p.name for p in sweep.iterdir() if p.name[0].isdigit()) == ["0", "1"]
    for job in ("0", "1"):
        assert "seed=5" not in (sweep / job / ".hydra" / "overrides.yaml").read_text()
    runs = list((sweep / "runs").iterdir())
    assert len(runs) == 2 and all(is_complete(d) for d in runs)
    assert not any(d.name.endswith(("-s5", "-s6")) for d in runs)


@pytest.mark.slow
def test_an_experiment_through_hydra_waits_for_the_sweep_in_its_folder(tmp_path):
    path = write_design(tmp_path, replicates=1, steps=12)
    out = tmp_path / "out"
    log = tmp_path / "driver.log"
    cmd = [EXPERIMENT, "run", str(path), "--out", str(out), "--launcher", "basic"]
    with hold_lock(out / SWEEP_LOCK), open(log, "w") as f:  # another sweep runs there
        driver = subprocess.Popen(cmd, cwd=tmp_path, stdout=f, stderr=subprocess.STDOUT)
        _wait_for(lambda: "waiting for" in log.read_text(), "the driver to wait")
        said = log.read_text()
        assert f"waiting for {out / SWEEP_LOCK}: held by pid {os.getpid()} on " in said
        assert sorted(p.name for p in out.iterdir()) == [SWEEP_LOCK]  # nothing started
    assert driver.wait(timeout=300) == 0, log.read_text()
    design = Design.load(out / "experiment.yaml")
    assert all(is_complete(d) for d in expected_run_dirs(design, out / "runs"))
    assert (out / "report.html").is_file()


@pytest.mark.slow
def test_a_driver_killed_mid_run_leaves_its_runs_to_the_other(tmp_path):
    path = write_design(
        tmp_path,
        name="victim",
        replicates=4,
        steps=36,
        sites={"town": {"overrides": ["city=small_town", "city.population=12000"]}},
    )
    out = tmp_path / "out"
    args = [str(path), "--out", str(out)]  # the job count first: holders' commands are cut short
    killed = subprocess.Popen(
        [EXPERIMENT, "run", "--n-jobs", "2", *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    group = killed.pid  # the first driver and its worker processes

    def victims() -> list[Path]:
        """Runs the first driver has started and not finished, as their lock files say."""
        return [
            lock.parent
            for lock in (out / "runs").glob(f"*/{RUN_LOCK}")
            if "run --n-jobs 2 " in lock_holder(lock) and not is_complete(lock.parent)
        ]

    def held() -> list[Path]:
        """Unfinished runs whose lock the stopped driver holds (it cannot finish them).

        Probed, not read from the holder line: a worker stopped between taking a lock and
        writing its name in it holds a run the lock file does not name yet.
        """
        return [
            lock.parent
            for lock in (out / "runs").glob(f"*/{RUN_LOCK}")
            if _is_locked(lock) and not is_complete(lock.parent)
        ]

    in_flight: list[Path] = []
    log = tmp_path / "other.log"
    try:
        deadline = time.monotonic() + 180
        while not in_flight and killed.poll() is None and time.monotonic() < deadline:
            if victims():
                os.killpg(group, signal.SIGSTOP)  # frozen, holding the locks of its runs
                in_flight = held()
                if not in_flight:
                    os.killpg(group, signal.SIGCONT)
            time.sleep(0.02)
        assert in_flight, "the first driver ended before it could be stopped mid-run"
        with open(log, "w") as f:
            other = subprocess.Popen(
                [EXPERIMENT, "run", "--n-jobs", "1", *args], cwd=tmp_path, stdout=f, stderr=f
            )
        others = 8 - len(in_flight)  # the other finishes the rest, then waits for these
        _wait_for(lambda: log.read_text().count("/8] ") >= others, "the other to finish the rest")
        time.sleep(0.5)
        assert log.read_text().count("/8] ") == others and other.poll() is None
    finally:
        with contextlib.suppress(ProcessLookupError):  # gone already if it ended by itself
            os.killpg(group, signal.SIGKILL)
        killed.wait()
    assert other.wait(timeout=300) == 0, log.read_text()
    lines = [line for line in log.read_text().splitlines() if "/8] " in line]
    assert all("] ok " in line for line in lines[-len(in_flight) :])  # taken over, computed
    design = Design.load(out / "experiment.yaml")
    assert all(is_complete(d) for d in expected_run_dirs(design, out / "runs"))
    for run in in_flight:  # the other computed what the killed one had in hand
        assert json.loads((run / "meta.json").read_text())["pid"] == other.pid
    assert _leftovers(out / "runs") == []
    assert pd.read_parquet(out / "timeseries.parquet")["run_id"].nunique() == 8
