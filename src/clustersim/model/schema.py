"""Parameter groups of the configuration: talents, labour, firms, rents, network, institutions.

Every model parameter is a dataclass field declared with
:func:`~clustersim.params.param`, carrying its unit, its meaning, its source and
its allowed range as metadata. :class:`~clustersim.model.config.SimConfig`
gathers the groups; the city choice is :class:`~clustersim.model.city.config.CityConfig`.
:class:`FirmParams` lives in :mod:`~clustersim.model.schema_firms` and is re-exported here.
Every numeric parameter has a finite range; the shared upper bounds (``MAX_UTILS``,
``MAX_MINUTES``, ...) are explained in :mod:`clustersim.params`, the others where declared.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustersim.model.schema_economy import HouseholdParams
from clustersim.model.schema_firms import FirmParams, MarketParams
from clustersim.model.schema_spinup import SpinUpParams
from clustersim.params import (
    CALIBRATED_EU,
    MAX_EUR_PER_MONTH,
    MAX_MINUTES,
    MAX_MONTHS,
    MAX_UTILS,
    MAX_WEIGHT,
    param,
)

__all__ = [
    "FirmParams",
    "HouseholdParams",
    "InstitutionParams",
    "LabourParams",
    "MarketParams",
    "MetricsParams",
    "NetworkParams",
    "RentParams",
    "SpinUpParams",
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
    choice_set_size: int = param(
        100,
        unit="nodes",
        doc="in a city of more nodes, a talent choosing where to live weighs home, workplace "
        "and this many nodes sampled in proportion to population (half) and evenly (half), "
        "with the logit corrected for the sampling; 0 = always every node",
        source="McFadden 1978 (sampling of alternatives); a speed setting: generated cities "
        "up to about 700,000 inhabitants and the default region have fewer nodes",
        ge=0,
        le=100_000,
    )
    wage_weight: float = param(
        2.0,
        unit="utils per log EUR",
        doc="weight of log expected income in the location logit",
        source="Glaeser, Kolko & Saiz 2001",
        ge=0,
        le=MAX_UTILS,
    )
    amenity_weight: float = param(
        1.5,
        unit="utils per amenity unit",
        doc="mean weight of amenity (cultural life) in the location logit",
        source="Glaeser, Kolko & Saiz 2001",
        ge=0,
        le=MAX_UTILS,
    )
    amenity_weight_sd: float = param(
        0.5,
        unit="utils",
        doc="spread of amenity taste between talents",
        ge=0,
        le=MAX_UTILS,
    )
    openness_weight: float = param(
        1.0,
        unit="utils per openness unit",
        doc="weight of tolerance/openness in the location logit",
        source="Florida 2002; Boschma & Fritsch 2009",
        ge=0,
        le=MAX_UTILS,
    )
    rent_weight: float = param(
        1.5,
        unit="utils per rent/income",
        doc="disutility of rent as a share of income",
        source="Glaeser, Kolko & Saiz 2001",
        ge=0,
        le=MAX_UTILS,
    )
    commute_weight: float = param(
        1.0,
        unit="utils per hour",
        doc="disutility of commuting to the employer",
        ge=0,
        le=MAX_UTILS,
    )
    ties_weight: float = param(
        0.3,
        unit="utils per log talent",
        doc="pull of same-sector talents living at a node (social ties): log of one plus "
        "their number (with size_weight 1: their number per 1,000 homes there)",
        source="Storper & Scott 2009",
        ge=0,
        le=MAX_UTILS,
    )
    size_weight: float = param(
        0.0,
        unit="utils per log home",
        doc="weight of the log of a node's homes in the location logit; 1 = a node counts "
        "as many alternatives as it has homes, so how finely a city is cut into nodes "
        "does not decide where talents live (ties then per 1,000 homes, and the outside "
        "option has outside_size homes); 0 = every node one alternative whatever its size "
        "(the default until towns next to a city keep their talents; docs/model.md 7.1, 9); "
        "values between interpolate, with those properties only at 1",
        source="McFadden 1978 (aggregation of elemental alternatives: coefficient 1)",
        ge=0,
        le=MAX_UTILS,
    )
    outside_size: float = param(
        1500.0,
        unit="homes (one per resident)",
        doc="size of the outside option (leaving the region, or not coming) in the "
        "location logit's size term (with size_weight > 0): with the outside utilities "
        "it sets how many talents a region loses; a region of more homes keeps more",
        source="assumption: a 12,000-inhabitant town (9 nodes, ~1,500 homes each) "
        "then loses talents at the rate it did when each node was one alternative",
        gt=0,
        le=1e9,
    )
    move_cost: float = param(
        1.0,
        unit="utils",
        doc="one-off cost of moving home within a place",
        ge=0,
        le=MAX_UTILS,
    )
    place_change_cost: float = param(
        1.0,
        unit="utils",
        doc="extra cost of moving to another town of the region",
        ge=0,
        le=MAX_UTILS,
    )
    emigration_cost: float = param(
        0.5,
        unit="utils",
        doc="extra cost of leaving the region (brain drain)",
        ge=0,
        le=MAX_UTILS,
    )
    outside_income: float = param(
        2200.0,
        unit="EUR/month",
        doc="expected income outside the simulated region",
        gt=0,
        le=MAX_EUR_PER_MONTH,
    )
    outside_amenity: float = param(
        0.5, unit="amenity units", doc="amenity of the outside option", ge=0, le=1
    )
    outside_openness: float = param(
        0.5, unit="openness units", doc="openness of the outside option", ge=0, le=1
    )
    outside_rent: float = param(
        700.0,
        unit="EUR/month",
        doc="rent of the outside option",
        ge=0,
        le=MAX_EUR_PER_MONTH,
    )
    immigration_rate: float = param(
        0.001,
        unit="1/month",
        doc="prospective newcomers per month as a share of the region's talents; "
        "each decides by the same logit whether to come",
        ge=0,
        le=0.2,
    )
    local_attachment: float = param(
        0.5,
        unit="utils",
        doc="attachment of residents who take up creative work to their home place",
        ge=0,
        le=MAX_UTILS,
    )
    retirement_rate: float = param(
        1 / 420, unit="1/month", doc="probability a talent leaves the labour force", ge=0, le=1
    )
    unemployment_income: float = param(
        900.0,
        unit="EUR/month",
        doc="income of an unemployed talent",
        ge=0,
        le=MAX_EUR_PER_MONTH,
    )


@dataclass
class LabourParams:
    """Labour matching within commuting reach."""

    max_commute: float = param(
        60.0,
        unit="minutes",
        doc="longest commute a talent accepts; beyond it a job is out of reach",
        gt=0,
        le=MAX_MINUTES,
    )
    commute_decay: float = param(
        30.0,
        unit="minutes",
        doc="distance decay of job access exp(-t/decay)",
        gt=0,
        le=MAX_MINUTES,
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
        doc="wages as a share of firm revenue: sets each place's initial wage, and wages "
        "are pulled toward it each month (labour.wage_productivity_pull) besides following "
        "labour-market tightness",
        source="assumption (labour share of value added ~0.6 in the EU, higher in "
        "labour-intensive creative services)",
        gt=0,
        lt=1,
    )
    wage_floor: float = param(
        1100.0,
        unit="EUR/month",
        doc="lowest wage for one skill unit",
        ge=0,
        le=MAX_EUR_PER_MONTH,
    )
    occupation_review_rate: float = param(
        0.02,
        unit="1/month",
        doc="probability that a worker reconsiders between creative and other work in a month",
        source="assumption (occupational mobility ~10-20% of workers a year; "
        "Kambourov & Manovskii 2008)",
        ge=0,
        le=1,
    )
    creative_vocation: float = param(
        -2.49,
        unit="utils",
        doc="utility of creative over other work at equal income: negative, as few have "
        "the vocation; with the switching cost it sets the creative share of workers",
        source="calibrated to the EU's creative share of employment, 3.7% (docs/evidence.md, "
        "section Cultural employment share): " + CALIBRATED_EU,
        ge=-MAX_UTILS,
        le=MAX_UTILS,
    )
    occupation_switch_cost: float = param(
        1.0,
        unit="utils",
        doc="one-off cost of switching between creative and other work",
        source="assumption",
        ge=0,
        le=MAX_UTILS,
    )
    wage_productivity_pull: float = param(
        0.02,
        unit="1/month",
        doc="share of the gap between a place's wage and labour_share x revenue per "
        "effective worker closed each month (wages follow productivity)",
        source="assumption (wage bargaining over value added)",
        ge=0,
        le=1,
    )
    wage_adjustment: float = param(
        0.05,
        unit="per unit tightness",
        doc="monthly wage change per unit of (vacancies - unemployed) / talents in a place",
        ge=0,
        le=1,
    )


@dataclass
class RentParams:
    """Housing: rents that clear demand against a stock, slow building, displacement."""

    elasticity: float = param(
        1.5,
        unit="-",
        doc="target rent grows as occupancy^elasticity, occupancy being space demand over "
        "the housing stock relative to the start (the inverse of the price elasticity of "
        "housing demand)",
        source="Glaeser, Kolko & Saiz 2001 (rents rise faster than wages); assumption for "
        "the value (housing demand price elasticity ~ -0.7)",
        ge=0,
        le=MAX_WEIGHT,
    )
    income_elasticity: float = param(
        1.0,
        unit="-",
        doc="target rent grows as the income per person of a node's residents "
        "(relative to the start)^income_elasticity: what they can pay",
        source="Davis & Ortalo-Magne 2011 (households spend a roughly constant share of "
        "income on housing)",
        ge=0,
        le=MAX_WEIGHT,
    )
    adjustment_speed: float = param(
        0.05, unit="1/month", doc="share of the gap to the target rent closed per month", ge=0, le=1
    )
    supply_elasticity: float = param(
        0.2,
        unit="-",
        doc="long-run housing stock grows as (rent / rent at start)^supply_elasticity",
        source="Caldera & Johansson 2013 (0.1-0.3 in the Netherlands, the UK, Switzerland; "
        "above 1 in the US)",
        ge=0,
        le=MAX_WEIGHT,
    )
    supply_speed: float = param(
        0.01,
        unit="1/month",
        doc="share of the gap to the long-run stock built per month when it is above the stock",
        source="assumption (planning and building take years)",
        ge=0,
        le=1,
    )
    depreciation: float = param(
        0.0002,
        unit="1/month",
        doc="share of a stock above its long-run level lost per month: housing is durable, "
        "so supply falls far slower than it rises",
        source="Glaeser & Gyourko 2005 (durable housing, kinked supply); assumption for the "
        "value (~0.25% a year)",
        ge=0,
        le=1,
    )
    workspace_weight: float = param(
        0.5,
        unit="dwellings per job",
        doc="space demand of one creative job",
        ge=0,
        le=MAX_WEIGHT,
    )
    low_income_share: float = param(
        0.3, unit="share", doc="share of non-creative residents with low income", ge=0, le=1
    )
    low_income_burden: float = param(
        0.3,
        unit="share of income",
        doc="rent burden of low-income households at the start; it then moves with rents "
        "over the wage of other work",
        source="assumption (below the overburden threshold of 0.4)",
        ge=0.01,
        le=1,
    )
    burden_threshold: float = param(
        0.4,
        unit="share of income",
        doc="rent burden above which low-income households are overburdened",
        source="Eurostat housing cost overburden: 40% of disposable income "
        "(docs/evidence.md, section Housing)",
        ge=0.01,
        le=1,
    )
    burden_months: int = param(
        6,
        unit="months",
        doc="months the burden must stay above the threshold before households leave",
        source="assumption (arrears and a move take months)",
        ge=1,
        le=120,
    )
    displacement_rate: float = param(
        0.1,
        unit="1/month per unit of excess burden",
        doc="share of a node's low-income residents who leave per month per unit of "
        "burden / threshold - 1, once the burden has stayed above the threshold",
        source="O'Sullivan 2002; Malik et al. 2015 (form); assumption for the value",
        ge=0,
        le=1,
    )


@dataclass
class NetworkParams:
    """Firm collaboration network."""

    # <= 1 new tie per firm per month: 50 times the default; ties are kept in memory
    tie_rate: float = param(
        0.02,
        unit="1/month",
        doc="new collaboration ties per firm per month",
        ge=0,
        le=1.0,
    )
    tie_decay: float = param(
        0.01, unit="1/month", doc="probability a tie lapses in a month", ge=0, le=1
    )
    distance_scale: float = param(
        30.0,
        unit="minutes",
        doc="distance decay of tie formation; scaled up by market access for distant ties",
        gt=0,
        le=MAX_MINUTES,
    )
    # <= 1000: odds ratio; a same-sector partner almost surely
    same_sector_affinity: float = param(
        3.0,
        unit="-",
        doc="odds of a same-sector partner relative to another sector",
        ge=0,
        le=1000.0,
    )
    innovation_weight: float = param(
        0.3,
        unit="per log tie",
        doc="innovation probability boost per log(1 + ties)",
        ge=0,
        le=MAX_WEIGHT,
    )


@dataclass
class InstitutionParams:
    """Universities, cultural institutions, incubators and the municipality."""

    # <= 100 per 1,000 a year: ten times the EU's rate of all tertiary graduates (~9)
    graduates_per_1000: float = param(
        0.53,
        unit="graduates/year per 1,000 inhabitants",
        doc="creative-field graduates entering the local labour market each year, per 1,000 "
        "inhabitants of a place that has a university (shared among its universities)",
        source="assumption, about half the EU's arts-and-humanities graduates per head "
        "(Eurostat, tertiary graduates by field)",
        ge=0,
        le=100.0,
    )
    # <= 10 skill units: ten times the mean talent's skill (1)
    graduate_skill: float = param(
        1.1,
        unit="skill units",
        doc="mean skill of graduates",
        gt=0,
        le=10.0,
    )
    graduate_retention: float = param(
        0.5,
        unit="utils",
        doc="attachment of new graduates to their university's place",
        source="Valero & Van Reenen 2019 (university-city nexus)",
        ge=0,
        le=MAX_UTILS,
    )
    knowledge_decay: float = param(
        30.0,
        unit="minutes",
        doc="distance decay of university knowledge spillover",
        gt=0,
        le=MAX_MINUTES,
    )
    culture_threshold: float = param(
        0.6,
        unit="amenity units",
        doc="nodes with amenity at least this start with a cultural institution",
        ge=0,
        le=1,
    )
    # <= 1 amenity unit: the whole amenity scale (0-1)
    culture_strength: float = param(
        0.2,
        unit="amenity units",
        doc="amenity a cultural institution adds at its node",
        ge=0,
        le=1.0,
    )
    amenity_decay: float = param(
        15.0,
        unit="minutes",
        doc="distance decay of amenity from cultural institutions",
        gt=0,
        le=MAX_MINUTES,
    )
    incubator_rent_discount: float = param(
        0.5, unit="share", doc="workspace rent discount for incubator tenants", ge=0, le=1
    )
    # <= 1: doubles a tenant's productivity
    incubator_boost: float = param(
        0.1,
        unit="share",
        doc="productivity boost for incubator tenants",
        ge=0,
        le=1.0,
    )
    incubator_months: int = param(
        24,
        unit="months",
        doc="time a tenant stays before graduating",
        ge=1,
        le=MAX_MONTHS,
    )
    # <= 1e12 EUR: more than any city's whole budget
    municipality_budget: float = param(
        5_000_000.0,
        unit="EUR",
        doc="municipal budget available for creative policies at start",
        ge=0,
        le=1e12,
    )
    # <= 1e10 EUR/month: more than any city's whole income
    municipality_income: float = param(
        0.0,
        unit="EUR/month",
        doc="monthly addition to the creative-policy budget",
        ge=0,
        le=1e10,
    )


@dataclass
class MetricsParams:
    """Definitions used by the reported metrics."""

    # >= 0.001: a real economy's creative share; the location quotient divides by it
    reference_creative_share: float = param(
        0.037,
        unit="share",
        doc="reference creative share for the location quotient",
        source=(
            "EU cultural employment 3.7% in 2019"
            " (docs/evidence.md, section Cultural employment share)"
        ),
        ge=0.001,
        lt=1,
    )
    # <= 100: a node with 100 times the reference creative share
    cluster_lq: float = param(
        1.25,
        unit="LQ",
        doc="location quotient a node needs to count as part of a spatial cluster",
        gt=0,
        le=100.0,
    )
