"""Tax incentives: subsidies reach the target firms and raise their margins while paid; the
margins fall back when they stop."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim import CreativeClusterModel
from conftest import uniform_city
from lever_runs import SEEDS, pair, stepper


def _median_margins(model, months: int) -> np.ndarray:
    """Median profit margin of the living firms after each of the next ``months`` months."""
    out = []
    for _ in range(months):
        model.step()
        out.append(np.median(model.firms.margin[model.firms.alive]))
    return np.array(out)


@pytest.fixture(scope="module")
def tax_runs():
    """Per seed: (baseline, with subsidies paid in months 1-24), each run to month 36, and
    the median margin of living firms in each month."""
    runs = []
    for seed in SEEDS:
        base, paid = stepper({"tax_incentive": {"start": 1, "duration": 24}}, seed=seed)
        runs.append((base, paid, _median_margins(base, 36), _median_margins(paid, 36)))
    return runs


def test_tax_incentive_pays_firms_at_the_target_and_raises_their_margins_while_paid(tax_runs):
    for _, paid, base_margin, paid_margin in tax_runs:
        firms = paid.firm_table()
        assert firms["subsidy_received"].sum() == pytest.approx(paid.policy_table()["spent"][0])
        assert paid_margin[:24].mean() > base_margin[:24].mean() + 0.03
    _, one_node = pair({"tax_incentive": {"start": 1, "target": ["Testville 0"]}}, months=6)
    firms = one_node.firm_table()
    assert (firms.query("node == 0")["subsidy_received"] > 0).any()
    assert (firms.query("node != 0")["subsidy_received"] == 0).all()


def test_margins_fall_back_when_tax_incentives_stop(tax_runs):
    """Failure mode (docs/evidence.md, section Tax incentives and subsidies): dependence on
    subsidies. Once they stop, firms' margins fall back to those of the town without them
    within months: the subsidy bought no lasting advantage."""
    for _, _, base_margin, paid_margin in tax_runs:
        during = paid_margin[:24].mean() - base_margin[:24].mean()
        after = paid_margin[27:].mean() - base_margin[27:].mean()
        assert after < during / 3


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
