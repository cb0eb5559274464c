"""Report figures: built from analysis tables, titled with the outcomes table's labels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clustersim.experiments import analysis as an
from clustersim.experiments.figures import (
    figure_effects,
    figure_scaling,
    figure_takeoff,
    figure_timeseries,
)
from clustersim.model.outcomes import label


def _timeseries() -> pd.DataFrame:
    rows = []
    for run, (arm, replicate) in enumerate([("none", 0), ("none", 1), ("hub", 0), ("hub", 1)]):
        for step in range(4):
            rows.append(
                {
                    "run_id": f"r{run}",
                    "site": "town",
                    "arm": arm,
                    "replicate": replicate,
                    "step": step,
                    "creative_employment": 100.0 + step * (10 if arm == "hub" else 5) + run,
                    "location_quotient": 1.0 + 0.1 * step,
                }
            )
    return pd.DataFrame(rows)


def test_time_series_panels_are_labelled_with_declared_outcomes():
    ts = _timeseries()
    fig = figure_timeseries(
        ts, ["creative_employment", "location_quotient"], sites=["town"], arms=["none", "hub"]
    )
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == [
        label("creative_employment"),
        label("location_quotient"),
    ]
    assert axes[0].get_ylabel() == "creative employment (jobs)"
    assert axes[-1].get_xlabel() == "month"


def test_effects_takeoff_and_scaling_figures_from_analysis_tables():
    ts = _timeseries()
    outcomes = an.run_outcomes(ts)
    effects = an.effects(outcomes, ["creative_employment"], baseline="none", n_boot=50)
    fig = figure_effects(effects)
    assert fig.axes[0].get_title() == label("creative_employment")
    summary = an.takeoff_summary(an.take_off(ts), n_boot=50)
    assert len(figure_takeoff(summary).axes[0].patches) == len(summary)  # one bar per arm
    pop = np.array([1e4, 2e4, 4e4, 8e4])
    table = pd.DataFrame({"population": pop, "innovation_last_year": 0.01 * pop**1.2})
    fits = an.scaling_exponents(table, ["innovation_last_year"], n_boot=50)
    assert figure_scaling(table, fits).axes[0].get_title() == "innovations (last 12 months)"


def _effects_two_sites() -> pd.DataFrame:
    rows = []
    for site, base, effect in (("town", 50.0, 5.0), ("metro", 9000.0, 500.0)):
        for arm, k in (("hub", 1.0), ("talent", -0.2)):
            e = effect * k
            rows.append(
                {"metric": "creative_employment", "site": site, "arm": arm, "n_pairs": 8,
                 "baseline_mean": base, "arm_mean": base + e, "effect": e,
                 "ci_low": e - abs(effect) / 4, "ci_high": e + abs(effect) / 4,
                 "relative_effect": e / base, "significant": True, "mde": 1.0}
            )  # fmt: skip
    rows.append({**rows[0], "metric": "displaced_total", "baseline_mean": 2.0, "effect": 30.0,
                 "ci_low": 20.0, "ci_high": 40.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_effects_of_each_site_are_drawn_on_their_own_scale_and_relative():
    """A small town's effects are not squashed on an axis shared with a metropolis."""
    effects = _effects_two_sites()
    fig = figure_effects(effects, arm_labels={"hub": "Creative hub plan"}, site_labels={})
    # columns: town, metro, relative; rows: the two measures
    town, town_displaced, metro, _metro_displaced, rel, rel_displaced = fig.axes
    assert town.get_title() == label("creative_employment")
    assert max(abs(v) for v in town.get_xlim()) < 20  # town's +5 jobs fill its panel
    assert max(abs(v) for v in metro.get_xlim()) > 400
    assert [t.get_text() for t in town.get_yticklabels()] == ["Creative hub plan", "talent"]
    assert {t.get_text() for t in metro.get_yticklabels()} == {""}  # names once: first column
    assert rel.get_title() == label("creative_employment")
    assert max(abs(v) for v in rel.get_xlim()) < 20  # +10% and +5.6%, in percent
    # 30 displaced against a baseline of 2: no relative change is drawn, and it says why
    assert [t.get_text() for t in rel_displaced.texts] == ["baseline near 0:\nno relative change"]
    assert town_displaced.get_title() == label("displaced_total")


def test_takeoff_bars_are_named_by_plan_and_counted():
    ts = _timeseries()
    summary = an.takeoff_summary(an.take_off(ts), n_boot=50)
    fig = figure_takeoff(summary, arm_labels={"hub": "Creative hub plan"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["none", "Creative hub\nplan"]
    assert [t.get_text() for t in ax.texts] == [
        f"{r.took_off} of {r.runs}" for r in summary.itertuples()
    ]
    assert ax.get_ylabel() == "chance of take-off"
