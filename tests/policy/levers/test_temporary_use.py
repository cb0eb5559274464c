"""Temporary use: cheap space on the most vacant node for a limited time."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import uniform_city
from lever_runs import stepper


def vacant_city():
    g = uniform_city(5, 4000)
    for node, vacant in zip(g.nodes, [0.05, 0.1, 0.3, 0.05, 0.1], strict=True):
        g.nodes[node]["vacant_space"] = vacant
    return g


def test_temporary_use_opens_cheap_space_on_the_most_vacant_node_for_a_limited_time():
    policy = {"temporary_use": {"start": 1, "duration": 12, "target": "most_vacant"}}
    base, temp = stepper(policy, city=vacant_city)
    base.step()
    temp.step()
    assert temp.policies[0].target_nodes == [2]
    assert temp.rent_factor == pytest.approx([1, 1, 0.4, 1, 1])
    f = base.firms
    at_2 = f.alive & (f.node == 2)
    assert at_2.sum() > 0
    assert (temp.firms.profit[at_2] > f.profit[at_2]).all()  # cheaper workspace
    np.testing.assert_allclose(temp.firms.profit[~at_2 & f.alive], f.profit[~at_2 & f.alive])
    base.run_for(11)
    temp.run_for(11)
    tenants = np.flatnonzero(at_2)  # the same firms, a year on: the savings are in the bank
    assert temp.firms.cash[tenants].sum() > base.firms.cash[tenants].sum()
    temp.step()  # month 13: the spaces close
    assert temp.policy_table()["stop_reason"].tolist() == ["completed"]
    assert temp.rent_factor == pytest.approx(np.ones(5))
