"""A Mesa user's tools work on the model: its DataCollector and mesa.batch_run."""

from __future__ import annotations

import mesa
import pytest

from clustersim import CreativeClusterModel
from clustersim.model.outcomes import OUTCOME_NAMES


def test_the_datacollector_holds_the_recorded_outcomes_every_month():
    model = CreativeClusterModel(rng=3, city="small_town", population=5000)
    model.run_for(4)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == len(model.records) == 5  # month 0 and four steps
    assert list(frame.columns) == [n for n in OUTCOME_NAMES if n != "step"]
    for row, (_, collected) in zip(model.records, frame.iterrows(), strict=True):
        assert collected.to_dict() == pytest.approx({k: row[k] for k in frame.columns})


def test_mesa_batch_run_runs_the_model_and_reports_its_outcomes():
    results = mesa.batch_run(
        CreativeClusterModel,
        parameters={"city": "small_town", "population": [4000, 6000]},
        rng=[None, None],  # Mesa's replacement for iterations=2
        max_steps=6,
        display_progress=False,
    )
    assert len(results) == 4  # 2 populations x 2 replicates, last step each
    assert sorted(r["RunId"] for r in results) == [0, 1, 2, 3]
    assert all(r["Step"] == 6 for r in results)
    # the recorded outcome "population" (residents at month 6) replaces the argument
    assert sorted(round(r["population"], -3) for r in results) == [4000, 4000, 6000, 6000]
    for r in results:
        assert r["creative_employment"] > 0 and 0 < r["creative_share"] < 0.5


def test_batch_run_with_the_same_seeds_repeats_itself():
    def run():
        return mesa.batch_run(
            CreativeClusterModel,
            parameters={"city": "small_town", "population": 4000},
            rng=[1, 2],
            max_steps=4,
            display_progress=False,
        )

    first, second = run(), run()
    assert [r["creative_employment"] for r in first] == [r["creative_employment"] for r in second]
    assert first[0]["creative_employment"] != first[1]["creative_employment"] or (
        first[0]["talents"] != first[1]["talents"]
    )
