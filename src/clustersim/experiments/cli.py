"""Experiment designs (sites x arms x replicates): run them, aggregate, analyse, report.

A design lives in ``configs/experiment/<name>.yaml``: *sites* (where: a city and its
overrides), *arms* (what is done there: a plan, levers, parameters; one arm is the
baseline), a number of *replicates* whose seeds are spawned from one root seed and
shared by every site and arm (common random numbers), and analysis settings.

Run one with ``clustersim-experiment run NAME`` (``make run`` runs the flagship
``town_vs_metropolis``). Runs go through :mod:`clustersim.experiments.runner`, in parallel
worker processes (``--launcher local``, the default) or as a Hydra multirun with
any launcher (``--launcher joblib|ray_cluster|ray_local|submitit_local|slurm``...).
Either way they land in ``<out>/runs/``, finished runs are skipped when re-run
(unless another model version made them: those are stale and re-run, see
:func:`clustersim.experiments.runner.model_fingerprint`), and failures are recorded; then the
runs are aggregated (:mod:`clustersim.experiments.aggregate`), analysed
(:mod:`clustersim.experiments.analysis`)
and written up (:mod:`clustersim.experiments.report`).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from clustersim.errors import ConfigError
from clustersim.experiments.runner import (
    RunRecord,
    RunSpec,
    compose_config,
    config_hash,
    model_fingerprint,
    replicate_seed,
    run_dir_name,
    run_spec,
    run_status,
)
from clustersim.model.compose import config_dir

__all__ = [
    "KINDS",
    "Arm",
    "Design",
    "ExperimentOutcome",
    "Site",
    "analyse",
    "available",
    "expected_run_dirs",
    "main",
    "run_experiment",
    "run_hydra",
    "run_local",
]

KINDS = ("comparison", "scaling", "policy_sweep")
"""Kinds of experiment; each has its own analysis and report."""

DEFAULT_ANALYSIS: dict[str, Any] = {
    "metrics": [
        "creative_employment",
        "creative_firms",
        "location_quotient",
        "talents",
        "mean_rent",
        "innovation_total",
    ],
    "band_metrics": ["creative_employment", "location_quotient", "creative_firms", "mean_rent"],
    "scaling_metrics": ["creative_employment", "creative_firms", "innovation_last_year"],
    "takeoff_lq": 1.25,
    "takeoff_growth": 0.2,
    "ci": 0.95,
    "n_boot": 2000,
    "seed": 0,
}


@dataclass(frozen=True)
class Site:
    """Where runs happen: a city config and overrides (e.g. its population).

    Attributes:
        name: short key used in tables and paths.
        label: human-readable description.
        overrides: Hydra overrides selecting and sizing the city.
        labels: extra columns for this site's runs (e.g. ``population``).
    """

    name: str
    label: str
    overrides: tuple[str, ...]
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Arm:
    """What is done at a site: a plan, levers or parameter changes, as overrides.

    Attributes:
        name: short key used in tables (the baseline is usually ``none``).
        label: human-readable description.
        overrides: Hydra overrides, e.g. ``plan=creative_city``.
        labels: extra columns for this arm's runs (e.g. ``lever``, ``intensity``).
    """

    name: str
    label: str
    overrides: tuple[str, ...]
    labels: dict[str, Any] = field(default_factory=dict)


def _sites(raw: dict[str, Any]) -> dict[str, Site]:
    return {
        name: Site(
            name,
            str(spec.get("label", name)),
            tuple(spec.get("overrides", [])),
            dict(spec.get("labels", {}) or {}),
        )
        for name, spec in raw.items()
    }


def _arms(raw: dict[str, Any]) -> dict[str, Arm]:
    arms = {}
    for name, spec in raw.items():
        if isinstance(spec, list | tuple):
            spec = {"overrides": list(spec)}
        arms[name] = Arm(
            name,
            str(spec.get("label", name)),
            tuple(spec.get("overrides", [])),
            dict(spec.get("labels", {}) or {}),
        )
    return arms


def _grid_arms(grid: dict[str, Any]) -> dict[str, Arm]:
    """Arms ``<lever>_<intensity in %>`` for every lever at every intensity."""
    arms = {}
    for lever, intensity in itertools.product(grid["levers"], grid["intensities"]):
        intensity = float(intensity)
        name = f"{lever}_{round(intensity * 100)}"
        arms[name] = Arm(
            name,
            f"{lever.replace('_', ' ')} at intensity {intensity:g}",
            (
                f"policy=[{lever}]",
                f"policy.{lever}.intensity={intensity:g}",
                *grid.get("overrides", []),
            ),
            {"lever": lever, "intensity": intensity},
        )
    return arms


@dataclass(frozen=True)
class Design:
    """A whole experiment: sites x arms x replicates, plus how to analyse it.

    Attributes:
        name: experiment key (file name in ``configs/experiment/``).
        kind: ``comparison``, ``scaling`` or ``policy_sweep``.
        title: report title.
        description: what the experiment asks, for the report.
        root_seed: root of the replicate seeds.
        replicates: replicates per site and arm.
        steps: months per run.
        baseline: the arm others are compared against.
        sites: where.
        arms: what.
        common: overrides applied to every run (before site and arm overrides).
        n_jobs: parallel worker processes for the local launcher.
        analysis: analysis settings (see ``DEFAULT_ANALYSIS``).
    """

    name: str
    kind: str
    title: str
    description: str
    root_seed: int
    replicates: int
    steps: int
    baseline: str
    sites: dict[str, Site]
    arms: dict[str, Arm]
    common: tuple[str, ...] = ()
    n_jobs: int = 2
    analysis: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ANALYSIS))

    # ------------------------------------------------------------ loading
    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> Design:
        """Build and check a design from a plain mapping (a loaded YAML file)."""
        raw = dict(raw)
        arms = _arms(raw.get("arms", {}) or {})
        if raw.get("grid"):
            arms.update(_grid_arms(raw["grid"]))
        analysis = dict(DEFAULT_ANALYSIS)
        analysis.update(raw.get("analysis", {}) or {})
        design = cls(
            name=str(raw["name"]),
            kind=str(raw.get("kind", "comparison")),
            title=str(raw.get("title", raw["name"])),
            description=str(raw.get("description", "")).strip(),
            root_seed=int(raw.get("root_seed", 0)),
            replicates=int(raw.get("replicates", 1)),
            steps=int(raw.get("steps", 120)),
            baseline=str(raw.get("baseline", "none")),
            sites=_sites(raw.get("sites", {}) or {}),
            arms=arms,
            common=tuple(raw.get("common", []) or []),
            n_jobs=int(raw.get("n_jobs", 2)),
            analysis=analysis,
        )
        design.check()
        return design

    @classmethod
    def load(cls, path: str | os.PathLike) -> Design:
        """Load a design from a YAML file."""
        raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        return cls.from_mapping(raw)  # type: ignore[arg-type]

    @classmethod
    def named(cls, name: str) -> Design:
        """Load ``configs/experiment/<name>.yaml`` (a path to a YAML file works too)."""
        path = Path(name)
        if path.suffix in (".yaml", ".yml") and path.is_file():
            return cls.load(path)
        path = config_dir() / "experiment" / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(f"experiment must be one of {', '.join(available())}; got {name!r}")
        return cls.load(path)

    def check(self) -> None:
        """Raise ConfigError with one line when the design is inconsistent."""
        if self.kind not in KINDS:
            raise ConfigError(f"experiment kind must be one of {', '.join(KINDS)}; got {self.kind}")
        if self.replicates < 1:
            raise ConfigError(f"replicates must be >= 1, got {self.replicates}")
        if self.steps < 1:
            raise ConfigError(f"steps must be >= 1, got {self.steps}")
        if not self.sites or not self.arms:
            raise ConfigError(f"experiment {self.name} needs at least one site and one arm")
        if self.kind != "scaling" and self.baseline not in self.arms:
            raise ConfigError(
                f"baseline must be one of the arms ({', '.join(self.arms)}); got {self.baseline}"
            )
        for name in [*self.sites, *self.arms]:
            if not name.replace("_", "").replace("-", "").isalnum():
                raise ConfigError(f"site and arm names may hold letters, digits, _ and -: {name!r}")

    def to_mapping(self) -> dict[str, Any]:
        """The design as plain data (what :meth:`save` writes)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "root_seed": self.root_seed,
            "replicates": self.replicates,
            "steps": self.steps,
            "baseline": self.baseline,
            "n_jobs": self.n_jobs,
            "common": list(self.common),
            "sites": {
                s.name: {"label": s.label, "overrides": list(s.overrides), "labels": s.labels}
                for s in self.sites.values()
            },
            "arms": {
                a.name: {"label": a.label, "overrides": list(a.overrides), "labels": a.labels}
                for a in self.arms.values()
            },
            "analysis": self.analysis,
        }

    def to_yaml(self) -> str:
        """The design as YAML text."""
        return OmegaConf.to_yaml(OmegaConf.create(self.to_mapping()))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the design as YAML (atomically)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_yaml())
        os.replace(tmp, path)
        return path

    def with_changes(
        self,
        *,
        replicates: int | None = None,
        steps: int | None = None,
        root_seed: int | None = None,
        n_jobs: int | None = None,
        overrides: Sequence[str] = (),
        sites: Sequence[str] | None = None,
        arms: Sequence[str] | None = None,
    ) -> Design:
        """A copy with other sizes, extra overrides for every run, or a subset of sites/arms."""
        changes: dict[str, Any] = {}
        if replicates is not None:
            changes["replicates"] = replicates
        if steps is not None:
            changes["steps"] = steps
        if root_seed is not None:
            changes["root_seed"] = root_seed
        if n_jobs is not None:
            changes["n_jobs"] = n_jobs
        if overrides:
            changes["common"] = (*self.common, *overrides)
        if sites:
            unknown = set(sites) - set(self.sites)
            if unknown:
                raise ConfigError(
                    f"unknown site {sorted(unknown)[0]!r}; sites: {', '.join(self.sites)}"
                )
            changes["sites"] = {k: v for k, v in self.sites.items() if k in sites}
        if arms:
            unknown = set(arms) - set(self.arms)
            if unknown:
                raise ConfigError(
                    f"unknown arm {sorted(unknown)[0]!r}; arms: {', '.join(self.arms)}"
                )
            keep = set(arms) | ({self.baseline} if self.kind != "scaling" else set())
            changes["arms"] = {k: v for k, v in self.arms.items() if k in keep}
        design = replace(self, **changes)
        design.check()
        return design

    # ------------------------------------------------------------ runs
    def spec(
        self, site: str, arm: str, replicate: int, *, extra_overrides: Sequence[str] = ()
    ) -> RunSpec:
        """The run of ``replicate`` of ``arm`` at ``site``; its seed is shared by all arms."""
        s, a = self.sites[site], self.arms[arm]
        labels = {"experiment": self.name, "site": site, "arm": arm, "replicate": replicate}
        labels.update(s.labels)
        labels.update(a.labels)
        overrides = (*self.common, *s.overrides, *a.overrides, *extra_overrides)
        return RunSpec(
            overrides=overrides,
            seed=replicate_seed(self.root_seed, replicate),
            labels=labels,
            steps=self.steps,
        )

    def specs(self) -> list[RunSpec]:
        """Every run, replicate-major so partial results cover all arms early."""
        return [
            self.spec(site, arm, r)
            for r in range(self.replicates)
            for site in self.sites
            for arm in self.arms
        ]

    @property
    def n_runs(self) -> int:
        """Number of runs in the design."""
        return self.replicates * len(self.sites) * len(self.arms)


