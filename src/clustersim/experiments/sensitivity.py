"""Sensitivity analysis of a design's runs: outcomes at the sample points, SALib's indices.

A sensitivity design (``kind: sensitivity``, settings in
:mod:`clustersim.experiments.sensitivity_space`) runs like any other design: one run
per sample point and replicate through the runner, every point of a replicate with
the replicate's seed (common random numbers). This module reads the outcomes at the
chosen month back from the aggregated time series (or evaluates a registered toy
model, :mod:`clustersim.experiments.toy_models`, at the same sample), averages them
over replicates, lets SALib compute the indices with bootstrap intervals (Morris:
mu*, mu, sigma; Sobol: S1, ST), measures the seed-noise share, and writes
``sensitivity.parquet``, ``seed_noise.parquet``, ``samples.parquet`` and the report
(:mod:`clustersim.experiments.sensitivity_report`). Toy and clustersim designs share
every step after the outcomes are known.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clustersim.errors import ConfigError
from clustersim.experiments.runner import replicate_seed
from clustersim.experiments.sensitivity_space import (
    NOISE_INDEX,
    NOISE_P,
    SensitivitySettings,
    comparison_arms,
    parse_settings,
    point_arms,
    sample,
)
from clustersim.experiments.toy_models import TOY_MODELS
from clustersim.files import write_file_atomically

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = [
    "COLUMNS",
    "NOISE_INDEX",
    "OUTPUTS",
    "Sample",
    "analyse_design",
    "analyse_sample",
    "design_sample",
    "evaluate_toy",
    "missing_points",
    "noise_mu_star",
    "noise_test",
    "outcomes_from_runs",
    "samples_table",
    "seed_noise",
    "write_outputs",
]

COLUMNS = ("parameter", "outcome", "method", "index", "value", "lower", "upper")
"""Columns of ``sensitivity.parquet``: one row per parameter, outcome and index."""

OUTPUTS = ("sensitivity.parquet", "seed_noise.parquet", "samples.parquet")
"""The files a sensitivity analysis writes next to its report."""


@dataclass(frozen=True)
class Sample:
    """A design's sample and what the model gave at it.

    Attributes:
        settings: the checked ``sensitivity:`` section.
        x: SALib's sample, one row per model evaluation (not rounded).
        rows: for each row of ``x``, the index of its sample point (arm).
        arms: the point names (``p0000``...), in order.
        month: the month analysed (None for toy models).
        values: outcome -> array (replicates x points); NaN where a run is missing (with
            ``sensitivity.against``: where the run or its comparison run is missing).
        runs_missing: runs of the design missing from the time series, comparison runs
            included (None: count the NaN entries of ``values``).
    """

    settings: SensitivitySettings
    x: np.ndarray
    rows: np.ndarray
    arms: list[str]
    month: int | None
    values: dict[str, np.ndarray]
    runs_missing: int | None = None

    def means(self, outcome: str) -> np.ndarray:
        """The outcome per row of ``x``: its mean over the replicates that finished."""
        per_point = self.values[outcome]
        with warnings.catch_warnings():  # a point without runs stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(per_point, axis=0)
        return mean[self.rows]


def design_sample(design: Design) -> tuple[SensitivitySettings, np.ndarray, np.ndarray, list[str]]:
    """The design's settings, sample, point of every sample row, and point names.

    The same draw as the design's arms (:func:`point_arms` of the same sample).
    """
    if design.kind != "sensitivity":
        raise ConfigError(f"{design.name} is a {design.kind} design, not a sensitivity design")
    settings = parse_settings(design.sensitivity)
    x = sample(settings)
    points, rows = point_arms(settings, x)
    return settings, x, rows, [name for name, _ in points]


def outcomes_from_runs(design: Design, timeseries: pd.DataFrame) -> Sample:
    """The outcomes at the analysed month of every point and replicate, from the time series.

    With ``sensitivity.against`` an outcome is the difference between a point's run and
    its comparison run of the same replicate (NaN where either is missing).

    Args:
        design: the sensitivity design (clustersim model).
        timeseries: its aggregated time series (columns ``arm``, ``replicate``, ``step``
            and the outcomes).
    """
    settings, x, rows, arms = design_sample(design)
    month = settings.month if settings.month is not None else design.steps
    at = timeseries[timeseries["step"] == month]
    if settings.against:
        points = [(name, design.arms[name].values) for name in arms]
        against = comparison_arms(points)[1]
    values, runs_missing = {}, None
    for name in settings.outcomes:
        table = at.pivot_table(index="replicate", columns="arm", values=name, aggfunc="first")
        if runs_missing is None and settings.against:  # every run: points and comparisons
            full = table.reindex(index=range(design.replicates), columns=list(design.arms))
            runs_missing = int(full.isna().to_numpy().sum())

        def of(columns: list[str], table: pd.DataFrame = table) -> np.ndarray:
            return table.reindex(index=range(design.replicates), columns=columns).to_numpy(float)

        values[name] = of(arms)
        if settings.against:  # the effect: each run less its comparison run (same seed)
            values[name] = values[name] - of([against[a] for a in arms])
    return Sample(settings, x, rows, arms, month, values, runs_missing)


def evaluate_toy(design: Design) -> Sample:
    """Evaluate the design's toy model at its sample, once per replicate seed."""
    settings, x, rows, arms = design_sample(design)
    if not settings.is_toy:
        raise ConfigError(f"{design.name} runs clustersim, not a toy model")
    model = TOY_MODELS[settings.model]
    firsts = np.array([int(np.flatnonzero(rows == i)[0]) for i in range(len(arms))])
    points = x[firsts]
    by_replicate = [
        model.evaluate(model.at(points, settings.names), replicate_seed(design.root_seed, r))
        for r in range(design.replicates)
    ]
    values = {
        name: np.vstack([np.asarray(ys[name], dtype=float) for ys in by_replicate])
        for name in settings.outcomes
    }
    return Sample(settings, x, rows, arms, None, values)


