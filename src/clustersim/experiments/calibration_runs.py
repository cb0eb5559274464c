"""A calibration's runs: batches through the runner, resume, and the command's entry points.

The search of :mod:`clustersim.experiments.calibration` asks for the moments of a few
points at a time. Here a batch becomes a design of its own (one arm per distinct point,
the calibration design's site, replicate seeds shared by every point) run into
``<out>/batches/<batch>/`` with the local launcher or a Hydra launcher; its moments are
read back from the run directories (:mod:`clustersim.experiments.moments`). Finished
runs are reused, so running the command again replays the search at the cost of
reading, and goes on where it stopped. :func:`run_calibration` is what
``clustersim-experiment run`` calls for a calibration design; :func:`rewrite_report` is
``clustersim-experiment report``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clustersim.errors import ConfigError
from clustersim.experiments.calibration import (
    OUTPUTS,
    Evaluate,
    bounds,
    calibrate,
    optuna_module,
    toy_evaluator,
    write_outputs,
)
from clustersim.experiments.calibration_space import parse_calibration

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = [
    "Launch",
    "RunEvaluator",
    "Values",
    "batch_design",
    "check_site",
    "most_runs",
    "point_values",
    "rewrite_report",
    "run_calibration",
    "search_tables",
    "site_defaults",
]


Values = tuple[tuple[str, object], ...]
"""One point's parameter values: ``((name, value), ...)``."""


def batch_design(
    design: Design,
    rows: list[Values],
    batch: str,
    replicates: int,
    root: int,
    overrides: tuple[str, ...] = (),
):
    """The runs of one batch as a design: one arm per point (its parameter values).

    ``overrides`` follow the site's in every arm (``policy=[]``: the site without its
    levers, a search's baseline).
    """
    from clustersim.experiments.design import Arm

    arms = {}
    for i, values in enumerate(rows):
        name = f"p{i:03d}"
        arms[name] = Arm(name, f"{batch} point {i}", overrides, {"batch": batch}, values)
    return replace(
        design,
        name=f"{design.name}-{batch}",
        kind="comparison",
        arms=arms,
        baseline=next(iter(arms)),
        replicates=replicates,
        root_seed=root,
        section=None,
    )


def point_values(factors, point: np.ndarray) -> Values:
    """A point of the search as parameter values (whole numbers rounded)."""
    return tuple(
        (f.name, round(v) if f.integer else float(v)) for f, v in zip(factors, point, strict=True)
    )


@dataclass(frozen=True)
class Launch:
    """Where and how a search's batches run (a calibration's points, an optimisation's plans).

    Attributes:
        out: the search's directory; batch ``b`` runs into ``<out>/batches/<b>/``.
        launcher: ``local`` (``n_jobs`` worker processes) or a Hydra launcher's name.
        n_jobs: worker processes of the local launcher (None: the design's).
        force: recompute finished runs.
        hydra_overrides: extra Hydra overrides for a Hydra launcher.
        echo: where progress lines go (None: nowhere).
    """

    out: Path
    launcher: str = "local"
    n_jobs: int | None = None
    force: bool = False
    hydra_overrides: tuple[str, ...] = ()
    echo: Callable[[str], None] | None = None

    def run_batch(
        self,
        design: Design,
        rows: list[Values],
        batch: str,
        replicates: int,
        root: int,
        overrides: tuple[str, ...] = (),
    ) -> list[Path]:
        """Run one batch into ``<out>/batches/<batch>/`` (finished runs are reused).

        ``overrides`` follow the site's in every run (see :func:`batch_design`).

        Returns:
            The run directories, replicate-major (replicate 0's points first).

        Raises:
            ConfigError: a point's config is invalid (checked before any run).
            LaunchError: a Hydra launcher failed.
        """
        from clustersim.experiments.design import expected_run_dirs
        from clustersim.experiments.execute import LaunchError, run_hydra, run_local

        batch_ = batch_design(design, rows, batch, replicates, root, overrides)
        where = self.out / "batches" / batch
        dirs = expected_run_dirs(batch_, where / "runs")  # checks every config first
        if self.launcher == "local":
            run_local(batch_, where, n_jobs=self.n_jobs, force=self.force, echo=self.echo)
        else:
            code = run_hydra(
                batch_,
                where,
                launcher=self.launcher,
                hydra_overrides=self.hydra_overrides,
                echo=self.echo,
            )
            if code != 0:
                raise LaunchError(code)
        return dirs


