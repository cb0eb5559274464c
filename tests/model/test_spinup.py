"""Spin-up: month 0 is the end of months run without policy, cached as plain arrays."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clustersim.errors import ConfigError
from clustersim.model import spinup, spinup_cache
from clustersim.model.compose import load_config
from clustersim.model.config import SimConfig
from clustersim.model.core import CreativeClusterModel
from clustersim.model.simulate import simulate
from conftest import run_python

MONTHS = 36
HUB = {"creative_hub": {"start": 1, "capacity": 4}}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty spin-up cache folder of the test's own."""
    folder = tmp_path / "spin-up"
    monkeypatch.setenv(spinup_cache.CACHE_ENV, str(folder))
    return folder


def town(seed=3, months=MONTHS, **kwargs):
    spin = {"months": months, **kwargs.pop("spin_up", {})}
    return CreativeClusterModel(
        rng=seed, city="small_town", population=6000, spin_up=spin, **kwargs
    )


def assert_same_state(a, b):
    """Two models hold the same state: every array, table, number and random stream."""
    left, right = spinup.snapshot(a), spinup.snapshot(b)
    assert sorted(left) == sorted(right)
    for key in left:
        np.testing.assert_array_equal(left[key], right[key], err_msg=key)


def assert_same_run(a, b):
    pd.testing.assert_frame_equal(pd.DataFrame(a.records), pd.DataFrame(b.records))
    pd.testing.assert_frame_equal(pd.DataFrame(a.place_records), pd.DataFrame(b.place_records))
    pd.testing.assert_frame_equal(a.firm_table(), b.firm_table())
    pd.testing.assert_frame_equal(a.talent_table(), b.talent_table())
    pd.testing.assert_frame_equal(a.policy_table(), b.policy_table())
    assert_same_state(a, b)
    # a Mesa user sees the same agents in the same order (model.agents.do(...) runs alike)
    assert [(type(x).__name__, x.unique_id) for x in a.agents] == [
        (type(x).__name__, x.unique_id) for x in b.agents
    ]


def test_with_a_spin_up_the_first_row_is_month_0_and_there_are_steps_plus_1(cache):
    result = simulate("small_town", steps=6, spin_up=MONTHS, overrides=["city.population=6000"])
    assert list(result.timeseries["step"]) == list(range(7))
    assert set(result.places["step"]) == set(range(7))
    assert result.meta["spin_up_months"] == MONTHS
    assert result.meta["spin_up_source"] == "run"
    assert result.summary()["spin_up_source"] == "run"
    again = simulate("small_town", steps=6, spin_up=MONTHS, overrides=["city.population=6000"])
    assert again.meta["spin_up_source"] == "cache"
    pd.testing.assert_frame_equal(result.timeseries, again.timeseries)


def test_month_0_has_a_clock_at_zero_and_no_flows_yet(cache):
    model = town()
    assert (model.steps, model.time) == (0, 0.0)
    first = model.records[0]
    assert first["step"] == 0
    assert first["firm_births"] == first["firm_exits"] == first["net_migration"] == 0
    model.run_for(3)
    assert [r["step"] for r in model.records] == [0, 1, 2, 3]
    assert model.steps == 3


