"""The whole configuration (SimConfig), its validation, its parameter table and conversions.

Composition with Hydra is in :mod:`~clustersim.model.compose`. The parameter
groups are declared in :mod:`~clustersim.model.schema` and the city choice in
:mod:`~clustersim.model.city.config`; both are re-exported here, so
``from clustersim.model.config import FirmParams, SimConfig, validate`` works.
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
from clustersim.model.city import PRESETS
from clustersim.model.city.config import CITY_KIND_CHOICES, CityConfig
from clustersim.model.schema import (
    FirmParams,
    HouseholdParams,
    InstitutionParams,
    LabourParams,
    MarketParams,
    MetricsParams,
    NetworkParams,
    RentParams,
    SpinUpParams,
    TalentParams,
)
from clustersim.params import MAX_MONTHS, allowed_text, check_value, param

__all__ = [
    "CITY_KIND_CHOICES",
    "CityConfig",
    "FirmParams",
    "HouseholdParams",
    "InstitutionParams",
    "LabourParams",
    "MarketParams",
    "MetricsParams",
    "NetworkParams",
    "RentParams",
    "SimConfig",
    "SpinUpParams",
    "TalentParams",
    "friendly_omegaconf_error",
    "from_dictconfig",
    "iter_parameters",
    "parameter_table",
    "to_plain_dict",
    "validate",
]


@dataclass
class SimConfig:
    """A whole simulation: city, horizon, seed, parameters and policies."""

    steps: int = param(120, unit="months", doc="simulated months", source="-", ge=1, le=MAX_MONTHS)
    # seed < 2**63: results store seeds as int64 (experiments' aggregate tables)
    seed: int = param(
        0,
        unit="-",
        doc="root seed of the model's random generator (stored as a 64-bit integer)",
        source="-",
        ge=0,
        lt=2**63,
    )
    city: CityConfig = field(default_factory=CityConfig)
    talent: TalentParams = field(default_factory=TalentParams)
    labour: LabourParams = field(default_factory=LabourParams)
    firm: FirmParams = field(default_factory=FirmParams)
    market: MarketParams = field(default_factory=MarketParams)
    rent: RentParams = field(default_factory=RentParams)
    network: NetworkParams = field(default_factory=NetworkParams)
    institutions: InstitutionParams = field(default_factory=InstitutionParams)
    metrics: MetricsParams = field(default_factory=MetricsParams)
    households: HouseholdParams = field(default_factory=HouseholdParams)
    spin_up: SpinUpParams = field(default_factory=SpinUpParams)
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
    for path, f, value in iter_parameters(cfg):
        check_value(path, value, dict(f.metadata))
    c = cfg.city
    if c.kind == "preset":
        if c.preset not in PRESETS:
            allowed = ", ".join(sorted(PRESETS))
            raise ConfigError(f"city.preset must be one of {allowed}; got {c.preset!r}")
    if c.kind == "graphml" and not c.graphml:
        raise ConfigError("city.graphml must name a GraphML file when city.kind=graphml")
    if c.kind != "graphml" and c.population is None:
        raise ConfigError(f"city.population must be set (>= 1000) for city.kind={c.kind}")
    _check_region_fields(c)
    if not isinstance(cfg.policy, dict):
        raise ConfigError(f"policy must be a mapping of lever name to settings, got {cfg.policy!r}")
    if cfg.policy:
        from clustersim.model.hooks import policy_plugin

        policy_plugin().validate(cfg.policy, cfg.steps)
    return cfg


REGION_FIELDS = (
    "town_kind",
    "city_name",
    "city_kind",
    "city_population",
    "travel_time",
    "distance_km",
)
"""CityConfig fields only ``city.kind=region`` reads (``distance_km`` only draws the link)."""


def _check_region_fields(c: CityConfig) -> None:
    """Refuse a region-only field set away from its default for a city that is not a region.

    Left alone it would be ignored without a word (a preset's link comes from its data).
    """
    if c.kind == "region":
        return
    default = CityConfig()
    for name in REGION_FIELDS:
        value = getattr(c, name)
        if value != getattr(default, name):
            what = {
                "preset": f"the preset {c.preset}, whose link to its city comes from its data",
                "graphml": "a GraphML city, whose links come from its file",
            }.get(c.kind, f"a {c.kind} without a large city")
            raise ConfigError(
                f"city.{name}={value!r} applies only to city.kind=region (a town linked to a "
                f"large city); this city is {what}: use city=region or leave city.{name} out "
                "(in a design, set it in the region site's overrides)"
            )


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
    if isinstance(cause, OverflowError) and _full_key(cause):  # e.g. firm.unit_price=1e999...
        key = _full_key(cause)
        return ConfigError(f"{key} must be {_allowed_at(key)}, got a number too large for a float")
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
        if key and "is not Optional" in msg:  # key=null
            allowed = _allowed_at(key, None)
            if allowed not in (None, "any value"):
                return ConfigError(f"{key} must be {allowed}, got null")
            if _is_group(key):
                return ConfigError(
                    f"{key} is a group of parameters, set one at a time ({key}.<parameter>=...); "
                    f"got {key}=null"
                )
            return ConfigError(f"{key} cannot be null: give it a value (clustersim --cfg job)")
        if key and "Invalid type assigned" in msg and "is not a subclass of" in msg:
            value = msg.rsplit("value: ", 1)[-1] if "value: " in msg else "?"
            return ConfigError(
                f"{key} is a group of parameters, set one at a time ({key}.<parameter>=...); "
                f"got {key}={value}"
            )
        return ConfigError(f"{key}: {msg}" if key else msg)
    return ConfigError(text)


def _full_key(exc: BaseException) -> str:
    """The ``full_key: ...`` OmegaConf writes into an error's text, or ``""``."""
    for line in str(exc).splitlines():
        if line.strip().startswith("full_key:"):
            return line.split(":", 1)[1].strip()
    return ""


def _allowed_at(path: str, unknown: str | None = "a number") -> str | None:
    """What the parameter at ``path`` allows, in words (``unknown`` if it is not one)."""
    for candidate, f, _ in iter_parameters():
        if candidate == path:
            return allowed_text(f.metadata)
    return unknown


def _is_group(path: str) -> bool:
    """Whether ``path`` (``talent``, ``city.family``) names a group of parameters."""
    node: Any = SimConfig()
    for part in path.split("."):
        if not dataclasses.is_dataclass(node) or not hasattr(node, part):
            return False
        node = getattr(node, part)
    return dataclasses.is_dataclass(node)


def from_dictconfig(dcfg: DictConfig, *, check: bool = True) -> SimConfig:
    """Validate a composed DictConfig and return the typed SimConfig.

    ``check=False`` checks only the types, not the values' ranges: for a caller that sets
    more values on the result and then calls :func:`validate` itself.
    """
    from omegaconf.errors import OmegaConfBaseException

    try:
        body = OmegaConf.masked_copy(dcfg, [k for k in dcfg if k != "hydra"])
        obj = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SimConfig), body))
    except OmegaConfBaseException as exc:
        raise friendly_omegaconf_error(exc) from None
    return validate(obj) if check else obj  # type: ignore[return-value,arg-type]
