"""The cultural institution lever: a museum, theatre or venue that adds lasting amenity.

Evidence: amenity draws talents (Glaeser, Kolko & Saiz 2001); European Capital
of Culture, +4.5% GDP/head vs runners-up lasting >5 years (Gomes & Librero-Cano
2018), budgets EUR 5.5m-59m (docs/evidence.md, section Events and festivals).
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.params import param
from clustersim.policy.lever import MAX_COST_MONTHLY, MAX_COST_ONCE, Lever, LeverSettings

__all__ = ["LEVER", "CulturalInvestment", "CulturalInvestmentSettings"]


@dataclass
class CulturalInvestmentSettings(LeverSettings):
    """Cultural institution investment settings."""

    # <= 1 amenity unit: the whole amenity scale (0-1)
    strength: float = param(
        0.2,
        unit="amenity units",
        doc="amenity the institution adds (scaled by intensity)",
        ge=0,
        le=1.0,
    )
    cost_once: float = param(
        3_000_000.0,
        unit="EUR",
        doc="building or restoring a venue",
        ge=0,
        le=MAX_COST_ONCE,
    )
    cost_monthly: float = param(
        25_000.0,
        unit="EUR/month",
        doc="running costs",
        ge=0,
        le=MAX_COST_MONTHLY,
    )


class CulturalInvestment(Lever):
    """Cultural institution investment: a museum, theatre or venue with lasting amenity.

    The institution adds amenity around its node, decaying with travel time,
    for as long as it runs; amenity draws talents (Glaeser, Kolko & Saiz 2001).
    Evidence for a lasting cultural investment (docs/evidence.md, section Cultural institutions):
    European Capital
    of Culture, +4.5% GDP/head vs runners-up lasting >5 years (Gomes &
    Librero-Cano 2018), budgets EUR 5.5m-59m. It stays open when the programme
    completes (handed over), but closes if the budget cannot pay its running
    costs.
    """

    Settings = CulturalInvestmentSettings
    label = "Cultural institution"
    summary = "A museum or venue that raises amenity around it."
    main = True
    order = 30

    def on_start(self) -> None:
        """Open the institution."""
        self.institution = self.model.add_cultural_institution(
            self.target_nodes[0], self.settings.strength * self.intensity
        )

    def on_stop(self) -> None:
        """Close it only when the money ran out."""
        if self.stop_reason and self.stop_reason.startswith("budget exhausted"):
            self.model.close_cultural_institution(self.institution)


LEVER = CulturalInvestment