def available() -> list[str]:
    """Names of the experiment designs shipped in ``configs/experiment/``."""
    return sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))


def expected_run_dirs(design: Design, runs_dir: Path) -> list[Path]:
    """Run directory of every run in the design (composes each site x arm once).

    Raises:
        ConfigError: when two arms at one site resolve to the same model config
            (their runs would be one and the same), or a config is invalid.
    """
    dirs = []
    seen: dict[tuple[str, int], str] = {}
    for spec in design.specs():
        cfg = compose_config(spec.overrides, seed=spec.seed, steps=spec.steps)
        h = config_hash(cfg)
        who = f"{spec.labels['site']}/{spec.labels['arm']}"
        other = seen.setdefault((h, spec.seed), who)
        if other != who:
            raise ConfigError(
                f"{other} and {who} resolve to the same model config; drop one of them"
            )
        dirs.append(runs_dir / run_dir_name(h, spec.seed))
    return dirs


def _run_label(spec: RunSpec) -> str:
    lab = spec.labels
    return f"{lab.get('site')}/{lab.get('arm')}/r{lab.get('replicate')}"


def _echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
    echo: Callable[[str], None] | None = _echo,
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


def run_hydra(
    design: Design,
    out_dir: str | os.PathLike,
    *,
    launcher: str,
    hydra_overrides: Sequence[str] = (),
) -> None:
    """Run the design as a Hydra multirun of the ``clustersim`` app with a launcher.

    The design is saved to ``<out>/experiment.yaml``; each job reads its run from
    there (``+xp.site``, ``+xp.arm``, ``+xp.replicate``), so the sweep directory
    must be on a file system every worker sees (a cluster's shared disk).
    """
    from clustersim.experiments import launch as cli

    out = Path(out_dir).resolve()
    design.save(out / "experiment.yaml")
    args = [
        "--multirun",
        f"hydra/launcher={launcher}",
        f"hydra.sweep.dir={out}",
        "hydra.sweep.subdir=jobs/${hydra.job.num}",
        f"+xp.site={','.join(design.sites)}",
        f"+xp.arm={','.join(design.arms)}",
        f"+xp.replicate=range(0,{design.replicates})",
        *hydra_overrides,
    ]
    argv = sys.argv
    try:
        cli.main(args)
    finally:
        sys.argv = argv


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
    design: Design, out: Path, run_dirs: list[Path], echo: Callable[[str], None]
) -> ExperimentOutcome:
    import pandas as pd

    from clustersim.experiments.aggregate import aggregate
    from clustersim.experiments.report import write_report

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
    ts = pd.read_parquet(agg.timeseries)
    tables = analyse(design, ts)
    html, md = write_report(design, out, ts, tables, runs=pd.read_parquet(agg.runs))
    return ExperimentOutcome(out, html, md, agg.ok, failed, tables, agg.stale)


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
    echo: Callable[[str], None] = _echo,
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
    """
    out = Path(out_dir).resolve()
    started = time.perf_counter()
    run_dirs = expected_run_dirs(design, out / "runs")
    if launcher != "local" and force:
        raise ConfigError("--force works with --launcher local only; use a new --out")
    resume = _resume_line(design.name, run_dirs, force=force)
    if resume:
        echo(resume)
    if launcher == "local":
        run_local(design, out, n_jobs=n_jobs, force=force, echo=echo)
    else:
        run_hydra(design, out, launcher=launcher, hydra_overrides=hydra_overrides)
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
    run.add_argument("name", help=f"experiment name ({', '.join(available())}) or a YAML file")
    run.add_argument("--out", help="output directory (default: results/<name>)")
    run.add_argument("--replicates", type=int, help="replicates per site and arm")
    run.add_argument("--steps", type=int, help="months per run")
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
    rep = sub.add_parser("report", help="re-analyse an experiment directory and rewrite its report")
    rep.add_argument("out_dir")
    sub.add_parser("list", help="list the experiment designs")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``clustersim-experiment``; returns the exit code.

    Exit codes: 0 all runs ok, 1 some runs failed or were left out as stale
    (everything else was written), 2 bad input.
    """
    args = _parser().parse_args(argv)
    try:
        return _main(args)
    except KeyboardInterrupt:
        print(
            "clustersim-experiment: interrupted; run the same command again to resume",
            file=sys.stderr,
        )
        return 130


