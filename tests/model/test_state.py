"""Tests for clustersim.model.state: growable agent tables, their columns, the origin codes."""

from __future__ import annotations

import copy
import ctypes
import mmap
import os
import pickle
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clustersim.model import state
from clustersim.model.state import (
    FIRM_COLUMNS,
    TALENT_COLUMNS,
    AgentTable,
    FirmOrigin,
    TalentOrigin,
)

COLUMNS = {"skill": (np.float64, 1.0), "home": (np.int32, -1), "alive": (np.bool_, False)}


def test_new_table_is_empty_and_lists_its_columns():
    table = AgentTable(COLUMNS)
    assert table.n == 0
    assert table.columns == ["skill", "home", "alive"]
    assert len(table.skill) == 0


def test_append_returns_consecutive_row_ids():
    table = AgentTable(COLUMNS)
    np.testing.assert_array_equal(table.append(3), [0, 1, 2])
    np.testing.assert_array_equal(table.append(2), [3, 4])
    assert table.n == 5


def test_unspecified_columns_get_their_fill_values():
    table = AgentTable(COLUMNS)
    table.append(2, skill=[0.5, 2.0])
    np.testing.assert_array_equal(table.skill, [0.5, 2.0])
    np.testing.assert_array_equal(table.home, [-1, -1])
    np.testing.assert_array_equal(table.alive, [False, False])


