"""The broadband / technological facilities lever: digital sectors reach external markets.

Evidence: Czernich et al. 2011, +10 pp broadband penetration -> +0.9-1.5 pp
annual GDP/head growth (the size of the gain is an assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clustersim.params import MAX_MONTHS, param
from clustersim.policy.lever import MAX_COST_MONTHLY, MAX_COST_ONCE, Lever, LeverSettings

__all__ = ["LEVER", "Broadband", "BroadbandSettings"]


@dataclass
class BroadbandSettings(LeverSettings):
    """Technological facilities / broadband settings."""

    # <= 1 tech unit: the whole broadband index (0-1)
    tech_gain: float = param(
        0.3,
        unit="tech units",
        doc="broadband gain at full rollout (scaled by intensity)",
        source="Czernich et al. 2011: +10 pp broadband -> +0.9-1.5 pp GDP/head growth "
        "(size an assumption)",
        ge=0,
        le=1.0,
    )
    rollout_months: int = param(
        12,
        unit="months",
        doc="months to full rollout",
        ge=1,
        le=MAX_MONTHS,
    )
    target: Any = param("focus", unit="-", doc="nodes that get broadband")
    cost_once: float = param(
        1_500_000.0,
        unit="EUR",
        doc="network build-out",
        ge=0,
        le=MAX_COST_ONCE,
    )
    cost_monthly: float = param(
        3_000.0,
        unit="EUR/month",
        doc="maintenance",
        ge=0,
        le=MAX_COST_MONTHLY,
    )


class Broadband(Lever):
    """Broadband and technological facilities: digital sectors reach external markets better.

    Tech (broadband) rises at the target nodes by an equal step each month of
    the rollout (capped at 1) and stays. Through the revenue rule it raises
    the external-market price of digital sectors (film, software, publishing,
    advertising, TV/radio, design); Czernich et al. 2011: +10 pp broadband
    penetration -> +0.9-1.5 pp annual GDP/head growth.
    """

    Settings = BroadbandSettings
    spends_on = "world"  # network operators and contractors from outside
    label = "Broadband"
    summary = "Fast internet: digital firms reach outside markets."
    main = True
    order = 40

    def act(self) -> None:
        """Roll out one month's share of the gain (adds to any other broadband lever)."""
        s = self.settings
        self.ramp(self.model.tech, s.tech_gain * self.intensity, s.rollout_months)


LEVER = Broadband
