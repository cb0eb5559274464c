"""Property-based checks of lever settings: bad values refused in one line, valid ones run."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clustersim.errors import ConfigError
from clustersim.model.compose import load_config
from clustersim.model.core import CreativeClusterModel
from clustersim.policy.registry import LEVERS, settings_for
from conftest import uniform_city

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: (lever, setting) -> metadata of every numeric setting (``duration`` is an optional int).
SETTINGS = {
    (lever, f.name): {**f.metadata, "kind": f.metadata.get("kind") or "int"}
    for lever, cls in LEVERS.items()
    for f in dataclasses.fields(cls.Settings)
    if f.metadata.get("kind") in ("int", "float") or f.name == "duration"
}
CASES = sorted(SETTINGS)


def _low_high(meta) -> tuple[float, float]:
    low = meta["ge"] if meta["ge"] is not None else meta["gt"]
    high = meta["le"] if meta["le"] is not None else meta["lt"]
    return low, high


def test_every_numeric_setting_has_a_finite_range():
    assert len(CASES) >= 60
    for case in CASES:
        low, high = _low_high(SETTINGS[case])
        assert math.isfinite(low) and math.isfinite(high) and low < high, case


@st.composite
def bad_setting(draw) -> tuple[str, str, object]:
    """A lever, one of its numeric settings and a value it must refuse."""
    lever, name = draw(st.sampled_from(CASES))
    meta = SETTINGS[(lever, name)]
    low, high = _low_high(meta)
    if meta["kind"] == "int":
        out = st.one_of(st.integers(high + 1, high + 10**30), st.integers(-(10**30), low - 1))
        wrong = st.sampled_from([1.5, "3", [1], True, float("inf"), float("nan")])
    else:
        strict_high, strict_low = meta["le"] is not None, meta["ge"] is not None
        out = st.one_of(
            st.floats(high, 1e300, exclude_min=strict_high),
            st.floats(-1e300, low, exclude_max=strict_low),
            st.integers(10**309, 10**400),  # too large for a float
        )
        wrong = st.sampled_from(["abc", [1.0], True, {"a": 1}])
    non_finite = st.sampled_from([float("inf"), -float("inf"), float("nan")])
    return lever, name, draw(st.one_of(non_finite, out, wrong))


@PROPERTY
@given(bad_setting())
def test_any_bad_setting_is_refused_in_one_line_naming_lever_and_setting(case):
    lever, name, value = case
    with pytest.raises(ConfigError) as info:
        settings_for(lever, {name: value})
    message = str(info.value)
    assert "\n" not in message
    assert f"policy.{lever}.{name}" in message


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("policy.festival.visitors=inf", "policy.festival.visitors must be >= 0 and <= 1e+08"),
        ("policy.festival.visitors=1e400", "policy.festival.visitors must be >= 0 and <= 1e+08"),
        ("policy.festival.cost_per_edition=nan", "policy.festival.cost_per_edition must be"),
        ("policy.festival.intensity=-inf", "policy.festival.intensity must be >= 0 and <= 10"),
        ("policy.festival.duration=99999999999999999999", "policy.festival.duration must be"),
    ],
)
def test_bad_settings_from_the_command_line_are_refused(override, message):
    with pytest.raises(ConfigError) as info:
        load_config("small_town", "festival", overrides=[override])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def valid_value(meta) -> st.SearchStrategy:
    low, high = _low_high(meta)
    if meta["kind"] == "int":
        values = st.integers(low + (meta["gt"] is not None), high - (meta["lt"] is not None))
    else:
        inner = st.floats(
            low, high, exclude_min=meta["gt"] is not None, exclude_max=meta["lt"] is not None
        )
        ends = [
            v for v, ok in ((low, meta["ge"] is not None), (high, meta["le"] is not None)) if ok
        ]
        values = st.one_of(st.sampled_from(ends), inner) if ends else inner
    return st.one_of(st.none(), values) if meta.get("optional") else values


@st.composite
def valid_lever(draw) -> tuple[str, dict]:
    """A lever starting in month 1 with one to three settings at valid values."""
    lever = draw(st.sampled_from(sorted(LEVERS)))
    names = [n for (name, n) in CASES if name == lever and n != "start"]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    values = {n: draw(valid_value(SETTINGS[(lever, n)])) for n in chosen}
    return lever, {"start": 1, **values}


@settings(PROPERTY, max_examples=100)
@given(case=valid_lever(), seed=st.integers(0, 2**32))
def test_any_valid_settings_run_without_nan_or_inf(case, seed):
    lever, values = case
    model = CreativeClusterModel(
        # a partnership needs a university in the region, which a small town lacks
        **(
            dict(city=uniform_city(2, 1000, university=1))
            if lever == "university_partnership"
            else dict(city="small_town", population=2000)
        ),
        rng=seed,
        policy={lever: values},
        institutions={"municipality_budget": 1e12},
    )
    model.run_for(2)
    for row in model.records + model.place_records:
        for key, value in row.items():
            if isinstance(value, float):
                assert math.isfinite(value), (lever, values, key, value)