def test_append_grows_beyond_capacity_keeping_old_values_and_dtypes():
    table = AgentTable(COLUMNS, capacity=2)
    table.append(2, skill=[1.5, 2.5], home=[7, 8], alive=True)
    ids = table.append(5, home=np.arange(5))
    np.testing.assert_array_equal(ids, [2, 3, 4, 5, 6])
    assert table.n == 7
    np.testing.assert_array_equal(table.skill, [1.5, 2.5, 1.0, 1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(table.home, [7, 8, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(table.alive, [True, True, False, False, False, False, False])
    assert table.home.dtype == np.int32
    assert table.alive.dtype == np.bool_


def test_many_small_appends_keep_every_row():
    table = AgentTable(COLUMNS, capacity=1)
    for i in range(100):
        table.append(1, home=i)
    np.testing.assert_array_equal(table.home, np.arange(100))


def test_writing_into_a_column_slice_writes_through_to_the_table():
    table = AgentTable(COLUMNS)
    table.append(4)
    table.skill[1] = 9.0
    table.home[2:] = [5, 6]
    np.testing.assert_array_equal(table.skill, [1.0, 9.0, 1.0, 1.0])
    np.testing.assert_array_equal(table.home, [-1, -1, 5, 6])


def test_living_rows_follow_appends_removals_and_assignment():
    table = AgentTable(COLUMNS)
    table.append(4, alive=True)
    np.testing.assert_array_equal(table.live, [0, 1, 2, 3])
    table.mark_gone([1, 3])
    np.testing.assert_array_equal(table.live, [0, 2])
    table.append(2, alive=[False, True])
    np.testing.assert_array_equal(table.live, [0, 2, 5])
    table.alive = table.home < 0  # whole-column assignment (restoring a state)
    np.testing.assert_array_equal(table.live, np.arange(6))
    table.append(200, alive=True)  # the columns grow: the alive buffer is replaced
    table.mark_gone([0])
    np.testing.assert_array_equal(table.live, np.arange(1, 206))


def test_alive_cannot_be_written_in_place_behind_the_living_rows_index():
    table = AgentTable(COLUMNS)
    table.append(3, alive=True)
    with pytest.raises(ValueError, match="read-only"):
        table.alive[1] = False
    with pytest.raises(ValueError, match="read-only"):
        table.live[0] = 2
    np.testing.assert_array_equal(table.live, [0, 1, 2])


def test_assigning_a_column_sets_existing_rows_only():
    table = AgentTable(COLUMNS)
    table.append(3)
    table.skill = 0.25
    np.testing.assert_array_equal(table.skill, [0.25, 0.25, 0.25])
    table.append(1)
    assert table.skill[3] == 1.0


def test_column_views_only_show_existing_rows():
    table = AgentTable(COLUMNS, capacity=64)
    table.append(3)
    assert len(table.skill) == 3
    assert table.nbytes() >= 64 * (8 + 4 + 1)


def test_a_column_read_twice_is_one_view_until_the_rows_change():
    # a column's view is kept after its first read (no call per read in the month's
    # hot paths) and dropped when rows are added, whether or not the buffers grow
    table = AgentTable({**COLUMNS, "employer": (np.int64, -1)}, capacity=4)
    table.append(3, alive=True)
    skill = table.skill
    assert table.skill is skill
    table.skill[1] = 5.0
    table.put("employer", [2], 9)  # guarded: written through put, seen by the kept view
    employer = table.employer
    assert employer[2] == 9 and table.employer is employer
    with pytest.raises(ValueError, match="read-only"):
        table.employer[0] = 1  # a kept view of a guarded column stays read-only
    table.append(1)  # within the capacity
    assert table.skill is not skill and len(table.skill) == 4 and table.skill[1] == 5.0
    table.append(10)  # grows: new buffers
    table.skill[0] = 7.0
    assert table.skill[0] == 7.0 and len(table.skill) == 14 and skill[0] != 7.0
    with pytest.raises(ValueError, match="read-only"):
        table.alive[13] = False


@pytest.mark.parametrize(
    "copy_of", [copy.deepcopy, lambda t: pickle.loads(pickle.dumps(t))], ids=["deepcopy", "pickle"]
)
def test_a_copy_of_a_table_whose_columns_were_read_writes_its_own_rows(copy_of):
    table = AgentTable(COLUMNS)
    table.append(3, alive=True)
    _ = table.skill, table.alive  # views kept
    twin = copy_of(table)
    twin.skill[0] = -1.0
    twin.append(1)
    assert table.skill[0] == 1.0 and table.n == 3 and len(table.skill) == 3
    assert len(twin.skill) == 4 and twin.skill[0] == -1.0
    with pytest.raises(ValueError, match="read-only"):
        twin.alive[0] = False


def test_rows_cannot_be_taken_back_by_lowering_n():
    # rows past n are zero bytes, which new rows rely on (zero fill values are not written)
    table = AgentTable(COLUMNS)
    table.append(3, skill=0.5)
    with pytest.raises(ValueError, match="never removed"):
        table.n = 1
    assert table.n == 3


def test_a_column_of_any_width_gets_its_fill_value():
    table = AgentTable({"z": (np.complex128, 1 + 2j), "zero": (np.complex128, 0j)})
    table.append(2)
    np.testing.assert_array_equal(table.z, [1 + 2j, 1 + 2j])
    np.testing.assert_array_equal(table.zero, [0j, 0j])


def test_appending_an_unknown_column_raises_key_error():
    table = AgentTable(COLUMNS)
    table.append(2)
    with pytest.raises(KeyError, match="wealth"):
        table.append(1, skill=[3.0], wealth=[1.0])
    assert table.n == 2


def test_appending_no_rows_changes_nothing_but_still_refuses_an_unknown_column():
    table = AgentTable({**COLUMNS, "alive": (np.bool_, False)})
    table.append(2, alive=True)
    version, live = table.version, table.live
    assert len(table.append(0, skill=[], alive=True)) == 0
    assert table.n == 2 and table.version == version and table.live is live
    with pytest.raises(KeyError, match="wealth"):
        table.append(0, wealth=[])


def test_writing_no_rows_of_a_guarded_column_changes_nothing():
    table = AgentTable({**COLUMNS, "alive": (np.bool_, False)})
    table.append(3, alive=True)
    version, live = table.version, table.live
    table.put("alive", np.zeros(0, dtype=np.int64), False)
    table.put("alive", np.zeros(3, dtype=bool), False)
    table.mark_gone([])
    assert table.version == version and table.live is live
    table.mark_gone([1])
    assert table.version > version and list(table.live) == [0, 2]


def test_reading_an_unknown_column_raises_attribute_error():
    table = AgentTable(COLUMNS)
    with pytest.raises(AttributeError):
        _ = table.wealth


# ------------------------------------------------------------------ origins


def test_origin_codes_keep_the_table_labels_of_the_result_files():
    assert FirmOrigin.labels() == ("initial", "spin-off", "start-up", "policy")
    assert TalentOrigin.labels() == ("initial", "immigrant", "graduate", "local", "policy")
    assert [int(o) for o in FirmOrigin] == [0, 1, 2, 3]
    assert [int(o) for o in TalentOrigin] == [0, 1, 2, 3, 4]
    assert FirmOrigin.SPIN_OFF.label == "spin-off"


def test_firm_and_talent_origins_are_different_codes_for_the_same_integer():
    # code 1 is a spin-off for firms but an immigrant for talents
    assert FirmOrigin(1) is FirmOrigin.SPIN_OFF
    assert TalentOrigin(1) is TalentOrigin.IMMIGRANT
    assert FirmOrigin.POLICY != TalentOrigin.POLICY


def test_origin_columns_hold_the_codes_of_the_tables_labels():
    from clustersim.model.core import CreativeClusterModel

    model = CreativeClusterModel(rng=0, city="small_town", population=3000)
    model.run_for(12)
    talents, firms = model.talent_table(), model.firm_table()
    assert list(talents["origin"].cat.categories) == list(TalentOrigin.labels())
    assert list(firms["origin"].cat.categories) == list(FirmOrigin.labels())
    codes = model.talents.origin
    labels = [TalentOrigin(int(c)).label for c in codes]
    assert list(talents["origin"].astype(str)) == labels
    assert (firms["origin"] == "initial").sum() == int((model.firms.founded <= 0).sum())
    assert {"initial", "local"} <= set(talents["origin"])


def test_column_specs_give_every_new_row_its_fill_value():
    table = AgentTable(TALENT_COLUMNS)
    table.append(1)
    assert table.employer[0] == -1 and table.home[0] == -1 and not table.alive[0]
    firms = AgentTable(FIRM_COLUMNS)
    firms.append(1)
    assert firms.parent[0] == -1 and firms.incubator[0] == -1 and firms.market_reach[0] == 1.0


def test_the_firms_node_is_numpys_index_type():
    """``place[node]``, ``rent[node]``: numpy gathers through an index array of its own
    index type about three times faster than through an int32 one (which it converts on
    every gather), and the month gathers through the firms' nodes dozens of times. The
    talents' home and the sectors stay narrow: the talent table is the region's largest
    (1M talents in under 1 GB), and their gathers are fewer."""
    assert np.dtype(FIRM_COLUMNS["node"][0]) == np.intp
    assert np.dtype(TALENT_COLUMNS["employer"][0]) == np.intp


# --- memory: zeroed columns, non-zero bytes written only --------------------------------

MIXED = {
    "grant": (np.float64, 0.0),
    "home": (np.int32, -1),
    "flag": (np.bool_, False),
    "code": (np.int8, 0),
}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5_000),
            st.sampled_from([None, 0.0, -0.0, 2.5, float("nan"), "draw"]),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 2**32 - 1),
)
def test_appends_and_growth_keep_every_value_bit_for_bit(appends, seed):
    """Rows written sparsely and grown past mapped sizes read as a plain concatenation."""
    with pytest.MonkeyPatch.context() as patch:  # small tables take the mapped tables' path
        patch.setattr(state, "MAPPED_BYTES", 512)
        patch.setattr(state, "_PAGE", 1024)
        _append_and_compare(appends, np.random.default_rng(seed))


def _append_and_compare(appends: list, rng: np.random.Generator) -> None:
    table = AgentTable(MIXED, capacity=64)
    expected: dict[str, list[np.ndarray]] = {name: [] for name in MIXED}
    for count, grant in appends:
        given = {}
        if grant == "draw":  # mostly zeros, some -0.0, NaN and values
            pick = rng.choice([0.0, -0.0, np.nan, 1.5], size=count, p=[0.85, 0.05, 0.05, 0.05])
            given["grant"] = pick
        elif grant is not None:
            given["grant"] = grant
        if count and rng.random() < 0.5:
            given["home"] = rng.integers(-1, 3, size=count)
            given["flag"] = rng.random(count) < 0.1
        table.append(count, **given)
        for name, (dtype, fill) in MIXED.items():
            rows = np.empty(count, dtype=dtype)
            rows[...] = given.get(name, fill)  # what numpy's own assignment writes
            expected[name].append(rows)
    for name, (dtype, _) in MIXED.items():
        want = np.concatenate(expected[name]).astype(dtype)
        got = getattr(table, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{got.itemsize}"))


@pytest.mark.parametrize("mapped_from", [state.MAPPED_BYTES, 64])
def test_spare_capacity_past_the_rows_stays_zero_after_growth_and_writes(mapped_from, monkeypatch):
    monkeypatch.setattr(state, "MAPPED_BYTES", mapped_from)
    table = AgentTable(MIXED, capacity=16)
    table.append(10, grant=np.arange(10.0), home=7)
    table.home[:] = 3
    table.append(100)
    for buffer in table._data.values():
        assert not buffer[table.n :].view(np.uint8).any()


@pytest.mark.parametrize("mapped_from", [state.MAPPED_BYTES, 64])
@pytest.mark.parametrize(
    "copy_of", [copy.deepcopy, lambda t: pickle.loads(pickle.dumps(t))], ids=["deepcopy", "pickle"]
)
def test_a_copied_table_holds_the_same_rows_guarded_and_apart(copy_of, mapped_from, monkeypatch):
    monkeypatch.setattr(state, "MAPPED_BYTES", mapped_from)
    table = AgentTable({**COLUMNS, "employer": (np.int64, -1)}, capacity=16)
    table.append(20, skill=np.arange(20.0), alive=True)
    table.mark_gone([3, 5])
    live = table.live
    twin = copy_of(table)
    assert twin.n == 20 and twin.columns == table.columns
    np.testing.assert_array_equal(twin.skill, table.skill)
    np.testing.assert_array_equal(twin.live, live)
    with pytest.raises(ValueError):  # guarded columns stay read-only, written through put
        twin.alive[0] = False
    twin.mark_gone([0])
    twin.put("employer", [1], 7)
    twin.skill[2] = -1.0
    twin.append(50, alive=True)  # grows past the capacity it was copied with
    assert twin.live[0] == 1 and len(twin.live) == 17 + 50
    assert table.alive[0] and table.employer[1] == -1 and table.skill[2] == 2.0  # apart
    np.testing.assert_array_equal(table.live, live)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's mincore")
@pytest.mark.parametrize(
    "copy_of", [copy.deepcopy, lambda t: pickle.loads(pickle.dumps(t))], ids=["deepcopy", "pickle"]
)
def test_a_copy_of_a_large_mostly_zero_table_takes_memory_only_where_written(copy_of):
    table = AgentTable({"grant": (np.float64, 0.0)}, capacity=1 << 22)  # 32 MiB
    table.append(1000)
    table.grant[[10, 900]] = 5.0
    twin = copy_of(table)
    column = twin._data["grant"]
    assert len(column) == 1 << 22 and twin.grant[10] == twin.grant[900] == 5.0
    assert _resident_kib(column) <= 128  # the written block, not the 32 MiB


def _resident_kib(array: np.ndarray) -> int:
    """Resident KiB of ``array``'s pages (Linux's ``mincore``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    page = os.sysconf("SC_PAGE_SIZE")
    start = array.ctypes.data // page * page
    length = array.ctypes.data + array.nbytes - start
    pages = (length + page - 1) // page
    vector = (ctypes.c_ubyte * pages)()
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    if libc.mincore(ctypes.c_void_p(start), ctypes.c_size_t(length), vector) != 0:
        raise OSError(ctypes.get_errno(), "mincore failed")
    return sum(byte & 1 for byte in vector) * page // 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's mincore")
def test_a_large_mostly_zero_column_takes_memory_only_where_written():
    """A policy column of 2M rows (16 MB) costs the pages of its few non-zero rows."""
    n = 2_000_000
    grant = np.zeros(n)
    grant[::250_000] = 100.0  # 8 grants
    table = AgentTable({"grant": (np.float64, 0.0), "home": (np.int32, -1)}, capacity=1024)
    for start in range(0, n, 100_000):  # many appends: the column grows by doubling
        table.append(100_000, grant=grant[start : start + 100_000])
    # before reading the column: a read maps the kernel's zero page, which mincore counts
    assert _resident_kib(table._data["grant"]) <= 8 * 64 + 64  # 8 blocks, not 16 MB
    assert _resident_kib(table._data["home"]) >= n * 4 // 1024  # the -1 fill is written
    np.testing.assert_array_equal(table.grant, grant)


@pytest.mark.parametrize(
    ("column", "value", "error"),
    [
        ("home", np.int64(2**40), OverflowError),  # a numpy integer past int32
        ("home", 2**40, OverflowError),
        ("home", float("nan"), ValueError),
        ("code", 300, OverflowError),
    ],
)
@pytest.mark.parametrize("mapped_from", [state.MAPPED_BYTES, 64])
def test_a_value_the_column_cannot_hold_fails_as_numpy_assignment_fails(
    column, value, error, mapped_from, monkeypatch
):
    monkeypatch.setattr(state, "MAPPED_BYTES", mapped_from)
    table = AgentTable(MIXED, capacity=1024)
    with pytest.raises(error):
        table.append(3, **{column: value})


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's /proc")
def test_reading_a_large_zero_column_costs_no_memory():
    """Pages never written read as the kernel's zero page: a 64 MB read adds nothing."""
    assert state._PRIVATE_MAP is not None  # Linux has private anonymous maps
    table = AgentTable({"grant": (np.float64, 0.0)}, capacity=1024)
    table.append(8_000_000)
    before = _rss_kib()
    total = float(table.grant.sum()) + float(table.grant[::4096].sum())
    assert total == 0.0
    assert _rss_kib() - before < 16 * 1024  # the column is 64 MB


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_writes_its_own_copy_of_a_large_column():
    table = AgentTable({"grant": (np.float64, 0.0)}, capacity=1024)
    table.append(500_000)
    pid = os.fork()
    if pid == 0:  # the child writes and leaves at once
        table.grant[7] = 42.0
        os._exit(0 if table.grant[7] == 42.0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert table.grant[7] == 0.0  # the parent's column is its own


def test_without_private_maps_large_columns_are_plain_zeroed_arrays(monkeypatch):
    """Where mmap has no private maps (Windows) a table holds the same values in np.zeros."""
    monkeypatch.setattr(state, "_PRIVATE_MAP", None)
    monkeypatch.setattr(state, "MAPPED_BYTES", 64)
    table = AgentTable(MIXED, capacity=16)
    table.append(1_000, grant=np.where(np.arange(1_000) % 9 == 0, -0.0, 2.0), code=3)
    table.append(500)
    assert all(not isinstance(b.base, mmap.mmap) for b in table._data.values())
    np.testing.assert_array_equal(np.signbit(table.grant[:1_000:9]), True)
    np.testing.assert_array_equal(table.code, [3] * 1_000 + [0] * 500)
    np.testing.assert_array_equal(table.home, -1)
