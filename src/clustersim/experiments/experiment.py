"""A whole experiment: run a design's runs (resuming), aggregate them, analyse and report.

:func:`run_experiment` is what ``clustersim-experiment run`` does for every kind of
design (:mod:`clustersim.experiments.cli` is the command line): the runs go through
:mod:`clustersim.experiments.execute` (local worker processes or a Hydra launcher),
are aggregated (:mod:`clustersim.experiments.aggregate`) and analysed by the kind's
own analysis; a calibration or optimisation design makes its runs batch by batch as
its search goes.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clustersim.errors import ConfigError
from clustersim.experiments.design import Design, expected_run_dirs
from clustersim.experiments.execute import (
    LaunchError,
    echo_to_stderr,
    run_hydra,
    run_local,
    start_method,
)
from clustersim.experiments.provenance import (
    model_fingerprint,
    reported_fingerprint,
    reporting_runs_of,
)
from clustersim.experiments.runner import run_status
from clustersim.files import hold_lock, remove_temporaries

if TYPE_CHECKING:
    from clustersim.experiments.sweep_study import SweepStudy

__all__ = [
    "ExperimentOutcome",
    "aggregate_and_report",
    "analyse",
    "is_toy",
    "run_experiment",
    "sampled_outcome",
]


@dataclass
class ExperimentOutcome:
    """What an experiment run produced.

    Attributes:
        out_dir: the experiment's directory.
        report: the HTML report (None if no run finished).
        summary: the Markdown summary (None if no run finished).
        ok: complete runs.
        failed: failed or missing runs (``run_id -> error``).
        tables: the analysis tables by name.
        stale: finished runs left out of the tables because another model version
            made them (possible after ``run`` only when Hydra workers run other code).
    """

    out_dir: Path
    report: Path | None
    summary: Path | None
    ok: int
    failed: dict[str, str]
    tables: dict[str, Any] = field(default_factory=dict)
    stale: int = 0


def analyse(design: Design, timeseries: Any) -> dict[str, Any]:
    """The analysis tables of a design's aggregated time series (pure; see experiments.analysis)."""
    from clustersim.experiments import analysis as an

    a = design.analysis
    opts = {"ci": float(a["ci"]), "n_boot": int(a["n_boot"]), "seed": int(a["seed"])}
    outcomes = an.run_outcomes(timeseries)
    tables: dict[str, Any] = {"outcomes": outcomes}
    takeoffs = an.take_off(
        timeseries, lq_threshold=float(a["takeoff_lq"]), growth=float(a["takeoff_growth"])
    )
    tables["takeoff_runs"] = takeoffs
    tables["takeoff"] = an.takeoff_summary(takeoffs, group_cols=("site", "arm"), **opts)
    if design.kind in ("comparison", "policy_sweep"):
        tables["effects"] = an.effects(
            outcomes, list(a["metrics"]), baseline=design.baseline, group_cols=("site",), **opts
        )
        tables["cost"] = an.cost_per_job(
            outcomes, baseline=design.baseline, group_cols=("site",), **opts
        )
    order = {"site": list(design.sites), "arm": list(design.arms), "metric": list(a["metrics"])}
    for name in ("takeoff", "effects", "cost"):
        if name in tables:
            tables[name] = _in_design_order(tables[name], order)
    if design.kind == "scaling":
        tables["scaling"] = an.scaling_exponents(
            outcomes, list(a["scaling_metrics"]), x="population", **opts
        )
    return tables


def _in_design_order(table: Any, order: dict[str, list[str]]) -> Any:
    """Rows sorted by metric, site and arm as the design lists them."""
    keys = [k for k in ("metric", "site", "arm") if k in table]
    if table.empty or not keys:
        return table
    rank = {k: table[k].map({v: i for i, v in enumerate(order[k])}) for k in keys}
    sort = table.assign(**{f"_rank_{k}": v for k, v in rank.items()})
    sort = sort.sort_values([f"_rank_{k}" for k in keys], kind="stable")
    return sort.drop(columns=[f"_rank_{k}" for k in keys]).reset_index(drop=True)


def aggregate_and_report(
    design: Design,
    out: Path,
    run_dirs: list[Path],
    echo: Callable[[str], None],
    sweep: SweepStudy | None = None,
    fingerprint: str | None = None,
) -> ExperimentOutcome:
    """Aggregate a design's runs, analyse them and write the report (one writer at a time).

    A calibration's or optimisation's tables are already written (its report is
    rewritten); a toy model is evaluated here; a sweep's runs are labelled by
    ``sweep``'s sites and arms. ``fingerprint``: report the runs made by this model
    version instead of the installed model's (the report says so).
    """
    from clustersim.experiments.aggregate import LOCK

    # one process at a time writes the folder's tables and report, each set whole
    with hold_lock(out / LOCK, on_wait=echo), reporting_runs_of(fingerprint):
        for name in ("report.html", "summary.md", "tables", "figures"):
            remove_temporaries(out / name)  # what a report killed part-way left
        return _aggregate_and_report_locked(design, out, run_dirs, echo, sweep, fingerprint)


