"""The temporary use lever: cheap workspace on vacant nodes for a limited time.

Evidence: URBACT TUTUR reports qualitative results only, so the defaults are
assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clustersim.params import MAX_MONTHS, param
from clustersim.policy.lever import MAX_COST_MONTHLY, MAX_COST_ONCE, Lever, LeverSettings

__all__ = ["LEVER", "TemporaryUse", "TemporaryUseSettings"]


@dataclass
class TemporaryUseSettings(LeverSettings):
    """Temporary use of vacant space."""

    rent_cut: float = param(
        0.6,
        unit="share",
        doc="workspace rent cut on target nodes (scaled by intensity, floor 5% of rent)",
        ge=0,
        le=1,
    )
    duration: int | None = param(
        36,
        unit="months",
        doc="months the space is available",
        ge=1,
        optional=True,
        le=MAX_MONTHS,
    )
    target: Any = param("most_vacant_3", unit="-", doc="nodes with vacant space to open")
    cost_once: float = param(
        50_000.0,
        unit="EUR",
        doc="making spaces usable",
        ge=0,
        le=MAX_COST_ONCE,
    )
    cost_monthly: float = param(
        4_000.0,
        unit="EUR/month",
        doc="coordination",
        ge=0,
        le=MAX_COST_MONTHLY,
    )


class TemporaryUse(Lever):
    """Temporary use of vacant space: cheap workspace on vacant nodes for a limited time.

    Firms at the target nodes pay less workspace rent (``rent_factor``) and
    founders choosing a node see the cheaper rent. URBACT TUTUR reports
    qualitative results only, so the defaults are assumptions. When the time
    is up (``duration``, default 36 months) the discount ends.
    """

    Settings = TemporaryUseSettings
    label = "Temporary use"
    summary = "Empty buildings opened cheaply to creatives."
    order = 70

    def on_start(self) -> None:
        """Open the spaces."""
        self._factor = max(1.0 - self.settings.rent_cut * self.intensity, 0.05)
        self.model.rent_factor[self.target_nodes] *= self._factor

    def on_stop(self) -> None:
        """Close them: full rent again."""
        self.model.rent_factor[self.target_nodes] /= self._factor


LEVER = TemporaryUse
