"""simulate() and SimulationResult: tables, reproducibility, overrides, atomic saving."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

import clustersim
from clustersim import ConfigError, simulate
from clustersim.files import write_atomically


@pytest.fixture(scope="module")
def small_result():
    return simulate("small_town", steps=24, seed=5, overrides=["city.population=6000"])


def test_result_tables(small_result):
    ts = small_result.timeseries
    assert list(ts["step"]) == list(range(25))
    assert {"firm_id", "sector", "node", "founded_step", "exit_step", "employees"} <= set(
        small_result.firms.columns
    )
    assert small_result.config["steps"] == 24
    assert small_result.config["city"]["population"] == 6000
    assert small_result.config["seed"] == 5
    assert ts["population"].iloc[0] == pytest.approx(6000)


def test_same_seed_same_tables_through_simulate(small_result):
    again = simulate("small_town", steps=24, seed=5, overrides=["city.population=6000"])
    pd.testing.assert_frame_equal(small_result.timeseries, again.timeseries)
    pd.testing.assert_frame_equal(small_result.firms, again.firms)
    pd.testing.assert_frame_equal(small_result.talents, again.talents)


@pytest.mark.parametrize("city", ["small_town", "medium_city", "metropolis", "region", "obidos"])
def test_every_city_accepts_population(city):
    result = simulate(city, steps=1, seed=0, overrides=["city.population=7000"])
    assert result.timeseries["population"].iloc[0] == pytest.approx(7000)


def test_bad_override_is_a_config_error():
    with pytest.raises(ConfigError, match="steps must be >= 1"):
        simulate("small_town", steps=-5)
    with pytest.raises(ConfigError, match=r"talent\.amenity_weight must be a number, got 'abc'"):
        simulate("small_town", overrides=["talent.amenity_weight=abc"])


def test_overrides_given_as_one_string_are_refused_not_split_into_characters():
    with pytest.raises(
        ConfigError, match=r"^overrides must be a list of overrides \(\['steps=3'\]\)"
    ):
        simulate("small_town", overrides="steps=3")


def test_save_writes_all_tables_and_summary(small_result, tmp_path):
    out = small_result.save(tmp_path / "run")
    names = {p.name for p in out.iterdir()}
    assert names == {
        "timeseries.parquet",
        "firms.parquet",
        "talents.parquet",
        "places.parquet",
        "policies.parquet",
        "ledger.parquet",
        "config.json",
        "summary.json",
    }
    for name in ("timeseries", "firms", "talents", "places", "policies", "ledger"):
        back = pd.read_parquet(out / f"{name}.parquet")  # dtypes and values as they were
        pd.testing.assert_frame_equal(back, getattr(small_result, name), obj=name)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5
    assert summary["creative_firms"]["end"] == int(
        small_result.timeseries["creative_firms"].iloc[-1]
    )
    assert json.loads((out / "config.json").read_text()) == small_result.config
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_saved_tables_dictionary_encode_their_text_columns_only(small_result, tmp_path):
    out = small_result.save(tmp_path / "run")
    meta = pq.ParquetFile(out / "talents.parquet").metadata.row_group(0)
    encoded = {
        meta.column(i).path_in_schema
        for i in range(meta.num_columns)
        if "RLE_DICTIONARY" in meta.column(i).encodings
    }
    assert {"sector", "place", "origin"} <= encoded
    assert not encoded & {"talent_id", "skill", "income", "home"}


def test_interrupted_save_leaves_no_partial_output(tmp_path):
    def boom(path):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(tmp_path / "run", {"a.txt": lambda p: p.write_text("x"), "b.txt": boom})
    assert list(tmp_path.iterdir()) == []


def test_public_api_matches_all():
    for name in clustersim.__all__:
        assert hasattr(clustersim, name)


def test_users_graphml_city_runs_and_population_rescales(tmp_path):
    import numpy as np

    from clustersim.model import city

    path = tmp_path / "mytown.graphml"
    city.save_graphml(city.small_town(8000, rng=np.random.default_rng(0), name="Mytown"), path)
    as_is = simulate("graphml", steps=2, overrides=[f"city.graphml={path}"])
    assert as_is.timeseries["population"].iloc[0] == pytest.approx(8000)
    scaled = simulate(
        "graphml", steps=2, overrides=[f"city.graphml={path}", "city.population=16000"]
    )
    assert scaled.timeseries["population"].iloc[0] == pytest.approx(16000)
