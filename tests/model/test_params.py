"""Parameter ranges: every number finite and bounded, one-line messages, seeds in int64."""

from __future__ import annotations

import dataclasses
import math

import pytest

from clustersim.errors import ConfigError
from clustersim.model.compose import load_config
from clustersim.model.config import SimConfig, iter_parameters, validate
from clustersim.params import allowed_text, check_value, format_bound
from clustersim.policy.registry import LEVERS, settings_for


def numeric_fields():
    """``(path, metadata)`` of every numeric model parameter and lever setting."""
    for path, f, _ in iter_parameters():
        if f.metadata.get("kind") in ("int", "float"):
            yield path, dict(f.metadata)
    for name, lever in LEVERS.items():
        for f in dataclasses.fields(lever.Settings):
            if f.metadata.get("kind") in ("int", "float") or f.name == "duration":
                yield f"policy.{name}.{f.name}", dict(f.metadata)


NUMERIC = dict(numeric_fields())


def test_every_numeric_parameter_and_setting_has_a_finite_documented_range():
    assert len(NUMERIC) > 120
    for path, meta in NUMERIC.items():
        low = meta["ge"] if meta["ge"] is not None else meta["gt"]
        high = meta["le"] if meta["le"] is not None else meta["lt"]
        assert low is not None and math.isfinite(low), path
        assert high is not None and math.isfinite(high), path
        assert low < high, path
        assert " and " in allowed_text(meta), path


def test_defaults_lie_inside_their_ranges():
    validate(SimConfig())
    for name in LEVERS:
        settings_for(name, {})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_check_value_refuses_non_finite_numbers_in_one_line(bad):
    meta = {"gt": 0, "le": 1e6, "kind": "float"}
    with pytest.raises(ConfigError) as info:
        check_value("firm.unit_price", bad, meta)
    assert str(info.value) == f"firm.unit_price must be > 0 and <= 1e+06, got {bad!r}"


def test_check_value_refuses_other_types_and_shows_numpy_numbers_plainly():
    np = pytest.importorskip("numpy")
    with pytest.raises(ConfigError, match=r"^x must be a number \(>= 0\), got 'abc'$"):
        check_value("x", "abc", {"ge": 0, "kind": "float"})
    with pytest.raises(ConfigError, match=r"^n must be an integer \(>= 1\), got 1\.5$"):
        check_value("n", 1.5, {"ge": 1, "kind": "int"})
    with pytest.raises(ConfigError, match=r"^n must be an integer \(>= 1\), got True$"):
        check_value("n", True, {"ge": 1, "kind": "int"})
    with pytest.raises(ConfigError, match=r"^x must be <= 1, got inf$"):
        check_value("x", np.float64("inf"), {"le": 1, "kind": "float"})
    check_value("n", np.int64(3), {"ge": 1, "kind": "int"})
    check_value("x", 3, {"ge": 1, "kind": "float"})  # an integer is a number


def test_bounds_read_well():
    assert format_bound(2**63) == "2**63"
    assert format_bound(1e6) == "1e+06"
    assert format_bound(600) == "600"
    assert allowed_text({"ge": 0, "lt": 2**63}) == ">= 0 and < 2**63"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("firm.unit_price=inf", "firm.unit_price must be > 0 and <= 1e+06, got inf"),
        ("firm.unit_price=1e400", "firm.unit_price must be > 0 and <= 1e+06, got inf"),
        ("rent.elasticity=1e300", "rent.elasticity must be >= 0 and <= 10, got 1e+300"),
        ("rent.workspace_weight=-inf", "rent.workspace_weight must be >= 0 and <= 10, got -inf"),
        ("network.tie_rate=1e30", "network.tie_rate must be >= 0 and <= 1, got 1e+30"),
        ("firm.mean_initial_size=1e300", "firm.mean_initial_size must be >= 1 and <= 1000"),
        ("city.population=1000000000000000", "city.population must be >= 1000 and <= 2e+07"),
        ("talent.immigration_rate=5", "talent.immigration_rate must be >= 0 and <= 0.2"),
        ("firm.target_margin=2", "firm.target_margin must be >= -1 and <= 1, got 2.0"),
        (
            "firm.unit_price=1" + "0" * 400,
            "firm.unit_price must be > 0 and <= 1e+06, got a number too large for a float",
        ),
    ],
)
def test_dangerous_values_are_refused_naming_field_value_and_range(override, message):
    with pytest.raises(ConfigError) as info:
        load_config("small_town", overrides=[override])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_seeds_are_integers_below_2_to_the_63():
    """Results store seeds as int64 (experiments' aggregate tables): larger ones are refused."""
    cfg, _ = load_config("small_town", seed=2**63 - 1)
    assert cfg.seed == 2**63 - 1
    for bad in (2**63, 99999999999999999999999, -1):
        with pytest.raises(ConfigError) as info:
            load_config("small_town", seed=bad)
        assert str(info.value) == f"seed must be >= 0 and < 2**63, got {bad}"


def test_largest_seed_runs():
    from clustersim.model.core import CreativeClusterModel

    cfg, _ = load_config("small_town", seed=2**63 - 1, overrides=["city.population=2000"])
    model = CreativeClusterModel.from_config(cfg)
    model.run_for(1)
    assert len(model.records) == 2
