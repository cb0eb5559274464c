"""The festival: a yearly amenity and spending pulse at its node, with rent pressure."""

from __future__ import annotations

import numpy as np
import pytest

from lever_runs import SEEDS, stepper

FESTIVAL = {"festival": {"start": 1, "month_of_year": 3, "target": ["Testville 2"]}}


def test_festival_pulses_amenity_and_visitor_spending_at_its_node_in_its_month():
    base, fest = stepper(FESTIVAL)
    for month in range(1, 6):
        base.step()
        fest.step()
        gain = fest.amenity - base.amenity
        spend = fest.records[-1]["spend_festival"]
        n = min(base.firms.n, fest.firms.n)  # firms born this month may differ
        at_2 = np.flatnonzero(base.firms.alive[:n] & (base.firms.node[:n] == 2))
        if month < 3:
            assert np.allclose(gain, 0) and spend == 0
        elif month == 3:
            assert gain[2] == pytest.approx(0.3 + 0.01)  # pulse plus lasting legacy
            assert np.allclose(np.delete(gain, 2), 0)
            assert spend == 250_000
            assert fest.firms.revenue[at_2].sum() > base.firms.revenue[at_2].sum()
        else:
            assert gain[2] == pytest.approx(0.01)  # only the legacy stays
            assert spend == 0


def test_festival_rent_pressure_at_its_node():
    """Crowding: visitors push the host node's rent up for a while, but one month of it
    pushes nobody out (displacement needs a burden that stays high for months)."""
    for seed in SEEDS:
        base, fest = stepper(FESTIVAL, seed=seed)
        base.run_for(3)
        fest.run_for(3)
        assert fest.rent[2] > 1.05 * base.rent[2]
        others = [0, 1, 3, 4]
        assert np.all(fest.rent[others] < fest.rent[2])
        displaced = 0.0
        for _ in range(6):
            fest.step()
            base.step()
            displaced += fest.displaced_by_node[2]
        assert fest.rent[2] > base.rent[2]  # rents come down slowly after the festival
        assert displaced == 0


def test_two_festivals_on_the_same_node_both_act_and_both_pay():
    second = {**FESTIVAL["festival"], "cost_per_edition": 100_000}
    base, fests = stepper({**FESTIVAL, "festival_2": second})
    base.run_for(3)
    fests.run_for(3)
    assert fests.amenity[2] - base.amenity[2] == pytest.approx(2 * (0.3 + 0.01))
    row = fests.records[-1]
    assert (row["spend_festival"], row["spend_festival_2"]) == (250_000, 100_000)
    assert row["policy_spend"] == 350_000
    assert fests.policy_table()["lever"].tolist() == ["Festival", "Festival"]
