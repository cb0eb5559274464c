"""Pure analysis functions over aggregated run tables: effects, take-off, cost, scaling.

Every function takes tidy pandas tables (one row per run and step, as written by
:mod:`clustersim.experiments.aggregate`, or one row per run from :func:`run_outcomes`) and
returns a new table; nothing here runs the model or touches files. Each row's
resampling draws from a stream keyed by an explicit ``seed`` and the row's key
(metric, site, arm): the intervals of an arm do not move when another arm changes,
comes or goes, nor with the order of the runs. Tables of a plain Hydra
sweep (no ``arm`` column) are compared by :func:`clustersim.experiments.sweeps.compare`:
arms from the swept columns, ``null`` a level of its own, the baseline named by value
(``baseline="firm.agglomeration_cap=null"``), runs paired on their seed.

Definitions (also in ``docs/experiments.md``):

* **Effect** of an arm on a metric: the mean over replicates of the *paired*
  difference arm - baseline, pairing runs that share a site and a replicate seed
  (common random numbers), with a percentile bootstrap confidence interval.
* **Take-off**: the focus place's creative cluster *takes off* in a run if, at
  the last month, its creative location quotient is at least ``lq_threshold``
  (1.25: a quarter above the EU creative share, the usual cluster threshold,
  see ``metrics.cluster_lq``) *and* its creative employment has grown by at
  least ``growth`` (20%) over month 0. The LQ alone would count a town whose
  other jobs shrank; growth alone would count a metropolis growing with
  everything else. *Time to take-off* is the first month from which both
  conditions hold in every later month (a sustained take-off, not a blip).
  The probability of take-off is the share of replicates that take off, with a
  Wilson score interval (the bootstrap interval collapses to a point at 0 and 1).
* **Cost per creative job**: mean total policy spend of the arm divided by the
  mean paired difference in final creative employment. It is undefined (NaN,
  with a note) when that difference is not positive with confidence, i.e. when
  its interval includes 0 or lies below it.
* **Minimum detectable effect** (MDE) of a design for an arm and metric: the
  smallest true mean paired effect that a two-sided paired t-test at level
  ``alpha`` (5%) detects with probability ``power`` (80%), given the spread of
  the paired differences over the design's replicates:
  ``MDE = (t[1 - alpha/2, n-1] + t[power, n-1]) * sd(differences) / sqrt(n)``
  (Bloom 1995, Evaluation Review 19:547-556). Effects smaller than the MDE
  cannot be told from chance with that many replicates: more replicates or a
  larger intervention are needed to see them.
* **Scaling exponent**: the slope beta of ``log y = log a + beta log N`` over runs
  (N: population of the focus place at the last month), with a bootstrap
  interval resampling runs. beta > 1 is superlinear scaling (Bettencourt et al.
  2007, PNAS 104:7301).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clustersim.experiments.sweeps import compare
from clustersim.model.outcomes import flow_names

__all__ = [
    "bootstrap_mean_ci",
    "cost_per_job",
    "effects",
    "mean_bands",
    "minimum_detectable_effect",
    "paired_differences",
    "run_outcomes",
    "scaling_exponents",
    "take_off",
    "takeoff_summary",
    "wilson_interval",
]

RUN_KEY = "run_id"


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _row_rng(seed: int, *key: Any) -> np.random.Generator:
    """One table row's stream (see the module docstring); callers resample values sorted."""
    digest = hashlib.sha256(json.dumps([str(k) for k in key]).encode()).digest()[:16]
    return np.random.default_rng([int(seed), *np.frombuffer(digest, dtype=np.uint32).tolist()])


def bootstrap_mean_ci(
    values: Sequence[float] | np.ndarray,
    *,
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaN for no values).

    Resampling works along the first axis; for a 2-D array (replicates x steps)
    it returns arrays of lower and upper bounds per column.

    Examples:
        >>> bootstrap_mean_ci([2.0, 2.0, 2.0])
        (2.0, 2.0)
    """
    arr = np.asarray(values, dtype=float)
    n = arr.shape[0] if arr.ndim else 0
    if n == 0:
        return (float("nan"), float("nan"))
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci}")
    idx = _rng(seed).integers(0, n, size=(n_boot, n))
    means = arr[idx].mean(axis=1)
    alpha = (1 - ci) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha], axis=0)
    if arr.ndim == 1:
        return (float(low), float(high))
    return low, high  # type: ignore[return-value]


def wilson_interval(successes: int, n: int, *, ci: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``.

    Examples:
        >>> low, high = wilson_interval(0, 10)
        >>> low, round(high, 3)
        (0.0, 0.278)
    """
    if n <= 0:
        return (float("nan"), float("nan"))
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + ci / 2)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (float(low), float(high))


