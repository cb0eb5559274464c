"""What the results allow one to claim: verdicts on effects, replicates needed, run peaks.

Pure functions over the analysis tables (:mod:`clustersim.experiments.analysis`),
used by the report's plain-language conclusion:

* :func:`verdict`: ``"clear"`` when the effect's interval excludes 0 *and* a paired
  t-test at the 5% level rejects "no effect" (the percentile bootstrap interval is
  too narrow with few replicates; the t-test is not); ``"tentative"`` when only the
  bootstrap interval excludes 0; ``"unclear"`` when the interval includes 0, or when
  one pair of runs finished (its interval is the one difference itself).
* :func:`replicates_needed`: how many replicates a design needs to detect an effect
  of a given size with the spread of paired differences seen so far (Bloom 1995).
* :func:`run_extremes`: each run's peak and mean of a level over the whole run (a
  festival's rent spike is gone by the last month, but residents paid it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "ALPHA",
    "POWER",
    "relative_effect",
    "replicates_needed",
    "run_extremes",
    "t_threshold",
    "verdict",
]

ALPHA = 0.05
"""Level of the paired tests behind ``mde`` (two-sided)."""

POWER = 0.8
"""Power behind ``mde``."""


def _t_sum(n: int | np.ndarray, alpha: float, power: float) -> float | np.ndarray:
    from scipy import stats

    return stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)


def t_threshold(mde: float, n_pairs: int, *, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest mean paired difference a two-sided paired t-test calls significant.

    Recovered from the minimum detectable effect of the same ``n_pairs`` differences:
    ``mde = (t[1-alpha/2] + t[power]) * s / sqrt(n)``, the test rejects when
    ``|mean| > t[1-alpha/2] * s / sqrt(n)``. NaN with fewer than two pairs.

    Examples:
        >>> round(t_threshold(10.0, 30), 2)
        7.05
    """
    from scipy import stats

    if n_pairs < 2 or np.isnan(mde):
        return float("nan")
    return float(mde * stats.t.ppf(1 - alpha / 2, n_pairs - 1) / _t_sum(n_pairs, alpha, power))


def verdict(
    effect: float, low: float, high: float, mde: float, n_pairs: int, *, alpha: float = ALPHA
) -> str:
    """``"clear"``, ``"tentative"`` or ``"unclear"`` (see the module docstring).

    Examples:
        >>> verdict(5.0, 3.0, 7.0, 28.0, 2)  # 2 replicates: the bootstrap is too narrow
        'tentative'
        >>> verdict(13.0, 10.0, 16.0, 8.0, 8), verdict(-1.0, -3.0, 2.0, 8.0, 8)
        ('clear', 'unclear')
        >>> verdict(13.0, 13.0, 13.0, float("nan"), 1)  # one pair: nothing to tell
        'unclear'
    """
    if n_pairs < 2 or any(np.isnan(v) for v in (effect, low, high)) or low <= 0 <= high:
        return "unclear"  # one pair gives no interval: its "interval" is the point itself
    threshold = t_threshold(mde, n_pairs, alpha=alpha)
    if np.isnan(threshold) or abs(effect) <= threshold:
        return "tentative"
    return "clear"


def replicates_needed(
    mde: float,
    n_pairs: int,
    effect: float,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    limit: int = 10_000,
) -> float:
    """Replicates needed for a minimum detectable effect of ``|effect|``.

    The spread of the paired differences comes from the design's ``mde`` over
    ``n_pairs`` replicates (``s = mde * sqrt(n) / (t[1-alpha/2] + t[power])``); the
    answer is the smallest ``n`` whose MDE with that spread is at most ``|effect|``.
    NaN when it cannot be said (fewer than two pairs, no effect) or needs more than
    ``limit`` replicates.

    Examples:
        >>> replicates_needed(20.0, 8, 20.0)
        8
        >>> replicates_needed(20.0, 8, 10.0)  # half the effect: about four times the replicates
        26
    """
    if n_pairs < 2 or np.isnan(mde) or np.isnan(effect) or effect == 0:
        return float("nan")
    spread = mde * np.sqrt(n_pairs) / _t_sum(n_pairs, alpha, power)
    if spread == 0:
        return 2
    ns = np.arange(2, limit + 1)
    ok = _t_sum(ns, alpha, power) * spread / np.sqrt(ns) <= abs(effect) * (1 + 1e-9)
    return int(ns[np.argmax(ok)]) if ok.any() else float("nan")


def relative_effect(effects: pd.DataFrame) -> pd.DataFrame:
    """The effects table with ``rel_low`` and ``rel_high``: the interval over the baseline mean.

    NaN where the baseline mean is 0.
    """
    out = effects.copy()
    base = out["baseline_mean"].where(out["baseline_mean"] != 0)
    out["rel_low"] = out["ci_low"] / base.abs()
    out["rel_high"] = out["ci_high"] / base.abs()
    return out


def run_extremes(
    timeseries: pd.DataFrame, metrics: Sequence[str], *, run_key: str = "run_id"
) -> pd.DataFrame:
    """Per run, each metric's peak (``<m>_peak``) and mean over the run (``<m>_run_mean``).

    Month 0 (the initial state) is left out, so a mean says what the run's months
    were like. Returns one row per run with ``run_key`` and those columns.

    Examples:
        >>> ts = pd.DataFrame({"run_id": ["a"] * 3, "step": [0, 1, 2], "rent": [1.0, 5.0, 3.0]})
        >>> run_extremes(ts, ["rent"]).to_dict("records")
        [{'run_id': 'a', 'rent_peak': 5.0, 'rent_run_mean': 4.0}]
    """
    present = [m for m in metrics if m in timeseries]
    months = timeseries[timeseries["step"] > 0] if "step" in timeseries else timeseries
    groups = months.groupby(run_key, sort=False)[present]
    peak = groups.max().add_suffix("_peak")
    mean = groups.mean().add_suffix("_run_mean")
    order = [c for m in present for c in (f"{m}_peak", f"{m}_run_mean")]
    return peak.join(mean)[order].reset_index()
