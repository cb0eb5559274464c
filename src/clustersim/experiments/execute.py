"""Run a design's runs: in local worker processes, or as a Hydra multirun in a child process.

Either way every run goes through :func:`clustersim.experiments.runner.run_spec` into
``<out>/runs/<hash>-s<seed>/``: finished runs are skipped, stale ones (made by another
model version) re-run, failures recorded while the others go on. An interrupted
execution keeps what finished; running it again resumes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from clustersim.errors import ClusterSimError
from clustersim.experiments.design import Design
from clustersim.experiments.runner import RunRecord, RunSpec, run_spec

__all__ = [
    "LAUNCH_MODULE",
    "LaunchError",
    "echo_to_stderr",
    "hydra_multirun_args",
    "run_hydra",
    "run_local",
]

LAUNCH_MODULE = "clustersim.experiments.launch"
"""The ``clustersim`` Hydra app, run as ``python -m`` for a Hydra multirun."""

STOP_GRACE_S = 30.0
"""Seconds an interrupted Hydra multirun gets to end before it is killed."""


class LaunchError(ClusterSimError):
    """A Hydra multirun ended with a non-zero exit code (its own output says why).

    Attributes:
        code: the exit code of the ``clustersim --multirun`` child process.
    """

    def __init__(self, code: int) -> None:
        super().__init__(
            f"the Hydra multirun exited with code {code}; finished runs are kept, "
            "run the same command again to resume"
        )
        self.code = code


def echo_to_stderr(message: str) -> None:
    """Print one progress line to standard error at once."""
    print(message, file=sys.stderr, flush=True)


def _run_label(spec: RunSpec) -> str:
    lab = spec.labels
    return f"{lab.get('site')}/{lab.get('arm')}/r{lab.get('replicate')}"


def _progress_line(
    done: int, total: int, record: RunRecord, spec: RunSpec, started: float, computed: int
) -> str:
    elapsed = time.perf_counter() - started
    eta = ""
    if computed and done < total:
        eta = f"  eta {elapsed / done * (total - done):.0f}s"
    error = f"  {record.error}" if record.error else ""
    stale = "  (replaced a stale run of another model version)" if record.stale else ""
    return (
        f"[{done:>{len(str(total))}}/{total}] {record.status:<7} {_run_label(spec):<40} "
        f"seed={spec.seed:<10} {record.wall_time_s:5.1f}s{eta}{error}{stale}"
    )


def run_local(
    design: Design,
    out_dir: str | os.PathLike,
    *,
    n_jobs: int | None = None,
    force: bool = False,
    echo: Callable[[str], None] | None = echo_to_stderr,
) -> list[RunRecord]:
    """Run every run of the design in ``n_jobs`` worker processes (1: in this process).

    Complete runs are skipped (resume), stale ones (made by another model version)
    are re-run, failures are recorded and the others go on. One log line per
    finished run shows progress. Returns the records in design order.
    """
    out = Path(out_dir)
    design.save(out / "experiment.yaml")
    runs_dir = out / "runs"
    specs = design.specs()
    n_jobs = design.n_jobs if n_jobs is None else n_jobs
    n_jobs = max(1, min(n_jobs if n_jobs > 0 else (os.cpu_count() or 1), len(specs)))
    records: list[RunRecord | None] = [None] * len(specs)
    started = time.perf_counter()
    say = echo or (lambda _m: None)
    say(
        f"{design.name}: {len(specs)} runs ({len(design.sites)} sites x {len(design.arms)} arms "
        f"x {design.replicates} replicates) with {n_jobs} worker(s) -> {out}"
    )
    done = computed = 0

    def finished(i: int, record: RunRecord) -> None:
        nonlocal done, computed
        records[i] = record
        done += 1
        computed += record.status != "skipped"
        say(_progress_line(done, len(specs), record, specs[i], started, computed))

    if n_jobs == 1:
        for i, spec in enumerate(specs):
            finished(i, run_spec(spec, runs_dir, force=force))
    else:
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx)
        try:
            futures = {
                pool.submit(run_spec, s, runs_dir, force=force): i for i, s in enumerate(specs)
            }
            for future in as_completed(futures):
                finished(futures[future], future.result())
        except KeyboardInterrupt:
            say("interrupted: finished runs are kept; run the same command again to resume")
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()  # runs in flight: their partial files are cleaned on resume
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
            say(f"a worker process died ({exc}); finished runs are kept, re-run to resume")
            for i, spec in enumerate(specs):
                if records[i] is None:
                    records[i] = RunRecord(
                        "failed",
                        runs_dir,
                        spec.seed,
                        None,
                        spec.labels,
                        error="worker process died",
                    )
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in records if r is not None]


def hydra_multirun_args(
    design: Design, out: Path, *, launcher: str, hydra_overrides: Sequence[str] = ()
) -> list[str]:
    """Arguments of the ``clustersim`` app that run every run of the design saved in ``out``.

    Each job reads its run from ``<out>/experiment.yaml`` (``+xp.site``, ``+xp.arm``,
    ``+xp.replicate``); Hydra keeps its job directories in ``<out>/jobs/<n>``.
    """
    return [
        "--multirun",
        f"hydra/launcher={launcher}",
        f"hydra.sweep.dir={out}",
        "hydra.sweep.subdir=jobs/${hydra.job.num}",
        f"+xp.site={','.join(design.sites)}",
        f"+xp.arm={','.join(design.arms)}",
        f"+xp.replicate=range(0,{design.replicates})",
        *hydra_overrides,
    ]


def run_hydra(
    design: Design,
    out_dir: str | os.PathLike,
    *,
    launcher: str,
    hydra_overrides: Sequence[str] = (),
) -> int:
    """Run the design as a Hydra multirun of the ``clustersim`` app with a launcher.

    The design is saved to ``<out>/experiment.yaml`` and the sweep runs in a child
    process, ``python -m clustersim.experiments.launch --multirun ...`` (see
    :func:`hydra_multirun_args`), whose output streams to this process's standard
    output and error. The sweep directory must be on a file system every worker sees
    (a cluster's shared disk). When this process is interrupted (Ctrl-C), the child
    is interrupted too and waited for (killed after ``STOP_GRACE_S`` seconds), and the
    ``KeyboardInterrupt`` goes on: finished runs are kept, and the same command resumes.

    Returns:
        The child's exit code: 0 when the sweep ran (failed runs are recorded, not
        counted here), otherwise Hydra's (its output says why).
    """
    out = Path(out_dir).resolve()
    design.save(out / "experiment.yaml")
    args = hydra_multirun_args(design, out, launcher=launcher, hydra_overrides=hydra_overrides)
    sys.stdout.flush()  # our lines first, then the child's, in order
    sys.stderr.flush()
    child = subprocess.Popen([sys.executable, "-m", LAUNCH_MODULE, *args])
    try:
        return child.wait()
    except KeyboardInterrupt:
        _stop(child)
        raise


def _stop(child: subprocess.Popen) -> None:
    """Interrupt a child process as Ctrl-C would; kill it if it has not ended in time."""
    if child.poll() is None:
        try:
            child.send_signal(signal.SIGINT)
        except (OSError, ValueError):  # gone already, or a system without SIGINT for children
            pass
    try:
        child.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
