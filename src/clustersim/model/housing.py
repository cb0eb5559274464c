"""Housing mechanisms: rents against a stock, slow building, who is pushed out.

Rents clear demand against a housing stock that responds slowly, and low-income
households leave when their rent stays beyond reach. Vectorised, side-effect-free
functions over per-node arrays, like :mod:`clustersim.model.mechanisms`; the rents
phase calls them once a month.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "displacement",
    "housing_supply",
    "low_income_burden",
    "rent_targets",
    "sustained_months",
]


def rent_targets(
    base_rent: np.ndarray,
    occupancy: np.ndarray,
    income: np.ndarray,
    elasticity: float,
    income_elasticity: float,
) -> np.ndarray:
    """Rent each node tends to: base rent times the income index and the occupancy index.

    ``target = base_rent * income^income_elasticity * occupancy^elasticity``,
    both indices relative to the start (1 = as at the start). Occupancy is
    space demand over the housing stock, so rents rise when demand outgrows the
    stock and fall when the stock catches up; with an income elasticity of 1,
    households spend a constant share of income on housing (Davis &
    Ortalo-Magne 2011), so rents follow what the residents of a node can pay
    (Glaeser, Kolko & Saiz 2001: rents rise where amenity and jobs draw people).

    Examples:
        >>> rent_targets(np.array([500.0, 500.0]), np.array([1.1, 1.0]), np.array([1.0, 1.2]),
        ...              1.0, 1.0)
        array([550., 600.])
    """
    occupancy = np.maximum(occupancy, 0.0)
    return base_rent * np.power(income, income_elasticity) * np.power(occupancy, elasticity)


def housing_supply(
    stock: np.ndarray,
    base_stock: np.ndarray,
    rent_index: np.ndarray,
    elasticity: float,
    speed: float,
    depreciation: float,
) -> np.ndarray:
    """Next month's housing stock: slow building where rents are up, slower decay where down.

    The long-run stock is ``base_stock * rent_index^elasticity`` (price
    elasticity of new supply: 0.1-0.3 in the Netherlands, the UK or
    Switzerland, above 1 in the US; Caldera & Johansson 2013). Building closes
    ``speed`` of the gap a month; housing is durable, so a stock above its
    long-run level only shrinks by ``depreciation`` a month (the kinked supply
    of Glaeser & Gyourko 2005).

    Examples:
        >>> housing_supply(np.array([100.0, 100.0]), np.array([100.0, 100.0]),
        ...                np.array([2.0, 0.5]), 1.0, 0.1, 0.01)
        array([110.,  99.])
    """
    target = base_stock * np.power(np.maximum(rent_index, 0.0), elasticity)
    up = stock + speed * (target - stock)
    down = np.maximum(stock * (1.0 - depreciation), target)
    return np.where(target >= stock, up, down)


def low_income_burden(
    start_burden: float | np.ndarray, rent_index: np.ndarray, income_index: np.ndarray
) -> np.ndarray:
    """Rent burden of a node's low-income households: rent over their income.

    ``start_burden * rent_index / income_index``: the burden they had at the
    start, raised by rents and lowered by their own income (the wage of other
    work in their place), each relative to the start.

    Examples:
        >>> low_income_burden(0.3, np.array([1.0, 1.5, 1.5]), np.array([1.0, 1.0, 1.5]))
        array([0.3 , 0.45, 0.3 ])
    """
    return start_burden * rent_index / np.maximum(income_index, 1e-9)


def sustained_months(months: np.ndarray, burden: np.ndarray, threshold: float) -> np.ndarray:
    """Consecutive months each node's burden has been above ``threshold`` (0 once it is not).

    Examples:
        >>> sustained_months(np.array([0, 5, 5]), np.array([0.5, 0.5, 0.3]), 0.4)
        array([1, 6, 0])
    """
    return np.where(burden > threshold, months + 1, 0)


def displacement(
    low_income: np.ndarray,
    burden: np.ndarray,
    months_over: np.ndarray,
    threshold: float,
    months_needed: int,
    rate: float,
) -> np.ndarray:
    """Low-income residents pushed out of each node by a rent burden that stays too high.

    Households leave only once their burden has stayed above ``threshold``
    (Eurostat's housing cost overburden: 40% of disposable income) for
    ``months_needed`` months, so a one-month spike displaces nobody; then
    ``rate`` of them leave per month per unit of relative excess,
    ``low_income * rate * (burden / threshold - 1)`` (rent-gap displacement:
    O'Sullivan 2002; Malik et al. 2015).

    Examples:
        >>> displacement(np.array([1000.0, 1000.0, 1000.0]), np.array([0.5, 0.5, 0.3]),
        ...              np.array([6, 5, 9]), 0.4, 6, 0.1)
        array([25.,  0.,  0.])
    """
    excess = np.minimum(np.maximum(burden / threshold - 1.0, 0.0), 1e12)  # finite at any input
    share = np.minimum(rate * excess, 1.0)
    return np.where(months_over >= months_needed, low_income * share, 0.0)
