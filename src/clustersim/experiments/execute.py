"""Run a design's runs: in local worker processes, or as a Hydra multirun in a child process.

Either way every run goes through :func:`clustersim.experiments.runner.run_spec` into
``<out>/runs/<hash>-s<seed>/``: finished runs are skipped, stale ones (made by another
model version) re-run, failures recorded while the others go on. An interrupted
execution keeps what finished; running it again resumes.

Local executions of one folder may overlap: they share the runs through the runs'
locks. A Hydra multirun holds its sweep directory's lock (:func:`sweep_lock`) for its
whole sweep, as Hydra's job folders (``<sweep dir>/<job number>/``) and
``multirun.yaml`` are shared by every sweep into one directory.
"""

from __future__ import annotations

import atexit
import functools
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from pathlib import Path

from clustersim.errors import ClusterSimError, ConfigError
from clustersim.experiments.blas import one_blas_thread
from clustersim.experiments.design import Design
from clustersim.experiments.runner import RunRecord, RunSpec, compose_config, run_spec
from clustersim.experiments.sensitivity_space import is_comparison
from clustersim.files import hold_lock
from clustersim.model.config import SimConfig

__all__ = [
    "KERNEL_MONTHS",
    "LAUNCH_MODULE",
    "START_METHOD_ENV",
    "SWEEP_LOCK",
    "SWEEP_LOCK_HELD",
    "LaunchError",
    "Terminated",
    "echo_to_stderr",
    "freeze_at_exit",
    "hydra_multirun_args",
    "kernels_pay",
    "run_hydra",
    "run_local",
    "start_method",
    "sweep_lock",
    "terminate_as_interrupt",
]

LAUNCH_MODULE = "clustersim.experiments.launch"
"""The ``clustersim`` Hydra app, run as ``python -m`` for a Hydra multirun."""

STOP_GRACE_S = 30.0
"""Seconds an interrupted Hydra multirun gets to end before it is killed."""

SWEEP_LOCK = ".sweep.lock"
"""The lock file in a sweep directory, held by the process running a Hydra multirun into it."""

SWEEP_LOCK_HELD = "CLUSTERSIM_SWEEP_LOCK_HELD"
"""Environment variable naming the sweep lock a parent holds for its multirun child process."""