def _unique_rows(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct points and, for every point, the index of its distinct one."""
    unique, inverse = np.unique(np.asarray(points, dtype=float), axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


@dataclass
class RunEvaluator:
    """Evaluate points by running clustersim through the runner, batch by batch.

    Each batch is a design of its own (one arm per distinct point, the calibration
    design's site and replicate seeds) run into ``<out>/batches/<batch>/``, with the
    local launcher (``n_jobs`` worker processes) or a Hydra launcher; its moments
    are read back from the run directories. Finished runs are reused, so a replayed
    search costs only the reading.

    Attributes:
        ok: runs that finished (computed now or before).
        failed: run directory -> error, for runs that did not finish.
    """

    design: Design
    launch: Launch
    ok: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    def __call__(self, points: np.ndarray, batch: str, replicates: int, root: int) -> np.ndarray:
        """The moments of ``points`` (see :data:`~clustersim.experiments.calibration.Evaluate`)."""
        s = parse_calibration(self.design.calibration)
        unique, inverse = _unique_rows(points)
        rows = [point_values(s.factors, point) for point in unique]
        dirs = self.launch.run_batch(self.design, rows, batch, replicates, root)
        values = np.full((replicates, len(unique), len(s.moments)), np.nan)
        for index, run_dir in enumerate(dirs):  # replicate-major, one site
            r, p = divmod(index, len(unique))
            values[r, p] = self._moments(run_dir, s.moments, batch)
        return values[:, inverse, :]

    def _moments(self, run_dir: Path, moments: tuple[str, ...], batch: str) -> np.ndarray:
        from clustersim.experiments.moments import read_run_moments
        from clustersim.experiments.runner import run_status, why_not_ok

        if run_status(run_dir) != "ok":
            self.failed[f"{batch}/{run_dir.name}"] = why_not_ok(run_dir)
            return np.full(len(moments), np.nan)
        self.ok += 1
        found = read_run_moments(run_dir)
        return np.array([found[m] for m in moments], dtype=float)


def site_defaults(design: Design) -> np.ndarray:
    """The estimated parameters' values at the design's site before the search sets them.

    The site's and the design's common overrides (including trailing model overrides
    of the command) are applied, so the search starts where the user's city is.

    Raises:
        ConfigError: the site's or the common overrides are invalid.
    """
    from clustersim.experiments.runner import compose_config

    s = parse_calibration(design.calibration)
    if s.is_toy:  # a toy model has no defaults: the middle of each range
        return np.array([(f.low + f.high) / 2 for f in s.factors])
    site = next(iter(design.sites.values()))
    cfg = compose_config(
        (*design.common, *site.overrides), seed=design.root_seed, steps=design.steps
    )
    values = []
    for name in s.names:
        obj = cfg
        for part in name.split("."):
            obj = getattr(obj, part)
        values.append(float(obj))
    return np.array(values)


def check_site(design: Design) -> None:
    """Compose the design's site with the defaults once, before anything is written.

    Raises:
        ConfigError: the site's or the common overrides are invalid.
    """
    from clustersim.experiments.design import expected_run_dirs

    s = parse_calibration(design.calibration)
    point = np.clip(site_defaults(design), *bounds(s)[:2])
    check = batch_design(design, [point_values(s.factors, point)], "check", 1, design.root_seed)
    expected_run_dirs(check, Path("runs"))


def most_runs(design: Design) -> int:
    """The most runs a calibration design makes (every refining step taken)."""
    s = parse_calibration(design.calibration)
    k = len(s.factors)
    points = s.trials + 2 * k * (s.refine + 1) + s.refine
    observed = s.observed_replicates if s.is_recovery else 0
    return points * design.replicates + s.validation_replicates + observed


def run_calibration(
    design: Design,
    out: Path,
    *,
    launcher: str = "local",
    n_jobs: int | None = None,
    force: bool = False,
    hydra_overrides: tuple[str, ...] = (),
    echo: Callable[[str], None] | None = None,
) -> tuple[dict[str, pd.DataFrame], Path, Path, int, dict[str, str]]:
    """Run a calibration design (resuming), write its tables and report.

    Returns:
        The tables by name, the report's and summary's paths, the runs that finished
        (evaluations for a toy model), and the failed runs (run directory -> error).

    Raises:
        ConfigError: the design or an override is invalid (nothing is written).
    """
    from clustersim.experiments.aggregate import LOCK
    from clustersim.experiments.calibration_report import write_calibration_report
    from clustersim.files import hold_lock

    s = parse_calibration(design.calibration)
    optuna_module()  # installed? (before anything is written)
    say = echo or (lambda _m: None)
    if s.is_toy:
        evaluate: Evaluate = toy_evaluator(s)
    else:
        check_site(design)
        for override in design.common:  # trailing overrides of the command
            name = override.split("=", 1)[0].lstrip("+~")
            if name in s.names:
                say(
                    f"note: {name} is estimated by this calibration; {override} sets only the "
                    "point its search starts from"
                )
        launch = Launch(out, launcher, n_jobs, force, tuple(hydra_overrides), echo)
        evaluate = RunEvaluator(design, launch)
    design.save(out / "experiment.yaml")
    result = calibrate(
        s,
        evaluate,
        defaults=site_defaults(design),
        replicates=design.replicates,
        root_seed=design.root_seed,
        ci=float(design.analysis["ci"]),
        echo=say,
    )
    if isinstance(evaluate, RunEvaluator):
        ok, failed = evaluate.ok, evaluate.failed
    else:
        ok, failed = len(result.trials) * design.replicates, {}
    with hold_lock(out / LOCK, on_wait=say):
        tables = write_outputs(out, result)
        html, md = write_calibration_report(design, out, tables, s, n_ok=ok, failed=len(failed))
    return tables, html, md, ok, failed


def search_tables(
    out: Path, outputs: tuple[str, ...], kind: str
) -> tuple[dict[str, pd.DataFrame], int, int]:
    """A finished search's tables, and its batches' runs that finished and failed.

    Raises:
        ConfigError: the search (a ``kind`` design) has not written its tables yet.
    """
    from clustersim.experiments.runner import run_status

    missing = [n for n in outputs if not (out / f"{n}.parquet").is_file()]
    if missing:
        raise ConfigError(
            f"{out} holds no {missing[0]}.parquet: the {kind} has not finished; run it "
            "again with clustersim-experiment run (it resumes)"
        )
    tables = {n: pd.read_parquet(out / f"{n}.parquet") for n in outputs}
    statuses = [run_status(d) for d in out.glob("batches/*/runs/*") if d.is_dir()]
    return tables, statuses.count("ok"), statuses.count("failed")


def rewrite_report(design: Design, out: Path) -> tuple[dict[str, pd.DataFrame], Path, Path, int]:
    """Rewrite a finished calibration's report from its tables (``clustersim-experiment report``).

    Raises:
        ConfigError: the calibration has not written its tables yet.
    """
    from clustersim.experiments.calibration_report import write_calibration_report

    s = parse_calibration(design.calibration)
    tables, ok, failed = search_tables(out, OUTPUTS, "calibration")
    html, md = write_calibration_report(design, out, tables, s, n_ok=ok, failed=failed)
    return tables, html, md, ok
