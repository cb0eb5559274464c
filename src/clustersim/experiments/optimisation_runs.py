"""An optimisation's runs: each generation a batch through the runner, the baseline beside it.

Each generation of plans becomes a design of its own (one arm per plan, the design's
site, replicate seeds shared by every plan) run into ``<out>/batches/g<NNN>/`` with
the local launcher or a Hydra launcher; the site's runs without the levers
(``policy=[]``, with any model parameters a plan sets) go to ``<out>/batches/baseline/``
and are made once per distinct setting. Finished runs are reused, so running the
command again costs only reading. :func:`run_optimisation` is what
``clustersim-experiment run`` calls for an optimisation design; :func:`rewrite_report`
is ``clustersim-experiment report``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clustersim.errors import ConfigError
from clustersim.experiments.calibration_runs import Launch, point_values, search_tables
from clustersim.experiments.optimisation import (
    JOURNAL,
    OUTCOMES,
    OUTPUTS,
    Evaluate,
    optimise,
    pareto_plans,
    toy_evaluator,
    validate,
    write_outputs,
)
from clustersim.experiments.optimisation_space import parse_optimisation

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = [
    "WITHOUT_LEVERS",
    "PlanEvaluator",
    "check_site",
    "read_run_outcomes",
    "rewrite_report",
    "run_optimisation",
]

WITHOUT_LEVERS = ("policy=[]",)
"""The override that turns the site's levers off: its runs are the plans' baseline."""


def read_run_outcomes(run_dir: Path, month: int) -> np.ndarray:
    """Creative employment at ``month``, policy spend and residents displaced up to it."""
    ts = pd.read_parquet(
        run_dir / "timeseries.parquet",
        columns=["step", "creative_employment", "policy_spend", "displaced"],
    )
    upto = ts[(ts["step"] >= 1) & (ts["step"] <= month)]
    at = ts.loc[ts["step"] == month, "creative_employment"]
    employment = float(at.iloc[0]) if len(at) else np.nan
    return np.array([employment, float(upto["policy_spend"].sum()), float(upto["displaced"].sum())])


@dataclass
class PlanEvaluator:
    """Evaluate plans by running clustersim through the runner, generation by generation.

    Attributes:
        ok: runs that finished (computed now or before).
        failed: run directory -> error, for runs that did not finish.
    """

    design: Design
    launch: Launch
    ok: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def month(self) -> int:
        """The month analysed."""
        s = parse_optimisation(self.design.optimisation)
        return s.month if s.month is not None else self.design.steps

    def __call__(self, plans: list, batch: str, replicates: int, root: int) -> np.ndarray:
        """Jobs, spend and displacement of ``plans`` (see :data:`Evaluate`)."""
        bases = [tuple((n, v) for n, v in plan if not n.startswith("policy.")) for plan in plans]
        distinct = list(dict.fromkeys(bases))
        run_batch = self.launch.run_batch
        base_dirs = run_batch(self.design, distinct, "baseline", replicates, root, WITHOUT_LEVERS)
        dirs = run_batch(self.design, list(plans), batch, replicates, root)
        base = self._read(base_dirs, replicates, len(distinct), "baseline")
        values = self._read(dirs, replicates, len(plans), batch)
        index = [distinct.index(b) for b in bases]
        out = values.copy()  # spend stays as it is; jobs and displacement against the baseline
        out[:, :, 0] -= base[:, index, 0]
        out[:, :, 2] -= base[:, index, 2]
        return out

    def _read(self, dirs: list[Path], replicates: int, points: int, batch: str) -> np.ndarray:
        from clustersim.experiments.runner import run_status, why_not_ok

        values = np.full((replicates, points, len(OUTCOMES)), np.nan)
        for index, run_dir in enumerate(dirs):  # replicate-major, one site
            r, p = divmod(index, points)
            if run_status(run_dir) != "ok":
                self.failed[f"{batch}/{run_dir.name}"] = why_not_ok(run_dir)
                continue
            self.ok += 1
            values[r, p] = read_run_outcomes(run_dir, self.month)
        return values


def _edge_plans(s) -> list[tuple]:
    """Plans that together hold every decision's ends and every option, once each."""
    middle = dict(point_values(s.factors, [(f.low + f.high) / 2 for f in s.factors]))
    middle |= {name: options[0] for name, options in s.choices}
    ends = [point_values([f], [v])[0] for f in s.factors for v in (f.low, f.high)]
    ends += [(name, option) for name, options in s.choices for option in options[1:]]
    return [tuple(middle.items())] + [tuple({**middle, n: v}.items()) for n, v in ends]


