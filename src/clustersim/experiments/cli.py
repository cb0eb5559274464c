"""The ``clustersim-experiment`` command: run a design, aggregate, analyse and report.

Designs (sites x arms x replicates) live in ``configs/experiment/<name>.yaml``
(:mod:`clustersim.experiments.design`). Run one with ``clustersim-experiment run NAME``
(``make run`` runs the flagship ``town_vs_metropolis``). Its runs go through
:mod:`clustersim.experiments.runner`, in parallel worker processes (``--launcher local``,
the default) or as a Hydra multirun with any launcher (``--launcher
joblib|ray_cluster|ray_local|submitit_local|slurm``...), see
:mod:`clustersim.experiments.execute`. Either way they land in ``<out>/runs/``, finished
runs are skipped when re-run (unless another model version made them: those are stale
and re-run, see :func:`clustersim.experiments.provenance.model_fingerprint`), and
failures are recorded; then the runs are aggregated
(:mod:`clustersim.experiments.aggregate`), analysed (:mod:`clustersim.experiments.analysis`)
and written up (:mod:`clustersim.experiments.report`). ``clustersim-experiment report DIR``
rewrites the report of an experiment folder, or writes one for a plain Hydra sweep
(``clustersim -m``), compared against ``--baseline KEY=VALUE``
(:mod:`clustersim.experiments.sweep_study`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clustersim.errors import ConfigError
from clustersim.experiments.design import Design, available, expected_run_dirs
from clustersim.experiments.execute import LaunchError, echo_to_stderr, run_hydra, run_local
from clustersim.experiments.provenance import model_fingerprint
from clustersim.experiments.runner import run_status
from clustersim.files import hold_lock, remove_temporaries

if TYPE_CHECKING:
    from clustersim.experiments.sweep_study import SweepStudy

__all__ = [
    "ExperimentOutcome",
    "analyse",
    "main",
    "run_experiment",
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


def _aggregate_and_report(
    design: Design,
    out: Path,
    run_dirs: list[Path],
    echo: Callable[[str], None],
    sweep: SweepStudy | None = None,
) -> ExperimentOutcome:
    from clustersim.experiments.aggregate import LOCK

    # one process at a time writes the folder's tables and report, each set whole
    with hold_lock(out / LOCK, on_wait=echo):
        for name in ("report.html", "summary.md", "tables", "figures"):
            remove_temporaries(out / name)  # what a report killed part-way left
        return _aggregate_and_report_locked(design, out, run_dirs, echo, sweep)


def _aggregate_and_report_locked(
    design: Design,
    out: Path,
    run_dirs: list[Path],
    echo: Callable[[str], None],
    sweep: SweepStudy | None,
) -> ExperimentOutcome:
    import pandas as pd

    from clustersim.experiments.aggregate import aggregate
    from clustersim.experiments.report import write_report

    if design.kind == "calibration":  # its runs are in batches; its tables are written
        from clustersim.experiments.calibration_runs import rewrite_report

        tables, html, md, ok = rewrite_report(design, out)
        return ExperimentOutcome(out, html, md, ok, {}, tables)
    if _is_toy(design):  # a toy model has no runs: it is evaluated with the analysis
        return _sensitivity_outcome(design, out, None, None)
    agg = aggregate(out, run_dirs=run_dirs, progress=False)
    failed = dict(agg.errors)
    if agg.stale:
        echo(
            f"note: {agg.stale} finished run(s) were made by a different model version and are "
            f"left out (see {agg.runs}); run the experiment again to recompute them"
        )
    if agg.timeseries is None:
        echo(f"no run finished; see {agg.runs}")
        return ExperimentOutcome(out, None, None, 0, failed, stale=agg.stale)
    ts, runs = pd.read_parquet(agg.timeseries), pd.read_parquet(agg.runs)
    if design.kind == "sensitivity":
        return _sensitivity_outcome(design, out, ts, agg)
    if sweep is not None:  # the report's sites, arms and pairs
        ts, runs = sweep.labelled(ts), sweep.labelled(runs)
    tables = analyse(design, ts)
    html, md = write_report(design, out, ts, tables, runs=runs, sweep=sweep)
    return ExperimentOutcome(out, html, md, agg.ok, failed, tables, agg.stale)


def _is_toy(design: Design) -> bool:
    """Whether a design evaluates a registered toy model instead of running clustersim."""
    from clustersim.experiments.sensitivity_space import parse_settings

    return design.kind == "sensitivity" and parse_settings(design.sensitivity).is_toy


def _sensitivity_outcome(design: Design, out: Path, ts: Any, agg: Any) -> ExperimentOutcome:
    """Analyse a sensitivity design (:mod:`clustersim.experiments.sensitivity`) and report it."""
    from clustersim.experiments.sensitivity import analyse_design

    ok = agg.ok if agg is not None else 0
    tables, html, md = analyse_design(design, out, ts, n_ok=ok)
    if agg is None:
        ok = len(tables["samples"]) * design.replicates
        return ExperimentOutcome(out, html, md, ok, {}, tables)
    return ExperimentOutcome(out, html, md, ok, dict(agg.errors), tables, agg.stale)


def _calibration(
    design: Design,
    out: Path,
    launcher: str,
    n_jobs: int | None,
    force: bool,
    hydra_overrides: Sequence[str],
    echo: Callable[[str], None],
) -> ExperimentOutcome:
    """Run a calibration design (:mod:`clustersim.experiments.calibration`) and report it."""
    from clustersim.experiments.calibration_runs import run_calibration

    if launcher != "local" and force:
        raise ConfigError("--force works with --launcher local only; use a new --out")
    started = time.perf_counter()
    tables, html, md, ok, failed = run_calibration(
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
    if design.kind == "calibration":
        return _calibration(design, out, launcher, n_jobs, force, hydra_overrides, echo)
    run_dirs = expected_run_dirs(design, out / "runs")
    if launcher != "local" and force:
        raise ConfigError("--force works with --launcher local only; use a new --out")
    resume = _resume_line(design.name, run_dirs, force=force)
    if resume:
        echo(resume)
    if _is_toy(design):
        design.save(out / "experiment.yaml")
        echo(f"{design.name}: evaluating a toy model in this process (no runs to launch)")
    elif launcher == "local":
        run_local(design, out, n_jobs=n_jobs, force=force, echo=echo)
    else:
        code = run_hydra(design, out, launcher=launcher, hydra_overrides=hydra_overrides, echo=echo)
        if code != 0:
            raise LaunchError(code)
    outcome = _aggregate_and_report(design, out, run_dirs, echo)
    stale = f", {outcome.stale} stale left out" if outcome.stale else ""
    echo(
        f"{design.name}: {outcome.ok} runs ok, {len(outcome.failed)} failed{stale}, "
        f"{time.perf_counter() - started:.0f}s"
    )
    return outcome


# ---------------------------------------------------------------------- CLI
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clustersim-experiment",
        description="Run clustersim experiments (designs in configs/experiment/), aggregate "
        "sweeps, write reports.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an experiment, aggregate it and write its report")
    run.add_argument(
        "name",
        nargs="?",
        help=f"experiment name, from configs/experiment/ ({', '.join(available())})",
    )
    run.add_argument("--design", help="a design file of your own (YAML) instead of a name")
    run.add_argument("--out", help="output directory (default: results/<name>)")
    run.add_argument("--replicates", type=int, help="replicates per site and arm")
    run.add_argument("--steps", type=int, help="months per run")
    run.add_argument(
        "--samples",
        type=int,
        help="sensitivity designs: Morris trajectories or the Sobol base sample N; "
        "calibration designs: points searched",
    )
    run.add_argument("--root-seed", type=int, help="root seed of the replicate seeds")
    run.add_argument("--n-jobs", type=int, help="worker processes (local launcher)")
    run.add_argument("--site", action="append", help="run only this site (repeatable)")
    run.add_argument("--arm", action="append", help="run only this arm and the baseline")
    run.add_argument(
        "--launcher",
        default="local",
        help="local (default: worker processes), or a Hydra launcher: basic, joblib, "
        "ray_local, ray_cluster, submitit_local, slurm",
    )
    run.add_argument("--force", action="store_true", help="recompute complete runs")
    run.add_argument(
        "overrides",
        nargs="*",
        help="model overrides for every run (e.g. talent.review_rate=0.03); with a Hydra "
        "launcher, hydra.* overrides go to Hydra",
    )
    agg = sub.add_parser("aggregate", help="aggregate a sweep directory into tidy Parquet")
    agg.add_argument("sweep_dir")
    agg.add_argument("--out", help="where to write (default: the sweep directory)")
    agg.add_argument(
        "--fingerprint",
        help="aggregate the runs made by this model fingerprint (default: the installed "
        "model's); runs of other model versions are never mixed in",
    )
    rep = sub.add_parser(
        "report",
        help="re-analyse an experiment directory and rewrite its report, or write the report "
        "of a plain Hydra sweep (clustersim -m)",
    )
    rep.add_argument("out_dir")
    rep.add_argument(
        "--baseline",
        action="append",
        metavar="KEY=VALUE",
        help="what the others are compared with: a swept value (firm.agglomeration_cap=null; "
        "repeat it to compare settings of several swept keys; default: the first value of the "
        "one swept key), or an experiment's arm (default: its design's baseline)",
    )
    sub.add_parser("list", help="list the experiment designs")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``clustersim-experiment``; returns the exit code.

    Exit codes: 0 all runs ok, 1 some runs failed or were left out as stale
    (everything else was written) or a Hydra multirun failed, 2 bad input,
    130 interrupted.
    """
    args = _parse(argv)
    try:
        return _main(args)
    except KeyboardInterrupt:
        print(
            "clustersim-experiment: interrupted; run the same command again to resume",
            file=sys.stderr,
        )
        return 130


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The arguments; ``run``'s overrides may also follow its options (``--site s key=v``)."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and (args.command != "run" or any(a.startswith("-") for a in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    return args


