"""The Policy base agent (clustersim.policy.base): timing, costs paid from the budget, checks."""

from __future__ import annotations

import pytest

from clustersim.model.core import CreativeClusterModel
from clustersim.policy.base import Policy


class ProbePolicy(Policy):
    """A policy that only counts its hook calls."""

    def __init__(self, model, **kwargs):
        self.started = 0
        self.acted_at: list[int] = []
        self.stopped = 0
        super().__init__(model, **kwargs)

    def on_start(self):
        self.started += 1

    def act(self):
        self.acted_at.append(self.model.steps)

    def on_stop(self):
        self.stopped += 1


@pytest.fixture
def model():
    return CreativeClusterModel(rng=0, city="small_town", population=3000)


def run(model, months):
    for _ in range(months):
        model.step()


def test_policy_registers_itself_with_the_model(model):
    policy = ProbePolicy(model, name="probe")
    assert model.policies == [policy]
    assert policy.status == "scheduled"


def test_policy_starts_at_start_acts_each_month_and_completes_after_duration(model):
    policy = ProbePolicy(model, name="probe", start=3, duration=4)
    run(model, 2)
    assert policy.status == "scheduled"
    assert policy.started == 0 and policy.acted_at == []
    run(model, 1)
    assert policy.status == "active"
    assert policy.started == 1
    run(model, 3)
    assert policy.acted_at == [3, 4, 5, 6]
    assert policy.status == "active"
    run(model, 1)
    assert policy.status == "stopped"
    assert policy.stop_reason == "completed"
    assert policy.stop_step == 7
    run(model, 3)
    assert policy.acted_at == [3, 4, 5, 6]
    assert policy.started == 1
    assert policy.stopped == 1


def test_policy_without_duration_runs_to_the_end(model):
    policy = ProbePolicy(model, name="probe", start=1)
    run(model, 5)
    assert policy.acted_at == [1, 2, 3, 4, 5]
    assert policy.status == "active"
    assert policy.stopped == 0


def test_policy_costs_are_paid_from_the_municipal_budget_and_recorded(model):
    model.municipality.budget = 1000.0
    policy = ProbePolicy(
        model, name="probe", start=2, duration=3, cost_once=100.0, cost_monthly=10.0
    )
    spend = []
    for _ in range(6):
        model.step()
        spend.append((model.records[-1]["policy_spend"], model.records[-1]["spend_probe"]))
    assert spend == [(0.0, 0.0), (110.0, 110.0), (10.0, 10.0), (10.0, 10.0), (0.0, 0.0), (0.0, 0.0)]
    assert policy.spent == pytest.approx(130.0)
    assert model.municipality.budget == pytest.approx(870.0)
    assert model.records[-1]["municipal_budget"] == pytest.approx(870.0)


def test_spend_of_two_policies_is_recorded_per_policy(model):
    model.municipality.budget = 1000.0
    ProbePolicy(model, name="hub", cost_monthly=30.0)
    ProbePolicy(model, name="festival", cost_monthly=5.0)
    model.step()
    row = model.records[-1]
    assert row["spend_hub"] == pytest.approx(30.0)
    assert row["spend_festival"] == pytest.approx(5.0)
    assert row["policy_spend"] == pytest.approx(35.0)


def test_policy_stops_when_the_budget_runs_out(model):
    model.municipality.budget = 25.0
    policy = ProbePolicy(model, name="probe", cost_monthly=10.0)
    run(model, 5)
    assert policy.acted_at == [1, 2]
    assert policy.status == "stopped"
    assert policy.stop_reason.startswith("budget exhausted")
    assert policy.stop_step == 3
    assert policy.stopped == 1
    assert policy.spent == pytest.approx(20.0)
    assert model.municipality.budget == pytest.approx(5.0)
    assert model.records[-1]["spend_probe"] == 0.0


def test_policy_that_cannot_pay_its_one_off_cost_never_starts(model):
    model.municipality.budget = 50.0
    policy = ProbePolicy(model, name="probe", start=2, cost_once=100.0)
    run(model, 3)
    assert policy.status == "stopped"
    assert policy.stop_reason.startswith("budget exhausted")
    assert policy.stop_step == 2
    assert policy.started == 0 and policy.acted_at == [] and policy.stopped == 0
    assert model.municipality.budget == pytest.approx(50.0)


def test_monthly_municipal_income_keeps_a_policy_going(model):
    model.municipality.budget = 0.0
    model.municipality.monthly_income = 10.0
    policy = ProbePolicy(model, name="probe", cost_monthly=10.0)
    run(model, 4)
    assert policy.acted_at == [1, 2, 3, 4]
    assert model.municipality.budget == pytest.approx(0.0)


def test_target_nodes_default_to_the_focus_place(model):
    everywhere = ProbePolicy(model, name="all")
    targeted = ProbePolicy(model, name="one", target=[2])
    assert everywhere.target_nodes == [int(n) for n in model.focus_nodes]
    assert targeted.target_nodes == [2]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cost_once": -1.0}, "cost_once"),
        ({"cost_monthly": -5.0}, "cost_monthly"),
        ({"intensity": -0.1}, "intensity"),
        ({"start": 0}, "start"),
        ({"duration": 0}, "duration"),
        ({"target": [0, 999]}, "target node 999"),
        ({"target": [-1]}, "target node -1"),
    ],
)
def test_invalid_policy_parameters_raise_naming_policy_and_field(model, kwargs, field):
    with pytest.raises(ValueError, match=f"policy bad_lever: {field}"):
        Policy(model, name="bad_lever", **kwargs)
    assert model.policies == []


def test_rejected_policy_leaves_no_agent_behind(model):
    before = len(model.agents)
    with pytest.raises(ValueError, match="policy bad_lever: cost_once"):
        Policy(model, name="bad_lever", cost_once=-1.0)
    assert len(model.agents) == before
    assert not any(isinstance(agent, Policy) for agent in model.agents)
