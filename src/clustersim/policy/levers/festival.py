"""The cultural events and festivals lever: a yearly amenity and demand pulse, with crowding.

Evidence: Obidos chocolate festival, ~200k visitors, cost cut from EUR 500k to
250k per edition (docs/evidence.md, section Events and festivals); a lasting effect of cultural
events (Gomes &
Librero-Cano 2018) against none and lower resident satisfaction in the event
year (Steiner, Frey & Hotz 2015).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clustersim.params import param
from clustersim.policy.lever import MAX_COST_ONCE, Lever, LeverSettings, cost_factor

__all__ = ["LEVER", "Festival", "FestivalSettings"]


@dataclass
class FestivalSettings(LeverSettings):
    """Cultural events and festivals settings."""

    month_of_year: int = param(7, unit="month", doc="calendar month of each edition", ge=1, le=12)
    # <= 1e8 visitors: more than the largest gatherings on record
    visitors: float = param(
        200_000.0,
        unit="visitors/edition",
        doc="visitors per edition (scaled by intensity)",
        source=(
            "Obidos chocolate festival ~200k visitors"
            " (docs/evidence.md, section Events and festivals)"
        ),
        ge=0,
        le=1e8,
    )
    # <= 10,000 EUR per visitor: 400 times the default
    spend_per_visitor: float = param(
        25.0,
        unit="EUR",
        doc="visitor spending on local creative goods",
        ge=0,
        le=10_000.0,
    )
    # <= 1 amenity unit: the whole amenity scale (0-1)
    amenity_boost: float = param(
        0.3,
        unit="amenity units",
        doc="amenity during the festival month",
        ge=0,
        le=1.0,
    )
    # <= 0.2: five editions then add the whole amenity scale
    legacy_per_edition: float = param(
        0.01,
        unit="amenity units",
        doc="lasting amenity each edition leaves at intensity 1 (scaled as the festival "
        "month's amenity; capped at 5 editions)",
        source="Gomes & Librero-Cano 2018 (lasting effect) vs Steiner et al. 2015 (none)",
        ge=0,
        le=0.2,
    )
    # <= 1 dwelling per visitor
    visitor_space: float = param(
        0.02,
        unit="dwellings per visitor",
        doc="space visitors occupy in the festival month (crowding, short lets)",
        ge=0,
        le=1.0,
    )
    cost_per_edition: float = param(
        250_000.0,
        unit="EUR/edition",
        doc="cost of one edition (at intensity 1, see cost_scaling)",
        source=(
            "Obidos chocolate festival cost cut from EUR 500k to 250k"
            " (docs/evidence.md, section Events and festivals)"
        ),
        ge=0,
        le=MAX_COST_ONCE,
    )
    target: Any = param("centre", unit="-", doc="node(s) hosting the festival")


class Festival(Lever):
    """Cultural events and festivals: a yearly amenity and demand pulse, with crowding.

    In the festival month (``month_of_year``; simulation month 1 is January)
    the target nodes gain amenity and visitor spending (local demand, shared
    by the target nodes), and visitors occupy space, pushing rents up for
    months (crowding and rent pressure; Steiner, Frey & Hotz 2015 found no
    significant effect and lower resident satisfaction in the event year); one
    month of it pushes nobody out, since displacement needs a rent burden that
    stays high for months (docs/model.md 7.11). Each edition leaves a small
    lasting amenity (Gomes & Librero-Cano 2018: +4.5% GDP/head lasting >5
    years), capped at five editions; the month's amenity and the legacy both
    scale with intensity (up to 3). Defaults: Obidos chocolate festival, ~200k
    visitors, cost cut from EUR 500k to 250k per edition (docs/evidence.md,
    section Events and festivals).
    """

    Settings = FestivalSettings
    label = "Festival"
    summary = "A yearly festival: visitors, spending and amenity, and crowding."
    main = True
    order = 20

    def on_start(self) -> None:
        """Nothing to build; editions start in their month."""
        self.editions = 0
        self._pulse_on = False

    def _calendar_month(self) -> int:
        return (self.model.steps - 1) % 12 + 1

    def act(self) -> None:
        """Run an edition in its month; otherwise keep only the legacy."""
        self._end_pulse()
        if self._calendar_month() != self.settings.month_of_year:
            return
        cost = self.settings.cost_per_edition * cost_factor(self.settings)
        if not self.purchase(cost, "festival edition"):
            return
        s, m, nodes = self.settings, self.model, self.target_nodes
        self.editions += 1
        visitors = s.visitors * self.intensity / len(nodes)
        scale = min(self.intensity, 3.0)  # of the edition's amenity: its pulse and its legacy
        self._pulse = {
            "amenity": s.amenity_boost * scale,
            "demand": visitors * s.spend_per_visitor,
            "space": visitors * s.visitor_space,
        }
        m.amenity_bonus[nodes] += self._pulse["amenity"]
        m.visitor_budget[nodes] += self._pulse["demand"]
        m.visitor_demand[nodes] += self._pulse["space"]
        if self.editions <= 5:
            m.amenity_bonus[nodes] += s.legacy_per_edition * scale
        self._pulse_on = True

    def _end_pulse(self) -> None:
        if getattr(self, "_pulse_on", False):
            nodes, m = self.target_nodes, self.model
            m.amenity_bonus[nodes] -= self._pulse["amenity"]
            m.visitor_budget[nodes] -= self._pulse["demand"]
            m.visitor_demand[nodes] -= self._pulse["space"]
            self._pulse_on = False

    def on_stop(self) -> None:
        """End a running pulse; the legacy amenity stays."""
        self._end_pulse()


LEVER = Festival