def _main(args: argparse.Namespace) -> int:
    try:
        if args.command == "list":
            return _list()
        if args.command == "aggregate":
            return _aggregate(args)
        if args.command == "report":
            outcome = _report(Path(args.out_dir).resolve(), args.baseline)
        else:
            outcome = _run(args)
    except ConfigError as exc:
        print(f"clustersim-experiment: error: {exc}", file=sys.stderr)
        return 2
    except LaunchError as exc:
        print(f"clustersim-experiment: error: {exc}", file=sys.stderr)
        return 1
    for run_id, error in outcome.failed.items():
        print(f"failed: {run_id}: {error}", file=sys.stderr)
    if outcome.report is not None:
        print(f"report: {outcome.report}")
        print(f"summary: {outcome.summary}")
    return 1 if outcome.failed or outcome.stale or outcome.report is None else 0


def _report(out: Path, baseline: list[str] | None) -> ExperimentOutcome:
    """Rewrite an experiment's report, or write a plain Hydra sweep's (checked first)."""
    if (out / "experiment.yaml").is_file():
        design = Design.load(out / "experiment.yaml")
        if baseline:
            design = _with_baseline(design, baseline)
        return _aggregate_and_report(
            design, out, expected_run_dirs(design, out / "runs"), echo_to_stderr
        )
    from clustersim.experiments.aggregate import find_runs, run_index
    from clustersim.experiments.sweep_study import sweep_study

    runs = find_runs(out)
    if not runs:
        what = (
            "does not exist"
            if not out.is_dir()
            else "holds no runs"
            if (out / "runs").is_dir()
            else "holds no experiment.yaml and no runs/ folder"
        )
        raise ConfigError(
            f"{out} {what}: not an experiment or sweep folder (clustersim-experiment run and "
            "clustersim -m make them)"
        )
    study = sweep_study(out, run_index(runs), baseline)  # checked before anything is written
    return _aggregate_and_report(study.design, out, runs, echo_to_stderr, study)


