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
