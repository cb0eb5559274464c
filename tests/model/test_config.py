"""Config loading and validation: every shipped config composes; bad values name the field."""

from __future__ import annotations

import dataclasses

import pytest

from clustersim.errors import ConfigError
from clustersim.model import city
from clustersim.model.compose import config_dir, load_config
from clustersim.model.config import (
    CITY_KIND_CHOICES,
    CityConfig,
    SimConfig,
    iter_parameters,
    validate,
)
from graphml_files import three_node_city

CITY_CONFIGS = sorted(p.stem for p in (config_dir() / "city").glob("*.yaml"))


@pytest.mark.parametrize("name", [c for c in CITY_CONFIGS if c != "graphml"])
def test_every_city_config_composes_and_validates(name):
    cfg, dcfg = load_config(name)
    assert isinstance(cfg, SimConfig)
    assert dcfg.city.kind == cfg.city.kind


@pytest.mark.parametrize("key", sorted(city.PRESETS))
def test_preset_configs_use_the_census_population(key):
    cfg, _ = load_config(key)
    assert cfg.city.kind == "preset"
    assert cfg.city.preset == key
    assert cfg.city.population == city.PRESETS[key].population


def test_every_parameter_documents_unit_meaning_and_source():
    for path, f, _ in iter_parameters():
        assert f.metadata["unit"], path
        assert f.metadata["doc"], path
        assert f.metadata["source"], path


def test_defaults_are_valid():
    validate(SimConfig())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("steps=0", "steps must be >= 1 and <= 2400, got 0"),
        ("talent.review_rate=1.5", "talent.review_rate must be >= 0 and <= 1, got 1.5"),
        ("firm.agglomeration_cap=-3", "firm.agglomeration_cap must be > 0 and <= 1e+06, got -3.0"),
        ("labour.labour_share=1", "labour.labour_share must be > 0 and < 1, got 1.0"),
        ("city.kind=village", "city.kind must be one of small_town"),
        ("rent.elasticity=nan", "rent.elasticity must be >= 0 and <= 10, got nan"),
        ("institutions.incubator_months=1.5", "institutions.incubator_months must be an integer"),
    ],
)
def test_bad_values_raise_one_line_errors_naming_field(override, message):
    with pytest.raises(ConfigError) as info:
        load_config("small_town", overrides=[override])
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_uncapped_agglomeration_is_allowed():
    cfg, _ = load_config("small_town", overrides=["firm.agglomeration_cap=null"])
    assert cfg.firm.agglomeration_cap is None


def test_graphml_city_needs_a_file():
    with pytest.raises(ConfigError, match=r"city\.graphml must name a GraphML file"):
        load_config("graphml")


@pytest.mark.parametrize(
    ("city_name", "override", "what"),
    [
        ("obidos", "city.travel_time=30", "the preset obidos"),
        ("small_town", "city.city_population=100000", "a small_town without a large city"),
        ("metropolis", "city.city_kind=medium_city", "a metropolis without a large city"),
        ("medium_city", "city.distance_km=20", "a medium_city without a large city"),
    ],
)
def test_a_region_setting_for_a_city_that_is_no_region_is_refused(city_name, override, what):
    key = override.split("=")[0]
    with pytest.raises(ConfigError, match=rf"^{key}=.* applies only to city.kind=region") as err:
        load_config(city_name, overrides=[override])
    assert what in str(err.value) and "\n" not in str(err.value)
    # the same setting is a region's own, and a region-only setting at its default passes
    assert load_config("region", overrides=[override])[0].city.kind == "region"
    assert load_config(city_name, overrides=["city.travel_time=60"])[0].city.kind != "region"


def test_a_region_setting_for_a_graphml_city_is_refused(tmp_path):
    path = three_node_city(tmp_path / "hand.graphml")
    with pytest.raises(ConfigError, match=r"this city is a GraphML city, whose links come from"):
        load_config("graphml", overrides=[f"city.graphml={path}", "city.travel_time=30"])


def test_validate_checks_dataclasses_built_in_python():
    cfg = SimConfig()
    cfg.talent = dataclasses.replace(cfg.talent, initial_share=0.9)
    with pytest.raises(ConfigError, match=r"talent\.initial_share must be > 0 and < 0\.5"):
        validate(cfg)


def test_city_kind_choices_are_the_generated_kinds_then_region_preset_graphml():
    fields = {f.name: f for f in dataclasses.fields(CityConfig)}
    assert fields["kind"].metadata["choices"] == CITY_KIND_CHOICES
    assert CITY_KIND_CHOICES == (*city.GENERATED_KINDS, "region", "preset", "graphml")
    assert fields["town_kind"].metadata["choices"] == city.GENERATED_KINDS
    assert fields["city_kind"].metadata["choices"] == city.GENERATED_KINDS


@pytest.mark.parametrize("kind", ["small_town", "medium_city", "metropolis", "region"])
def test_every_generated_kind_and_region_is_accepted(kind):
    cfg, _ = load_config("small_town", overrides=[f"city.kind={kind}"])
    assert cfg.city.kind == kind


def test_the_config_module_still_offers_every_parameter_group():
    from clustersim.model import config

    for name in config.__all__:
        assert hasattr(config, name), name
    groups = {type(getattr(SimConfig(), f.name)) for f in dataclasses.fields(SimConfig)}
    assert {g.__name__ for g in groups if dataclasses.is_dataclass(g)} <= set(config.__all__)