def seed_noise(sample_: Sample) -> pd.DataFrame:
    """Per outcome, the share of its variance that is seed noise.

    A one-way analysis of variance over the points where every replicate
    finished: the seed noise is the variance between replicates at fixed
    parameters (mean over the points); the parameters' part is the variance of
    the point means less what the seed noise alone gives them (``noise /
    replicates``, floored at 0). The share is the noise over their sum, so it
    lies in [0, 1] and is 1 when the parameters' effects cannot be told from
    chance. NaN with fewer than two replicates or points, or when the outcome
    did not vary.

    Returns:
        Columns ``outcome``, ``replicates``, ``points``, ``within_variance``,
        ``between_variance``, ``total_variance``, ``share``.
    """
    out = []
    for name, values in sample_.values.items():
        full = values[:, np.isfinite(values).all(axis=0)]
        n_rep, n_points = full.shape
        within = between = total = share = float("nan")
        if n_rep >= 2 and n_points >= 2:
            within = float(np.mean(np.var(full, axis=0, ddof=1)))
            of_means = float(np.var(full.mean(axis=0), ddof=1))
            between = max(of_means - within / n_rep, 0.0)
            total = within + between
            share = within / total if total > 0 else float("nan")
        out.append(
            {
                "outcome": name,
                "replicates": n_rep,
                "points": n_points,
                "within_variance": within,
                "between_variance": between,
                "total_variance": total,
                "share": share,
            }
        )
    return pd.DataFrame(out)