def _aggregate_and_report_locked(
    design: Design,
    out: Path,
    run_dirs: list[Path],
    echo: Callable[[str], None],
    sweep: SweepStudy | None,
    fingerprint: str | None,
) -> ExperimentOutcome:
    import pandas as pd

    from clustersim.experiments.aggregate import aggregate
    from clustersim.experiments.report import write_report

    if design.kind in ("calibration", "optimisation"):  # runs in batches, tables written
        if design.kind == "calibration":
            from clustersim.experiments.calibration_runs import rewrite_report
        else:
            from clustersim.experiments.optimisation_runs import rewrite_report

        tables, html, md, ok = rewrite_report(design, out)
        return ExperimentOutcome(out, html, md, ok, {}, tables)
    if is_toy(design):  # a toy model has no runs: it is evaluated with the analysis
        return sampled_outcome(design, out, None, None)
    agg = aggregate(out, run_dirs=run_dirs, progress=False, fingerprint=fingerprint)
    failed = dict(agg.errors)
    if agg.stale:
        echo(
            f"note: {agg.stale} finished run(s) were made by a different model version and are "
            f"left out (see {agg.runs}); run the experiment again to recompute them"
            if reported_fingerprint() is None  # the installed model's runs are reported
            else f"note: {agg.stale} finished run(s) made by model versions other than "
            f"{fingerprint} are left out (see {agg.runs})"
        )
    if agg.timeseries is None:  # a report of earlier runs would contradict runs.parquet
        gone = _remove_report(out)
        echo(
            f"no run finished; see {agg.runs}" + ("; the earlier report is removed" if gone else "")
        )
        return ExperimentOutcome(out, None, None, 0, failed, stale=agg.stale)
    ts, runs = pd.read_parquet(agg.timeseries), pd.read_parquet(agg.runs)
    if design.kind in ("sensitivity", "discovery"):
        return sampled_outcome(design, out, ts, agg)
    if sweep is not None:  # the report's sites, arms and pairs
        ts, runs = sweep.labelled(ts), sweep.labelled(runs)
    tables = analyse(design, ts)
    html, md = write_report(design, out, ts, tables, runs=runs, sweep=sweep)
    return ExperimentOutcome(out, html, md, agg.ok, failed, tables, agg.stale)


def _remove_report(out: Path) -> bool:
    """Remove the folder's report, summary, tables and figures; whether there were any."""
    import shutil

    found = False
    for name in ("report.html", "summary.md"):
        found |= (out / name).is_file()
        (out / name).unlink(missing_ok=True)
    for name in ("tables", "figures"):
        found |= (out / name).is_dir()
        shutil.rmtree(out / name, ignore_errors=True)
    return found


def is_toy(design: Design) -> bool:
    """Whether a sampled design evaluates a registered toy model instead of running clustersim."""
    from clustersim.experiments.design_sections import SAMPLED
    from clustersim.experiments.design_sections import is_toy as section_is_toy

    return design.kind in SAMPLED and section_is_toy(design.kind, design.section)


def sampled_outcome(
    design: Design, out: Path, ts: Any, agg: Any, changes: dict | None = None
) -> ExperimentOutcome:
    """Analyse a sensitivity or discovery design and report it (a toy model: evaluated here)."""
    ok = agg.ok if agg is not None else 0
    failed = dict(agg.errors) if agg is not None else {}
    if design.kind == "sensitivity":
        from clustersim.experiments.sensitivity import analyse_design

        tables, html, md = analyse_design(design, out, ts, n_ok=ok)
    else:
        from clustersim.experiments.discovery import analyse_design as discover

        tables, html, md = discover(design, out, ts, n_ok=ok, failed=len(failed), changes=changes)
    if agg is None:
        runs = tables.get("discovery_runs")
        ok = len(runs) if runs is not None else len(tables["samples"]) * design.replicates
        return ExperimentOutcome(out, html, md, ok, {}, tables)
    return ExperimentOutcome(out, html, md, ok, failed, tables, agg.stale)


def _searched(
    design: Design,
    out: Path,
    launcher: str,
    n_jobs: int | None,
    force: bool,
    hydra_overrides: Sequence[str],
    echo: Callable[[str], None],
) -> ExperimentOutcome:
    """Run a calibration or optimisation design (its search makes the runs) and report it."""
    if design.kind == "calibration":
        from clustersim.experiments.calibration_runs import run_calibration as run_search
    else:
        from clustersim.experiments.optimisation_runs import run_optimisation as run_search

    if launcher != "local" and force:
        raise ConfigError("--force works with --launcher local only; use a new --out")
    if force and design.kind == "optimisation":
        raise ConfigError(
            "--force does not apply to optimisation designs: their search lives in "
            "optuna.journal, which --force would not redo; give a new --out"
        )
    started = time.perf_counter()
    tables, html, md, ok, failed = run_search(
        design, out, launcher=launcher, n_jobs=n_jobs, force=force,
        hydra_overrides=tuple(hydra_overrides), echo=echo,
    )  # fmt: skip
    echo(f"{design.name}: {ok} runs ok, {len(failed)} failed, {time.perf_counter() - started:.0f}s")
    return ExperimentOutcome(out, html, md, ok, failed, tables)


