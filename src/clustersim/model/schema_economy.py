"""Parameter group of households and the rest of the local economy (the accounts' rates).

Declared with :func:`~clustersim.params.param` like the other groups of
:mod:`~clustersim.model.schema`, which re-exports :class:`HouseholdParams`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.params import MAX_EUR_PER_MONTH, param

__all__ = ["HouseholdParams"]


@dataclass
class HouseholdParams:
    """Households: labour force, income from outside, spending, saving, housing ownership."""

    participation: float = param(
        0.45,
        unit="workers per inhabitant",
        doc="people in work or looking for it per inhabitant; the rest receive transfers",
        source="EU employment ~0.45 per inhabitant (docs/evidence.md, section Local economy)",
        ge=0.05,  # near 0 a place has no workers to pay transfers and wages from
        le=1,
    )
    size: float = param(
        2.3,
        unit="persons per household",
        doc="persons per household: one dwelling rent per household",
        source="EU-27 average household size 2.3 (docs/evidence.md, section Local economy)",
        ge=1,
        le=10,
    )
    transfer: float = param(
        600.0,
        unit="EUR/month per person",
        doc="pensions, child and other national transfers per inhabitant outside the labour force",
        source="EU social protection benefits ~27% of GDP "
        "(docs/evidence.md, section Local economy; assumption for the per-person figure)",
        ge=0,
        le=MAX_EUR_PER_MONTH,
    )
    other_wage: float = param(
        2000.0,
        unit="EUR/month",
        doc="wage of other (non-creative) work at start; afterwards it follows the "
        "non-creative sector's revenue per worker",
        source="assumption (EU median gross earnings ~EUR 2,300/month, lower in small towns)",
        gt=0,
        le=MAX_EUR_PER_MONTH,
    )
    other_labour_share: float = param(
        0.6,
        unit="share of revenue",
        doc="wages as a share of the non-creative sector's revenue; the rest buys inputs "
        "from outside and pays outside owners",
        source="EU labour share of value added ~0.6 (docs/evidence.md, section Local economy)",
        ge=0.05,  # wages are what the sector needs its output for: near 0 it needs infinite sales
        le=1,
    )
    consumption_propensity: float = param(
        0.9,
        unit="share of disposable income",
        doc="share of last month's income after taxes and rent that households spend",
        source="Godley & Lavoie 2007 (stock-flow consistent consumption function)",
        gt=0,
        le=1,
    )
    wealth_propensity: float = param(
        0.02,
        unit="1/month",
        doc="share of their savings households spend each month; savings settle at "
        "(1 - consumption_propensity) / wealth_propensity months of disposable income",
        source="Godley & Lavoie 2007",
        ge=1e-4,  # savings settle at (1 - c) / this many months of income: finite
        le=1,
    )
    creative_spend_share: float = param(
        0.035,
        unit="share of consumption",
        doc="share of household consumption spent on creative goods and services",
        source="Eurostat household cultural expenditure ~3% of consumption "
        "(docs/evidence.md, section Local economy)",
        ge=0,
        le=1,
    )
    local_share: float = param(
        0.5,
        unit="share of consumption",
        doc="share of household consumption (besides creative goods) bought from local "
        "non-creative firms; the rest is bought outside the region",
        source="assumption (local multiplier studies: Moretti 2010)",
        ge=0,
        le=1,
    )
    local_owner_share: float = param(
        0.7,
        unit="share of rent",
        doc="share of rents received by local owners; the rest goes to outside owners",
        source="EU home ownership ~69% (docs/evidence.md, section Local economy)",
        ge=0,
        le=1,
    )
    migration_response: float = param(
        0.03,
        unit="1/month per log wage gap",
        doc="households of other workers moving in (out) per month when the wage of other "
        "work is above (below) households.other_wage, per unit of log gap: the population "
        "settles where other work pays what it pays elsewhere",
        source="Rosen 1979; Roback 1982; Blanchard & Katz 1992 (regional wage gaps close "
        "through migration within years)",
        ge=0,
        le=1,
    )
    tax_rate: float = param(
        0.05,
        unit="share of income",
        doc="local taxes on household income, spent the same month on municipal services",
        source="assumption (local taxes ~5% of household income in the EU, varies widely)",
        ge=0,
        le=0.9,
    )
