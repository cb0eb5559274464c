"""Live-row compaction: tables keep the living rows, the archive the others, results unchanged."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from clustersim.model import compaction, spinup_cache
from clustersim.model.agents import CreativeFirm, Talent
from clustersim.model.core import CreativeClusterModel
from clustersim.model.simulate import simulate

TABLES = ("timeseries", "firms", "talents", "places", "policies", "ledger")
#: levers that keep firm rows between months (cluster management, tax incentive), bring
#: newcomers (talent attraction) and incubate firms (creative hub)
ROW_LEVERS = "[tax_incentive,cluster_management,talent_attraction,creative_hub]"


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """An empty spin-up cache folder of the test's own (spin-ups run, with compactions)."""
    monkeypatch.setenv(spinup_cache.CACHE_ENV, str(tmp_path / "spin-up"))
    return tmp_path


def never(monkeypatch):
    monkeypatch.setattr(compaction, "MIN_DEAD_ROWS", 10**12)


def often(monkeypatch):
    """Compact at nearly every month (a twentieth of the rows dead is enough)."""
    monkeypatch.setattr(compaction, "MIN_DEAD_ROWS", 0)
    monkeypatch.setattr(compaction, "DEAD_SHARE", 0.05)


def table_hashes(result) -> dict[str, str]:
    out = {}
    for name in TABLES:
        table = getattr(result, name)
        digest = hashlib.sha256(str(list(table.dtypes.items())).encode())
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
        out[name] = digest.hexdigest()
    return out


@pytest.mark.parametrize(
    ("city", "policy", "overrides"),
    [
        ("small_town", ROW_LEVERS, []),
        ("region", None, ["plan=creative_city"]),
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_compacting_at_every_month_changes_no_result_table(
    monkeypatch, cache, city, policy, overrides, seed
):
    """The spin-up and the run compact (the levers map the rows they keep): same tables."""
    results = {}
    for mode in (never, often):
        mode(monkeypatch)  # each its own spin-up, not the other's from the cache
        monkeypatch.setenv(spinup_cache.CACHE_ENV, str(cache / mode.__name__))
        run = simulate(city, policy, steps=48, seed=seed, overrides=overrides, spin_up=24)
        results[mode.__name__] = table_hashes(run)
    assert results["often"] == results["never"]


def test_compaction_moves_the_rows_of_agents_gone_to_the_archive_and_keeps_every_id(monkeypatch):
    often(monkeypatch)
    model = CreativeClusterModel(rng=2, city="small_town", population=12000, spin_up={"months": 24})
    never_gone = model.talents.n  # the spin-up's end drops the rows of agents gone
    assert never_gone == len(model.talents.live)
    for _ in range(36):
        model.step()
    t, f, archive = model.talents, model.firms, model.archive
    assert archive.archived("talents") > 0 and archive.archived("firms") > 0
    # the tables hold the living rows and at most this month's departures
    assert t.n - len(t.live) < t.n * 0.5 and f.n - len(f.live) < f.n * 0.5
    talents, firms = model.talent_table(), model.firm_table()
    # every agent ever created, once, by id, whose ids run without gaps
    np.testing.assert_array_equal(talents["talent_id"], np.arange(len(talents)))
    np.testing.assert_array_equal(firms["firm_id"], np.arange(len(firms)))
    assert len(talents) == t.n + archive.archived("talents")
    # living talents' employers are living firms of the table; the gone have none
    living = talents[talents["left_step"].isna()]
    assert len(living) == len(t.live)
    employers = firms.set_index("firm_id").loc[living["employer"].dropna().astype(int)]
    assert employers["exit_step"].isna().all()
    assert talents.loc[talents["left_step"].notna(), "employer"].isna().all()
    # a spin-off's parent is a firm founded before it
    spinoffs = firms[firms["parent_id"].notna()]
    assert len(spinoffs)
    parents = firms.set_index("firm_id").loc[spinoffs["parent_id"].astype(int)]
    assert (parents["founded_step"].to_numpy() <= spinoffs["founded_step"].to_numpy()).all()


def test_mesa_agents_follow_their_rows(monkeypatch):
    often(monkeypatch)
    model = CreativeClusterModel(rng=0, city="small_town", population=12000, spin_up={"months": 0})
    list(model.agents)  # every agent made before the compactions, talents' too
    firms = list(model.agents_by_type[CreativeFirm])
    for _ in range(24):
        model.step()
    assert model.archive.archived("talents") > 0
    for cls, table in ((Talent, model.talents), (CreativeFirm, model.firms)):
        agents = list(model.agents_by_type[cls])
        assert len(agents) == len(table.live)
        assert sorted(a.index for a in agents) == table.live.tolist()
    living = set(model.agents_by_type[CreativeFirm])
    survivors = [a for a in firms if a in living]  # the same objects, at their new rows
    assert survivors and all(model.firms.alive[a.index] for a in survivors)
    assert [a.index for a in survivors] == sorted(a.index for a in survivors)


def test_ids_stay_unique_when_every_row_of_a_table_was_gone_at_a_compaction(monkeypatch):
    often(monkeypatch)
    model = CreativeClusterModel(rng=0, city="small_town", population=6000, spin_up={"months": 0})
    for _ in range(6):
        model.step()
    never(monkeypatch)
    for _ in range(24):
        model.step()
    t, f = model.talents, model.firms
    assert f.n > len(model.archive.kept["firms"])  # firms founded since the last compaction
    t.put("employer", slice(0, t.n), -1)
    f.mark_gone(f.live)  # every firm gone (their rows archived, none kept)
    compaction.compact(model)
    assert model.firms.n == 0
    for _ in range(24):
        model.step()  # new firms are founded: their ids follow every id issued before
    firms = model.firm_table()
    assert firms["firm_id"].is_unique
    np.testing.assert_array_equal(firms["firm_id"], np.arange(len(firms)))


def test_result_tables_leave_the_archive_as_it_was(monkeypatch):
    often(monkeypatch)
    model = CreativeClusterModel(rng=0, city="small_town", population=6000, spin_up={"months": 0})
    for _ in range(12):
        model.step()
    before = [sorted(part) for part in model.archive.parts["talents"]]
    model.talent_table()
    assert [sorted(part) for part in model.archive.parts["talents"]] == before
    assert "income" not in before[0]


def test_public_ids_are_rows_until_the_first_compaction_then_stay_with_their_agent():
    archive = compaction.Archive()
    np.testing.assert_array_equal(archive.ids("firms", 4), np.arange(4))
    archive.kept["firms"] = np.array([1, 3])  # rows 1 and 3 of 4 lived on
    archive.issued["firms"] = 4
    np.testing.assert_array_equal(archive.ids("firms", 5), [1, 3, 4, 5, 6])
    np.testing.assert_array_equal(archive.ids("firms", np.array([-1, 1, 2])), [-1, 3, 4])
    np.testing.assert_array_equal(archive.ids("firms", np.int64(3)), [1, 3, 4])


def test_a_small_town_is_not_compacted_for_a_few_rows():
    model = CreativeClusterModel(rng=0, city="small_town", population=6000, spin_up={"months": 0})
    for _ in range(3):
        model.step()
    assert model.talents.n > len(model.talents.live)  # some left: fewer than MIN_DEAD_ROWS
    assert not compaction.maybe_compact(model)
