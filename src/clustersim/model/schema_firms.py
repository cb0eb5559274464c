"""Parameter group of creative firms: production, revenue, spillovers, entry and exit.

Declared with :func:`~clustersim.params.param` like the other groups of
:mod:`~clustersim.model.schema`, which re-exports :class:`FirmParams`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.params import CALIBRATED_EU, MAX_MINUTES, MAX_UTILS, MAX_WEIGHT, param

__all__ = ["FirmParams", "MarketParams"]


@dataclass
class FirmParams:
    """Creative firms: production, revenue, spillovers, entry and exit."""

    initial_employment_rate: float = param(
        0.9, unit="share", doc="share of initial talents employed at start", ge=0, le=1
    )
    # <= 1000 employees: the largest creative firms; the geometric draw's p stays >= 0.001
    mean_initial_size: float = param(
        3.0,
        unit="employees",
        doc="mean size of initial firms (geometric: most are micro firms)",
        source="Eurostat SBS: >90% of creative firms are micro firms",
        ge=1,
        le=1000,
    )
    productivity_sigma: float = param(
        0.3, unit="log-sd", doc="dispersion of firm productivity", ge=0, le=2
    )
    productivity_reversion: float = param(
        0.01,
        unit="1/month",
        doc="rate at which a firm's productivity reverts toward the mean under monthly "
        "shocks (0: productivity is fixed at founding); 0.01 is a yearly persistence of 0.89",
        source="yearly persistence of plant productivity about 0.8-0.95 (Bartelsman & Doms "
        "2000); Hopenhayn 1992",
        ge=0,
        le=1,
    )
    returns_to_labour: float = param(
        0.639,
        unit="-",
        doc="exponent alpha of output = A * L^alpha",
        source="calibrated to the share of micro firms among cultural enterprises, 95% "
        "(docs/evidence.md, section Micro firms): " + CALIBRATED_EU,
        gt=0,
        le=1,
    )
    # <= 1e6 EUR per unit: 500 times the default; revenues stay finite
    unit_price: float = param(
        2000.0,
        unit="EUR per output unit",
        doc="price of one unit of output on external markets at the reference market potential "
        "(market.reference_potential)",
        gt=0,
        le=1e6,
    )
    # >= 1.01: the price must fall by less than the volume rises (revenue grows with output)
    external_demand_elasticity: float | None = param(
        5.0,
        unit="-",
        doc="price elasticity of outside demand for a place's creative output: the external "
        "price falls as (export volume / volume at start)^(-1/elasticity); null = outside "
        "demand takes any volume at the going price",
        source="Armington demand with a trade elasticity of about 4-5 (Simonovska & Waugh "
        "2014; Head & Mayer 2014), so a demand elasticity of about 5",
        ge=1.01,
        optional=True,
        le=1000,
    )
    # <= 1e6 EUR/month: 2,500 times the default
    fixed_cost: float = param(
        400.0,
        unit="EUR/month",
        doc="fixed cost of running a firm",
        ge=0,
        le=1e6,
    )
    # <= 100 dwelling rents per worker: 200 times the default
    workspace_rent_share: float = param(
        0.5,
        unit="dwelling rents per worker",
        doc="workspace cost per employee",
        ge=0,
        le=100.0,
    )
    # <= 1e8 EUR: more than any creative start-up raises
    startup_cash: float = param(
        15_000.0,
        unit="EUR",
        doc="cash a new firm starts with",
        gt=0,
        le=1e8,
    )
    # <= 2: output quadruples with each doubling of density, far beyond any estimate
    agglomeration_elasticity: float = param(
        0.05,
        unit="-",
        doc="elasticity of output to creative employment density within reach: the benefit "
        "is g = (min(D, cap) / firm.agglomeration_reference)^elasticity, D the jobs within "
        "reach weighted by exp(-travel time / firm.agglomeration_decay)",
        source="Ciccone & Hall 1996 (about 0.05); Melo, Graham & Noland 2009 (meta-analysis "
        "mean 0.058); Combes & Gobillon 2015 (0.02-0.05 after sorting)",
        ge=0,
        le=2,
    )
    # <= 1440 minutes: a day
    agglomeration_decay: float = param(
        3.0,
        unit="minutes",
        doc="travel time over which a job's contribution to density falls by a factor e",
        source="Ahlfeldt, Redding, Sturm & Wolf 2015 (production spillovers fall to near zero "
        "within about 10 minutes' travel); Arzaghi & Henderson 2008 (advertising agencies, "
        "within a few hundred metres)",
        gt=0,
        le=1440,
    )
    # 0.01-1e6 jobs: below 0.01 a lone firm's benefit would overflow at high elasticities
    agglomeration_reference: float = param(
        1.0,
        unit="jobs",
        doc="density at which the agglomeration benefit is 1 (a lone one-person firm)",
        source="normalisation (it scales all productivity by a constant)",
        ge=0.01,
        le=1e6,
    )
    startup_cash_sigma: float = param(
        1.0,
        unit="log-sd",
        doc="dispersion of start-up capital (lognormal with mean firm.startup_cash)",
        source="assumption (start-up capital is highly skewed; Hurst & Lusardi 2004)",
        ge=0,
        le=3,
    )
    payout_rate: float = param(
        0.2,
        unit="1/month",
        doc="share of cash above the buffer that a firm pays out to its owners each month",
        source="assumption (small firms distribute most profits to owners)",
        ge=0,
        le=1,
    )
    # <= 120 months: ten years of costs
    cash_buffer_months: float = param(
        3.0,
        unit="months of costs",
        doc="cash a firm keeps before paying out profits",
        source="assumption (JPMorgan Chase Institute 2016: median small firm holds 27 days)",
        ge=0,
        le=120,
    )
    young_exit_hazard: float = param(
        0.0282,
        unit="1/month",
        doc="exit hazard of a newly founded firm besides running out of cash (owner's "
        "choice, health, lost clients); falls with age toward firm.mature_exit_hazard",
        source="calibrated to Eurostat survival of new enterprises after one and three years "
        "(docs/evidence.md, section Survival of new enterprises): " + CALIBRATED_EU,
        ge=0,
        le=1,
    )
    mature_exit_hazard: float = param(
        0.004,
        unit="1/month",
        doc="exit hazard of an old firm besides running out of cash",
        source="calibrated to Eurostat business demography exit rates "
        "(docs/evidence.md, section Survival of new enterprises)",
        ge=0,
        le=1,
    )
    # <= 100: a 1% margin gap then changes the hazard by a factor e
    exit_margin_sensitivity: float = param(
        10.0,
        unit="per unit margin",
        doc="how much more (less) often firms below (above) firm.target_margin exit: the "
        "hazard is multiplied by 2 / (1 + exp(sensitivity * (margin - target_margin)))",
        source="assumption (exit when the business does not pay; Jovanovic 1982)",
        ge=0,
        le=100,
    )
    # <= MAX_MONTHS / 10
    hazard_decline: float = param(
        24.0,
        unit="months",
        doc="time over which the exit hazard falls from young to mature (exponential scale)",
        source="Eurostat business demography (hazard highest in the first two years)",
        gt=0,
        le=240,
    )
    # <= 1e6 firms: more creative firms than any city has
    agglomeration_cap: float | None = param(
        None,
        unit="jobs",
        doc="density (creative jobs within reach) beyond which agglomeration adds no benefit; "
        "null = unbounded (Arthur's case: strong increasing returns lock in on one place)",
        source="Arthur 1990",
        gt=0,
        optional=True,
        le=1e6,
    )
    specialisation_weight: float = param(
        0.15,
        unit="-",
        doc="benefit of own-sector concentration within reach (MAR spillovers)",
        source="Glaeser et al. 1992 (assumption)",
        ge=0,
        le=MAX_WEIGHT,
    )
    diversity_weight: float = param(
        0.15,
        unit="-",
        doc="benefit of sector diversity within reach (Jacobs spillovers)",
        source="Glaeser et al. 1992 (assumption)",
        ge=0,
        le=MAX_WEIGHT,
    )
    knowledge_weight: float = param(
        0.1,
        unit="-",
        doc="productivity benefit per unit of university knowledge field",
        source="Valero & Van Reenen 2019",
        ge=0,
        le=MAX_WEIGHT,
    )
    digital_tech_weight: float = param(
        0.3,
        unit="-",
        doc="extra external-market reach of digital sectors per unit of broadband",
        source="Czernich et al. 2011",
        ge=0,
        le=MAX_WEIGHT,
    )
    networking_weight: float = param(
        0.05,
        unit="per log tie",
        doc="extra external-market reach per log(1 + collaboration ties)",
        source="Falck, Heblich & Kipar 2010",
        ge=0,
        le=MAX_WEIGHT,
    )
    innovation_rate: float = param(
        0.01, unit="1/month", doc="base probability a firm innovates in a month", ge=0, le=1
    )
    innovation_step: float = param(
        0.05, unit="share", doc="productivity gain from one innovation", ge=0, le=1
    )
    innovation_obsolescence: float = param(
        0.01,
        unit="1/month",
        doc="share of a firm's innovation edge lost each month as competitors catch up",
        source="assumption (knowledge diffusion; Aghion & Howitt 1992 creative destruction)",
        ge=0,
        le=1,
    )
    # <= 100: a 1% margin gap then doubles the hiring target
    growth_sensitivity: float = param(
        0.5,
        unit="-",
        doc="hiring target change per unit of profit margin above the target margin",
        ge=0,
        le=100.0,
    )
    # a margin is profit / revenue: at most 1, and -1 = costs twice revenue
    target_margin: float = param(
        0.05,
        unit="share",
        doc="profit margin at which a firm neither grows nor shrinks",
        ge=-1,
        le=1,
    )
    spinoff_rate: float = param(
        0.0005,
        unit="1/month",
        doc="probability an employee founds a spin-off, at parent margin 0",
        source="Klepper 2010",
        ge=0,
        le=1,
    )
    entrepreneurship_rate: float = param(
        0.0216,
        unit="1/month",
        doc="probability an unemployed talent founds a firm",
        source="Zhang 2003; calibrated to Eurostat birth rates of about 10% a year "
        "(docs/evidence.md, section Birth and death rates): " + CALIBRATED_EU,
        ge=0,
        le=1,
    )
    imitation_weight: float = param(
        1.0,
        unit="-",
        doc="weight of neighbours' success when a founder picks sector and node",
        source="Zhang 2003",
        ge=0,
        le=MAX_UTILS,
    )
    location_noise: float = param(
        1.0,
        unit="utils",
        doc="scale of idiosyncratic taste in a founder's node choice",
        gt=0,
        le=MAX_UTILS,
    )
    home_distance_weight: float = param(
        0.0,
        unit="logit units per hour",
        doc="how much a founder's choice of node falls with the travel time from home (a "
        "spin-off's: from its parent), per hour, on the scale of the choice's noise: the "
        "odds of a node fall by exp(-weight * hours); 0 = any node within commuting reach "
        "as near as home",
        source="Dahl & Sorenson 2009, 2012 (entrepreneurs locate where they have roots, "
        "close to family and friends); the value is not calibrated (docs/model.md 7.10, 9)",
        ge=0,
        le=MAX_UTILS,
    )
    spinoff_near_parent: float = param(
        0.8, unit="share", doc="probability a spin-off stays at its parent's node", ge=0, le=1
    )


@dataclass
class MarketParams:
    """Market access: the people each node reaches, and the external price it gives.

    See :mod:`clustersim.model.market_access` and docs/model.md, section 7.3.
    """

    # <= 2: a price that more than squares with market potential is no longer a wage equation
    price_elasticity: float = param(
        0.2,
        unit="-",
        doc="external price scales as (market potential / reference) ^ elasticity",
        source="wage equation of economic geography, price ~ potential^(1/sigma) (Fujita, "
        "Krugman & Venables 1999; Redding & Venables 2004; Head & Mayer 2006), with sigma = 5 "
        "as in firm.external_demand_elasticity",
        ge=0,
        le=2,
    )
    decay: float = param(
        60.0,
        unit="minutes",
        doc="travel time over which the people a node reaches count e times less",
        source="assumption",
        gt=0,
        le=MAX_MINUTES,
    )
    # <= 1e9 people: more than the EU's population; the potential stays finite
    outside_population: float = param(
        10_000_000.0,
        unit="people",
        doc="the outside world's market (national and European buyers beyond the region), in "
        "people reached at the outside_time",
        source="assumption",
        ge=0,
        le=1e9,
    )
    outside_time: float = param(
        120.0,
        unit="minutes",
        doc="travel time from the region's gateway (the centre of its most populous place) to "
        "the outside world's market",
        source="assumption",
        ge=0,
        le=MAX_MINUTES,
    )
    # >= 1000 people: the smallest town; <= 1e9
    reference_potential: float = param(
        30_000_000.0,
        unit="people",
        doc="market potential at which the external price is firm.unit_price",
        source="set by hand, before labour.creative_vocation was estimated: a medium city of "
        "150,000 then kept a creative share of about 4.4%, near the EU's 3.7%; the estimate "
        "holds it fixed (docs/model.md, section 9)",
        ge=1000,
        le=1e9,
    )
