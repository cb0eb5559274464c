"""The university-city partnership lever: graduate retention and knowledge spillover.

Evidence: Valero & Van Reenen 2019, +10% universities per head -> +0.4% GDP/head,
with spillover to neighbours (the size of the gain is an assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clustersim.params import MAX_UTILS, MAX_WEIGHT, param
from clustersim.policy.lever import MAX_COST_MONTHLY, Lever, LeverSettings

if TYPE_CHECKING:
    from clustersim.model.host import PolicyHost

__all__ = ["LEVER", "UniversityPartnership", "UniversityPartnershipSettings"]


@dataclass
class UniversityPartnershipSettings(LeverSettings):
    """University-city partnership settings."""

    retention_gain: float = param(
        1.0,
        unit="utils",
        doc="extra attachment of new graduates to the focus place: its own graduates', or "
        "those of the region's universities when it has none (scaled by intensity)",
        ge=0,
        le=MAX_UTILS,
    )
    knowledge_gain: float = param(
        0.5,
        unit="share",
        doc="extra university knowledge spillover at the target nodes (scaled by intensity)",
        source="Valero & Van Reenen 2019: +10% universities per head -> +0.4% GDP/head "
        "(size an assumption)",
        ge=0,
        le=MAX_WEIGHT,
    )
    target: Any = param("focus", unit="-", doc="nodes whose knowledge spillover rises")
    cost_monthly: float = param(
        12_000.0,
        unit="EUR/month",
        doc="liaison office, projects",
        ge=0,
        le=MAX_COST_MONTHLY,
    )


class UniversityPartnership(Lever):
    """University-city partnership: graduates stay more, knowledge spills over more.

    Raises the attachment (retention bonus) of new graduates of the focus
    place's universities to the focus place, and multiplies the university
    knowledge field at the target nodes, which raises productivity and
    innovation (Valero & Van Reenen 2019: +10% universities per head -> +0.4%
    GDP/head, with spillover to neighbours). A town without a university of
    its own partners with the universities of the rest of the region (the
    large city's): placements and joint projects pull their new graduates
    toward the town's nodes by the same ``retention_gain`` (``graduate_pull``).
    Knowledge flows from universities in reach either way. Effects end with
    the partnership. A region without any university has no one to partner
    with: the lever is refused (a ConfigError) rather than paid for nothing.
    """

    Settings = UniversityPartnershipSettings
    label = "University partnership"
    summary = "More knowledge from universities reaches local firms."
    order = 80

    @classmethod
    def refusal(cls, model: PolicyHost) -> str | None:
        """A region without any university has no one to partner with."""
        if model.universities:
            return None
        return (
            "this region has no university to partner with: switch the lever off, or choose "
            "a region or preset whose city has one (a small town on its own has none)"
        )

    def on_start(self) -> None:
        """Raise retention and knowledge spillover."""
        m, s = self.model, self.settings
        self._retention = s.retention_gain * self.intensity
        self._knowledge = 1.0 + s.knowledge_gain * self.intensity
        self.partner_places = self._partner_places()
        self._apply_retention(+self._retention)
        m.knowledge_multiplier[self.target_nodes] *= self._knowledge

    def _partner_places(self) -> list[int]:
        """The focus place if it has a university, else the region's places that have one."""
        m = self.model
        with_uni = sorted({int(m.place[u.node]) for u in m.universities})
        if m.focus_place in with_uni:
            return [int(m.focus_place)]
        return with_uni

    def _apply_retention(self, gain: float) -> None:
        m = self.model
        for place in self.partner_places:
            if place == m.focus_place:
                m.retention_bonus[place] += gain
            else:
                m.graduate_pull[place, m.focus_nodes] += gain

    def on_stop(self) -> None:
        """Undo both."""
        self._apply_retention(-self._retention)
        self.model.knowledge_multiplier[self.target_nodes] /= self._knowledge


LEVER = UniversityPartnership
