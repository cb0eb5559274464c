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
from pathlib import Path

from clustersim.errors import ConfigError
from clustersim.experiments.design import Design, available, expected_run_dirs
from clustersim.experiments.execute import (
    LaunchError,
    Terminated,
    echo_to_stderr,
    freeze_at_exit,
    terminate_as_interrupt,
)
from clustersim.experiments.experiment import (
    ExperimentOutcome,
    aggregate_and_report,
    analyse,
    is_toy,
    run_experiment,
    sampled_outcome,
)
from clustersim.experiments.provenance import model_fingerprint, reporting_runs_of
from clustersim.files import hold_lock

__all__ = [
    "ExperimentOutcome",
    "analyse",
    "main",
    "run_experiment",
]


# ---------------------------------------------------------------------- CLI
_N_JOBS = "worker processes (local launcher; 0 or less: every core)"
_SUBSET = (
    "run only this {} ({}the folder's report then covers only these, and the whole design's "
    "command gives it all again, reusing every finished run)"
)


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
        "discovery designs: sample points; calibration and optimisation designs: points "
        "searched",
    )
    run.add_argument("--root-seed", type=int, help="root seed of the replicate seeds")
    run.add_argument("--n-jobs", type=int, help=_N_JOBS)
    run.add_argument("--site", action="append", help=_SUBSET.format("site", "repeatable; "))
    run.add_argument("--arm", action="append", help=_SUBSET.format("arm and the baseline", ""))
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
    _add_report(sub)
    dis = sub.add_parser(
        "discover",
        help="scenario discovery (PRIM) on the runs of a discovery or sensitivity design: "
        "which ranges of its inputs lead to take-off",
    )
    dis.add_argument("results", help="the design's output directory (results/<name>)")
    dis.add_argument("--outcome", help="take_off (default) or an outcome, with --above/--below")
    dis.add_argument("--above", type=float, help="runs of interest: the outcome above this")
    dis.add_argument("--below", type=float, help="runs of interest: the outcome below this")
    dis.add_argument(
        "--min-density", type=float, help="density the box reported must reach (default 0.8)"
    )
    dis.add_argument("--boxes", type=int, help="most boxes to find, one after another")
    dis.add_argument(
        "--fingerprint",
        help="the runs made by this model fingerprint (default: the installed model's)",
    )
    sub.add_parser("list", help="list the experiment designs")
    return p


