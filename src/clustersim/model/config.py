"""Typed configuration schema and validation (composition with Hydra is in ``compose``).

Every model parameter is a dataclass field carrying its unit, its meaning, its
source and its allowed range as metadata. :func:`validate` walks the tree once,
at load, and raises :class:`~clustersim.errors.ConfigError` with a one-line
message naming the field, the value and what is allowed. The same metadata
generates the parameter table of ``docs/model.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from clustersim.errors import ConfigError
from clustersim.params import allowed_text, check_value, param

__all__ = [
    "CITY_KINDS",
    "CityConfig",
    "FirmParams",
    "InstitutionParams",
    "LabourParams",
    "MetricsParams",
    "NetworkParams",
    "RentParams",
    "SimConfig",
    "TalentParams",
    "iter_parameters",
    "parameter_table",
    "to_plain_dict",
    "validate",
]

CITY_KINDS = ("small_town", "medium_city", "metropolis", "region", "preset", "graphml")


@dataclass
class CityConfig:
    """Which city graph to simulate (see :mod:`clustersim.model.city`)."""

    kind: str = param(
        "small_town",
        source="-",
        unit="-",
        doc="generator: small_town, medium_city, metropolis, region (town + large city), "
        "preset (a URBACT partner town with its nearest large city) or graphml (your own file)",
        choices=CITY_KINDS,
    )
    name: str = param("Small town", source="-", unit="-", doc="display name of the (focus) town")
    population: int | None = param(
        12_000,
        source="-",
        unit="inhabitants",
        doc="population of the (focus) town; for GraphML it rescales the whole graph, "
        "null keeps the file's populations",
        ge=1000,
        le=20_000_000,
        optional=True,
    )
    preset: str | None = param(
        None, source="-", unit="-", doc="preset key when kind=preset (e.g. obidos)", optional=True
    )
    town_kind: str = param(
        "small_town",
        source="-",
        unit="-",
        doc="generator for the town when kind=region",
        choices=("small_town", "medium_city", "metropolis"),
    )
    city_name: str = param(
        "Large city", source="-", unit="-", doc="name of the large city when kind=region"
    )
    city_kind: str = param(
        "metropolis",
        source="-",
        unit="-",
        doc="generator for the large city when kind=region",
        choices=("small_town", "medium_city", "metropolis"),
    )
    city_population: int = param(
        500_000,
        source="-",
        unit="inhabitants",
        doc="population of the large city when kind=region",
        ge=1000,
        le=20_000_000,
    )
    travel_time: float = param(
        60.0,
        source="-",
        unit="minutes",
        doc="travel time of the transport link between town centre and city centre (region)",
        gt=0,
        le=600,
    )
    distance_km: float = param(
        80.0,
        source="-",
        unit="km",
        doc="approximate road distance town-city (region; drawing only)",
        gt=0,
    )
    graphml: str | None = param(
        None, source="-", unit="path", doc="GraphML file when kind=graphml", optional=True
    )
    focus: str | None = param(
        None,
        source="-",
        unit="-",
        doc="place whose metrics fill the time series (default: the town)",
        optional=True,
    )


@dataclass
class TalentParams:
    """Creative workers: initial stock, location choice, migration."""

    initial_share: float = param(
        0.018,
        unit="share of residents",
        doc="creative workers per inhabitant at start",
        source="Eurostat cultural employment 3.7% of employment, EU 2019 (domain.md)",
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
        source="EU cultural employment 3.7% in 2019 (domain.md)",
        gt=0,
        lt=1,
    )
    cluster_lq: float = param(
        1.25,
        unit="LQ",
        doc="location quotient a node needs to count as part of a spatial cluster",
        gt=0,
    )


@dataclass
class SimConfig:
    """A whole simulation: city, horizon, seed, parameters and policies."""

    steps: int = param(120, unit="months", doc="simulated months", source="-", ge=1, le=2400)
    seed: int = param(
        0, unit="-", doc="root seed of the model's random generator", source="-", ge=0
    )
    city: CityConfig = field(default_factory=CityConfig)
    talent: TalentParams = field(default_factory=TalentParams)
    labour: LabourParams = field(default_factory=LabourParams)
    firm: FirmParams = field(default_factory=FirmParams)
    rent: RentParams = field(default_factory=RentParams)
    network: NetworkParams = field(default_factory=NetworkParams)
    institutions: InstitutionParams = field(default_factory=InstitutionParams)
    metrics: MetricsParams = field(default_factory=MetricsParams)
    policy: dict[str, Any] = field(default_factory=dict)


def iter_parameters(obj: Any = None, prefix: str = ""):
    """Yield ``(path, field, value)`` for every leaf parameter of a config dataclass tree."""
    obj = SimConfig() if obj is None else obj
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from iter_parameters(value, prefix=path + ".")
        elif f.metadata:
            yield path, f, value


def parameter_table() -> str:
    """The Markdown table of every parameter: path, default, unit, allowed values, meaning, source.

    ``docs/model.md`` embeds this table; a test keeps the two in sync.
    """
    rows = [
        "| parameter | default | unit | allowed | meaning | source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for path, f, value in iter_parameters():
        meta = f.metadata
        default = "null" if value is None else (f"{value:g}" if isinstance(value, float) else value)
        rows.append(
            f"| `{path}` | {default} | {meta['unit']} | {allowed_text(meta)} | {meta['doc']} "
            f"| {meta['source']} |"
        )
    return "\n".join(rows)


def validate(cfg: SimConfig) -> SimConfig:
    """Check every parameter against its allowed range; raise ConfigError on the first bad one.

    Also checks rules spanning fields (a preset needs its key, GraphML needs a file).
    """
    from clustersim.model import city as city_module

    for path, f, value in iter_parameters(cfg):
        check_value(path, value, dict(f.metadata))
    c = cfg.city
    if c.kind == "preset":
        if c.preset not in city_module.PRESETS:
            allowed = ", ".join(sorted(city_module.PRESETS))
            raise ConfigError(f"city.preset must be one of {allowed}; got {c.preset!r}")
    if c.kind == "graphml" and not c.graphml:
        raise ConfigError("city.graphml must name a GraphML file when city.kind=graphml")
    if c.kind != "graphml" and c.population is None:
        raise ConfigError(f"city.population must be set (>= 1000) for city.kind={c.kind}")
    if not isinstance(cfg.policy, dict):
        raise ConfigError(f"policy must be a mapping of lever name to settings, got {cfg.policy!r}")
    if cfg.policy:
        from clustersim.model.hooks import policy_plugin

        policy_plugin().validate(cfg.policy, cfg.steps)
    return cfg


def to_plain_dict(cfg: SimConfig | DictConfig) -> dict[str, Any]:
    """The resolved configuration as plain Python containers (for saving and hashing)."""
    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    return dataclasses.asdict(cfg)


def friendly_omegaconf_error(exc: Exception) -> ConfigError:
    """Turn an OmegaConf validation error into one line naming the field and what is allowed."""
    from omegaconf.errors import OmegaConfBaseException

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    cause = exc.__cause__ or exc
    if isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None)
        msg = str(cause).strip().splitlines()[0]
        if "Value '" in msg and "could not be converted" in msg:
            value = msg.split("Value '", 1)[1].split("'", 1)[0]
            kind = msg.rsplit(" to ", 1)[-1].strip().lower()
            kind = {
                "int": "an integer",
                "integer": "an integer",
                "float": "a number",
                "bool": "true or false",
                "boolean": "true or false",
            }.get(kind, f"a {kind}")
            return ConfigError(f"{key} must be {kind}, got {value!r}")
        if "Key '" in msg and "not in" in msg:
            bad = msg.split("Key '", 1)[1].split("'", 1)[0]
            where = key.rsplit(".", 1)[0] if key and "." in key else "the config"
            return ConfigError(f"{key or bad} is not a known parameter of {where}")
        return ConfigError(f"{key}: {msg}" if key else msg)
    return ConfigError(text)


def from_dictconfig(dcfg: DictConfig) -> SimConfig:
    """Validate a composed DictConfig and return the typed SimConfig."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        body = OmegaConf.masked_copy(dcfg, [k for k in dcfg if k != "hydra"])
        obj = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SimConfig), body))
    except OmegaConfBaseException as exc:
        raise friendly_omegaconf_error(exc) from None
    return validate(obj)  # type: ignore[arg-type]