def run_outcomes(
    timeseries: pd.DataFrame,
    *,
    run_key: str = RUN_KEY,
    flows: Sequence[str] | None = None,
    last_months: int = 12,
) -> pd.DataFrame:
    """One row per run: its labels, final values of level metrics and totals of flows.

    Columns: every column constant within a run (labels, seed, ...), every metric
    at the last step, ``<flow>_total`` for flow metrics and ``spend_*`` columns
    summed over the run, ``<flow>_last_year`` summed over the last ``last_months``
    steps, and ``<metric>_start`` for creative employment and population.

    Args:
        timeseries: the aggregated time series (one row per run and step).
        run_key: the column identifying a run.
        flows: the columns counted per month (default: the declared flows,
            :func:`clustersim.model.outcomes.flow_names`).
        last_months: how many last steps ``<flow>_last_year`` sums.
    """
    if timeseries.empty:
        return pd.DataFrame()
    flows = flow_names() if flows is None else flows
    ts = timeseries.sort_values([run_key, "step"])
    groups = ts.groupby(run_key, sort=False)
    last = groups.tail(1).set_index(run_key)
    first = groups.head(1).set_index(run_key)
    out = last.copy()
    flow_cols = [c for c in ts.columns if c in flows or c.startswith("spend_")]
    totals = groups[flow_cols].sum()
    max_step = groups["step"].transform("max")
    recent = ts[ts["step"] > max_step - last_months].groupby(run_key)[flow_cols].sum()
    for col in flow_cols:
        out[f"{col}_total"] = totals[col]
        out[f"{col}_last_year"] = recent[col]
    for col in ("creative_employment", "population", "creative_firms", "location_quotient"):
        if col in first:
            out[f"{col}_start"] = first[col]
    return out.reset_index()


def paired_differences(
    outcomes: pd.DataFrame,
    metric: str,
    *,
    baseline: str | Sequence[str] | None,
    arm_col: str = "arm",
    pair_col: str | None = None,
    group_cols: Sequence[str] = ("site",),
) -> pd.DataFrame:
    """Arm minus baseline for each pair of runs sharing group and replicate.

    Returns one row per (group, arm, replicate) with ``baseline_value``,
    ``arm_value`` and ``difference``; the baseline arm itself is left out, and
    replicates missing on either side (e.g. a failed run) are dropped. ``pair_col``
    defaults to ``replicate`` (``seed`` for a sweep, see the module docstring).
    """
    c = compare(outcomes, baseline, arm_col=arm_col, pair_col=pair_col, group_cols=group_cols)
    outcomes, baseline, pair_col, group_cols = c.table, c.baseline, c.pair_col, c.group_cols
    keys = [*group_cols, pair_col]
    base = outcomes[outcomes[arm_col] == baseline][[*keys, metric]]
    base = base.rename(columns={metric: "baseline_value"})
    other = outcomes[outcomes[arm_col] != baseline][[*keys, arm_col, metric]]
    other = other.rename(columns={metric: "arm_value"})
    pairs = other.merge(base, on=keys, how="inner")
    pairs["difference"] = pairs["arm_value"] - pairs["baseline_value"]
    pairs.insert(0, "metric", metric)
    return pairs[
        ["metric", *group_cols, arm_col, pair_col, "baseline_value", "arm_value", "difference"]
    ]


