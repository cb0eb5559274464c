"""The recording phase: the declared outcomes, in order, per month; a row per place."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clustersim import CreativeClusterModel, load_config
from clustersim.model.outcomes import OUTCOME_NAMES
from clustersim.model.phases import recording
from clustersim.model.phases.aggregates import Census
from conftest import uniform_city


@pytest.fixture
def model():
    return CreativeClusterModel(rng=0, city="small_town", population=3000)


def test_recorded_columns_are_the_declared_outcomes_in_order(model):
    model.run_for(2)
    for row in model.records:
        assert tuple(row) == OUTCOME_NAMES


def test_policy_spend_columns_follow_the_declared_outcomes():
    model = CreativeClusterModel(
        rng=0, city="small_town", population=3000, policy={"festival": {"start": 1}}
    )
    model.run_for(2)
    ts = pd.DataFrame(model.records)
    assert list(ts.columns) == [*OUTCOME_NAMES, "spend_festival"]
    assert ts["spend_festival"].sum() == pytest.approx(ts["policy_spend"].sum())


def test_a_column_that_is_not_declared_stops_the_run(model, monkeypatch):
    monkeypatch.setattr(recording, "OUTCOME_NAMES", OUTCOME_NAMES[:-1])
    with pytest.raises(AssertionError, match=r"undeclared \['municipal_budget'\]"):
        model.step()


def test_a_declared_column_that_is_not_computed_stops_the_run(model, monkeypatch):
    monkeypatch.setattr(recording, "OUTCOME_NAMES", (*OUTCOME_NAMES, "happiness"))
    with pytest.raises(AssertionError, match=r"not computed \['happiness'\]"):
        recording.outcome_row(model, Census.of(model))


def test_place_rows_add_up_to_the_region():
    cfg, _ = load_config("region", overrides=["city.city_population=100000"])
    model = CreativeClusterModel.from_config(cfg)
    assert len(model.place_names) == 2
    model.run_for(3)
    places = pd.DataFrame(model.place_records)
    assert len(places) == 4 * len(model.place_names)
    last = places[places["step"] == 3]
    row = model.records[-1]
    assert last["talents"].sum() == row["region_talents"]
    assert last["creative_firms"].sum() == row["region_creative_firms"]
    assert last["creative_employment"].sum() == row["region_creative_employment"]
    focus = last[last["place"] == model.place_names[model.focus_place]].iloc[0]
    assert focus["talents"] == row["talents"]
    assert focus["population"] == row["population"]


def test_start_month_sets_the_flow_counters_to_zero(model):
    model.run_for(3)
    model.births_by_node[:] = 5
    model.left_region[:] = 2
    recording.start_month(model)
    for name in ("births_by_node", "exits_by_node", "innovations_by_node", "displaced_by_node"):
        assert getattr(model, name).shape == (model.n_nodes,)
        assert not getattr(model, name).any()
    for name in ("moves_in", "moves_out", "left_region", "graduates_by_place"):
        assert getattr(model, name).shape == (len(model.place_names),)
        assert not getattr(model, name).any()


def test_flows_are_the_counts_of_the_month():
    model = CreativeClusterModel(rng=1, city=uniform_city(3, 4000))
    victim = int(np.flatnonzero(model.firms.alive)[0])
    model.firms.cash[victim] = -1e9
    model.step()
    row = model.records[-1]
    assert row["firm_exits"] == int(model.exits_by_node.sum()) >= 1
    assert row["firm_births"] == int((model.firms.founded == 1).sum())


def test_the_datacollector_collects_the_recorded_row_and_leaves_agent_reporters_to_mesa():
    model = CreativeClusterModel(rng=4, city="small_town", population=4000)
    model.run_for(3)
    collected = model.datacollector.model_vars
    assert model.datacollector._collection_steps == [0, 1, 2, 3]  # what mesa.batch_run reads
    for name, values in collected.items():
        assert values == [row[name] for row in model.records]
    # with an agent reporter added, Mesa's own collection runs (reporters called)
    dc = recording._RowCollector(
        model_reporters={"firms": lambda m: int(m.firms.alive.sum())},
        agent_reporters={"kind": lambda agent: type(agent).__name__},
    )
    dc.collect(model)
    assert dc.model_vars["firms"] == [int(model.firms.alive.sum())]
    kinds = dc.get_agent_vars_dataframe()["kind"]
    assert len(kinds) == len(model.agents) and "Talent" in set(kinds)
    # and with a model reporter of something not in the recorded row, or of a name in it
    dc = recording._RowCollector(model_reporters={"firms": lambda m: int(m.firms.alive.sum())})
    dc.collect(model)
    assert dc.model_vars["firms"] == [int(model.firms.alive.sum())]
    dc = recording._RowCollector(model_reporters={"population": lambda m: -1.0})
    dc.collect(model)
    assert dc.model_vars["population"] == [-1.0]
    dc = recording.datacollector()
    dc.model_reporters["population"] = lambda m: -2.0  # replaced after it was made
    dc.collect(model)
    assert dc.model_vars["population"] == [-2.0]