def _resume_line(name: str, run_dirs: Sequence[Path], *, force: bool) -> str | None:
    """One line on the finished runs found: how many are reused, how many are stale.

    None when no finished run is there (a fresh experiment).
    """
    statuses = [run_status(d) for d in run_dirs]
    finished, stale = statuses.count("ok"), statuses.count("stale")
    if not finished and not stale:
        return None
    if force:
        return (
            f"{name}: --force: recomputing all {len(run_dirs)} runs ({finished} finished "
            f"and {stale} stale run(s) replaced)"
        )
    todo = len(run_dirs) - finished - stale
    return (
        f"{name}: resuming: {finished} finished run(s) reused, {stale} stale run(s) "
        f"made by a different model version re-run, {todo} other(s) to run "
        f"(model fingerprint {model_fingerprint()})"
    )


REPORT_MODULES = (
    "clustersim.experiments.aggregate",
    "clustersim.experiments.report",
    "matplotlib.backends.backend_agg",
)
"""What aggregating and reporting import, imported while the runs run (about 0.3 s)."""


def _import_report_modules() -> threading.Thread:
    """Import :data:`REPORT_MODULES` in a background thread, to overlap the runs.

    The runs go to worker processes, or run in this process with numpy releasing the
    interpreter's lock; the report then starts at once when they end. An import that
    fails here fails again, with its message, where the report imports it.
    """

    def _import() -> None:
        for name in REPORT_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # raised again, with its message, where the report imports it
                continue

    thread = threading.Thread(target=_import, name="clustersim-report-imports", daemon=True)
    thread.start()
    return thread


def run_experiment(
    design: Design,
    out_dir: str | os.PathLike,
    *,
    launcher: str = "local",
    n_jobs: int | None = None,
    force: bool = False,
    hydra_overrides: Sequence[str] = (),
    echo: Callable[[str], None] = echo_to_stderr,
) -> ExperimentOutcome:
    """Run a design (resuming), then aggregate, analyse and write its report.

    Args:
        design: the experiment.
        out_dir: its directory (``runs/``, datasets, report).
        launcher: ``local`` (worker processes, no Hydra) or a Hydra launcher name.
        n_jobs: worker processes for ``local`` (default: the design's ``n_jobs``).
        force: recompute complete runs.
        hydra_overrides: extra Hydra overrides for a Hydra launcher.
        echo: where progress lines go.

    Raises:
        ConfigError: the design or an override is invalid (nothing has run).
        LaunchError: the Hydra multirun failed (nothing is aggregated; finished runs
            are kept for the next attempt).
    """
    out = Path(out_dir).resolve()
    started = time.perf_counter()
    if launcher == "local":
        start_method()  # a bad CLUSTERSIM_START_METHOD is refused before anything is written
    # the model this command runs, taken before any worker starts (forked ones keep it):
    # read only when aggregating, an edit of the model's code during a long sweep made
    # every run of the sweep stale and the report empty (a Morris sweep of 75 minutes)
    model_fingerprint()
    if design.kind in ("calibration", "optimisation"):
        return _searched(design, out, launcher, n_jobs, force, hydra_overrides, echo)
    run_dirs = expected_run_dirs(design, out / "runs")
    if launcher != "local" and force:
        raise ConfigError("--force works with --launcher local only; use a new --out")
    resume = _resume_line(design.name, run_dirs, force=force)
    if resume:
        echo(resume)
    if is_toy(design):
        design.save(out / "experiment.yaml")
        echo(f"{design.name}: evaluating a toy model in this process (no runs to launch)")
    elif launcher == "local":  # the report's imports once the workers are forked
        run_local(
            design, out, n_jobs=n_jobs, force=force, echo=echo, while_running=_import_report_modules
        )
    else:
        _import_report_modules()
        code = run_hydra(design, out, launcher=launcher, hydra_overrides=hydra_overrides, echo=echo)
        if code != 0:
            raise LaunchError(code)
    outcome = aggregate_and_report(design, out, run_dirs, echo)
    stale = f", {outcome.stale} stale left out" if outcome.stale else ""
    echo(
        f"{design.name}: {outcome.ok} runs ok, {len(outcome.failed)} failed{stale}, "
        f"{time.perf_counter() - started:.0f}s"
    )
    return outcome