def _with_baseline(design: Design, baseline: list[str]) -> Design:
    """The design with another baseline arm (``--baseline ARM`` or ``--baseline arm=ARM``)."""
    name = baseline[-1].removeprefix("arm=")
    if len(baseline) > 1 or name not in design.arms:
        raise ConfigError(
            f"--baseline {' '.join(baseline)}: an experiment's baseline is one of its arms "
            f"({', '.join(design.arms)}); got {name}"
        )
    return dataclasses.replace(design, baseline=name)


def _list() -> int:
    for name in available():
        d = Design.named(name)
        n = d.n_runs
        if d.kind == "calibration":
            from clustersim.experiments.calibration_runs import most_runs

            n = most_runs(d)
        print(f"{name:<22} {d.kind:<13} {n:>4} runs  {d.title}")
    return 0


def _aggregate(args: argparse.Namespace) -> int:
    from clustersim.experiments.aggregate import aggregate

    sweep = Path(args.sweep_dir)
    if not (sweep / "runs").is_dir():
        what = "holds no runs/ folder" if sweep.is_dir() else "does not exist"
        raise ConfigError(
            f"{sweep} {what}: not a sweep folder (clustersim -m and clustersim-experiment "
            "run make them)"
        )
    res = aggregate(
        args.sweep_dir,
        out_dir=args.out,
        progress=True,
        fingerprint=args.fingerprint,
        on_wait=echo_to_stderr,
    )
    stale = f", {res.stale} stale" if res.stale else ""
    model = f"model fingerprint {res.fingerprint}"
    print(f"{res.ok} runs ok, {res.failed} failed{stale} ({model})")
    for path in (res.timeseries, res.places, res.runs):
        if path is not None:
            print(path)
    for run_id, error in res.errors.items():
        print(f"failed: {run_id}: {error}", file=sys.stderr)
    if res.stale:
        found = ", ".join(f"{fp} ({n})" for fp, n in res.stale_fingerprints.items())
        print(
            f"stale: {res.stale} finished run(s) made by a different model version are "
            f"left out (model fingerprints: {found}); re-run the sweep to recompute them, "
            "or aggregate one version's runs alone with --fingerprint",
            file=sys.stderr,
        )
    return 1 if res.failed or res.stale else 0