def _add_report(sub: argparse._SubParsersAction) -> None:
    """The ``report`` command's arguments."""
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
    rep.add_argument(
        "--fingerprint",
        help="report the runs made by this model fingerprint (default: the installed "
        "model's): a folder run by an earlier version, without running it again",
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``clustersim-experiment``; returns the exit code.

    Exit codes: 0 all runs ok, 1 some runs failed or were left out as stale
    (everything else was written) or a Hydra multirun failed, 2 bad input,
    130 interrupted (Ctrl-C), 143 terminated (SIGTERM: its workers are stopped too).
    The process then exits without the garbage collector's last passes
    (:func:`~clustersim.experiments.execute.freeze_at_exit`).
    """
    freeze_at_exit()
    args = _parse(argv)
    try:
        with terminate_as_interrupt():
            return _main(args)
    except Terminated:
        print(
            "clustersim-experiment: terminated; run the same command again to resume",
            file=sys.stderr,
        )
        return 143
    except KeyboardInterrupt:
        print(
            "clustersim-experiment: interrupted; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:  # the output was piped into a reader that stopped (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


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
            outcome = _report(Path(args.out_dir).resolve(), args.baseline, args.fingerprint)
        elif args.command == "discover":
            outcome = _discover(args)
        else:
            outcome = _run(args)
    except ConfigError as exc:
        print(f"clustersim-experiment: error: {exc}", file=sys.stderr)
        return 2
    except LaunchError as exc:
        print(f"clustersim-experiment: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or folder it cannot use (full disk, permissions)
        if isinstance(exc, BrokenPipeError) or exc.strerror is None or exc.filename is None:
            raise
        print(f"clustersim-experiment: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    for run_id, error in outcome.failed.items():
        print(f"failed: {run_id}: {error}", file=sys.stderr)
    if outcome.report is not None:
        print(f"report: {outcome.report}")
        print(f"summary: {outcome.summary}")
    return 1 if outcome.failed or outcome.stale or outcome.report is None else 0


def _report(out: Path, baseline: list[str] | None, fingerprint: str | None) -> ExperimentOutcome:
    """Rewrite an experiment's report, or write a plain Hydra sweep's (checked first)."""
    if (out / "experiment.yaml").is_file():
        design = Design.load(out / "experiment.yaml")
        if baseline:
            design = _with_baseline(design, baseline)
        searched = design.kind in ("calibration", "optimisation")
        if searched and fingerprint is not None:
            raise ConfigError(
                f"--fingerprint: a {design.kind} design's report is rewritten from the "
                "tables it wrote while it ran, by its own model version; --fingerprint "
                "is for sweeps, sensitivity and discovery designs"
            )
        run_dirs = expected_run_dirs(design, out / "runs")
        if not searched:
            _check_fingerprint(out, fingerprint, run_dirs)
        return aggregate_and_report(design, out, run_dirs, echo_to_stderr, fingerprint=fingerprint)
    from clustersim.experiments.aggregate import find_runs, run_index
    from clustersim.experiments.sweep_study import sweep_study

    runs = find_runs(out)
    if not runs:
        what = (
            "is a file, not a folder"
            if out.is_file()
            else "does not exist"
            if not out.is_dir()
            else "holds no runs"
            if (out / "runs").is_dir()
            else "holds no experiment.yaml and no runs/ folder"
        )
        raise ConfigError(
            f"{out} {what}: not an experiment or sweep folder (clustersim-experiment run and "
            "clustersim -m make them)"
        )
    _check_fingerprint(out, fingerprint, runs)
    index = run_index(runs, fingerprint=fingerprint)
    study = sweep_study(out, index, baseline)  # checked before anything is written
    return aggregate_and_report(study.design, out, runs, echo_to_stderr, study, fingerprint)


def _discover(args: argparse.Namespace) -> ExperimentOutcome:
    """Scenario discovery on a finished design's runs (checked before anything is written).

    A discovery design's report is rewritten; a sensitivity design's discovery goes to
    ``<results>/discovery/`` beside its own report.
    """
    from clustersim.experiments.aggregate import LOCK, aggregate
    from clustersim.experiments.discovery import (
        analyse_design,
        sample_point_runs,
        settings_for,
    )

    out = Path(args.results).resolve()
    if not (out / "experiment.yaml").is_file():
        raise ConfigError(
            f"{out} holds no experiment.yaml: give the folder of a discovery or sensitivity "
            "design run by clustersim-experiment run"
        )
    design = Design.load(out / "experiment.yaml")
    changes = {
        "outcome": args.outcome, "above": args.above, "below": args.below,
        "min_density": args.min_density, "boxes": args.boxes,
    }  # fmt: skip
    settings_for(design, changes)  # checked before anything is written
    if is_toy(design):
        return sampled_outcome(design, out, None, None, changes)
    runs = expected_run_dirs(design, out / "runs")
    _check_fingerprint(out, args.fingerprint, runs)
    import pandas as pd

    with hold_lock(out / LOCK, on_wait=echo_to_stderr), reporting_runs_of(args.fingerprint):
        agg = aggregate(out, run_dirs=runs, progress=False, fingerprint=args.fingerprint)
        if agg.timeseries is None:
            raise ConfigError(f"{out}: no run has finished; run the design first")
        points = sample_point_runs(design, runs, pd.read_parquet(agg.runs))
        if not points.ok:
            raise ConfigError(f"{out}: no sample point's run has finished; run the design first")
        target = out if design.kind == "discovery" else out / "discovery"
        tables, html, md = analyse_design(
            design,
            target,
            pd.read_parquet(agg.timeseries),
            n_ok=points.ok,
            failed=len(points.failed),
            changes=changes,
        )
    return ExperimentOutcome(target, html, md, points.ok, points.failed, tables, points.stale)


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
    width = max(len(name) for name in available())
    for name in available():
        d = Design.named(name)
        n, then = d.n_runs, ""
        if d.kind == "calibration":
            from clustersim.experiments.calibration_runs import most_runs

            n = most_runs(d)
        elif d.kind == "optimisation":
            from clustersim.experiments.optimisation_space import parse_optimisation

            s = parse_optimisation(d.optimisation)
            n = (s.generations * s.population + 1) * d.replicates
            if s.validation_replicates:  # the Pareto set's size is known only at the end
                then = f" (then {s.validation_replicates} runs per plan of the Pareto set)"
        print(f"{name:<{width}} {d.kind:<12} {n:>4} runs  {d.title}{then}")
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
    if args.fingerprint is not None:
        _check_fingerprint(sweep, args.fingerprint)
    if args.out is not None:
        _check_out(Path(args.out))
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
            f"left out (model fingerprints: {found})"
            + (
                "; re-run the sweep to recompute them, or aggregate one version's runs alone "
                "with --fingerprint"
                if args.fingerprint in (None, model_fingerprint())
                else ""
            ),
            file=sys.stderr,
        )
    return 1 if res.failed or res.stale else 0


def _check_fingerprint(
    sweep: Path, fingerprint: str | None, run_dirs: list[Path] | None = None
) -> None:
    """Refuse a ``--fingerprint`` that is not one or that no finished run in ``sweep`` has.

    Aggregating by a fingerprint no run has would mark every run stale and rewrite the
    run index beside tables of the runs aggregated before. ``None`` (the installed
    model's) is refused only when finished runs exist and none is the installed model's.
    ``run_dirs``: the runs to look at (default: every run folder of ``sweep``).
    """
    import re

    if fingerprint is not None and not re.fullmatch(r"[0-9a-f]{16}", fingerprint):
        raise ConfigError(
            "--fingerprint takes a model fingerprint, 16 hex digits as each run's meta.json "
            f"and runs.parquet record it; got {fingerprint!r}"
        )
    found = _finished_fingerprints(
        sorted((sweep / "runs").glob("*/")) if run_dirs is None else run_dirs
    )
    there = ", ".join(f"{fp} ({n})" for fp, n in sorted(found.items())) or "none"
    if fingerprint is None:
        installed = model_fingerprint()
        if found and installed not in found:
            raise ConfigError(
                f"no finished run in {sweep} was made by the installed model (fingerprint "
                f"{installed}); fingerprints of its finished runs: {there}; run the design "
                "again, or give one of them with --fingerprint"
            )
    elif fingerprint not in found:
        raise ConfigError(
            f"no finished run in {sweep} was made by model fingerprint {fingerprint}; "
            f"fingerprints of its finished runs: {there}"
        )


def _finished_fingerprints(run_dirs: list[Path]) -> dict[str, int]:
    """How many of the finished runs in ``run_dirs`` each model fingerprint made."""
    import json

    found: dict[str, int] = {}
    for meta in (run / "meta.json" for run in run_dirs):
        try:
            recorded = json.loads(meta.read_text())
        except (OSError, ValueError):  # unreadable: aggregate reports it as broken
            continue
        if isinstance(recorded, dict) and recorded.get("status") == "ok":
            key = str(recorded.get("model_fingerprint"))
            found[key] = found.get(key, 0) + 1
    return found


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
    _check_out(out)
    return run_experiment(
        design, out, launcher=args.launcher, force=args.force, hydra_overrides=hydra_ovs
    )


def _check_out(out: Path, option: str = "--out") -> None:
    """Refuse an output folder that cannot be one (a file on its path) or be written."""
    path = out
    while not path.exists() and path != path.parent:
        path = path.parent
    if not path.is_dir():
        raise ConfigError(f"{option} {out}: {path} is a file, not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {out}: the folder {path} is not writable")


def _check_hydra_arguments(launcher: str, hydra_ovs: list[str]) -> None:
    """Refuse a bad launcher or Hydra setting before anything is written (one line)."""
    from clustersim.experiments.launch import check_arguments

    for override in hydra_ovs:
        if override.lstrip("+~").startswith(("hydra.sweep.", "hydra.run.")):
            raise ConfigError(f"{override}: the sweep's folder is --out")
    check_arguments(["--multirun", f"hydra/launcher={launcher}", *hydra_ovs])


if __name__ == "__main__":
    sys.exit(main())
