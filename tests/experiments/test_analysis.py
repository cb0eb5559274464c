"""Analysis functions on small hand-built tables with known answers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from clustersim.experiments import analysis as an


def _outcomes(
    effect_by_replicate: dict[str, list[float]], base: list[float], spend: float = 0.0
) -> pd.DataFrame:
    rows = []
    for r, b in enumerate(base):
        rows.append(
            {
                "site": "town",
                "arm": "none",
                "replicate": r,
                "creative_employment": b,
                "policy_spend_total": 0.0,
            }
        )
    for arm, diffs in effect_by_replicate.items():
        for r, (b, d) in enumerate(zip(base, diffs, strict=True)):
            rows.append(
                {
                    "site": "town",
                    "arm": arm,
                    "replicate": r,
                    "creative_employment": b + d,
                    "policy_spend_total": spend,
                }
            )
    return pd.DataFrame(rows)


def test_bootstrap_interval_of_constant_values_is_that_value():
    assert an.bootstrap_mean_ci([3.0, 3.0, 3.0, 3.0]) == (3.0, 3.0)
    low, high = an.bootstrap_mean_ci(np.array([[1.0, 5.0], [1.0, 5.0]]))
    assert list(low) == [1.0, 5.0] and list(high) == [1.0, 5.0]
    assert all(math.isnan(v) for v in an.bootstrap_mean_ci([]))


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    values = np.arange(20, dtype=float)
    low, high = an.bootstrap_mean_ci(values, seed=1)
    assert low < values.mean() < high
    assert (low, high) == an.bootstrap_mean_ci(values, seed=1)
    assert (low, high) != an.bootstrap_mean_ci(values, seed=2)


def test_wilson_interval_known_values():
    low, high = an.wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)
    assert an.wilson_interval(0, 10)[0] == 0.0
    assert an.wilson_interval(10, 10)[1] == 1.0
    assert an.wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)


def test_paired_differences_pair_by_replicate_and_drop_unpaired():
    table = _outcomes({"plan": [1.0, 2.0, 3.0]}, base=[10.0, 20.0, 30.0])
    table = table[~((table["arm"] == "none") & (table["replicate"] == 2))]  # a failed run
    pairs = an.paired_differences(table, "creative_employment", baseline="none")
    assert list(pairs["replicate"]) == [0, 1]
    assert list(pairs["difference"]) == [1.0, 2.0]


def test_effect_of_a_constant_shift_is_exact_and_significant():
    table = _outcomes({"plan": [5.0] * 6, "noise": [1.0, -1.0] * 3}, base=[10, 20, 30, 40, 50, 60])
    eff = an.effects(table, ["creative_employment"], baseline="none").set_index("arm")
    assert eff.loc["plan", "effect"] == 5.0
    assert (eff.loc["plan", "ci_low"], eff.loc["plan", "ci_high"]) == (5.0, 5.0)
    assert eff.loc["plan", "significant"]
    assert eff.loc["plan", "n_pairs"] == 6
    assert eff.loc["plan", "relative_effect"] == pytest.approx(5 / 35)
    assert eff.loc["noise", "effect"] == 0.0
    assert eff.loc["noise", "ci_low"] < 0 < eff.loc["noise", "ci_high"]
    assert not eff.loc["noise", "significant"]


def _series(run: str, lq: list[float], emp: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": run,
            "site": "town",
            "arm": "none",
            "step": range(len(lq)),
            "location_quotient": lq,
            "creative_employment": emp,
        }
    )


def test_take_off_requires_both_conditions_sustained_to_the_end():
    ts = pd.concat(
        [
            _series("steady", [1.0, 1.3, 1.3, 1.4, 1.5], [100, 110, 125, 130, 140]),
            _series("blip", [1.0, 1.3, 1.3, 1.0, 1.0], [100, 130, 130, 100, 100]),
            _series("relapse", [1.0, 1.3, 1.1, 1.3, 1.3], [100, 130, 130, 130, 130]),
            _series("lq_only", [1.0, 1.3, 1.3, 1.3, 1.3], [100, 100, 100, 100, 110]),
            _series("growth_only", [1.0, 1.0, 1.0, 1.0, 1.2], [100, 200, 200, 200, 200]),
        ]
    )
    res = an.take_off(ts, lq_threshold=1.25, growth=0.2).set_index("run_id")
    assert res.loc["steady", "took_off"] and res.loc["steady", "takeoff_step"] == 2
    assert res.loc["relapse", "took_off"] and res.loc["relapse", "takeoff_step"] == 3
    for run in ("blip", "lq_only", "growth_only"):
        assert not res.loc[run, "took_off"]
        assert math.isnan(res.loc[run, "takeoff_step"])
    assert res.loc["steady", "employment_growth"] == pytest.approx(0.4)
    assert res.loc["steady", "site"] == "town"  # labels are kept


def test_takeoff_summary_counts_and_averages_the_months():
    runs = pd.DataFrame(
        {
            "site": "town",
            "arm": ["a"] * 4 + ["b"] * 2,
            "took_off": [True, True, False, False, False, False],
            "takeoff_step": [10.0, 20.0, np.nan, np.nan, np.nan, np.nan],
        }
    )
    s = an.takeoff_summary(runs).set_index("arm")
    assert s.loc["a", "probability"] == 0.5 and s.loc["a", "took_off"] == 2
    assert s.loc["a", "mean_takeoff_step"] == 15.0
    assert 10.0 <= s.loc["a", "takeoff_step_low"] <= s.loc["a", "takeoff_step_high"] <= 20.0
    assert s.loc["b", "probability"] == 0.0 and s.loc["b", "probability_low"] == 0.0
    assert math.isnan(s.loc["b", "mean_takeoff_step"])


def test_cost_per_job_known_answer_and_undefined_cases():
    table = _outcomes(
        {"good": [10.0] * 5, "useless": [2.0, -2.0, 1.0, -1.0, 0.0]},
        base=[100.0] * 5,
        spend=1_000_000.0,
    )
    cost = an.cost_per_job(table, baseline="none").set_index("arm")
    assert cost.loc["good", "cost_per_job"] == 100_000.0
    assert (cost.loc["good", "cost_low"], cost.loc["good", "cost_high"]) == (100_000.0, 100_000.0)
    assert cost.loc["good", "note"] == ""
    assert math.isnan(cost.loc["useless", "cost_per_job"])
    assert "includes" in cost.loc["useless", "note"]
    free = _outcomes({"free": [10.0] * 3}, base=[100.0] * 3, spend=0.0)
    assert an.cost_per_job(free, baseline="none")["note"].iloc[0] == "no policy spend"


def test_cost_per_job_interval_when_a_few_resamples_gain_no_jobs():
    # one replicate in ten loses jobs: about 0.3% of bootstrap resamples gain none
    table = _outcomes({"mostly": [30.0] * 9 + [-30.0]}, base=[100.0] * 10, spend=600_000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero, no negative costs
        cost = an.cost_per_job(table, baseline="none").iloc[0]
    assert cost["cost_per_job"] == 25_000.0
    assert 0 < cost["cost_low"] <= 25_000.0 <= cost["cost_high"] < math.inf


def test_scaling_exponent_of_an_exact_power_law():
    pop = np.array([5e3, 1e4, 5e4, 1e5, 5e5, 1e6])
    table = pd.DataFrame({"population": pop, "jobs": 0.02 * pop**1.15, "firms": 0.01 * pop})
    fit = an.scaling_exponents(table, ["jobs", "firms"]).set_index("metric")
    assert fit.loc["jobs", "exponent"] == pytest.approx(1.15)
    assert fit.loc["jobs", "prefactor"] == pytest.approx(0.02)
    assert fit.loc["jobs", "ci_low"] == pytest.approx(1.15)
    assert fit.loc["jobs", "ci_high"] == pytest.approx(1.15)
    assert fit.loc["firms", "exponent"] == pytest.approx(1.0)
    assert fit.loc["jobs", "r2"] == pytest.approx(1.0)


def test_scaling_interval_covers_the_true_exponent_under_noise():
    rng = np.random.default_rng(3)
    pop = np.repeat(np.geomspace(5e3, 1e6, 8), 5)
    jobs = 0.02 * pop**1.1 * np.exp(rng.normal(0, 0.1, len(pop)))
    fit = an.scaling_exponents(pd.DataFrame({"population": pop, "jobs": jobs}), ["jobs"])
    assert fit["ci_low"].iloc[0] < 1.1 < fit["ci_high"].iloc[0]
    assert fit["ci_high"].iloc[0] - fit["ci_low"].iloc[0] < 0.1


def test_run_outcomes_final_levels_and_flow_totals():
    ts = pd.DataFrame(
        {
            "run_id": ["a"] * 3 + ["b"] * 3,
            "arm": ["x"] * 3 + ["y"] * 3,
            "step": [0, 1, 2] * 2,
            "creative_employment": [10, 11, 12, 20, 21, 25],
            "policy_spend": [0.0, 5.0, 5.0, 0.0, 1.0, 1.0],
            "innovation": [0, 1, 2, 0, 0, 3],
            "spend_festival": [0.0, 5.0, 5.0] * 2,
        }
    )
    out = an.run_outcomes(ts, last_months=2).set_index("run_id")
    assert out.loc["a", "creative_employment"] == 12
    assert out.loc["a", "creative_employment_start"] == 10
    assert out.loc["a", "policy_spend_total"] == 10.0
    assert out.loc["b", "innovation_total"] == 3
    assert out.loc["a", "innovation_last_year"] == 3  # steps 1 and 2
    assert out.loc["a", "spend_festival_total"] == 10.0
    assert out.loc["b", "arm"] == "y"


def test_mean_bands_of_identical_runs_have_no_width():
    ts = pd.DataFrame(
        {
            "run_id": ["a"] * 3 + ["b"] * 3,
            "site": "t",
            "arm": "x",
            "step": [0, 1, 2] * 2,
            "m": [1.0, 2.0, 3.0] * 2,
        }
    )
    bands = an.mean_bands(ts, "m")
    assert list(bands["mean"]) == [1.0, 2.0, 3.0]
    assert list(bands["low"]) == list(bands["high"]) == [1.0, 2.0, 3.0]
    assert list(bands.columns[:2]) == ["site", "arm"]
    assert set(bands["runs"]) == {2}


def test_minimum_detectable_effect_is_detected_with_the_stated_power():
    """A true effect equal to the MDE is found by the paired t-test in about 80% of designs."""
    from scipy import stats

    from clustersim.experiments.analysis import minimum_detectable_effect

    rng = np.random.default_rng(3)
    n, sd = 8, 5.0
    # with the true sd the formula gives the design's MDE; check its power by simulation
    true_mde = (stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)) * sd / np.sqrt(n)
    diffs = rng.normal(true_mde, sd, size=(20_000, n))
    p = stats.ttest_1samp(diffs, 0.0, axis=1).pvalue
    power = float(np.mean(p < 0.05))
    assert 0.76 < power < 0.84  # the t approximation of the noncentral t is slightly off
    # a design's estimate from its replicates is near the true one; four times the
    # replicates halve it; without spread nothing hides
    few, many = rng.normal(0.0, sd, size=n), rng.normal(0.0, sd, size=4 * n)
    assert 0.5 * true_mde < minimum_detectable_effect(few) < 1.5 * true_mde
    assert minimum_detectable_effect(many) < 0.7 * minimum_detectable_effect(few)
    assert minimum_detectable_effect([2.0, 2.0, 2.0]) == 0.0


def test_an_arms_intervals_do_not_move_when_other_arms_come_or_the_runs_are_reordered():
    # a design re-run with one arm changed (new config, new run ids that sort elsewhere)
    # must leave the other arms' intervals, and so their verdicts, where they were
    rng = np.random.default_rng(5)
    base = list(rng.normal(150, 10, 6))
    noisy = {arm: list(rng.normal(mu, 8, 6)) for arm, mu in (("a", 12.0), ("b", 3.0))}
    both = _outcomes(noisy, base, spend=500_000.0)
    alone = _outcomes({"a": noisy["a"]}, base, spend=500_000.0)
    alone = alone.sample(frac=1.0, random_state=1).reset_index(drop=True)  # another order
    columns = ["effect", "ci_low", "ci_high"]
    metrics = ["creative_employment"]
    first = an.effects(both, metrics, baseline="none").set_index(["metric", "arm"])
    again = an.effects(alone, metrics, baseline="none").set_index(["metric", "arm"])
    key = ("creative_employment", "a")
    assert again.loc[key, columns].tolist() == first.loc[key, columns].tolist()
    assert first.loc[key, "ci_low"] < first.loc[key, "ci_high"]  # an interval, not a point
    cost_columns = ["cost_per_job", "cost_low", "cost_high"]
    cost_first = an.cost_per_job(both, baseline="none").set_index("arm").loc["a", cost_columns]
    cost_again = an.cost_per_job(alone, baseline="none").set_index("arm").loc["a", cost_columns]
    assert cost_again.tolist() == cost_first.tolist()
    # and a different arm name draws another stream (the streams are not all one)
    renamed = both.replace({"arm": {"b": "c"}})
    other = an.effects(renamed, metrics, baseline="none").set_index("arm")
    assert other.loc["c", "ci_low"] != first.loc[("creative_employment", "b"), "ci_low"]


def test_take_off_times_keep_their_interval_whatever_else_the_table_holds():
    months = np.random.default_rng(2).uniform(5, 60, 15).round(1)
    runs = pd.DataFrame(
        {
            "site": "town",
            "arm": ["b"] * 3 + ["a"] * 12,
            "took_off": True,
            "takeoff_step": months,
        }
    )
    cols = ["takeoff_step_low", "takeoff_step_high"]
    full = an.takeoff_summary(runs).set_index("arm").loc["a", cols]
    only = an.takeoff_summary(runs.iloc[3:].iloc[::-1]).set_index("arm").loc["a", cols]
    assert only.tolist() == full.tolist()


def test_effects_report_the_design_minimum_detectable_effect():
    from clustersim.experiments.analysis import effects, minimum_detectable_effect

    rows = []
    for rep, (b, a) in enumerate([(10, 12), (11, 14), (9, 10), (10, 13)]):
        rows += [
            {"site": "town", "arm": "none", "replicate": rep, "jobs": b},
            {"site": "town", "arm": "hub", "replicate": rep, "jobs": a},
        ]
    table = effects(pd.DataFrame(rows), ["jobs"], baseline="none", n_boot=200)
    assert table["mde"].iloc[0] == pytest.approx(minimum_detectable_effect([2, 3, 1, 3]))


def test_a_band_s_bootstrap_stream_is_the_first_child_of_the_analysis_seed():
    rng = np.random.default_rng(3)
    ts = pd.DataFrame(
        {"run_id": np.repeat(["a", "b", "c", "d"], 5), "step": np.tile(range(5), 4)}
    ).assign(site="town", arm="none", creative_jobs=rng.random(20))
    bands = an.mean_bands(ts, "creative_jobs", seed=11, n_boot=300)
    wide = ts.pivot_table(index="run_id", columns="step", values="creative_jobs").to_numpy()
    child = np.random.SeedSequence(11).spawn(10_000)[0]
    low, high = an.bootstrap_mean_ci(wide, n_boot=300, seed=np.random.default_rng(child))
    np.testing.assert_array_equal(bands["low"], low)
    np.testing.assert_array_equal(bands["high"], high)
