"""Housing mechanisms: where rents tend to and who is pushed out when they rise.

Vectorised, side-effect-free functions over per-node arrays, like
:mod:`clustersim.model.mechanisms`; the rents phase calls them once a month.
"""

from __future__ import annotations

import numpy as np

__all__ = ["displacement", "rent_targets"]


def rent_targets(
    base_rent: np.ndarray, demand: np.ndarray, base_demand: np.ndarray, elasticity: float
) -> np.ndarray:
    """Rent each node tends to: base rent times (demand / demand at start)^elasticity.

    Demand counts residents, creative workers and workspace for creative jobs,
    so rents rise where creative firms cluster (Glaeser, Kolko & Saiz 2001;
    O'Sullivan 2002).

    Examples:
        >>> rent_targets(np.array([500.0]), np.array([110.0]), np.array([100.0]), 1.0)
        array([550.])
    """
    ratio = np.divide(demand, base_demand, out=np.ones(np.shape(demand)), where=base_demand > 0)
    return base_rent * np.power(np.maximum(ratio, 0.0), elasticity)


def displacement(
    low_income: np.ndarray, rent: np.ndarray, base_rent: np.ndarray, rate: float
) -> np.ndarray:
    """Low-income residents pushed out of each node when rent rises above its start.

    displaced_j = low_income_j * rate * max(0, rent_j / base_rent_j - 1)
    (rent-gap displacement: O'Sullivan 2002; Malik et al. 2015).

    Examples:
        >>> displacement(np.array([1000.0]), np.array([600.0]), np.array([500.0]), 0.1)
        array([20.])
    """
    rise = np.maximum(rent / base_rent - 1.0, 0.0)
    return np.minimum(low_income, low_income * rate * rise)
