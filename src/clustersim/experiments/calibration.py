"""Calibration by the simulated method of moments: search, refine, intervals, validation.

A calibration design (``kind: calibration``, settings in
:mod:`clustersim.experiments.calibration_space`) estimates parameters so that the
model's moments (:mod:`clustersim.experiments.moments`) come near target moments:

1. **Observed moments**: the targets' values, or in a recovery design the means of
   ``observed_replicates`` runs at the planted values (their own seeds), with the
   covariance of those means as their uncertainty.
2. **Search**: Optuna's TPE sampler (seeded) proposes ``batch`` points at a time,
   the first being the parameters' values at the site; each point runs
   ``replicates`` times with the design's replicate seeds (common random numbers),
   and the distance ``J`` over the fitted moments is told back
   (:mod:`clustersim.experiments.calibration_fit`).
3. **Refine**: ``refine`` damped Gauss-Newton steps from the search's best point, each
   on a local linear model of the moments fitted to a central-difference design and
   the points evaluated near it; every step is taken (the estimate is the last point,
   the minimum of a model fitted to many runs, not the luckiest evaluation).
4. **Intervals and checks** at the estimate: the Jacobian of every moment, the
   identification check (rank of the scaled Jacobian), the sandwich covariance, and
   ``validation_replicates`` runs with seeds of their own (not the search's) giving
   every moment, fitted or held out, with an interval: the validation table.

A point is evaluated with common random numbers: its moments are means over the same
replicate seeds as every other point's, and a moment that a replicate could not
measure (a failed run, or no firm founded early enough) makes the point's moment
missing rather than a mean over other seeds.

The runs are made by an ``evaluate`` function: batch by batch through the runner
(:mod:`clustersim.experiments.calibration_runs`), so a calibration resumes like any
experiment (the search is deterministic given its seed and the moments, so running
the command again replays it, reuses every finished run, and goes on where it
stopped; the replay is exact when no run failed, since a failed run is retried and
may then give a value), or in this process for a toy model (:func:`toy_evaluator`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from clustersim.errors import ConfigError
from clustersim.experiments import calibration_fit as fit
from clustersim.experiments.calibration_space import (
    CalibrationSettings,
    Target,
)
from clustersim.experiments.runner import replicate_seed
from clustersim.experiments.toy_models import TOY_MODELS
from clustersim.files import write_file_atomically

__all__ = [
    "IDENTIFIED",
    "OUTPUTS",
    "Calibration",
    "Evaluate",
    "bounds",
    "calibrate",
    "estimates_table",
    "identification_table",
    "limits",
    "optuna_module",
    "toy_evaluator",
    "validation_root",
    "validation_table",
    "write_outputs",
]

OUTPUTS = ("estimates", "validation", "identification", "trials")
"""The tables a calibration writes (``<name>.parquet``) next to its report."""

Evaluate = Callable[[np.ndarray, str, int, int], np.ndarray]
"""``evaluate(points, batch, replicates, root_seed)`` -> moments (replicates x points x
moments, in the settings' moment order; NaN where a run failed)."""


@dataclass
class Calibration:
    """What a calibration found.

    Attributes:
        settings: the checked ``calibration:`` section.
        targets: the targets used (simulated ones in a recovery).
        defaults: the parameters' default values.
        estimate: the estimated parameter values.
        cov: their covariance (NaN when not identified).
        g: the Jacobian of every moment at the estimate (moments x parameters).
        validation: moments at the estimate (validation_replicates x moments).
        trials: one row per evaluated point.
        replicates: replicates behind each evaluation of the distance.
        ci: the level of the intervals.
        last_step: the step the last local model still proposed, as a share of the
            ranges (the largest over the parameters); near 0 when the search converged.
    """

    settings: CalibrationSettings
    targets: dict[str, Target]
    defaults: np.ndarray
    estimate: np.ndarray
    cov: np.ndarray
    g: np.ndarray
    validation: np.ndarray
    trials: list[dict[str, Any]] = field(default_factory=list)
    replicates: int = 1
    ci: float = 0.95
    last_step: float = 0.0


class _Search:
    """The evaluations of a calibration, recorded as trials, with the best point so far."""

    def __init__(
        self,
        settings: CalibrationSettings,
        targets: dict[str, Target],
        evaluate: Evaluate,
        replicates: int,
        root_seed: int,
    ) -> None:
        self.s = settings
        self.evaluate = evaluate
        self.replicates = replicates
        self.root_seed = root_seed
        self.t = np.array([targets[m].value for m in settings.fit])
        self.sd = np.array([targets[m].sd for m in settings.fit])
        self.nfit = len(settings.fit)
        self.trials: list[dict[str, Any]] = []
        self.best: tuple[float, np.ndarray, np.ndarray] | None = None  # J, theta, means
        self.points: list[np.ndarray] = []  # every point evaluated, and its moments
        self.means: list[np.ndarray] = []

    def run(
        self, points: np.ndarray, batch: str, stage: str, *, candidates: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate points; returns their moments' means (points x moments) and J.

        ``candidates``: whether the points may become the estimate (a Jacobian's
        points may not, so that the Jacobian stays the estimate's).
        """
        values = self.evaluate(points, batch, self.replicates, self.root_seed)
        means = values.mean(axis=0)  # NaN unless every replicate measured the moment
        j = fit.distance(means[:, : self.nfit], self.t, self.sd)
        self.points += [np.asarray(p, dtype=float) for p in points]
        self.means += list(means)
        for i, point in enumerate(points):
            row = {"trial": len(self.trials), "stage": stage, "batch": batch}
            row |= dict(zip(self.s.names, (float(v) for v in point), strict=True))
            row |= {"distance": float(j[i])}
            row |= dict(zip(self.s.moments, (float(v) for v in means[i]), strict=True))
            self.trials.append(row)
            if candidates and (self.best is None or j[i] < self.best[0]):
                self.best = (float(j[i]), np.array(point, dtype=float), means[i])
        return means, j


IDENTIFIED = 0.5
"""A parameter counts as identified when its interval is narrower than this share of the
range searched: the fitted moments at least halve what was thought possible."""

VALIDATION_KEY = 1_000_000
"""Spawn key of the validation runs' root seed: child ``VALIDATION_KEY`` of the root
seed, so their seeds are none of the search's replicate seeds (0, 1, ...)."""


def validation_root(root_seed: int) -> int:
    """The root seed of the validation runs (seeds of their own, not the search's).

    Examples:
        >>> validation_root(7) == replicate_seed(7, VALIDATION_KEY)
        True
    """
    return replicate_seed(root_seed, VALIDATION_KEY)


def bounds(s: CalibrationSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lowest and highest values searched, and which parameters are whole numbers."""
    low = np.array([f.low for f in s.factors])
    high = np.array([f.high for f in s.factors])
    return low, high, np.array([f.integer for f in s.factors])


def _observed(
    s: CalibrationSettings, evaluate: Evaluate, root_seed: int
) -> tuple[dict[str, Target], np.ndarray | None]:
    """The targets and the covariance of their errors over the fitted moments.

    Published targets: their ``sd`` (None: independent). A recovery: the means of the
    runs at the planted values, and the covariance of those means (the moments of one
    run are correlated, and so are their errors).
    """
    if not s.is_recovery:
        return s.targets, None
    seed = s.observed_seed if s.observed_seed is not None else root_seed + 1
    planted = np.array([[s.planted[n] for n in s.names]])
    values = evaluate(planted, "observed", s.observed_replicates, seed)[:, 0, :]
    complete = values[np.isfinite(values).all(axis=1)]
    if len(complete) < 2:
        missing = [m for i, m in enumerate(s.moments) if np.isnan(values[:, i]).sum() > 0]
        raise ConfigError(
            "calibration: fewer than two planted runs measured every moment "
            f"(missing: {', '.join(missing) or 'runs failed'}); run longer or plant elsewhere"
        )
    n = len(complete)
    targets = {}
    for i, name in enumerate(s.moments):
        sd = float(complete[:, i].std(ddof=1) / math.sqrt(n))
        source = f"simulated at the planted values: mean of {n} runs (root seed {seed})"
        mean = float(complete[:, i].mean())
        targets[name] = Target(name, mean, max(sd, 1e-12), source, "standard error")
    nfit = len(s.fit)
    cov = np.cov(complete[:, :nfit], rowvar=False).reshape(nfit, nfit) / n
    return targets, cov


def optuna_module() -> Any:
    """The optuna module, or a one-line error saying how to install it."""
    try:
        import optuna
    except ImportError:  # the analysis extra is not installed
        raise ConfigError(
            "calibration and optimisation designs need Optuna: pip install 'clustersim[analysis]'"
        ) from None
    return optuna


def _tpe_search(search: _Search, start: np.ndarray) -> None:
    """The global search: Optuna's TPE, ``batch`` points at a time, the defaults first."""
    optuna = optuna_module()

    s = search.s
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # multivariate TPE is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=s.seed, n_startup_trials=s.startup, multivariate=True
        )
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.enqueue_trial(dict(zip(s.names, (float(v) for v in start), strict=True)))
    done = 0
    while done < s.trials:
        asked = [study.ask() for _ in range(min(s.batch, s.trials - done))]
        points = np.array([[_suggest(t, f) for f in s.factors] for t in asked])
        _, j = search.run(points, f"search-{done // s.batch:03d}", "search")
        for trial, value in zip(asked, j, strict=True):
            if np.isfinite(value):
                study.tell(trial, float(value))
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        done += len(asked)


def _suggest(trial: Any, f: Any) -> float:
    with warnings.catch_warnings():  # an enqueued default outside the range is not used
        warnings.simplefilter("ignore", UserWarning)
        if f.integer:
            return float(trial.suggest_int(f.name, math.ceil(f.low), math.floor(f.high)))
        return float(trial.suggest_float(f.name, f.low, f.high))


def _local(search: _Search, centre: np.ndarray, batch: str) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a Jacobian's points around ``centre``; the local linear model there.

    The model (:func:`~clustersim.experiments.calibration_fit.local_linear`) uses those
    points and every other point evaluated within twice the step of the centre.
    """
    low, high, integer = bounds(search.s)
    points, _ = fit.jacobian_points(centre, low, high, search.s.step, integer)
    search.run(points, batch, "jacobian", candidates=False)
    a, g, _ = fit.local_linear(
        np.array(search.points), np.array(search.means), centre, low, high, 2 * search.s.step
    )
    return a, g


def _refine(search: _Search) -> tuple[np.ndarray, np.ndarray, float]:
    """Gauss-Newton steps from the search's best point on local linear models.

    Each step fits the moments around the current point, moves to the minimum of the
    distance of that linear model (within a trust region) and evaluates it there. The
    estimate is the last point: the minimum of a model fitted to many runs, not the
    luckiest single evaluation.

    Returns:
        The estimate, the Jacobian of every moment there, and the length of the step
        the last model still proposes (a share of the ranges; small when converged).
    """
    s = search.s
    low, high, integer = bounds(s)
    assert search.best is not None
    centre = search.best[1]
    for k in range(s.refine + 1):
        a, g = _local(search, centre, f"refine-{k}-jacobian")
        if not np.isfinite(g[: search.nfit]).all():
            raise ConfigError(
                "calibration: the fitted moments could not be measured around "
                f"{dict(zip(s.names, centre.tolist(), strict=True))} (runs failed, or a "
                "moment was not measured in every replicate); see the batches' runs"
            )
        proposed = fit.gauss_newton(
            centre, g[: search.nfit], a[: search.nfit] - search.t, search.sd, low, high
        )
        proposed = np.where(integer, np.round(proposed), proposed)
        moved = float(np.max(np.abs(proposed - centre) / (high - low)))
        if k == s.refine:
            return centre, g, moved
        search.run(proposed[None, :], f"refine-{k}-step", "refine")
        centre = proposed
    raise AssertionError("unreachable")


def calibrate(
    settings: CalibrationSettings,
    evaluate: Evaluate,
    *,
    defaults: np.ndarray,
    replicates: int,
    root_seed: int,
    ci: float = 0.95,
    echo: Callable[[str], None] = lambda _m: None,
) -> Calibration:
    """Run a calibration (module docstring) with ``evaluate`` making the runs.

    Args:
        settings: the checked ``calibration:`` section.
        evaluate: runs points and returns their moments (:data:`Evaluate`).
        defaults: the parameters' defaults, the search's first point (clipped to the ranges).
        replicates: replicates of each point (common random numbers).
        root_seed: root of the replicate seeds.
        ci: level of the intervals.
        echo: where progress lines go.
    """
    s = settings
    low, high, _ = bounds(s)
    targets, target_cov = _observed(s, evaluate, root_seed)
    search = _Search(s, targets, evaluate, replicates, root_seed)
    echo(f"calibration: search, {s.trials} points in batches of {s.batch}")
    _tpe_search(search, np.clip(defaults, low, high))
    if search.best is None or not np.isfinite(search.best[0]):
        missing = sorted({m for row in search.trials for m in s.fit if np.isnan(row[m])})
        raise ConfigError(
            f"calibration: no point of the search measured every fitted moment in every "
            f"replicate (missing: {', '.join(missing) or 'every run failed'}); see the runs "
            f"in batches/{search.trials[0]['batch']}"
        )
    echo(f"calibration: best distance {search.best[0]:.3g} in the search; refining")
    estimate, g, moved = _refine(search)
    validation = evaluate(
        estimate[None, :], "validation", s.validation_replicates, validation_root(root_seed)
    )[:, 0, :]
    nfit = search.nfit
    complete = validation[np.isfinite(validation[:, :nfit]).all(axis=1), :nfit]
    sim_cov = np.zeros((nfit, nfit))
    if len(complete) > 1:
        sim_cov = np.cov(complete, rowvar=False).reshape(nfit, nfit)
    cov = fit.covariance(
        g[:nfit], search.sd, sim_cov, replicates, ranges=high - low, target_cov=target_cov
    )
    with warnings.catch_warnings():  # a moment no validation run measured stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(validation, axis=0)
    j = float(fit.distance(means[:nfit], search.t, search.sd))
    search.trials.append(
        {"trial": len(search.trials), "stage": "estimate", "batch": "validation"}
        | dict(zip(s.names, (float(v) for v in estimate), strict=True))
        | {"distance": j}
        | dict(zip(s.moments, (float(v) for v in means), strict=True))
    )
    echo(f"calibration: distance {j:.3g} at the estimate ({s.validation_replicates} runs)")
    return Calibration(
        s, targets, np.asarray(defaults, dtype=float), estimate, cov, g, validation,
        search.trials, replicates, ci, last_step=moved,
    )  # fmt: skip


# ---------------------------------------------------------------------- tables
def estimates_table(c: Calibration) -> pd.DataFrame:
    """One row per parameter: default, range, estimate, standard error and interval.

    ``planted`` and ``planted_inside`` (whether the interval holds it) are filled in a
    recovery. ``range_share`` is the interval's width (before it is cut at the
    parameter's bounds) as a share of the range searched; ``identified`` says whether
    it is below ``IDENTIFIED`` (otherwise the fitted moments say little about the
    parameter).
    ``last_step`` is the step the last local model still proposed, as a share of the
    ranges (the same in every row; near 0 when the refining converged). Intervals are
    cut at the values the parameter may take (:func:`limits`).
    """
    se = np.sqrt(np.diag(c.cov)) if np.isfinite(c.cov).all() else np.full(len(c.estimate), np.nan)
    z = stats.norm.ppf(0.5 + c.ci / 2)
    rows = []
    for i, f in enumerate(c.settings.factors):
        planted = c.settings.planted.get(f.name, np.nan)
        least, most = limits(c.settings, f.name)
        lower = max(c.estimate[i] - z * se[i], least)
        upper = min(c.estimate[i] + z * se[i], most)
        inside = (
            bool(lower <= planted <= upper) if np.isfinite(planted) and np.isfinite(se[i]) else None
        )
        rows.append(
            {
                "parameter": f.name,
                "unit": f.unit,
                "default": float(c.defaults[i]),
                "low": f.low,
                "high": f.high,
                "estimate": float(c.estimate[i]),
                "se": float(se[i]),
                "lower": float(lower),
                "upper": float(upper),
                "planted": float(planted),
                "planted_inside": inside,
                "range_share": float(2 * z * se[i] / (f.high - f.low)),
                "identified": bool(
                    np.isfinite(se[i]) and 2 * z * se[i] < IDENTIFIED * (f.high - f.low)
                ),
                "last_step": c.last_step,
            }
        )
    return pd.DataFrame(rows)


def validation_table(c: Calibration) -> pd.DataFrame:
    """One row per moment: target with interval, model with interval, used in the fit.

    The gap ``z`` is in combined standard deviations (the target's and the model's);
    intervals of a share are cut at 0 and 1 (the gap uses them uncut).
    """
    from clustersim.experiments.moments import MOMENTS

    z = stats.norm.ppf(0.5 + c.ci / 2)
    rows = []
    for i, name in enumerate(c.settings.moments):
        t = c.targets[name]
        mean, lower, upper = fit.moment_interval(c.validation[:, i], c.g[i], c.cov, c.ci)
        spread = np.sqrt(t.sd**2 + ((upper - mean) / z) ** 2) if np.isfinite(upper) else t.sd
        gap = (mean - t.value) / spread
        cut = (0.0, 1.0) if name in MOMENTS and MOMENTS[name].unit == "share" else (-np.inf, np.inf)
        rows.append(
            {
                "moment": name,
                "target": t.value,
                "target_lower": max(t.value - z * t.sd, cut[0]),
                "target_upper": min(t.value + z * t.sd, cut[1]),
                "model": mean,
                "model_lower": max(lower, cut[0]),
                "model_upper": min(upper, cut[1]),
                "used_in_fit": name in c.settings.fit,
                "z": float(gap),
                "agrees": bool(abs(gap) <= z) if np.isfinite(gap) else False,
                "target_sd": t.sd,
            }
        )
    return pd.DataFrame(rows)


def identification_table(c: Calibration) -> pd.DataFrame:
    """The Jacobian at the estimate, long: per moment and parameter, raw and scaled.

    ``scaled`` is the change of the moment across the parameter's whole range, in
    units of the moment's target uncertainty.
    """
    ranges = np.array([f.high - f.low for f in c.settings.factors])
    sd = np.array([c.targets[m].sd for m in c.settings.moments])
    scaled = fit.scaled_jacobian(c.g, sd, ranges)
    return pd.DataFrame(
        [
            {
                "moment": m,
                "parameter": f.name,
                "used_in_fit": m in c.settings.fit,
                "derivative": float(c.g[i, j]),
                "scaled": float(scaled[i, j]),
            }
            for i, m in enumerate(c.settings.moments)
            for j, f in enumerate(c.settings.factors)
        ]
    )


def write_outputs(out_dir: Path, c: Calibration) -> dict[str, pd.DataFrame]:
    """Write ``estimates``, ``validation``, ``identification`` and ``trials`` (Parquet, atomic)."""
    tables = {
        "estimates": estimates_table(c),
        "validation": validation_table(c),
        "identification": identification_table(c),
        "trials": pd.DataFrame(c.trials),
    }
    for name, table in tables.items():
        write_file_atomically(
            Path(out_dir) / f"{name}.parquet", lambda p, t=table: t.to_parquet(p, index=False)
        )
    return tables


# ------------------------------------------------------------------- evaluators
def toy_evaluator(settings: CalibrationSettings) -> Evaluate:
    """Evaluate a registered toy model in this process, one seed per replicate."""
    model = TOY_MODELS[settings.model]

    def evaluate(points: np.ndarray, batch: str, replicates: int, root: int) -> np.ndarray:
        out = np.empty((replicates, len(points), len(settings.moments)))
        for r in range(replicates):
            ys = model.evaluate(model.at(points, settings.names), replicate_seed(root, r))
            out[r] = np.column_stack([np.asarray(ys[m], dtype=float) for m in settings.moments])
        return out

    return evaluate


def limits(settings: CalibrationSettings, name: str) -> tuple[float, float]:
    """The values a parameter may take: its documented bounds (a toy model's range).

    Examples:
        >>> from clustersim.experiments.calibration_space import parse_calibration
        >>> s = parse_calibration({"model": "moments_toy", "parameters": ["a"],
        ...                        "planted": {"a": 1.0}, "fit": ["m1"]})
        >>> limits(s, "a")
        (0.0, 2.0)
    """
    if settings.is_toy:
        low, high = TOY_MODELS[settings.model].parameters[name]
        return float(low), float(high)
    from clustersim.experiments.sensitivity_space import model_parameters

    meta = model_parameters()[name][0]
    low = meta.get("ge") if meta.get("ge") is not None else meta.get("gt")
    high = meta.get("le") if meta.get("le") is not None else meta.get("lt")
    return (
        float(low) if low is not None else -np.inf,
        float(high) if high is not None else np.inf,
    )
