"""What the results allow one to claim: verdicts, replicates needed, run peaks and means."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from clustersim.experiments import analysis as an
from clustersim.experiments.inference import (
    replicates_needed,
    run_extremes,
    t_threshold,
    verdict,
)


def test_the_verdict_never_claims_more_than_the_interval_and_the_t_test_allow():
    assert verdict(-1.0, -3.0, 2.0, 8.0, 8) == "unclear"  # interval includes 0
    assert verdict(13.0, 10.0, 16.0, 8.0, 8) == "clear"
    # two replicates: a narrow bootstrap interval, but a paired t-test cannot tell it
    assert verdict(5.0, 3.0, 7.0, 28.0, 2) == "tentative"
    # one pair: its "interval" is the difference itself; nothing can be told from chance
    assert verdict(5.0, 5.0, 5.0, float("nan"), 1) == "unclear"
    assert verdict(float("nan"), 1.0, 2.0, 1.0, 5) == "unclear"


def test_t_threshold_agrees_with_scipys_paired_t_test():
    from scipy import stats

    rng = np.random.default_rng(3)
    for n in (3, 8, 20):
        diffs = rng.normal(1.0, 2.0, n)
        mde = an.minimum_detectable_effect(diffs)
        significant = stats.ttest_1samp(diffs, 0.0).pvalue < 0.05
        assert (abs(diffs.mean()) > t_threshold(mde, n)) == significant


def test_replicates_needed_reproduce_the_minimum_detectable_effect():
    rng = np.random.default_rng(0)
    diffs = rng.normal(0.0, 5.0, 8)
    mde = an.minimum_detectable_effect(diffs)
    assert replicates_needed(mde, 8, mde) == 8
    need = replicates_needed(mde, 8, mde / 2)
    assert 20 <= need <= 32  # about four times the replicates for half the effect
    # with that many replicates and the same spread, the design detects half the effect
    same_spread = _with_sd(need, diffs.std(ddof=1))
    assert an.minimum_detectable_effect(same_spread) == pytest.approx(mde / 2, rel=0.08)
    assert math.isnan(replicates_needed(mde, 8, 0.0))
    assert math.isnan(replicates_needed(mde, 8, mde / 1000, limit=100))
    assert math.isnan(replicates_needed(float("nan"), 1, 3.0))


def _with_sd(n: int, sd: float) -> np.ndarray:
    """n values with sample standard deviation sd."""
    z = np.linspace(-1, 1, n)
    return z / z.std(ddof=1) * sd


def test_run_extremes_give_each_runs_peak_and_mean_without_month_0():
    ts = pd.DataFrame(
        {
            "run_id": ["a"] * 4 + ["b"] * 4,
            "step": [0, 1, 2, 3] * 2,
            "mean_rent": [9.0, 1.0, 5.0, 3.0, 0.0, 2.0, 2.0, 2.0],
        }
    )
    out = run_extremes(ts, ["mean_rent", "absent"]).set_index("run_id")
    assert list(out.columns) == ["mean_rent_peak", "mean_rent_run_mean"]
    assert out.loc["a"].tolist() == [5.0, 3.0]  # month 0's 9 is the initial state
    assert out.loc["b"].tolist() == [2.0, 2.0]
