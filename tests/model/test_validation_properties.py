"""Property-based checks of the config schema: bad values refused, valid values run cleanly."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clustersim.errors import ConfigError
from clustersim.model.compose import load_config
from clustersim.model.config import iter_parameters
from clustersim.model.core import CreativeClusterModel
from conftest import run_cli
from graphml_files import three_node_city

#: Modest and silent: no example database written into the working tree.
PROPERTY = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

NUMERIC = {
    path: dict(f.metadata)
    for path, f, _ in iter_parameters()
    if f.metadata.get("kind") in ("int", "float")
}
#: Parameters a run may vary here: all numeric ones except the horizon, seed and city.
RUNNABLE = {p: m for p, m in NUMERIC.items() if p.split(".")[0] not in ("steps", "seed", "city")}

NON_FINITE = ["inf", "-inf", "nan", "NaN", "1e400", "-1e400"]
WRONG_TYPE = ["abc", "[1,2]", "{a: 1}", "true", "''"]


def _low_high(meta: dict) -> tuple[float, float]:
    low = meta["ge"] if meta["ge"] is not None else meta["gt"]
    high = meta["le"] if meta["le"] is not None else meta["lt"]
    return low, high


def out_of_range(meta: dict) -> st.SearchStrategy[str]:
    """Override text of numbers just or far outside a parameter's range."""
    low, high = _low_high(meta)
    if meta["kind"] == "int":
        above = st.integers(high + (meta["le"] is not None), high + 10**30)
        below = st.integers(low - 10**30, low - (meta["ge"] is not None))
        return st.one_of(above, below).map(str)
    above = st.floats(high, 1e300, exclude_min=meta["le"] is not None)
    below = st.floats(-1e300, low, exclude_max=meta["ge"] is not None)
    return st.one_of(above, below).map(repr)


@st.composite
def bad_override(draw) -> tuple[str, str]:
    """A parameter path and an invalid value for it (non-finite, out of range, wrong type)."""
    path = draw(st.sampled_from(sorted(NUMERIC)))
    meta = NUMERIC[path]
    wrong = WRONG_TYPE + (["1.5"] if meta["kind"] == "int" else [])
    wrong += [] if meta["optional"] else ["null"]
    text = draw(st.one_of(st.sampled_from(NON_FINITE + wrong), out_of_range(meta)))
    return path, text


@PROPERTY
@given(bad_override())
def test_any_bad_value_is_refused_in_one_line_naming_the_field(case):
    path, text = case
    with pytest.raises(ConfigError) as info:
        load_config("small_town", overrides=[f"{path}={text}"])
    message = str(info.value)
    assert "\n" not in message
    assert path in message


def in_range(meta: dict) -> st.SearchStrategy:
    """Valid values of a parameter: anywhere in its range, ends included where allowed."""
    low, high = _low_high(meta)
    if meta["kind"] == "int":
        return st.integers(low + (meta["gt"] is not None), high - (meta["lt"] is not None))
    values = st.floats(
        low, high, exclude_min=meta["gt"] is not None, exclude_max=meta["lt"] is not None
    )
    ends = [v for v, ok in ((low, meta["ge"] is not None), (high, meta["le"] is not None)) if ok]
    values = st.one_of(st.sampled_from(ends), values) if ends else values
    return st.one_of(st.none(), values) if meta["optional"] else values


@st.composite
def valid_groups(draw) -> dict[str, dict]:
    """One to four parameters set to valid values, as the model's keyword groups."""
    paths = draw(st.lists(st.sampled_from(sorted(RUNNABLE)), min_size=1, max_size=4, unique=True))
    groups: dict[str, dict] = {}
    for path in paths:
        group, name = path.split(".")
        groups.setdefault(group, {})[name] = draw(in_range(RUNNABLE[path]))
    return groups


def assert_finite(records: list[dict], what: str) -> None:
    for row in records:
        for key, value in row.items():
            if isinstance(value, float):
                assert math.isfinite(value), (what, row.get("step"), key, value)


@settings(PROPERTY, max_examples=100)
@given(groups=valid_groups(), seed=st.integers(0, 2**63 - 1))
def test_any_valid_values_run_without_nan_or_inf(groups, seed):
    model = CreativeClusterModel(city="small_town", population=2000, rng=seed, **groups)
    model.run_for(2)
    assert len(model.records) == 3
    assert_finite(model.records, "timeseries")
    assert_finite(model.place_records, "places")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["steps=12", "firm.unit_price=inf"], "firm.unit_price must be > 0 and <= 1e+06, got inf"),
        (["steps=12", "rent.elasticity=1e400"], "rent.elasticity must be >= 0 and <= 10, got inf"),
        (["steps=12", "seed=99999999999999999999999"], "seed must be >= 0 and < 2**63"),
        (
            ["steps=12", "city=graphml", "city.graphml={file}"],
            "node 'old-town' ('Node 0'): attribute 'population' must be int in [0, 5e+07]",
        ),
    ],
)
def test_cli_refuses_bad_values_with_one_line_and_writes_nothing(tmp_path, args, message):
    work = tmp_path / "work"
    work.mkdir()
    city_file = three_node_city(
        tmp_path / "huge.graphml", ("old-town", "market", "7"), {"old-town": {"population": "1e15"}}
    )
    result = run_cli([a.replace("{file}", str(city_file)) for a in args], cwd=work)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert list(work.iterdir()) == []