KERNEL_MONTHS = 1_500
"""Months of runs per worker process from which each worker takes numba's kernels at its
start (:func:`clustersim.model.kernels.prefer`) rather than after the kernels' payback
rule. Measured on one core: a small town's 120-month run takes 0.194 s with the kernels
against 0.216 s, and importing numba and loading the kernels costs 0.24 s once, so
about eleven such runs (1,300 months) repay it; a 10k-talent city's run gains 0.14 s
(0.67 against 0.81 s). Spin-ups are not counted here (a worker may find them cached);
a long spin-up a worker runs takes the kernels itself (``kernels.SPIN_UP_MONTHS``)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a scheduler cancelling the job) taken as an interrupt."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated`, a ``KeyboardInterrupt``.

    So a terminated driver does what an interrupted one does: it stops its worker
    processes and its Hydra child and keeps the finished runs. Left to Python's default,
    SIGTERM ends the driver at once and its workers live on, computing runs nobody
    collects and then waiting forever on their task queue. A second SIGTERM while the
    first is being handled is ignored, so it cannot cut the clean-up short. Outside the
    main thread (where no handler can be set), or where SIGTERM is ignored on purpose,
    the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        if _HELD["depth"]:  # within sigterm_held (another thread took it): after the block
            _HELD["pending"] = True
            return
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one clean-up, not two
        raise Terminated

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


#: :func:`sigterm_held`'s blocks open now, and whether a SIGTERM came within them.
_HELD = {"depth": 0, "pending": False}


@contextmanager
def sigterm_held() -> Iterator[None]:
    """Within the block (main thread), a SIGTERM waits and is taken when the block ends.

    Around the fork of pool workers: a forked worker starts as a copy of the driver, its
    handler included (:func:`terminate_as_interrupt`). SIGTERM is blocked in this thread,
    whose copy is the worker's only thread, until the worker's initializer has set the
    default handler (:func:`_start_worker`): a SIGTERM that reaches the worker first ends
    it as it would end a spawned one, instead of raising an interrupt in it. In the
    driver, a SIGTERM that another thread (BLAS's) takes meanwhile only marks itself
    (:func:`terminate_as_interrupt`'s handler), and either kind is raised again when the
    block ends, outside the fork. Where signals cannot be blocked (Windows), or outside
    the main thread, the block runs unchanged.
    """
    if not hasattr(signal, "pthread_sigmask") or (
        threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    _HELD["depth"] += 1
    try:
        yield
    finally:
        _HELD["depth"] -= 1
        waiting = signal.SIGTERM in signal.sigpending()  # taken when unblocked, below
        marked = _HELD["pending"] and not _HELD["depth"]
        if marked:
            _HELD["pending"] = False
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
        if marked and not waiting:
            signal.raise_signal(signal.SIGTERM)  # the one another thread took, again


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


class _Progress:
    """The records of a design's runs as they finish, one log line each."""

    def __init__(self, specs: list[RunSpec], say: Callable[[str], None]) -> None:
        self.specs = specs
        self.say = say
        self.records: list[RunRecord | None] = [None] * len(specs)
        self.started = time.perf_counter()
        self.done = self.computed = 0

    def finished(self, i: int, record: RunRecord, *, waited: bool = False) -> None:
        """Record run ``i``; ``waited``: it had been busy in another process first."""
        self.records[i] = record
        self.done += 1
        self.computed += record.status != "skipped"
        self.say(self._line(record, self.specs[i], waited and record.status == "skipped"))

    def _line(self, record: RunRecord, spec: RunSpec, by_other: bool) -> str:
        done, total = self.done, len(self.specs)
        elapsed = time.perf_counter() - self.started
        eta = ""
        if self.computed and done < total:
            eta = f"  eta {elapsed / done * (total - done):.0f}s"
        error = f"  {record.error}" if record.error else ""
        stale = "  (replaced a stale run of another model version)" if record.stale else ""
        other = "  (finished by another process)" if by_other else ""
        return (
            f"[{done:>{len(str(total))}}/{total}] {record.status:<7} {_run_label(spec):<40} "
            f"seed={spec.seed:<10} {record.wall_time_s:5.1f}s{eta}{error}{stale}{other}"
        )

    def fill_failed(self, runs_dir: Path, error: str) -> None:
        """Record every run not finished yet as failed with ``error``."""
        for i, spec in enumerate(self.specs):
            if self.records[i] is None:
                self.records[i] = RunRecord(
                    "failed", runs_dir, spec.seed, None, spec.labels, error=error
                )


def run_local(
    design: Design,
    out_dir: str | os.PathLike,
    *,
    n_jobs: int | None = None,
    force: bool = False,
    echo: Callable[[str], None] | None = echo_to_stderr,
    while_running: Callable[[], object] | None = None,
) -> list[RunRecord]:
    """Run every run of the design in ``n_jobs`` worker processes (1: in this process).

    Complete runs are skipped (resume), stale ones (made by another model version)
    are re-run, failures are recorded and the others go on. One log line per
    finished run shows progress. Other processes may run the same design into the
    same folder at once: a run another process is computing is put last and then
    waited for (see :func:`~clustersim.experiments.runner.run_config_in`), so the
    processes share the work and no run is computed twice. Returns the records in
    design order.

    ``while_running`` is called once the runs are handed out (forked workers exist by
    then; see :func:`start_method`), for work this process can do meanwhile, such as
    importing what the report needs.

    Raises:
        ConfigError: ``CLUSTERSIM_START_METHOD`` names no start method of this system.
    """
    out = Path(out_dir)
    specs = design.specs()
    n_jobs = design.n_jobs if n_jobs is None else n_jobs
    n_jobs = max(1, min(n_jobs if n_jobs > 0 else (os.cpu_count() or 1), len(specs)))
    start_method()  # a bad CLUSTERSIM_START_METHOD is refused before anything is written
    design.save(out / "experiment.yaml")
    runs_dir = out / "runs"
    say = echo or (lambda _m: None)
    point = "sample point" if design.kind in ("sensitivity", "discovery") else "arm"
    compared = sum(map(is_comparison, design.arms)) if design.section else 0
    arms = _counted(len(design.arms) - compared, point)
    if compared:  # sensitivity.against: the points' comparison runs are arms too
        arms = f"({arms} + {_counted(compared, 'comparison')})"
    sizes = [_counted(len(design.sites), "site"), arms, _counted(design.replicates, "replicate")]
    shape = " x ".join(sizes)
    say(f"{design.name}: {_counted(len(specs), 'run')} ({shape}) with {n_jobs} worker(s) -> {out}")
    progress = _Progress(specs, say)
    if n_jobs == 1:
        if while_running is not None:
            while_running()
        busy = []
        for i, spec in enumerate(specs):
            record = run_spec(spec, runs_dir, force=force, wait=False)
            if record.status == "busy":
                busy.append(i)
            else:
                progress.finished(i, record)
        for i in busy:  # computed by another process meanwhile, or by this one now
            progress.finished(i, run_spec(specs[i], runs_dir, force=force), waited=True)
    else:
        _run_in_pool(specs, runs_dir, n_jobs, force, progress, while_running)
    return [r for r in progress.records if r is not None]


def _counted(n: int, word: str) -> str:
    """``"1 site"``, ``"2 sites"``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _composed(spec: RunSpec) -> SimConfig | None:
    """The spec's config, or None when it does not compose (its worker records why)."""
    try:
        return compose_config(spec.overrides, seed=spec.seed, steps=spec.steps, values=spec.values)
    except Exception:  # run_spec records the failure as a failed run
        return None


def kernels_pay(specs: Sequence[RunSpec], n_jobs: int) -> bool:
    """Whether workers sharing these runs have ``KERNEL_MONTHS`` months each or more to run.

    Runs count their ``steps`` (a spec without steps counts none); runs that turn out to
    be finished already are counted too, as the workers learn that only when they get
    them.
    """
    return sum(s.steps or 0 for s in specs) / n_jobs >= KERNEL_MONTHS


@functools.cache
def freeze_at_exit() -> None:
    """Let this process exit without the garbage collector's last passes over its objects.

    While Python tears a process down it collects cyclic garbage over every object
    left: 0.2-0.3 s at the end of a command that imported pandas, Hydra and matplotlib,
    and in every sweep worker that imported numba and ran models, where the report
    waits for it (measured: 0.30 s -> 0.03 s for a worker that ran a 10k city). With
    :func:`gc.freeze` as an exit handler (registered once, run before the handlers
    registered earlier) those objects sit in the collector's permanent generation, so
    the passes skip them; their memory goes back to the system with the process. The
    other exit handlers still run, and the files a process writes are closed by the
    code that writes them, so nothing is lost; the exit code is unchanged.
    """
    atexit.register(gc.freeze)


#: Environment variable: how sweep workers start (``fork``, ``spawn`` or ``forkserver``),
#: instead of :func:`start_method`'s choice.
START_METHOD_ENV = "CLUSTERSIM_START_METHOD"
_START_METHODS = ("fork", "spawn", "forkserver")


def start_method() -> str:
    """How this process starts its sweep workers now: ``fork`` where that is safe, else ``spawn``.

    A forked worker starts as a copy of this process, with clustersim, Mesa, pandas and
    Hydra imported already; a spawned one starts a new interpreter and imports them again
    (about 1.2 s of CPU a worker, on a 2-core machine most of a sweep's start). Forking is
    safe while this process runs no other thread (a thread holding a lock, an import's for
    one, would leave it held for ever in the child): so ``fork`` on Linux when only the
    main thread runs, ``spawn`` otherwise (other systems, or a caller running threads,
    e.g. a notebook's). ``CLUSTERSIM_START_METHOD`` chooses instead.

    Raises:
        ConfigError: ``CLUSTERSIM_START_METHOD`` is set to a method this system lacks.
    """
    chosen = os.environ.get(START_METHOD_ENV, "").strip()
    available = multiprocessing.get_all_start_methods()
    if chosen:
        if chosen not in _START_METHODS or chosen not in available:
            allowed = ", ".join(m for m in _START_METHODS if m in available)
            raise ConfigError(f"{START_METHOD_ENV}={chosen!r}: allowed {allowed}")
        return chosen
    if sys.platform == "linux" and "fork" in available and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _start_worker(kernels: bool, forked: bool = False) -> None:
    """A worker process's start: the compiled kernels at once when it has many months to run.

    What the worker has imported (or a forked worker was given) by then lives as long as
    the worker: it goes to the garbage collector's permanent generation
    (:func:`gc.freeze`), so that the collector's passes during the runs skip it
    (measured: 13 ms of collection in a 10k city's run against 1 ms; a run's own objects
    are collected as before), and a spawned worker exits without the collector's last
    passes (:func:`freeze_at_exit`; a forked one ends without them). A forked worker
    takes SIGTERM's default back from the driver's handler (:func:`terminate_as_interrupt`
    would turn it into an interrupt the worker survives): terminated, it stops, as a
    spawned one does. A SIGTERM ignored on purpose stays ignored, as across a spawn.
    ``forked``: the driver held SIGTERM across the fork (:func:`sigterm_held`); the worker
    takes it once its handler is the default one.
    """
    if callable(signal.getsignal(signal.SIGTERM)):  # a Python handler, copied by the fork
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if forked and hasattr(signal, "pthread_sigmask"):  # held across the fork: taken now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    freeze_at_exit()
    one_blas_thread()  # two workers' BLAS threads took turns on the cores (blas.py)
    if kernels:
        from clustersim.model import kernels as compiled

        compiled.prefer()
    gc.freeze()


#: The threads of pools left while their workers exit (:func:`_run_in_pool`).
_EXITING: list[threading.Thread | None] = []
#: Seconds a new pool waits for the workers of the last one to exit (they have no run left).
EXIT_WAIT_S = 30.0


def _join_exiting_pools() -> None:
    """Wait for the workers of the pools this process left after their last run.

    A pool's own thread joins its exiting workers; while it runs, this process has a
    second thread, and a new pool would be spawned instead of forked (calibration and
    optimisation run one pool a batch). Its workers have no run left, so this is short.
    """
    while _EXITING:
        thread = _EXITING.pop()
        if thread is not None:
            thread.join(timeout=EXIT_WAIT_S)


@contextmanager
def _forking_quietly() -> Iterator[None]:
    """Within the block, no warning that a fork copies a multi-threaded process.

    Python warns of every thread the system counts, the libraries' own too (OpenBLAS's
    and jemalloc's, which prepare themselves for a fork); while no Python thread runs
    the warning (a DeprecationWarning, hidden by default, an error under ``-W error``)
    says nothing. A fork forced by ``CLUSTERSIM_START_METHOD`` beside Python threads
    keeps it.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", r"This process \(pid=\d+\) is multi-threaded", DeprecationWarning
        )
        yield


def _run_in_pool(
    specs: list[RunSpec],
    runs_dir: Path,
    n_jobs: int,
    force: bool,
    progress: _Progress,
    while_running: Callable[[], object] | None = None,
) -> None:
    """Run the specs in worker processes; a busy run is queued again, then waited for.

    Each run's config is composed here as the run is handed out (the workers, started
    by the first, run meanwhile; they then need not import Hydra or compose), and
    workers with at least ``KERNEL_MONTHS`` months to run take the compiled kernels from
    their first month (see :func:`_start_worker`). The workers are forked where that is
    safe, else spawned (:func:`start_method`); ``while_running`` is called once every
    run is handed out (forked workers all exist by then). When the last run has
    finished, this returns without waiting for the workers to exit.
    """
    _join_exiting_pools()
    method = start_method()
    ctx = multiprocessing.get_context(method)
    pool = ProcessPoolExecutor(
        max_workers=n_jobs,
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(kernels_pay(specs, n_jobs), method == "fork"),
    )
    configs: list[SimConfig | None] = []
    finished_all = False
    try:
        pending = {}
        quiet = method == "fork" and threading.active_count() == 1
        with _forking_quietly() if quiet else nullcontext():
            for i, spec in enumerate(specs):  # the first submit forks every worker
                configs.append(_composed(spec))
                with sigterm_held() if i == 0 and method == "fork" else nullcontext():
                    future = pool.submit(
                        run_spec, spec, runs_dir, force=force, wait=False, config=configs[i]
                    )
                pending[future] = i
        if while_running is not None:  # the workers exist: a thread now cannot be forked
            while_running()
        waited: set[int] = set()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                i = pending.pop(future)
                record = future.result()
                if record.status == "busy":  # after the others; then wait for its lock
                    waited.add(i)
                    again = pool.submit(
                        run_spec, specs[i], runs_dir, force=force, config=configs[i]
                    )
                    pending[again] = i
                else:
                    progress.finished(i, record, waited=i in waited)
        finished_all = True
    except KeyboardInterrupt:
        progress.say("interrupted: finished runs are kept; run the same command again to resume")
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()  # runs in flight: their partial files are cleaned on resume
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
        progress.say(f"a worker process died ({exc}); finished runs are kept, re-run to resume")
        progress.fill_failed(runs_dir, "worker process died")
    finally:
        # after the last run the workers' exit overlaps the report (the pool's own thread
        # joins them, and Python's exit waits for that thread); after a dead worker, wait
        if finished_all:  # its thread joins the exiting workers; the next pool waits for it
            _EXITING.append(getattr(pool, "_executor_manager_thread", None))
        pool.shutdown(wait=not finished_all, cancel_futures=True)


@contextmanager
def sweep_lock(
    sweep_dir: str | os.PathLike,
    *,
    wait: bool,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Hold the lock of a sweep directory (``<sweep dir>/.sweep.lock``) for a Hydra multirun.

    A process started by the holder to run the sweep (``SWEEP_LOCK_HELD`` names the
    lock in its environment) holds it already.

    Raises:
        clustersim.files.LockHeld: ``wait`` is False and another sweep holds it.
    """
    lock = Path(sweep_dir).resolve() / SWEEP_LOCK
    if os.environ.get(SWEEP_LOCK_HELD) == str(lock):
        yield lock
        return
    with hold_lock(lock, wait=wait, on_wait=on_wait):
        yield lock


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
    echo: Callable[[str], None] | None = echo_to_stderr,
) -> int:
    """Run the design as a Hydra multirun of the ``clustersim`` app with a launcher.

    It holds the sweep directory's lock (:func:`sweep_lock`; while another process
    holds it, this one says so through ``echo`` and waits). The design is saved to
    ``<out>/experiment.yaml`` and the sweep runs in a child
    process, ``python -m clustersim.experiments.launch --multirun ...`` (see
    :func:`hydra_multirun_args`), whose output streams to this process's standard
    output and error. The sweep directory must be on a file system every worker sees
    (a cluster's shared disk). When this process is interrupted (Ctrl-C, or SIGTERM
    within :func:`terminate_as_interrupt`), the child gets the same signal and is waited
    for (killed after ``STOP_GRACE_S`` seconds), and the ``KeyboardInterrupt`` goes on:
    finished runs are kept, and the same command resumes.

    Returns:
        The child's exit code: 0 when the sweep ran (failed runs are recorded, not
        counted here), otherwise Hydra's (its output says why).
    """
    out = Path(out_dir).resolve()
    with sweep_lock(out, wait=True, on_wait=echo) as lock:
        design.save(out / "experiment.yaml")  # the jobs read it: not while another sweep runs
        args = hydra_multirun_args(design, out, launcher=launcher, hydra_overrides=hydra_overrides)
        sys.stdout.flush()  # our lines first, then the child's, in order
        sys.stderr.flush()
        env = {**os.environ, SWEEP_LOCK_HELD: str(lock)}
        child: subprocess.Popen | None = None
        try:
            child = subprocess.Popen([sys.executable, "-m", LAUNCH_MODULE, *args], env=env)
            return child.wait()
        except KeyboardInterrupt as exc:
            if child is not None:
                _stop(child, signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
            raise


def _stop(child: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    """Stop a child process with ``sig`` (Ctrl-C's by default); kill it if it lingers.

    It is killed after ``STOP_GRACE_S`` seconds. A child started in the background
    ignores SIGINT; SIGTERM still reaches it.
    """
    if child.poll() is None:
        try:
            child.send_signal(sig)
        except (OSError, ValueError):  # gone already, or a system without the signal
            pass
    try:
        child.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
