"""The citizen involvement lever: a local support group; openness and tolerance rise slowly.

Evidence: openness raises the creative share (Florida 2002; Boschma & Fritsch
2009, 500+ regions); the seeds' inclusion and empowerment through culture
(docs/evidence.md, section Citizen involvement). The size and speed of the change are assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clustersim.params import MAX_MONTHS, param
from clustersim.policy.lever import MAX_COST_MONTHLY, Lever, LeverSettings

__all__ = ["LEVER", "CitizenInvolvement", "CitizenInvolvementSettings"]


@dataclass
class CitizenInvolvementSettings(LeverSettings):
    """Citizen involvement / local support group."""

    # <= 1 openness unit: the whole openness index (0-1)
    openness_gain: float = param(
        0.2,
        unit="openness units",
        doc="openness gain at full effect (scaled by intensity)",
        ge=0,
        le=1.0,
    )
    months_to_effect: int = param(
        24,
        unit="months",
        doc="months to full effect",
        ge=1,
        le=MAX_MONTHS,
    )
    target: Any = param("focus", unit="-", doc="nodes whose openness rises")
    cost_monthly: float = param(
        5_000.0,
        unit="EUR/month",
        doc="facilitation, events",
        ge=0,
        le=MAX_COST_MONTHLY,
    )


class CitizenInvolvement(Lever):
    """Citizen involvement and a local support group: openness and tolerance rise slowly.

    Openness (tolerance) at the target nodes rises over ``months_to_effect``
    while the group works, and stays; talents weigh openness when they choose
    where to live, so more come and fewer leave (Florida 2002; Boschma &
    Fritsch 2009, 500+ regions: openness raises the creative share). Seeds:
    inclusion and empowerment through culture (docs/evidence.md, section Citizen involvement); the
    size and speed
    of the change are assumptions. Better policy targeting, the seeds' other
    benefit, is not modelled.
    """

    Settings = CitizenInvolvementSettings
    label = "Citizen involvement"
    summary = "Residents take part: the town becomes more open."
    order = 110

    def act(self) -> None:
        """Raise openness by one month's share of the gain (capped at 1)."""
        s = self.settings
        self.ramp(self.model.openness, s.openness_gain * self.intensity, s.months_to_effect)


LEVER = CitizenInvolvement