def _design(args: argparse.Namespace) -> Design:
    """The design ``run`` names: ``--design FILE``, or a name from ``configs/experiment/``.

    A positional ``FILE.yaml`` (the form before ``--design``) is still read as a file.
    """
    name = args.name
    if args.design is not None and name is not None:
        if "=" not in name:  # names hold no "=": a lone override was read as the name
            raise ConfigError("give an experiment name or --design FILE, not both")
        args.overrides = [name, *args.overrides]
        name = None
    if args.design is not None:
        return Design.load(args.design)
    if name is None:
        raise ConfigError(f"give an experiment name ({', '.join(available())}) or --design FILE")
    if Path(name).suffix in (".yaml", ".yml"):
        return Design.load(name)
    return Design.named(name)


def _run(args: argparse.Namespace) -> ExperimentOutcome:
    design = _design(args)
    hydra_ovs = [o for o in args.overrides if o.lstrip("+~").startswith("hydra")]
    model_ovs = [o for o in args.overrides if o not in hydra_ovs]
    design = design.with_changes(
        replicates=args.replicates,
        steps=args.steps,
        root_seed=args.root_seed,
        n_jobs=args.n_jobs,
        overrides=model_ovs,
        sites=args.site,
        arms=args.arm,
        samples=args.samples,
    )
    if hydra_ovs and args.launcher == "local":
        raise ConfigError("hydra.* overrides need a Hydra launcher (--launcher joblib...)")
    if args.launcher != "local":
        _check_hydra_arguments(args.launcher, hydra_ovs)
    out = Path(args.out or Path("results") / design.name)
    return run_experiment(
        design, out, launcher=args.launcher, force=args.force, hydra_overrides=hydra_ovs
    )


def _check_hydra_arguments(launcher: str, hydra_ovs: list[str]) -> None:
    """Refuse a bad launcher or Hydra setting before anything is written (one line)."""
    from clustersim.experiments.launch import check_arguments

    for override in hydra_ovs:
        if override.lstrip("+~").startswith(("hydra.sweep.", "hydra.run.")):
            raise ConfigError(f"{override}: the sweep's folder is --out")
    check_arguments(["--multirun", f"hydra/launcher={launcher}", *hydra_ovs])


if __name__ == "__main__":
    sys.exit(main())