def check_site(design: Design) -> None:
    """Compose the site with and without its levers, before anything is written.

    Every decision is tried at both ends of its range and every option once, so a
    plan the search may propose cannot fail to compose later (a start month past the
    horizon, a target the town does not have).

    Raises:
        ConfigError: the site's overrides, or a decision, are invalid.
    """
    from clustersim.experiments.calibration_runs import batch_design
    from clustersim.experiments.design import expected_run_dirs

    s = parse_optimisation(design.optimisation)
    for rows, overrides in ((_edge_plans(s), ()), ([()], WITHOUT_LEVERS)):
        check = batch_design(design, rows, "check", 1, design.root_seed, overrides)
        expected_run_dirs(check, Path("runs"))
    _check_targets(design, s)


def _check_targets(design: Design, s) -> None:
    """Every target option names a rule or a node of the site's city (built without spin-up).

    Raises:
        ConfigError: ``optimisation.choices.<setting>`` names a node the city does not have.
    """
    targets = [(name, options) for name, options in s.choices if name.endswith(".target")]
    if not targets:
        return
    from clustersim.experiments.runner import compose_config
    from clustersim.model.core import CreativeClusterModel
    from clustersim.policy.lever import resolve_targets

    site = next(iter(design.sites.values()))
    overrides = (*design.common, *site.overrides, *WITHOUT_LEVERS, "spin_up.months=0")
    city = CreativeClusterModel(
        config=compose_config(overrides, seed=design.root_seed, steps=design.steps)
    )
    for name, options in targets:
        for option in options:
            try:
                resolve_targets(city, option, lever=name.split(".")[1])
            except ConfigError as error:
                raise ConfigError(f"optimisation.choices.{name}: {error}") from None


def _context(design: Design, s) -> dict:
    """What besides the search's settings determines its results (its journal records it)."""
    if s.is_toy:
        return {"model": s.model}
    from clustersim.experiments.provenance import model_fingerprint

    site = next(iter(design.sites.values()))
    return {
        "site": [*design.common, *site.overrides],
        "months": design.steps,
        "model version": model_fingerprint(),
    }


def run_optimisation(
    design: Design,
    out: Path,
    *,
    launcher: str = "local",
    n_jobs: int | None = None,
    force: bool = False,
    hydra_overrides: tuple[str, ...] = (),
    echo: Callable[[str], None] | None = None,
) -> tuple[dict[str, pd.DataFrame], Path, Path, int, dict[str, str]]:
    """Run an optimisation design (resuming), write its tables and report.

    Returns:
        The tables by name, the report's and summary's paths, the runs that finished
        (evaluations for a toy model), and the failed runs (run directory -> error).

    Raises:
        ConfigError: the design or an override is invalid (nothing is written).
    """
    from clustersim.experiments.aggregate import LOCK
    from clustersim.experiments.calibration import optuna_module
    from clustersim.experiments.optimisation_report import write_optimisation_report
    from clustersim.files import hold_lock

    s = parse_optimisation(design.optimisation)
    optuna_module()  # installed? (before anything is written)
    say = echo or (lambda _m: None)
    if s.is_toy:
        evaluate: Evaluate = toy_evaluator(s)
    else:
        check_site(design)
        launch = Launch(out, launcher, n_jobs, force, tuple(hydra_overrides), echo)
        evaluate = PlanEvaluator(design, launch)
    design.save(out / "experiment.yaml")
    trials = optimise(
        s,
        evaluate,
        out / JOURNAL,
        replicates=design.replicates,
        root_seed=design.root_seed,
        ci=float(design.analysis["ci"]),
        context=_context(design, s),
        echo=say,
    )
    pareto = validate(
        pareto_plans(trials, s), s, evaluate, root_seed=design.root_seed,
        ci=float(design.analysis["ci"]), echo=say,
    )  # fmt: skip
    if isinstance(evaluate, PlanEvaluator):  # every run of the search, made now or before
        ok, failed = search_tables(out, (), "optimisation")[1], evaluate.failed
    else:
        ok = len(trials) * design.replicates + len(pareto) * s.validation_replicates
        failed = {}
    with hold_lock(out / LOCK, on_wait=say):
        tables = write_outputs(out, trials, pareto)
        html, md = write_optimisation_report(design, out, tables, s, n_ok=ok, failed=len(failed))
    return tables, html, md, ok, failed


def rewrite_report(design: Design, out: Path) -> tuple[dict[str, pd.DataFrame], Path, Path, int]:
    """Rewrite a finished optimisation's report from its tables (``clustersim-experiment report``).

    Raises:
        ConfigError: the optimisation has not written its tables yet.
    """
    from clustersim.experiments.optimisation_report import write_optimisation_report

    s = parse_optimisation(design.optimisation)
    tables, ok, failed = search_tables(out, OUTPUTS, "optimisation")
    html, md = write_optimisation_report(design, out, tables, s, n_ok=ok, failed=failed)
    return tables, html, md, ok
