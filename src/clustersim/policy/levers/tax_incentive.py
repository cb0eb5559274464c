"""The tax incentive lever: subsidies for creative firms, and the dependence when they stop.

Evidence (docs/evidence.md, section Tax incentives and subsidies): dependence on subsidies is a
known failure mode; firms
viable only with the subsidy exit in the months after it stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustersim.params import param
from clustersim.policy.lever import Lever, LeverSettings

__all__ = ["LEVER", "TaxIncentive", "TaxIncentiveSettings"]


@dataclass
class TaxIncentiveSettings(LeverSettings):
    """Tax incentives / subsidies for creative firms."""

    # <= 10,000 EUR/employee/month: several monthly wages
    per_employee: float = param(
        250.0,
        unit="EUR/employee/month",
        doc="subsidy (scaled by intensity)",
        ge=0,
        le=10_000.0,
    )
    target: Any = param("focus", unit="-", doc="nodes whose creative firms qualify")


class TaxIncentive(Lever):
    """Tax incentives and subsidies: lower costs while paid, and dependence when they stop.

    Creative firms at the target nodes receive a monthly subsidy per employee,
    paid from the budget (the cost varies with employment) and added to the
    same month's revenue. Evidence (docs/evidence.md, section Tax incentives and subsidies):
    dependence on subsidies is a
    known failure mode; firms viable only with the subsidy exit in the months
    after it stops.
    """

    Settings = TaxIncentiveSettings
    label = "Tax incentive"
    summary = "A subsidy for creative firms in town."
    order = 90
    #: last month's subsidy per firm row (replaced, never changed in place)
    _paid = np.zeros(0)

    def on_start(self) -> None:
        """No subsidy paid yet."""
        self._paid = np.zeros(0)

    def _withdraw(self) -> None:
        """Take back last month's subsidy (other levers' subsidies stay)."""
        f = self.model.firms
        n = len(self._paid)
        f.subsidy[:n] = np.maximum(f.subsidy[:n] - self._paid, 0.0)
        self._paid = np.zeros(0)

    def act(self) -> None:
        """Pay this month's subsidies; they enter this month's revenue."""
        self._withdraw()
        f = self.model.firms
        eligible = f.alive & np.isin(f.node, self.target_nodes)
        amount = self.settings.per_employee * self.intensity * f.employees * eligible
        if self.pay(float(amount.sum()), "subsidies", to="subsidies"):
            f.subsidy[:] += amount
            self._paid = amount

    def rows_renumbered(self, new_row: Mapping[str, np.ndarray]) -> None:
        """Last month's subsidies, at the firms' new rows (those of firms gone dropped)."""
        moved = new_row["firms"][: len(self._paid)]
        paid = np.zeros(int(moved.max(initial=-1)) + 1)
        paid[moved[moved >= 0]] = self._paid[moved >= 0]
        self._paid = paid

    def on_stop(self) -> None:
        """Subsidies end."""
        self._withdraw()


LEVER = TaxIncentive