class CountingTown(CreativeClusterModel):
    """A subclass whose step needs an attribute its constructor sets after the base one."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.own_steps = 0

    def step(self):
        self.own_steps += 1  # AttributeError if called before __init__ is done
        super().step()


def test_the_spin_up_steps_the_model_s_own_process_not_a_subclass_s_step(cache):
    model = CountingTown(rng=3, city="small_town", population=6000, spin_up={"months": MONTHS})
    assert model.spin_up_source == "run"
    assert (model.steps, model.own_steps) == (0, 0)
    model.run_for(2)
    assert (model.steps, model.own_steps) == (2, 2)
    # the subclass reaches the same month 0 and months as the model itself
    plain = town()
    plain.run_for(2)
    pd.testing.assert_frame_equal(pd.DataFrame(model.records), pd.DataFrame(plain.records))


def test_the_spin_up_writes_no_rows_and_reaches_the_month_0_of_months_that_record(cache):
    # the spin-up's rows are thrown away at month 0, so its months write none (they cost
    # 7-14 % of a month); months that record reach exactly the same month 0
    written = []

    def quiet(model):
        CreativeClusterModel.step(model)
        written.append((len(model.records), len(model.place_records), len(model.ledger.rows)))

    def recording(model):
        model.recording_rows = True
        try:
            quiet(model)
        finally:
            model.recording_rows = False

    first, second = town(months=0), town(months=0)
    ledger_rows = len(first.ledger.rows)  # month 0 of the drawn state
    spinup.run_spin_up(first, MONTHS, step=quiet)
    assert written == [(0, 0, ledger_rows)] * MONTHS and not hasattr(first, "recording_rows")
    written.clear()
    spinup.run_spin_up(second, MONTHS, step=recording)
    places = len(second.place_names)
    assert written[-1] == (MONTHS, MONTHS * places, ledger_rows + MONTHS)
    assert_same_state(first, second)
    first.run_for(3)
    second.run_for(3)
    assert_same_run(first, second)
    assert len(first.records) == 3


@pytest.mark.parametrize("policy", [None, HUB], ids=["no policy", "creative hub"])
def test_a_model_restored_from_the_cache_continues_exactly_like_the_one_that_ran(cache, policy):
    ran = town(policy=policy)
    restored = town(policy=policy)
    assert (ran.spin_up_source, restored.spin_up_source) == ("run", "cache")
    assert_same_state(ran, restored)
    ran.run_for(24)
    restored.run_for(24)
    assert_same_run(ran, restored)
    # and both are the model that never saw the cache
    uncached = town(policy=policy, spin_up={"cache": False})
    assert uncached.spin_up_source == "run"
    uncached.run_for(24)
    assert_same_run(ran, uncached)


def test_the_cache_is_plain_arrays_in_the_cache_folder(cache):
    model = town()
    files = list(cache.glob("*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as data:  # numpy reads it without pickle
        members = {name: data[name] for name in data.files}
    assert all(a.dtype != object for a in members.values())
    arrays = spinup_cache.unpack({k: v for k, v in members.items() if k != "format"})
    assert arrays.keys() == spinup.snapshot(model).keys()
    assert sorted(members) == ["bytes", "format", "index"]  # packed, not a member an array
    assert int(arrays["rows:talents"]) == model.talents.n
    # the random streams are stored as text (PCG64's integers exceed 64 bits)
    assert arrays["rng:model.rng"].dtype.kind == "U"
    assert "PCG64" in str(arrays["rng:model.rng"])


def test_the_key_follows_seed_config_and_months_but_not_steps_or_policy(cache):
    def key(seed=3, months=MONTHS, **changes):
        cfg = SimConfig(seed=seed)
        for path, value in changes.items():
            group, _, name = path.partition("__")
            if name:
                setattr(getattr(cfg, group), name, value)
            else:
                setattr(cfg, group, value)
        model = CreativeClusterModel(rng=seed, city="small_town", population=6000, config=cfg)
        return spinup_cache.cache_key(model, seed, months)

    base = key(spin_up__months=0)
    assert key(spin_up__months=0) == base
    assert key(seed=4, spin_up__months=0) != base
    assert key(months=MONTHS + 1, spin_up__months=0) != base
    assert key(talent__review_rate=0.03, spin_up__months=0) != base
    assert key(steps=7, spin_up__months=0) == base
    assert key(policy=HUB, spin_up__months=0) == base
    assert key(spin_up__months=0, spin_up__cache=False) == base
    # the policy budget only matters once policies act, after month 0 (plans differ by it)
    assert key(spin_up__months=0, institutions__municipality_budget=1e7) == base
    assert key(spin_up__months=0, institutions__municipality_income=1e4) == base


def test_a_plan_with_its_own_budget_reuses_the_spin_up_and_starts_with_its_budget(cache):
    assert town(seed=3).spin_up_source == "run"
    rich = town(seed=3, policy=HUB, institutions={"municipality_budget": 2e7})
    assert rich.spin_up_source == "cache"
    assert rich.municipality.budget <= 2e7 and rich.municipality.budget > 1.9e7


def test_steps_and_policy_reuse_the_spin_up_a_new_seed_does_not(cache):
    assert town(seed=3).spin_up_source == "run"
    assert town(seed=3, policy=HUB).spin_up_source == "cache"
    assert town(seed=4).spin_up_source == "run"
    assert town(seed=3, months=MONTHS + 1).spin_up_source == "run"
    assert town(seed=3, talent={"review_rate": 0.03}).spin_up_source == "run"
    assert len(list(cache.glob("*.npz"))) == 4


def test_a_city_graph_passed_by_the_caller_is_part_of_the_key(cache, make_city):
    spin = {"months": 12}
    first = CreativeClusterModel(rng=1, city=make_city(4, 3000), spin_up=spin)
    same = CreativeClusterModel(rng=1, city=make_city(4, 3000), spin_up=spin)
    other = CreativeClusterModel(rng=1, city=make_city(4, 3000, rent=500.0), spin_up=spin)
    assert [m.spin_up_source for m in (first, same, other)] == ["run", "cache", "run"]


def test_a_model_not_seeded_by_an_integer_runs_its_spin_up_and_caches_nothing(cache):
    model = CreativeClusterModel(
        rng=np.random.default_rng(3), city="small_town", population=6000, spin_up={"months": 6}
    )
    assert model.spin_up_source == "run"
    assert not list(cache.glob("*.npz"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a zip file"),
        lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
        lambda path: np.savez(path, format=np.array(spinup_cache.FORMAT), junk=np.zeros(3)),
        lambda path: np.savez(path, format=np.array("another layout"), junk=np.zeros(3)),
        lambda path: np.savez(path, format=np.array(spinup_cache.FORMAT), **_cut_short(path)),
        lambda path: np.savez(
            path,
            format=np.array(spinup_cache.FORMAT),
            index=np.array('[["rows:talents", "|O", [1], 0, 8]]'),
            bytes=np.zeros(8, dtype=np.uint8),
        ),
    ],
    ids=["garbage", "truncated", "wrong arrays", "other format", "cut short", "objects"],
)
def test_a_damaged_cache_file_is_run_again_silently_and_replaced(cache, damage):
    ran = town()
    (path,) = cache.glob("*.npz")
    damage(path)
    again = town()
    assert again.spin_up_source == "run"
    assert_same_state(ran, again)
    assert "rows:talents" in spinup_cache.load(path)  # replaced by a good file
    assert town().spin_up_source == "cache"


def _cut_short(path):
    """The packed members of the cache file at ``path`` with their last byte gone."""
    with np.load(path, allow_pickle=False) as data:
        members = {name: data[name] for name in data.files if name != "format"}
    return {k: v[:-1] if k == "bytes" else v for k, v in members.items()}


def _index(*entries):
    return np.array(json.dumps(list(entries)))


@pytest.mark.parametrize(
    "members",
    [
        {"index": _index(["a", "|u1", [2**40], 0, 8]), "bytes": np.zeros(8, np.uint8)},
        {"index": np.array("[" * 50_000 + "]" * 50_000), "bytes": np.zeros(8, np.uint8)},
        {"index": _index(["a", "<i8", [-1], 0, 8]), "bytes": np.zeros(8, np.uint8)},
        {"index": _index(["a", "<i8", [1.5], 0, 8]), "bytes": np.zeros(8, np.uint8)},
        {"index": _index(["a", "<i8", [1], 4, 8]), "bytes": np.zeros(8, np.uint8)},
        {"index": _index(["a", "no dtype", [1], 0, 8]), "bytes": np.zeros(8, np.uint8)},
        {"index": _index(["a", "|V8", [1], 0, 8]), "bytes": np.zeros(8, np.uint8)},
        {"index": _index(["a", "(2,)<i4", [1], 0, 8]), "bytes": np.zeros(8, np.uint8)},
        {"index": _index([5, "<i8", [1], 0, 8]), "bytes": np.zeros(8, np.uint8)},
        {"index": _index(["a", "<i8", [1], 0]), "bytes": np.zeros(8, np.uint8)},
        {"index": np.array('{"a": 1}'), "bytes": np.zeros(8, np.uint8)},
        {"index": _index(["a", "<i8", [1], 0, 8]), "bytes": np.zeros(8, np.int64)},
    ],
    ids=[
        "huge shape",
        "deep json",
        "negative",
        "fraction",
        "past the end",
        "unknown dtype",
        "void",
        "subarray",
        "name not text",
        "short entry",
        "not a list",
        "bytes not bytes",
    ],
)
def test_a_damaged_packed_index_is_an_unreadable_file_not_an_error(members, tmp_path):
    path = tmp_path / "damaged.npz"
    np.savez(path, format=np.array(spinup_cache.FORMAT), **members)
    assert spinup_cache.load(path) is None


@pytest.mark.parametrize(
    "value", [np.array([{}, 1], dtype=object), np.zeros(2, dtype=[("x", "<i4"), ("y", "<f8")])]
)
def test_packing_refuses_arrays_it_could_not_give_back_plainly(value):
    with pytest.raises(TypeError, match="cannot store"):
        spinup_cache.pack({"a": np.zeros(3), "odd": value})


_SHAPES = st.lists(st.integers(0, 3), max_size=3).map(tuple)
_DTYPES = st.sampled_from(["<f8", "<i8", "<i4", "|b1", "<U5", "|i1"])


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=8),
        st.tuples(_DTYPES, _SHAPES, st.integers(0, 2**32 - 1)),
        max_size=8,
    )
)
def test_packing_the_state_gives_back_every_array_with_its_dtype_shape_and_values(spec):
    arrays = {}
    for name, (dtype, shape, seed) in spec.items():
        values = np.random.default_rng(seed).integers(-100, 100, size=shape)
        arrays[name] = values.astype(str).astype(dtype) if dtype[1] == "U" else values.astype(dtype)
    arrays["nan"] = np.array([np.nan, -0.0, np.inf])
    back = spinup_cache.unpack(spinup_cache.pack(arrays))
    assert list(back) == list(arrays)
    for name, value in arrays.items():
        assert (back[name].dtype, back[name].shape) == (value.dtype, value.shape), name
        np.testing.assert_array_equal(back[name], value, err_msg=name, strict=True)
        if value.dtype.kind == "f":  # -0.0 stays -0.0
            assert np.signbit(back[name]).tolist() == np.signbit(value).tolist(), name
        assert back[name].base is None or back[name].flags.owndata, name  # a copy of its own


def test_a_cache_folder_that_cannot_be_written_costs_only_the_spin_up(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(spinup_cache.CACHE_ENV, str(blocker / "spin-up"))
    assert town().spin_up_source == "run"
    assert town().spin_up_source == "run"


def test_parallel_runs_needing_the_same_spin_up_compute_it_once(cache):
    script = (
        "from clustersim.model.core import CreativeClusterModel as M; "
        "m = M(rng=3, city='small_town', population=6000, spin_up={'months': 120}); "
        "print(m.spin_up_source)"
    )
    env = {**os.environ, spinup_cache.CACHE_ENV: str(cache)}
    runs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    sources = sorted(run.communicate(timeout=300)[0].strip() for run in runs)
    assert sources == ["cache", "run"]


def test_no_spin_up_is_the_drawn_initial_state(cache):
    model = town(months=0)
    assert (model.spin_up_months, model.spin_up_source) == (0, "none")
    assert not list(cache.glob("*.npz"))
    firms, talents = model.firm_table(), model.talent_table()
    assert (firms["origin"] == "initial").all()
    assert (talents["origin"] == "initial").all()
    assert (talents["arrived_step"] == 0).all()
    assert (firms["founded_step"] <= 0).all()
    model.run_for(12)
    again = town(months=0)
    again.run_for(12)
    assert_same_run(model, again)


def test_month_0_holds_only_living_agents_and_every_id_points_to_one(cache):
    model = town()
    f, t = model.firms, model.talents
    assert f.alive.all() and t.alive.all()
    assert (f.exit_step == -1).all() and (t.left == -1).all()
    employer = t.employer[t.employer >= 0]
    assert (employer < f.n).all() and f.alive[employer].all()
    parent = f.parent[f.parent >= 0]
    assert (parent < f.n).all()
    assert (model.ties >= 0).all() and (model.ties < f.n).all()
    assert len(model.open_vacancies) <= f.n
    assert [a.index for a in model.talent_agents] == list(range(t.n))
    assert [a.index for a in model.firm_agents] == list(range(f.n))
    # firms born during the spin-up are in the table; those that closed are not
    assert (model.firm_table()["origin"] != "initial").any()


def test_restarting_the_clock_keeps_the_living_agents_and_what_refers_to_them(cache):
    model = town(months=0)
    model.run_for(30)
    f, t = model.firms, model.talents
    assert not f.alive.all() and not t.alive.all()
    # a firm is known by its productivity (a continuous draw), a talent by its skill
    firms, talents = np.flatnonzero(f.alive), np.flatnonzero(t.alive)

    def firm_of(ids, table):
        return np.where(ids >= 0, table.productivity[np.maximum(ids, 0)], np.nan)

    before = {
        "skill": t.skill[talents],
        "arrived": t.arrived[talents],
        "employer": firm_of(t.employer[talents], f),
        "firm": f.productivity[firms],
        "founded": f.founded[firms],
        "parent": firm_of(np.where(f.alive[f.parent], f.parent, -1)[firms], f),
        "ties": {tuple(sorted(f.productivity[pair])) for pair in model.ties},
        "vacancies": model.open_vacancies[firms[firms < len(model.open_vacancies)]],
    }
    spinup.restart_clock(model)
    f, t = model.firms, model.talents
    assert (model.steps, model.time, model.records, model.place_records) == (0, 0.0, [], [])
    assert model.births_by_node.sum() == model.exits_by_node.sum() == 0
    np.testing.assert_array_equal(t.skill, before["skill"])
    np.testing.assert_array_equal(t.arrived, before["arrived"] - 30)
    np.testing.assert_array_equal(firm_of(t.employer, f), before["employer"])
    np.testing.assert_array_equal(f.productivity, before["firm"])
    np.testing.assert_array_equal(f.founded, before["founded"] - 30)
    np.testing.assert_array_equal(firm_of(f.parent, f), before["parent"])
    assert {tuple(sorted(f.productivity[pair])) for pair in model.ties} == before["ties"]
    np.testing.assert_array_equal(model.open_vacancies, before["vacancies"])
    model.run_for(2)
    assert [r["step"] for r in model.records] == [1, 2]


def test_time_stamps_of_agents_present_at_month_0_are_not_in_the_future(cache):
    model = town()
    assert (model.firms.founded <= 0).all()
    assert (model.talents.arrived <= 0).all()
    assert model.firms.founded.min() < -MONTHS // 2
    model.run_for(6)
    firms, talents = model.firm_table(), model.talent_table()
    assert firms["founded_step"].max() <= 6
    newcomers = talents[talents["arrived_step"] > 0]
    assert newcomers["talent_id"].min() >= int((talents["arrived_step"] <= 0).sum())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("spin_up.months=-1", "spin_up.months must be >= 0 and <= 2400, got -1"),
        ("spin_up.months=2401", "spin_up.months must be >= 0 and <= 2400, got 2401"),
        ("spin_up.months=abc", "spin_up.months must be an integer, got 'abc'"),
        ("spin_up.months=1.5", "spin_up.months must be an integer"),
        ("spin_up.cache=abc", "spin_up.cache: Value 'abc' is not a valid bool"),
    ],
)
def test_bad_spin_up_values_give_one_line_errors(override, message):
    with pytest.raises(ConfigError) as info:
        load_config("small_town", overrides=[override])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: simulate("small_town", steps=2, spin_up=-1), "spin_up.months must be >= 0"),
        (lambda: simulate("small_town", steps=2, spin_up="abc"), "spin_up.months must be an"),
        (lambda: town(months=-1), "spin_up.months must be >= 0 and <= 2400, got -1"),
        (lambda: town(months="abc"), "spin_up.months must be an integer"),
        (lambda: town(spin_up={"cache": "abc"}), "spin_up.cache must be true or false"),
        (lambda: town(spin_up={"size": 3}), "spin_up.size is not a known parameter"),
    ],
)
def test_bad_spin_up_values_from_python_give_one_line_errors(cache, build, message):
    with pytest.raises(ConfigError) as info:
        build()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_long_spin_up_runs_the_kernels_from_its_first_month_a_short_one_does_not():
    pytest.importorskip("numba")
    probe = (
        "import sys\n"
        "from clustersim import CreativeClusterModel\n"
        "from clustersim.model import kernels\n"
        "kernels.SPIN_UP_MONTHS = 12\n"
        "def build(months):\n"
        "    CreativeClusterModel(rng=3, city='small_town', population=3000,\n"
        "                         spin_up={'months': months, 'cache': False})\n"
        "    return 'numba' in sys.modules\n"
        "print(build(11), build(12), kernels.worth(1, 'CHOICE_ENTRIES'))\n"
    )
    out = run_python(probe)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "True"]
