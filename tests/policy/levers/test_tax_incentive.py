"""Tax incentives: fewer exits while paid, and the exits of dependent firms when they stop."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim import CreativeClusterModel
from conftest import uniform_city
from lever_runs import SEEDS, pair, stepper, ts


@pytest.fixture(scope="module")
def tax_runs():
    """(baseline, with subsidies) per seed: subsidies paid in months 1-24, runs to month 36."""
    policy = {"tax_incentive": {"start": 1, "duration": 24}}
    return [pair(policy, months=36, seed=seed) for seed in SEEDS]


def test_tax_incentive_pays_firms_at_the_target_and_fewer_exit_while_paid(tax_runs):
    exits = np.zeros(2)  # exits in the two years of subsidies, summed over the seeds
    for base, paid in tax_runs:
        firms = paid.firm_table()
        assert firms["subsidy_received"].sum() == pytest.approx(paid.policy_table()["spent"][0])
        exits += [ts(m)["firm_exits"].iloc[1:25].sum() for m in (base, paid)]
    assert exits[1] < 0.8 * exits[0]
    _, one_node = pair({"tax_incentive": {"start": 1, "target": ["Testville 0"]}}, months=6)
    firms = one_node.firm_table()
    assert (firms.query("node == 0")["subsidy_received"] > 0).any()
    assert (firms.query("node != 0")["subsidy_received"] == 0).all()


def test_firms_exit_when_tax_incentives_stop(tax_runs):
    """Failure mode (docs/evidence.md, section Tax incentives and subsidies): dependence on
    subsidies; the exits come when they stop.

    The firms the subsidy kept alive are those whose twins (same firm, same
    seed) exited in the run without it while it was paid; most of them exit
    within a year of the stop.
    """
    exited_within_a_year = []
    for base, paid in tax_runs:
        a, b = base.firm_table(), paid.firm_table()
        initial = a.index[a["founded_step"] <= 0]
        kept = initial[(a.loc[initial, "exit_step"] <= 24).fillna(False).to_numpy(dtype=bool)]
        kept = kept[~(b.loc[kept, "exit_step"] <= 24).fillna(False).to_numpy(dtype=bool)]
        assert (b.loc[kept, "subsidy_received"] > 0).all()
        exit_step = b.loc[kept, "exit_step"]
        assert not (exit_step <= 24).any()
        exited_within_a_year += list((exit_step <= 36).fillna(False).to_numpy(dtype=bool))
    assert len(exited_within_a_year) >= 8
    assert np.mean(exited_within_a_year) >= 0.6


def test_two_tax_incentives_on_the_same_firms_add_up_and_end_separately():
    one = {"tax_incentive": {"start": 1}}
    two = {**one, "tax_incentive_2": {"start": 1, "duration": 1, "per_employee": 100}}
    a, b = stepper(one)[1], CreativeClusterModel(rng=0, city=uniform_city(5, 4000), policy=two)
    a.step()
    b.step()
    n = min(a.firms.n, b.firms.n)  # firms born this month may differ
    np.testing.assert_allclose(b.firms.subsidy[:n], a.firms.subsidy[:n] * (250 + 100) / 250)
    b.step()  # the second has completed: only the first is paid, 250 EUR per employee
    assert b.policy_table()["stop_reason"].fillna("-").tolist() == ["-", "completed"]
    paid = b.firms.subsidy[b.firms.subsidy > 0]
    assert len(paid) > 0
    np.testing.assert_allclose(paid % 250, 0)
