"""Housing mechanisms on hand-built inputs: rent targets, the housing stock, burdens and
displacement."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim.model import housing

# ----------------------------------------------------------------- rent_targets


def test_rent_target_is_base_rent_when_occupancy_and_income_are_as_at_the_start():
    base = np.array([500.0, 300.0])
    ones = np.ones(2)
    np.testing.assert_allclose(housing.rent_targets(base, ones, ones, 1.5, 1.0), base)


def test_rent_target_rises_with_occupancy_faster_than_proportionally():
    base = np.full(3, 500.0)
    target = housing.rent_targets(base, np.array([1.1, 0.9, 1.0]), np.ones(3), 1.0, 1.0)
    np.testing.assert_allclose(target, [550.0, 450.0, 500.0])
    steep = housing.rent_targets(base[:1], np.array([1.1]), np.ones(1), 2.0, 1.0)
    np.testing.assert_allclose(steep, [605.0])


def test_rent_target_follows_what_residents_can_pay():
    target = housing.rent_targets(np.array([400.0]), np.ones(1), np.array([1.25]), 1.5, 1.0)
    np.testing.assert_allclose(target, [500.0])  # a constant share of income on housing
    fixed = housing.rent_targets(np.array([400.0]), np.ones(1), np.array([1.25]), 1.5, 0.0)
    np.testing.assert_allclose(fixed, [400.0])


# --------------------------------------------------------------- housing_supply


def test_housing_stock_builds_slowly_toward_its_long_run_level():
    stock = base = np.array([1000.0])
    rent_index = np.array([2.0])
    long_run = 1000.0 * 2.0**0.2
    for _ in range(12):
        stock = housing.housing_supply(stock, base, rent_index, 0.2, 0.01, 0.0002)
    built = stock[0] - 1000.0
    assert 0 < built < 0.12 * (long_run - 1000.0)  # a year builds about a ninth of the gap
    for _ in range(1200):
        stock = housing.housing_supply(stock, base, rent_index, 0.2, 0.01, 0.0002)
    assert stock[0] == pytest.approx(long_run, rel=1e-4)


def test_housing_stock_shrinks_far_slower_than_it_grows():
    """Kinked supply (Glaeser & Gyourko 2005): durable housing is not torn down when rents fall."""
    base = np.array([1000.0])
    grown = housing.housing_supply(base, base, np.array([1.5]), 0.2, 0.01, 0.0002)[0] - 1000.0
    shrunk = 1000.0 - housing.housing_supply(base, base, np.array([1 / 1.5]), 0.2, 0.01, 0.0002)
    assert shrunk[0] == pytest.approx(0.2)  # depreciation only, though the gap is as large
    assert grown > 4 * shrunk[0]
    # it never falls below its long-run level
    low = housing.housing_supply(np.array([1000.5]), base, np.array([1.0]), 0.2, 0.01, 0.01)
    assert low[0] == pytest.approx(1000.0)


def test_housing_stock_stays_put_when_rents_are_as_at_the_start():
    base = np.array([700.0, 50.0])
    np.testing.assert_allclose(
        housing.housing_supply(base, base, np.ones(2), 0.2, 0.01, 0.001), base
    )


# ------------------------------------------------------------------ burdens


def test_burden_rises_with_rents_and_falls_with_income():
    burden = housing.low_income_burden(0.3, np.array([1.0, 2.0, 2.0]), np.array([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(burden, [0.3, 0.6, 0.3])


def test_months_over_the_threshold_count_up_and_reset():
    months = np.zeros(1, dtype=int)
    seen = []
    for burden in (0.5, 0.5, 0.3, 0.5):
        months = housing.sustained_months(months, np.array([burden]), 0.4)
        seen.append(int(months[0]))
    assert seen == [1, 2, 0, 1]


# ------------------------------------------------------------------ displacement


def test_no_displacement_at_or_below_the_threshold():
    out = housing.displacement(
        np.array([1000.0, 1000.0]), np.array([0.4, 0.2]), np.array([50, 50]), 0.4, 6, 0.5
    )
    np.testing.assert_array_equal(out, [0.0, 0.0])


def test_displacement_only_after_a_sustained_burden():
    low_income, burden = np.full(3, 1000.0), np.full(3, 0.6)
    out = housing.displacement(low_income, burden, np.array([1, 5, 6]), 0.4, 6, 0.1)
    np.testing.assert_allclose(out, [0.0, 0.0, 1000.0 * 0.1 * 0.5])


def test_displacement_never_exceeds_low_income_residents():
    low_income = np.array([1000.0, 30.0])
    out = housing.displacement(low_income, np.array([8.0, 40.0]), np.array([9, 9]), 0.4, 6, 0.5)
    np.testing.assert_allclose(out, low_income)
