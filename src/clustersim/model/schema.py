"""Parameter groups of the configuration: talents, labour, firms, rents, network, institutions.

Every model parameter is a dataclass field declared with
:func:`~clustersim.params.param`, carrying its unit, its meaning, its source and
its allowed range as metadata. :class:`~clustersim.model.config.SimConfig`
gathers the groups; the city choice is :class:`~clustersim.model.city.config.CityConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.params import param

__all__ = [
    "FirmParams",
    "InstitutionParams",
    "LabourParams",
    "MetricsParams",
    "NetworkParams",
    "RentParams",
    "TalentParams",
]


@dataclass
class TalentParams:
    """Creative workers: initial stock, location choice, migration."""

    initial_share: float = param(
        0.018,
        unit="share of residents",
        doc="creative workers per inhabitant at start",
        source=(
            "Eurostat cultural employment 3.7% of employment, EU 2019"
            " (docs/evidence.md, section Cultural employment share)"
        ),
        gt=0,
        lt=0.5,
    )
    skill_sigma: float = param(
        0.35, unit="log-sd", doc="dispersion of talent skill (lognormal, mean 1)", ge=0, le=2
    )
    review_rate: float = param(
        0.02,
        unit="1/month",
        doc="probability that a talent reconsiders where to live in a month",
        source="residential mobility of young professionals ~20-25%/year (assumption)",
        ge=0,
        le=1,
    )
    wage_weight: float = param(
        2.0,
        unit="utils per log EUR",
        doc="weight of log expected income in the location logit",
        source="Glaeser, Kolko & Saiz 2001",
        ge=0,
    )
    amenity_weight: float = param(
        1.5,
        unit="utils per amenity unit",
        doc="mean weight of amenity (cultural life) in the location logit",
        source="Glaeser, Kolko & Saiz 2001",
        ge=0,
    )
    amenity_weight_sd: float = param(
        0.5, unit="utils", doc="spread of amenity taste between talents", ge=0
    )
    openness_weight: float = param(
        1.0,
        unit="utils per openness unit",
        doc="weight of tolerance/openness in the location logit",
        source="Florida 2002; Boschma & Fritsch 2009",
        ge=0,
    )
    rent_weight: float = param(
        1.5,
        unit="utils per rent/income",
        doc="disutility of rent as a share of income",
        source="Glaeser, Kolko & Saiz 2001",
        ge=0,
    )
    commute_weight: float = param(
        1.0, unit="utils per hour", doc="disutility of commuting to the employer", ge=0
    )
    ties_weight: float = param(
        0.3,
        unit="utils per log talent",
        doc="pull of same-sector talents at a node (social ties)",
        source="Storper & Scott 2009",
        ge=0,
    )
    move_cost: float = param(
        1.0, unit="utils", doc="one-off cost of moving home within a place", ge=0
    )
    place_change_cost: float = param(
        1.0, unit="utils", doc="extra cost of moving to another town of the region", ge=0
    )
    emigration_cost: float = param(
        0.5, unit="utils", doc="extra cost of leaving the region (brain drain)", ge=0
    )
    outside_income: float = param(
        2200.0,
        unit="EUR/month",
        doc="expected income outside the simulated region",
        gt=0,
    )
    outside_amenity: float = param(
        0.5, unit="amenity units", doc="amenity of the outside option", ge=0, le=1
    )
    outside_openness: float = param(
        0.5, unit="openness units", doc="openness of the outside option", ge=0, le=1
    )
    outside_rent: float = param(700.0, unit="EUR/month", doc="rent of the outside option", ge=0)
    immigration_rate: float = param(
        0.001,
        unit="1/month",
        doc="prospective newcomers per month as a share of the region's talents; "
        "each decides by the same logit whether to come",
        ge=0,
        le=0.2,
    )
    local_entry_rate: float = param(
        4e-5,
        unit="1/resident/month",
        doc="young residents entering creative work each month; like graduates they "
        "then choose to stay or leave (brain drain)",
        source="replaces about the retiring share at a 1.8% creative share (assumption)",
        ge=0,
        le=0.01,
    )
    local_attachment: float = param(
        0.5, unit="utils", doc="attachment of young local entrants to their home place", ge=0
    )
    retirement_rate: float = param(
        1 / 420, unit="1/month", doc="probability a talent leaves the labour force", ge=0, le=1
    )
    unemployment_income: float = param(
        900.0, unit="EUR/month", doc="income of an unemployed talent", ge=0
    )


@dataclass
class LabourParams:
    """Labour matching within commuting reach."""

    max_commute: float = param(
        60.0,
        unit="minutes",
        doc="longest commute a talent accepts; beyond it a job is out of reach",
        gt=0,
    )
    commute_decay: float = param(
        30.0, unit="minutes", doc="distance decay of job access exp(-t/decay)", gt=0
    )
    search_rate: float = param(
        0.5, unit="1/month", doc="probability an unemployed talent applies in a month", ge=0, le=1
    )
    cross_sector_productivity: float = param(
        0.6,
        unit="share",
        doc="productivity of a talent working outside their own sector",
        ge=0,
        le=1,
    )
    quit_rate: float = param(0.01, unit="1/month", doc="voluntary job separations", ge=0, le=1)
    labour_share: float = param(
        0.8,
        unit="share of revenue",
        doc="wages as a share of firm revenue at start, which sets each place's initial wage; "
        "afterwards wages follow labour-market tightness",
        source="assumption (labour share of value added ~0.6 in the EU, higher in "
        "labour-intensive creative services)",
        gt=0,
        lt=1,
    )
    wage_floor: float = param(1100.0, unit="EUR/month", doc="lowest wage for one skill unit", ge=0)
    wage_adjustment: float = param(
        0.05,
        unit="per unit tightness",
        doc="monthly wage change per unit of (vacancies - unemployed) / talents in a place",
        ge=0,
        le=1,
    )


@dataclass
class FirmParams:
    """Creative firms: production, revenue, spillovers, entry and exit."""

    initial_employment_rate: float = param(
        0.9, unit="share", doc="share of initial talents employed at start", ge=0, le=1
    )
    mean_initial_size: float = param(
        3.0,
        unit="employees",
        doc="mean size of initial firms (geometric: most are micro firms)",
        source="Eurostat SBS: >90% of creative firms are micro firms",
        ge=1,
    )
    productivity_sigma: float = param(
        0.3, unit="log-sd", doc="dispersion of firm productivity", ge=0, le=2
    )
    returns_to_labour: float = param(
        0.85, unit="-", doc="exponent alpha of output = A * L^alpha", gt=0, le=1
    )
    unit_price: float = param(
        2000.0,
        unit="EUR per output unit",
        doc="price of one unit of output on external markets at full accessibility",
        gt=0,
    )
    accessibility_elasticity: float = param(
        1.0,
        unit="-",
        doc="external market price scales as accessibility^elasticity",
        source="Krugman 1991; Barbero & Zofio 2016",
        ge=0,
    )
    local_spend: float = param(
        40.0,
        unit="EUR/inhabitant/month",
        doc="household spending on creative goods and services",
        source="Eurostat household cultural expenditure ~3% of consumption (assumption)",
        ge=0,
    )
    fixed_cost: float = param(400.0, unit="EUR/month", doc="fixed cost of running a firm", ge=0)
    workspace_rent_share: float = param(
        0.5, unit="dwelling rents per worker", doc="workspace cost per employee", ge=0
    )
    startup_cash: float = param(15_000.0, unit="EUR", doc="cash a new firm starts with", gt=0)
    agglomeration_strength: float = param(
        0.01,
        unit="per firm",
        doc="agglomeration benefit g(n) = 1 + strength * min(n, cap) of creative firms at a node",
        source="Arthur 1990",
        ge=0,
    )
    agglomeration_cap: float | None = param(
        40.0,
        unit="firms",
        doc="firms beyond which agglomeration adds no benefit; null = uncapped "
        "(one place takes all)",
        source="Arthur 1990",
        gt=0,
        optional=True,
    )
    specialisation_weight: float = param(
        0.15,
        unit="-",
        doc="benefit of own-sector concentration within reach (MAR spillovers)",
        source="Glaeser et al. 1992 (assumption)",
        ge=0,
    )
    diversity_weight: float = param(
        0.15,
        unit="-",
        doc="benefit of sector diversity within reach (Jacobs spillovers)",
        source="Glaeser et al. 1992 (assumption)",
        ge=0,
    )
    knowledge_weight: float = param(
        0.1,
        unit="-",
        doc="productivity benefit per unit of university knowledge field",
        source="Valero & Van Reenen 2019",
        ge=0,
    )
    digital_tech_weight: float = param(
        0.3,
        unit="-",
        doc="extra external-market reach of digital sectors per unit of broadband",
        source="Czernich et al. 2011",
        ge=0,
    )
    networking_weight: float = param(
        0.05,
        unit="per log tie",
        doc="extra external-market reach per log(1 + collaboration ties)",
        source="Falck, Heblich & Kipar 2010",
        ge=0,
    )
    innovation_rate: float = param(
        0.01, unit="1/month", doc="base probability a firm innovates in a month", ge=0, le=1
    )
    innovation_step: float = param(
        0.05, unit="share", doc="productivity gain from one innovation", ge=0, le=1
    )
    growth_sensitivity: float = param(
        0.5,
        unit="-",
        doc="hiring target change per unit of profit margin above the target margin",
        ge=0,
    )
    target_margin: float = param(
        0.05, unit="share", doc="profit margin at which a firm neither grows nor shrinks"
    )
    spinoff_rate: float = param(
        0.002,
        unit="1/month",
        doc="probability an employee founds a spin-off, at parent margin 0",
        source="Klepper 2010",
        ge=0,
        le=1,
    )
    entrepreneurship_rate: float = param(
        0.01,
        unit="1/month",
        doc="probability an unemployed talent founds a firm",
        source="Zhang 2003",
        ge=0,
        le=1,
    )
    imitation_weight: float = param(
        1.0,
        unit="-",
        doc="weight of neighbours' success when a founder picks sector and node",
        source="Zhang 2003",
        ge=0,
    )
    location_noise: float = param(
        1.0, unit="utils", doc="scale of idiosyncratic taste in a founder's node choice", gt=0
    )
    spinoff_near_parent: float = param(
        0.8, unit="share", doc="probability a spin-off stays at its parent's node", ge=0, le=1
    )


@dataclass
class RentParams:
    """Rents that respond to demand, and displacement."""

    elasticity: float = param(
        1.5,
        unit="-",
        doc="target rent grows as occupancy^elasticity",
        source="Glaeser, Kolko & Saiz 2001 (rents rise faster than wages)",
        ge=0,
    )
    adjustment_speed: float = param(
        0.05, unit="1/month", doc="share of the gap to the target rent closed per month", ge=0, le=1
    )
    workspace_weight: float = param(
        0.5, unit="dwellings per job", doc="space demand of one creative job", ge=0
    )
    low_income_share: float = param(
        0.3, unit="share", doc="share of non-creative residents with low income", ge=0, le=1
    )
    displacement_rate: float = param(
        0.02,
        unit="1/month per rent rise",
        doc="share of low-income residents pushed out per unit of rent rise over the start",
        source="O'Sullivan 2002; Malik et al. 2015",
        ge=0,
        le=1,
    )


@dataclass
class NetworkParams:
    """Firm collaboration network."""

    tie_rate: float = param(
        0.02, unit="1/month", doc="new collaboration ties per firm per month", ge=0
    )
    tie_decay: float = param(
        0.01, unit="1/month", doc="probability a tie lapses in a month", ge=0, le=1
    )
    distance_scale: float = param(
        30.0,
        unit="minutes",
        doc="distance decay of tie formation; scaled up by accessibility for distant ties",
        gt=0,
    )
    same_sector_affinity: float = param(
        3.0, unit="-", doc="odds of a same-sector partner relative to another sector", ge=0
    )
    innovation_weight: float = param(
        0.3, unit="per log tie", doc="innovation probability boost per log(1 + ties)", ge=0
    )


@dataclass
class InstitutionParams:
    """Universities, cultural institutions, incubators and the municipality."""

    graduates_per_university: float = param(
        80.0,
        unit="graduates/year",
        doc="creative-field graduates per university entering the local labour market",
        ge=0,
    )
    graduate_skill: float = param(1.1, unit="skill units", doc="mean skill of graduates", gt=0)
    graduate_retention: float = param(
        0.5,
        unit="utils",
        doc="attachment of new graduates to their university's place",
        source="Valero & Van Reenen 2019 (university-city nexus)",
        ge=0,
    )
    knowledge_decay: float = param(
        30.0, unit="minutes", doc="distance decay of university knowledge spillover", gt=0
    )
    culture_threshold: float = param(
        0.6,
        unit="amenity units",
        doc="nodes with amenity at least this start with a cultural institution",
        ge=0,
        le=1,
    )
    culture_strength: float = param(
        0.2, unit="amenity units", doc="amenity a cultural institution adds at its node", ge=0
    )
    amenity_decay: float = param(
        15.0, unit="minutes", doc="distance decay of amenity from cultural institutions", gt=0
    )
    incubator_rent_discount: float = param(
        0.5, unit="share", doc="workspace rent discount for incubator tenants", ge=0, le=1
    )
    incubator_boost: float = param(
        0.1, unit="share", doc="productivity boost for incubator tenants", ge=0
    )
    incubator_months: int = param(
        24, unit="months", doc="time a tenant stays before graduating", ge=1
    )
    municipality_budget: float = param(
        5_000_000.0,
        unit="EUR",
        doc="municipal budget available for creative policies at start",
        ge=0,
    )
    municipality_income: float = param(
        0.0, unit="EUR/month", doc="monthly addition to the creative-policy budget", ge=0
    )


@dataclass
class MetricsParams:
    """Definitions used by the reported metrics."""

    employment_rate: float = param(
        0.42,
        unit="jobs per inhabitant",
        doc="non-creative employment per resident, the denominator of creative_share",
        source="EU employment ~0.45 per inhabitant (Eurostat, assumption)",
        gt=0,
        le=1,
    )
    reference_creative_share: float = param(
        0.037,
        unit="share",
        doc="reference creative share for the location quotient",
        source=(
            "EU cultural employment 3.7% in 2019"
            " (docs/evidence.md, section Cultural employment share)"
        ),
        gt=0,
        lt=1,
    )
    cluster_lq: float = param(
        1.25,
        unit="LQ",
        doc="location quotient a node needs to count as part of a spatial cluster",
        gt=0,
    )
