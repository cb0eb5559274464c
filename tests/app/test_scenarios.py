"""The app's settings: what the controls and lesson scenarios mean for the model (no browser)."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from clustersim.app.panels import UNCAPPED_CAUTION
from clustersim.app.scenarios import (
    CITY_LABELS,
    LEVER_INFO,
    SCENARIOS,
    ClassroomSettings,
    ClassroomTown,
    available_levers,
    city_graph,
    model_kwargs,
    refused_levers,
)
from clustersim.model.config import MarketParams
from clustersim.model.core import CreativeClusterModel
from conftest import users_spin_up


def test_levers_become_the_models_policy_argument() -> None:
    settings = ClassroomSettings(levers=(("creative_hub", 1.5), ("festival", 1.0)), policy_start=6)
    assert settings.policy() == {
        "creative_hub": {"intensity": 1.5, "start": 6},
        "festival": {"intensity": 1.0, "start": 6},
    }
    kwargs = model_kwargs(settings)
    assert kwargs["policy"] == settings.policy()
    assert kwargs["institutions"] == {"municipality_budget": settings.budget}
    assert "policy" not in model_kwargs(ClassroomSettings())


def test_switching_levers_on_and_off() -> None:
    settings = ClassroomSettings().with_lever("festival", 2.0).with_lever("creative_hub", 1.0)
    assert settings.levers == (("creative_hub", 1.0), ("festival", 2.0))
    assert settings.with_lever("festival", None).levers == (("creative_hub", 1.0),)
    assert settings.lever_intensity("festival") == 2.0
    assert settings.lever_intensity("broadband") is None


def test_every_model_lever_is_offered() -> None:
    levers = available_levers()
    from clustersim.policy.levers import LEVERS

    assert set(levers) == set(LEVERS)
    assert levers[: sum(info.main for info in LEVER_INFO.values())] == [
        name for name, info in LEVER_INFO.items() if info.main
    ]


def test_no_lever_controls_without_the_levers_module(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "clustersim.policy.levers", None)  # import fails
    assert available_levers() == []


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="city must be one of"):
        ClassroomSettings(city="atlantis")
    with pytest.raises(ValueError, match="accessibility"):
        ClassroomSettings(accessibility=0.0)
    with pytest.raises(ValueError, match="once"):
        ClassroomSettings(levers=(("festival", 1.0), ("festival", 2.0)))


def test_the_app_draws_the_same_city_as_the_model() -> None:
    for city in ("small_town", "obidos"):
        ours = city_graph(ClassroomSettings(city=city), np.random.default_rng(3))
        theirs = CreativeClusterModel(city=city, rng=3).graph
        assert dict(ours.nodes(data=True)) == dict(theirs.nodes(data=True))
        assert list(ours.edges(data=True)) == list(theirs.edges(data=True))


def test_accessibility_brings_outside_markets_nearer_and_nothing_else() -> None:
    plain = ClassroomSettings(city="obidos", seed=3)
    faster = dataclasses.replace(plain, accessibility=2.0)
    assert model_kwargs(faster)["market"] == {"outside_time": MarketParams().outside_time / 2}
    assert model_kwargs(faster)["rng"] == model_kwargs(plain)["rng"] == 3
    town0, town1 = ClassroomTown(settings=plain), ClassroomTown(settings=faster)
    # the same city graph; the town reaches more outside buyers and sells dearer
    assert dict(town0.graph.nodes(data=True)) == dict(town1.graph.nodes(data=True))
    focus = town0.focus_nodes
    assert (town1.market_potential[focus] > town0.market_potential[focus]).all()
    assert (town1.market_access[focus] > town0.market_access[focus]).all()


def test_at_todays_accessibility_the_town_is_the_command_lines() -> None:
    # `clustersim city=obidos seed=3` and the page's Obidos with seed 3: the same run,
    # and the same spin-up (cached once for both)
    settings = ClassroomSettings(city="obidos", seed=3)
    ours, theirs = ClassroomTown(settings=settings), CreativeClusterModel(city="obidos", rng=3)
    ours.run_for(3)
    theirs.run_for(3)
    assert ours.records == theirs.records
    assert model_kwargs(settings)["rng"] == 3


def test_agglomeration_cap_and_budget_reach_the_model() -> None:
    town = ClassroomTown(settings=ClassroomSettings(agglomeration_cap=None, budget=1e6))
    assert town.params.firm.agglomeration_cap is None
    assert town.municipality.budget == 1e6


def test_baseline_is_the_same_town_until_the_levers_start() -> None:
    settings = SCENARIOS["hub_and_festival"].settings
    town = ClassroomTown(settings=settings)
    assert {p.name for p in town.policies} == {"creative_hub", "festival"}
    assert town.baseline is not None and not town.baseline.policies
    town.run_for(settings.policy_start + 3)
    assert len(town.records) == len(town.baseline.records) == settings.policy_start + 4
    before = settings.policy_start  # records[k] is month k
    for row, base in zip(town.records[:before], town.baseline.records[:before], strict=True):
        assert row["creative_employment"] == base["creative_employment"]
    assert sum(r["policy_spend"] for r in town.records) > 0
    assert ClassroomTown(settings=ClassroomSettings()).baseline is None


def test_every_scenario_and_city_builds_and_steps() -> None:
    for scenario in SCENARIOS.values():
        town = ClassroomTown(settings=scenario.settings)
        town.step()
        assert town.steps == 1
        assert scenario.watch_for
    for city in CITY_LABELS:
        settings = ClassroomSettings(city=city)
        assert city_graph(settings, np.random.default_rng(0)).number_of_nodes() > 0
    town = CreativeClusterModel(**model_kwargs(ClassroomSettings(city="obidos")))
    assert town.place_names == ["Obidos", "Lisbon"]


def test_in_the_small_town_the_cap_changes_nothing() -> None:
    # the side panel's caution when the cap is unticked: "In the small town no place
    # reaches 200 jobs: there a cap of 200 or more changes nothing." (as users get the
    # town, after its spin-up)
    assert "In the small town no place reaches 200 jobs: there a cap of 200 or more" in (
        UNCAPPED_CAUTION
    )
    with users_spin_up():
        capped = ClassroomTown(settings=ClassroomSettings(agglomeration_cap=200.0))
        uncapped = ClassroomTown(settings=ClassroomSettings())
    assert uncapped.params.firm.agglomeration_cap is None
    assert capped.spin_up_months > 0
    jobs = np.bincount(
        capped.firms.node[capped.firms.alive],
        weights=capped.firms.employees[capped.firms.alive],
        minlength=capped.n_nodes,
    )
    assert (capped.agglomeration_reach @ jobs).max() < 200
    capped.run_for(12)
    uncapped.run_for(12)
    assert capped.records == uncapped.records


def test_refused_levers_name_the_partnership_in_a_town_without_a_university():
    town = CreativeClusterModel(rng=0, city="small_town", population=3000, spin_up={"months": 0})
    city = CreativeClusterModel(rng=0, city="medium_city", population=60000, spin_up={"months": 0})
    refused = refused_levers(town)
    assert list(refused) == ["university_partnership"]
    assert refused["university_partnership"].startswith("this region has no university")
    assert refused_levers(city) == {}
    assert refused_levers(None) == {}