def _main(args: argparse.Namespace) -> int:
    try:
        if args.command == "list":
            for name in available():
                d = Design.named(name)
                print(f"{name:<22} {d.kind:<13} {d.n_runs:>4} runs  {d.title}")
            return 0
        if args.command == "aggregate":
            from clustersim.experiments.aggregate import aggregate

            res = aggregate(
                args.sweep_dir, out_dir=args.out, progress=True, fingerprint=args.fingerprint
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
        if args.command == "report":
            out = Path(args.out_dir).resolve()
            design = Design.load(out / "experiment.yaml")
            outcome = _aggregate_and_report(
                design, out, expected_run_dirs(design, out / "runs"), _echo
            )
        else:
            design = Design.named(args.name)
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
            )
            if hydra_ovs and args.launcher == "local":
                raise ConfigError("hydra.* overrides need a Hydra launcher (--launcher joblib...)")
            out = Path(args.out or Path("results") / design.name)
            outcome = run_experiment(
                design, out, launcher=args.launcher, force=args.force, hydra_overrides=hydra_ovs
            )
    except ConfigError as exc:
        print(f"clustersim-experiment: error: {exc}", file=sys.stderr)
        return 2
    for run_id, error in outcome.failed.items():
        print(f"failed: {run_id}: {error}", file=sys.stderr)
    if outcome.report is not None:
        print(f"report: {outcome.report}")
        print(f"summary: {outcome.summary}")
    return 1 if outcome.failed or outcome.stale or outcome.report is None else 0


if __name__ == "__main__":
    sys.exit(main())
