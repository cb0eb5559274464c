"""Temporary use: cheap space on the most vacant node for a limited time."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import uniform_city
from lever_runs import owners_earnings, stepper


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
    initial = f.founded <= 0  # the same firms in both runs (births of month 1 may differ)
    at_2 = np.flatnonzero(f.alive & initial & (f.node == 2))
    elsewhere = np.flatnonzero(f.alive & initial & (f.node != 2))
    assert len(at_2) > 0
    # cheaper workspace: the firms there keep more for their owners
    assert owners_earnings(temp, at_2).sum() > owners_earnings(base, at_2).sum()
    assert (owners_earnings(temp, at_2) > owners_earnings(base, at_2)).mean() > 0.8
    np.testing.assert_allclose(temp.firms.profit[elsewhere], f.profit[elsewhere])
    base.run_for(11)
    temp.run_for(11)
    temp.step()  # month 13: the spaces close
    assert temp.policy_table()["stop_reason"].tolist() == ["completed"]
    assert temp.rent_factor == pytest.approx(np.ones(5))