def minimum_detectable_effect(
    differences: Sequence[float] | np.ndarray, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest true mean paired effect detected with probability ``power`` at level ``alpha``.

    For ``n`` paired differences with sample standard deviation ``s``:
    ``(t[1 - alpha/2, n-1] + t[power, n-1]) * s / sqrt(n)`` (Bloom 1995). NaN
    with fewer than two pairs.

    Examples:
        >>> round(minimum_detectable_effect([1.0, -1.0] * 10), 3)
        0.678
        >>> import math
        >>> math.isnan(minimum_detectable_effect([3.0]))
        True
    """
    from scipy import stats

    diffs = np.asarray(differences, dtype=float)
    diffs = diffs[~np.isnan(diffs)]
    n = len(diffs)
    if n < 2:
        return float("nan")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")
    t_sum = stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)
    return float(t_sum * diffs.std(ddof=1) / np.sqrt(n))


def effects(
    outcomes: pd.DataFrame,
    metrics: Sequence[str],
    *,
    baseline: str | Sequence[str] | None,
    arm_col: str = "arm",
    pair_col: str | None = None,
    group_cols: Sequence[str] = ("site",),
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Effect of each arm against the baseline per metric and group, with bootstrap CIs.

    On a plain Hydra sweep the arms are ``"key=value"`` settings of the swept columns
    the baseline names (``baseline="firm.agglomeration_cap=null"``), other swept columns
    are groups, and runs pair on their seed (:func:`~clustersim.experiments.sweeps.compare`).

    Returns one row per (metric, group, arm): ``n_pairs``, ``baseline_mean``,
    ``arm_mean``, ``effect`` (mean paired difference), ``ci_low``, ``ci_high``,
    ``relative_effect`` (effect / baseline mean), ``significant`` (CI excludes 0) and
    ``mde``, the design's minimum detectable effect (:func:`minimum_detectable_effect`,
    5% level, 80% power) from the spread of the paired differences.
    Each row resamples its sorted differences with its own stream (module docstring).
    """
    rows: list[dict[str, Any]] = []
    c = compare(outcomes, baseline, arm_col=arm_col, pair_col=pair_col, group_cols=group_cols)
    outcomes, baseline, pair_col, group_cols = c.table, c.baseline, c.pair_col, c.group_cols
    for metric in metrics:
        if metric not in outcomes:
            continue
        pairs = paired_differences(
            outcomes,
            metric,
            baseline=baseline,
            arm_col=arm_col,
            pair_col=pair_col,
            group_cols=group_cols,
        )
        for key, grp in pairs.groupby([*group_cols, arm_col], sort=False):
            key = key if isinstance(key, tuple) else (key,)
            diffs = grp["difference"].to_numpy(dtype=float)
            low, high = bootstrap_mean_ci(
                np.sort(diffs), ci=ci, n_boot=n_boot, seed=_row_rng(seed, metric, *key)
            )
            base_mean = float(grp["baseline_value"].mean())
            effect = float(diffs.mean())
            row = dict(zip([*group_cols, arm_col], key, strict=True))
            row.update(
                metric=metric,
                n_pairs=len(diffs),
                baseline_mean=base_mean,
                arm_mean=float(grp["arm_value"].mean()),
                effect=effect,
                ci_low=low,
                ci_high=high,
                relative_effect=effect / base_mean if base_mean else float("nan"),
                significant=bool(low > 0 or high < 0),
                mde=minimum_detectable_effect(diffs),
            )
            rows.append(row)
    columns = [
        "metric",
        *group_cols,
        arm_col,
        "n_pairs",
        "baseline_mean",
        "arm_mean",
        "effect",
        "ci_low",
        "ci_high",
        "relative_effect",
        "significant",
        "mde",
    ]
    return pd.DataFrame(rows, columns=columns)


def take_off(
    timeseries: pd.DataFrame,
    *,
    lq_threshold: float = 1.25,
    growth: float = 0.2,
    run_key: str = RUN_KEY,
) -> pd.DataFrame:
    """Whether each run's focus cluster takes off, and when (see the module docstring).

    Returns one row per run with ``took_off`` (bool), ``takeoff_step`` (first month
    from which LQ >= ``lq_threshold`` and creative employment >= (1 + ``growth``) x
    month 0 hold until the end; NaN when it does not take off), ``final_lq`` and
    ``employment_growth`` (final / month 0 - 1). Label columns constant within a
    run are kept.
    """
    rows = []
    ts = timeseries.sort_values([run_key, "step"])
    constant = [
        c
        for c in ts.columns
        if c != run_key and ts.groupby(run_key)[c].nunique(dropna=False).max() <= 1
    ]
    for run, grp in ts.groupby(run_key, sort=False):
        emp = grp["creative_employment"].to_numpy(dtype=float)
        lq = grp["location_quotient"].to_numpy(dtype=float)
        steps = grp["step"].to_numpy()
        ok = (lq >= lq_threshold) & (emp >= (1 + growth) * emp[0])
        sustained = np.flip(np.logical_and.accumulate(np.flip(ok)))
        took = bool(ok[-1])
        row = {run_key: run, **{c: grp[c].iloc[0] for c in constant}}
        row.update(
            took_off=took,
            takeoff_step=float(steps[np.argmax(sustained)]) if took else float("nan"),
            final_lq=float(lq[-1]),
            employment_growth=float(emp[-1] / emp[0] - 1) if emp[0] > 0 else float("nan"),
        )
        rows.append(row)
    return pd.DataFrame(rows)


def takeoff_summary(
    takeoffs: pd.DataFrame,
    *,
    group_cols: Sequence[str] = ("site", "arm"),
    baseline: str | Sequence[str] | None = None,
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Probability of take-off per group (Wilson interval) and mean time to take-off.

    Time to take-off is averaged over the runs that took off, with a bootstrap
    interval (NaN when fewer than one run took off). A sweep's runs (no ``arm``
    column) are grouped by their settings, ``baseline`` naming the arms' columns.
    """
    takeoffs, group_cols = _grouped(takeoffs, group_cols, baseline)
    rows = []
    for key, grp in takeoffs.groupby(group_cols, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        n, k = len(grp), int(grp["took_off"].sum())
        low, high = wilson_interval(k, n, ci=ci)
        times = np.sort(grp.loc[grp["took_off"], "takeoff_step"].to_numpy(dtype=float))
        t_low, t_high = bootstrap_mean_ci(
            times, ci=ci, n_boot=n_boot, seed=_row_rng(seed, "takeoff_step", *key)
        )
        row = dict(zip(group_cols, key, strict=True))
        row.update(
            runs=n,
            took_off=k,
            probability=k / n,
            probability_low=low,
            probability_high=high,
            mean_takeoff_step=float(times.mean()) if len(times) else float("nan"),
            takeoff_step_low=t_low,
            takeoff_step_high=t_high,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def cost_per_job(
    outcomes: pd.DataFrame,
    *,
    baseline: str | Sequence[str] | None,
    employment: str = "creative_employment",
    spend: str = "policy_spend_total",
    arm_col: str = "arm",
    pair_col: str | None = None,
    group_cols: Sequence[str] = ("site",),
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Policy spend per creative job created, against the baseline, per group and arm.

    ``cost_per_job = mean spend of the arm / mean paired difference in final
    creative employment``. Its interval comes from a joint bootstrap of the pairs
    (spend and difference resampled together); a resample with no job gain counts
    as infinitely expensive. When the interval of the job difference includes 0 or
    lies below it, the cost is NaN and ``note`` says why. Sweeps: as :func:`effects`.
    """
    c = compare(outcomes, baseline, arm_col=arm_col, pair_col=pair_col, group_cols=group_cols)
    outcomes, baseline, pair_col, group_cols = c.table, c.baseline, c.pair_col, c.group_cols
    keys = [*group_cols, pair_col]
    base = outcomes[outcomes[arm_col] == baseline][[*keys, employment]]
    other = outcomes[outcomes[arm_col] != baseline][[*keys, arm_col, employment, spend]]
    pairs = other.merge(base, on=keys, suffixes=("", "_baseline"))
    pairs["jobs"] = pairs[employment] - pairs[f"{employment}_baseline"]
    rows = []
    for key, grp in pairs.groupby([*group_cols, arm_col], sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip([*group_cols, arm_col], key, strict=True))
        jobs, spent = grp["jobs"].to_numpy(dtype=float), grp[spend].to_numpy(dtype=float)
        order = np.lexsort((spent, jobs))  # pairs in sorted order: see _row_rng
        row.update(
            _cost_row(
                jobs[order],
                spent[order],
                rng=_row_rng(seed, "cost_per_job", *key),
                ci=ci,
                n_boot=n_boot,
            )
        )
        rows.append(row)
    columns = [
        *group_cols,
        arm_col,
        "n_pairs",
        "total_spend",
        "jobs_created",
        "jobs_low",
        "jobs_high",
        "cost_per_job",
        "cost_low",
        "cost_high",
        "note",
    ]
    return pd.DataFrame(rows, columns=columns)


def _cost_row(
    jobs: np.ndarray, cost: np.ndarray, *, rng: np.random.Generator, ci: float, n_boot: int
) -> dict[str, Any]:
    """Jobs created and cost per job of one arm from its pairs (see :func:`cost_per_job`)."""
    alpha = (1 - ci) / 2
    idx = rng.integers(0, len(jobs), size=(n_boot, len(jobs)))
    boot_jobs = jobs[idx].mean(axis=1)
    boot_cost = cost[idx].mean(axis=1)
    j_low, j_high = np.quantile(boot_jobs, [alpha, 1 - alpha])
    row: dict[str, Any] = {
        "n_pairs": len(jobs),
        "total_spend": float(cost.mean()),
        "jobs_created": float(jobs.mean()),
        "jobs_low": float(j_low),
        "jobs_high": float(j_high),
    }
    undefined = {"cost_per_job": float("nan"), "cost_low": float("nan"), "cost_high": float("nan")}
    if cost.mean() <= 0:
        return {**row, **undefined, "note": "no policy spend"}
    if j_low <= 0:
        note = "no job gain with confidence (interval of jobs created includes or is below 0)"
        return {**row, **undefined, "note": note}
    # a resample without a job gain has no finite cost per job: count it as
    # infinitely expensive (not as a negative cost) so the upper bound reflects it
    gain = boot_jobs > 0
    ratio = np.full(n_boot, np.inf)
    ratio[gain] = boot_cost[gain] / boot_jobs[gain]
    c_low, c_high = np.quantile(ratio, [alpha, 1 - alpha])
    return {
        **row,
        "cost_per_job": float(cost.mean() / jobs.mean()),
        "cost_low": float(c_low),
        "cost_high": float(c_high),
        "note": "",
    }


def scaling_exponents(
    outcomes: pd.DataFrame,
    metrics: Sequence[str],
    *,
    x: str = "population",
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Log-log slope of each metric against population, with bootstrap intervals.

    Fits ``log y = log a + beta log x`` by least squares over runs with positive
    x and y. Returns one row per metric: ``exponent`` (beta), ``ci_low``,
    ``ci_high`` (percentile bootstrap resampling runs), ``prefactor`` (a),
    ``r2`` and ``n_runs``.
    """
    rows = []
    alpha = (1 - ci) / 2
    seeds = (np.random.SeedSequence(seed, spawn_key=(i,)) for i in range(10_000))
    for metric in metrics:
        data = outcomes[[x, metric]].astype(float)
        data = data[(data[x] > 0) & (data[metric] > 0)]
        lx, ly = np.log(data[x].to_numpy()), np.log(data[metric].to_numpy())
        n = len(lx)
        if n < 3 or np.ptp(lx) == 0:
            fit = dict.fromkeys(("exponent", "ci_low", "ci_high", "prefactor", "r2"), float("nan"))
            rows.append({"metric": metric, **fit, "n_runs": n})
            continue
        beta, log_a = np.polyfit(lx, ly, 1)
        resid = ly - (log_a + beta * lx)
        r2 = 1 - resid.var() / ly.var() if ly.var() > 0 else 1.0
        rng = np.random.default_rng(next(seeds))
        idx = rng.integers(0, n, size=(n_boot, n))
        bx, by = lx[idx], ly[idx]
        mx, my = bx.mean(axis=1, keepdims=True), by.mean(axis=1, keepdims=True)
        sxx = ((bx - mx) ** 2).sum(axis=1)
        sxy = ((bx - mx) * (by - my)).sum(axis=1)
        slopes = np.divide(sxy, sxx, out=np.full(n_boot, np.nan), where=sxx > 0)
        low, high = np.nanquantile(slopes, [alpha, 1 - alpha])
        rows.append(
            {
                "metric": metric,
                "exponent": float(beta),
                "ci_low": float(low),
                "ci_high": float(high),
                "prefactor": float(np.exp(log_a)),
                "r2": float(r2),
                "n_runs": n,
            }
        )
    return pd.DataFrame(rows)


def mean_bands(
    timeseries: pd.DataFrame,
    metric: str,
    *,
    group_cols: Sequence[str] = ("site", "arm"),
    baseline: str | Sequence[str] | None = None,
    run_key: str = RUN_KEY,
    ci: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean of a metric per group and step across runs, with a bootstrap band.

    Returns one row per (group, step): ``mean``, ``low``, ``high``, ``runs``. A
    sweep's runs are grouped by their settings, as in :func:`takeoff_summary`.
    """
    timeseries, group_cols = _grouped(timeseries, group_cols, baseline)
    frames = []
    seeds = (np.random.SeedSequence(seed, spawn_key=(i,)) for i in range(10_000))
    for key, grp in timeseries.groupby(group_cols, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        wide = grp.pivot_table(index=run_key, columns="step", values=metric, aggfunc="first")
        wide = wide.dropna(axis=0, how="any")
        values = wide.to_numpy(dtype=float)
        if values.shape[0] == 0:
            continue
        low, high = bootstrap_mean_ci(
            values, ci=ci, n_boot=n_boot, seed=np.random.default_rng(next(seeds))
        )
        frame = pd.DataFrame(
            {
                "step": wide.columns.to_numpy(),
                "mean": values.mean(axis=0),
                "low": low,
                "high": high,
                "runs": values.shape[0],
            }
        )
        for col, value in reversed(list(zip(group_cols, key, strict=True))):
            frame.insert(0, col, value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _grouped(
    table: pd.DataFrame, group_cols: Sequence[str], baseline: str | Sequence[str] | None
) -> tuple[pd.DataFrame, list[str]]:
    """The table and its group columns; a sweep's arms and groups when it has no ``arm``."""
    if "arm" in group_cols and "arm" not in table:
        c = compare(table, baseline, group_cols=[g for g in group_cols if g != "arm"])
        return c.table, [*c.group_cols, "arm"]
    return table, [c for c in group_cols if c in table]