def _c4(n: int) -> float:
    """E[sample sd] / sd for ``n`` normal draws (the sd of few replicates runs low)."""
    return math.sqrt(2 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


def noise_mu_star(sample_: Sample, outcome: str) -> dict[str, float]:
    """Per parameter, the mu* that seed noise alone would give its Morris steps.

    Each step of a trajectory moves one parameter from point a to point b; its
    elementary effect is ``(mean_b - mean_a) / delta`` over the replicates. The
    replicates' own differences ``y_r[b] - y_r[a]`` tell how much of it is chance: their
    spread ``s`` (corrected for few replicates) gives the expected size of the noise in
    the mean, ``s / sqrt(R) * sqrt(2 / pi) / delta``, and a parameter's value is the mean
    over its steps. Measured step by step, it holds whatever the runs share: common
    seeds, a shared comparison run (``sensitivity.against``), noise that grows with the
    outcome. NaN for a parameter with no step of two or more replicates (Sobol: empty).
    """
    s = sample_.settings
    if s.method != "morris":
        return {}
    delta = s.levels / (2.0 * (s.levels - 1))
    out = {}
    for name, steps in _step_differences(sample_, outcome).items():
        sizes = [  # equal differences (a deterministic model) have no spread, not 1e-17
            0.0 if np.ptp(d) == 0 else float(np.std(d, ddof=1)) / _c4(len(d)) / math.sqrt(len(d))
            for d in steps
            if len(d) >= 2
        ]
        out[name] = float(np.mean(sizes)) * math.sqrt(2 / math.pi) / delta if sizes else math.nan
    return out


def _step_differences(sample_: Sample, outcome: str) -> dict[str, list[np.ndarray]]:
    """Per parameter, each Morris step's replicate-by-replicate differences (finite only)."""
    s, x, values = sample_.settings, sample_.x, sample_.values[outcome]
    k = len(s.names)
    steps: dict[str, list[np.ndarray]] = {name: [] for name in s.names}
    for start in range(0, len(x) - k, k + 1):  # SALib: trajectories of k + 1 rows
        for a in range(start, start + k):
            moved = np.flatnonzero(x[a + 1] != x[a])
            d = values[:, sample_.rows[a + 1]] - values[:, sample_.rows[a]]
            if len(moved) == 1:
                steps[s.names[moved[0]]].append(d[np.isfinite(d)])
    return steps


def noise_test(sample_: Sample, outcome: str, flips: int = 999) -> dict[str, float]:
    """Per parameter, a sign-flip p-value: could seed noise alone give its Morris steps?

    Without an effect of the parameter, a step's replicates differ by noise that is as
    likely negative as positive, so flipping the sign of single replicates' differences
    changes nothing in distribution. The statistic is mu* of the steps (the mean absolute
    mean difference); the p-value is the share of ``flips`` random sign flips (seeded by
    the settings' seed) that reach it. Steps need two or more replicates; NaN otherwise.
    """
    rng = np.random.default_rng(sample_.settings.seed)
    out = {}
    for name, steps in _step_differences(sample_, outcome).items():
        steps = [d for d in steps if len(d) >= 2]
        if not steps:
            out[name] = math.nan
            continue
        width = max(len(d) for d in steps)
        table = np.full((len(steps), width), np.nan)
        for i, d in enumerate(steps):
            table[i, : len(d)] = d
        seen = np.nanmean(np.abs(np.nanmean(table, axis=1)))
        signs = rng.choice([-1.0, 1.0], size=(flips, *table.shape))
        null = np.nanmean(np.abs(np.nanmean(signs * table, axis=2)), axis=1)
        out[name] = float((1 + np.sum(null >= seen * (1 - 1e-12))) / (1 + flips))
    return out


def _morris(s: SensitivitySettings, x: np.ndarray, y: np.ndarray, ci: float) -> list[tuple]:
    from SALib.analyze import morris

    si = morris.analyze(
        s.problem,
        x,
        y,
        num_resamples=s.resamples,
        conf_level=ci,
        num_levels=s.levels,
        seed=s.seed,
    )
    rows = []
    for i, name in enumerate(s.names):
        star, conf = float(si["mu_star"][i]), float(si["mu_star_conf"][i])
        rows.append((name, "mu_star", star, max(0.0, star - conf), star + conf))
        rows.append((name, "mu", float(si["mu"][i]), np.nan, np.nan))
        rows.append((name, "sigma", float(si["sigma"][i]), np.nan, np.nan))
    return rows


def _sobol(s: SensitivitySettings, y: np.ndarray, ci: float) -> list[tuple]:
    from SALib.analyze import sobol

    if not np.ptp(y) > 0:  # the outcome did not vary: no variance to share out
        return [(n, i, np.nan, np.nan, np.nan) for n in s.names for i in ("S1", "ST")]
    si = sobol.analyze(
        s.problem,
        y,
        calc_second_order=False,
        num_resamples=s.resamples,
        conf_level=ci,
        seed=s.seed,
    )
    rows = []
    for i, name in enumerate(s.names):
        for index in ("S1", "ST"):
            value, conf = float(si[index][i]), float(si[f"{index}_conf"][i])
            rows.append((name, index, value, value - conf, value + conf))
    return rows


def analyse_sample(sample_: Sample, *, ci: float = 0.95) -> pd.DataFrame:
    """SALib's indices with bootstrap intervals, per parameter and outcome (``COLUMNS``).

    The outcome of each sample row is its mean over replicates (common random numbers:
    the replicates' seeds are the same at every point). Morris gives ``mu_star`` (with
    its interval; the lower end is kept at 0 or above), ``mu`` and ``sigma``, and with
    two or more replicates ``noise_mu_star`` (:func:`noise_mu_star`) and ``noise_p``
    (:func:`noise_test`); Sobol ``S1`` and
    ``ST`` with intervals. An outcome missing at some point (a run failed) is left out;
    the report says so.
    """
    s = sample_.settings
    rows = []
    for name in s.outcomes:
        y = sample_.means(name)
        if not np.isfinite(y).all():
            continue
        found = _morris(s, sample_.x, y, ci) if s.method == "morris" else _sobol(s, y, ci)
        if s.method == "morris":
            tested = noise_test(sample_, name)
            found += [
                row
                for p, v in noise_mu_star(sample_, name).items()
                if not math.isnan(v)
                for row in (
                    (p, NOISE_INDEX, v, np.nan, np.nan),
                    (p, NOISE_P, tested[p], np.nan, np.nan),
                )
            ]
        rows += [(p, name, s.method, index, v, lo, hi) for p, index, v, lo, hi in found]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def samples_table(sample_: Sample) -> pd.DataFrame:
    """One row per sample row: its point, the parameter values and the mean outcomes."""
    s = sample_.settings
    table = pd.DataFrame(sample_.x, columns=s.names)
    for f in s.factors:
        if f.integer:
            table[f.name] = table[f.name].round().astype(int)
    table.insert(0, "point", [sample_.arms[i] for i in sample_.rows])
    table.insert(0, "row", np.arange(len(table)))
    for name in s.outcomes:
        table[name] = sample_.means(name)
    return table


def _parquet_writer(table: pd.DataFrame):
    return lambda path: table.to_parquet(path, index=False)


def write_outputs(out_dir: Path, sample_: Sample, *, ci: float) -> dict[str, pd.DataFrame]:
    """Analyse the sample and write ``sensitivity.parquet``, ``seed_noise.parquet``, ``samples``.

    Each file is written atomically. Returns the tables by name (``sensitivity``,
    ``seed_noise``, ``samples``).
    """
    tables = {
        "sensitivity": analyse_sample(sample_, ci=ci),
        "seed_noise": seed_noise(sample_),
        "samples": samples_table(sample_),
    }
    for name, table in tables.items():
        write_file_atomically(Path(out_dir) / f"{name}.parquet", _parquet_writer(table))
    return tables


def missing_points(sample_: Sample) -> dict[str, Any]:
    """How many runs are missing (failed or not run) and how many points have no outcome.

    With ``sensitivity.against`` a point has no outcome (no effect) when its run or its
    comparison run is missing in every replicate.
    """
    values = next(iter(sample_.values.values()))
    finite = np.isfinite(values)
    runs = sample_.runs_missing if sample_.runs_missing is not None else int((~finite).sum())
    return {"runs": runs, "points": int((~finite.any(axis=0)).sum())}


def analyse_design(
    design: Design, out_dir: Path, timeseries: pd.DataFrame | None = None, *, n_ok: int = 0
) -> tuple[dict[str, pd.DataFrame], Path, Path]:
    """Analyse a sensitivity design and write its tables and report.

    A toy model is evaluated here (in this process, at the design's sample); a
    clustersim design's outcomes come from its aggregated ``timeseries``.

    Returns:
        The tables by name, and the paths of ``report.html`` and ``summary.md``.
    """
    from clustersim.experiments.sensitivity_report import write_sensitivity_report

    if timeseries is None:
        sample_ = evaluate_toy(design)
        n_ok = int(sample_.values[sample_.settings.outcomes[0]].size)
    else:
        sample_ = outcomes_from_runs(design, timeseries)
    tables = write_outputs(out_dir, sample_, ci=float(design.analysis["ci"]))
    html, md = write_sensitivity_report(
        design,
        out_dir,
        tables,
        sample_.settings,
        month=sample_.month,
        n_ok=n_ok,
        missing=missing_points(sample_),
    )
    return tables, html, md
