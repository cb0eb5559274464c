"""Housing mechanisms on hand-built inputs: rent targets and displacement."""

from __future__ import annotations

import numpy as np

from clustersim.model import housing

# ----------------------------------------------------------------- rent_targets


def test_rent_target_is_base_rent_when_elasticity_is_zero():
    base = np.array([500.0, 300.0])
    np.testing.assert_allclose(
        housing.rent_targets(base, np.array([200.0, 10.0]), np.array([100.0, 100.0]), 0.0), base
    )


def test_rent_target_known_values():
    base = np.array([500.0, 500.0, 500.0])
    target = housing.rent_targets(base, np.array([110.0, 90.0, 110.0]), np.full(3, 100.0), 1.0)
    np.testing.assert_allclose(target, [550.0, 450.0, 550.0])
    squared = housing.rent_targets(base[:1], np.array([110.0]), np.array([100.0]), 2.0)
    np.testing.assert_allclose(squared, [605.0])


def test_rent_target_without_base_demand_stays_at_base_rent():
    target = housing.rent_targets(np.array([400.0]), np.array([50.0]), np.array([0.0]), 1.0)
    np.testing.assert_allclose(target, [400.0])


# ----------------------------------------------------------------- displacement


def test_no_displacement_without_a_rent_rise():
    out = housing.displacement(
        np.array([1000.0, 1000.0]), np.array([500.0, 400.0]), np.array([500.0, 500.0]), 0.5
    )
    np.testing.assert_array_equal(out, [0.0, 0.0])


def test_displacement_known_value():
    out = housing.displacement(np.array([1000.0]), np.array([600.0]), np.array([500.0]), 0.1)
    np.testing.assert_allclose(out, [20.0])


def test_displacement_never_exceeds_low_income_residents():
    low_income = np.array([1000.0, 30.0])
    out = housing.displacement(
        low_income, np.array([5000.0, 50_000.0]), np.array([500.0, 500.0]), 0.5
    )
    np.testing.assert_allclose(out, low_income)
