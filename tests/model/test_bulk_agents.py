"""Agents made late (agent_rows) and in bulk (bulk_agents) leave the model as Mesa's calls would."""

from __future__ import annotations

import numpy as np
import pytest
from mesa.model import ModelSignals

from clustersim import CreativeClusterModel
from clustersim.model.agents import CreativeFirm, Talent
from clustersim.model.bulk_agents import add_firm_agents, add_talent_agents, remove_agents


def town():
    # the drawn state: two builds give the same agents in the same order
    return CreativeClusterModel(rng=5, city="small_town", population=4000, spin_up={"months": 0})


def view(model):
    """What a Mesa user sees of the agents: ids in order, per type, each agent's attributes
    and, for firms, the agents of each cell of the space in order."""
    everyone = [(type(a).__name__, a.unique_id) for a in model.agents]
    by_type = {
        cls.__name__: [a.unique_id for a in model.agents_by_type[cls]]
        for cls in (Talent, CreativeFirm)
    }
    attributes = [
        {
            k: (id(v) == id(model) if k == "model" else v.coordinate if k == "_mesa_cell" else v)
            for k, v in vars(a).items()
        }
        for cls in (Talent, CreativeFirm)
        for a in model.agents_by_type[cls]
    ]
    cells = [
        (cell.coordinate, [a.unique_id for a in cell.agents], cell.empty)
        for cell in model.space.all_cells
    ]
    return everyone, by_type, attributes, cells, model.agent_id_counter


def test_bulk_added_talents_are_those_mesa_s_own_constructor_makes():
    bulk, plain = town(), town()
    assert view(bulk) == view(plain)
    rows = np.array([3, 1, 7])
    made = add_talent_agents(bulk, rows)
    made_plain = [Talent(plain, int(i)) for i in rows]
    assert [a.index for a in made] == [3, 1, 7]
    assert [a.unique_id for a in made] == [a.unique_id for a in made_plain]
    assert all(type(a) is Talent and a.model is bulk and a.pos is None for a in made)
    assert view(bulk) == view(plain)
    assert made[0].skill == bulk.talents.skill[3]  # the agent reads its row


def test_bulk_added_firms_are_those_mesa_s_own_constructor_makes_in_their_cells():
    bulk, plain = town(), town()
    rows = np.array([4, 0, 2])
    made = add_firm_agents(bulk, rows)
    made_plain = [CreativeFirm(plain, int(i)) for i in rows]
    assert [a.unique_id for a in made] == [a.unique_id for a in made_plain]
    assert [a.cell.coordinate for a in made] == [int(bulk.firms.node[i]) for i in rows]
    assert all(a in a.cell.agents for a in made)
    assert view(bulk) == view(plain)


def test_bulk_removal_of_firms_takes_them_out_of_their_cells():
    bulk, plain = town(), town()
    gone = [a.unique_id for a in list(bulk.agents_by_type[CreativeFirm])[1::2]]
    remove_agents(bulk, [a for a in bulk.agents if a.unique_id in gone])
    for agent in [a for a in plain.agents if a.unique_id in gone]:
        agent.remove()
    assert view(bulk) == view(plain)
    assert all(a.unique_id not in gone for cell in bulk.space.all_cells for a in cell.agents)


def test_bulk_removal_is_agent_remove_for_each_and_ignores_agents_already_gone():
    bulk, plain = town(), town()
    gone = [a.unique_id for a in list(bulk.agents_by_type[Talent])[::3]]
    remove_agents(bulk, [a for a in bulk.agents if a.unique_id in gone])
    for agent in [a for a in plain.agents if a.unique_id in gone]:
        agent.remove()
    assert view(bulk) == view(plain)
    remove_agents(bulk, [bulk.municipality])  # another class, removed by its own remove()
    assert bulk.municipality not in bulk.agents
    before = view(bulk)
    remove_agents(bulk, [])
    assert view(bulk) == before


def test_observers_of_the_model_s_agents_still_get_a_signal_for_each_agent():
    model = town()
    seen = []

    def added(signal):
        seen.append("added")

    def removed(signal):
        seen.append("removed")

    # Mesa holds its subscribers by weak reference: the handlers live as long as the test
    model.observe("agents", ModelSignals.AGENT_ADDED, added)
    model.observe("agents", ModelSignals.AGENT_REMOVED, removed)
    made = add_talent_agents(model, np.array([0, 1]))
    remove_agents(model, made)
    assert seen == ["added", "added", "removed", "removed"]
    assert all(a not in model.agents for a in made)


def test_a_run_makes_as_many_talent_agents_as_living_talent_rows():
    model = town()
    model.run_for(12)
    alive = set(model.talents.live.tolist())
    agents = {a.index for a in model.agents_by_type[Talent]}
    assert agents == alive
    assert all(model.talent_agents[i] is None for i in np.flatnonzero(~model.talents.alive))
    firms = set(model.firms.live.tolist())
    assert {a.index for a in model.agents_by_type[CreativeFirm]} == firms
    in_cells = [
        a.index for cell in model.space.all_cells for a in cell.agents if type(a) is CreativeFirm
    ]
    assert sorted(in_cells) == sorted(firms)  # each living firm in one cell, no one gone
    for i in firms:
        assert model.firm_agents[i].cell.coordinate == model.firms.node[i]
    assert len({a.unique_id for a in model.agents}) == len(model.agents)


def hub_town():
    # a hub (an Incubator agent) opens in month 3: its id comes between talents' ids
    policy = {"creative_hub": {"start": 3, "intensity": 1.0}, "talent_attraction": {"start": 2}}
    return CreativeClusterModel(
        rng=8, city="small_town", population=4000, spin_up={"months": 0}, policy=policy
    )


class Ear:
    """A subscriber to the model's agent signals (Mesa holds it by weak reference)."""

    def __init__(self, model, *signals):
        self.heard = []
        for signal in signals:
            model.observe("agents", signal, self.hear)

    def hear(self, signal):
        self.heard.append(signal)


def watched(model):
    """Make ``model`` make every agent at once, through Mesa's own per-agent calls."""
    return Ear(model, ModelSignals.AGENT_ADDED, ModelSignals.AGENT_REMOVED)


def test_talents_agents_made_when_read_are_those_mesa_s_calls_make_at_once():
    lazy, looked_at, eager = hub_town(), hub_town(), hub_town()
    ear = watched(eager)
    assert lazy.talent_rows.unmade > 0  # the initial talents' agents are not made yet
    assert lazy.firm_rows.unmade > 0  # nor the initial firms'
    for month in range(1, 13):
        for model in (lazy, looked_at, eager):
            model.step()
        if month in (2, 5, 6):
            view(looked_at)  # read now and then, as an app or a data collector would
        assert lazy.count_agents() == eager.count_agents() == len(eager.agents)
        # a cell's empty flag counts the firms not made yet (reading it makes nothing)
        assert empty_flags(lazy) == empty_flags(looked_at) == empty_flags(eager)
    assert len(lazy.incubators) == 1
    assert ear.heard  # the watched model announced each agent
    assert lazy.talent_rows.unmade > 0 and lazy.firm_rows.unmade > 0
    assert view(lazy) == view(looked_at) == view(eager)
    assert lazy.talent_rows.unmade == lazy.firm_rows.unmade == 0
    assert len(lazy.agents) == lazy.count_agents()
    # the order is Mesa's registration order: ids increase
    ids = [a.unique_id for a in lazy.agents]
    assert ids == sorted(ids)


def empty_flags(model):
    return [cell.empty for cell in model.space._cells.values()]


def test_a_month_nobody_reads_makes_no_firm_agent_and_a_cell_s_list_makes_them():
    model = town()
    model.run_for(6)
    made = len(model.firm_rows.made())
    assert made <= 1  # the first firm's, with which Mesa makes the class's agent set
    assert model.firm_rows.unmade == len(model.firms.live) - made > 0
    count = model.count_agents()
    node = int(model.firms.node[model.firms.live[-1]])
    here = model.space[node].agents  # Mesa's Cell.agents: a copy of the cell's list
    assert model.firm_rows.unmade == 0  # reading one cell made every firm, each in its cell
    firms_here = [a.index for a in here if type(a) is CreativeFirm]
    assert firms_here == [i for i in model.firms.live.tolist() if model.firms.node[i] == node]
    assert count == len(model.agents)


def test_a_neighbourhood_held_across_months_lists_the_firms_that_came_since():
    lazy, eager = town(), town()
    watched_ear = watched(eager)
    held = {
        name: [model.space[n].neighborhood for n in range(model.n_nodes)]
        for name, model in (("lazy", lazy), ("eager", eager))
    }
    for model in (lazy, eager):
        model.run_for(4)
    assert lazy.firm_rows.unmade > 0
    for lazy_hood, eager_hood in zip(held["lazy"], held["eager"], strict=True):
        assert [a.unique_id for a in lazy_hood.agents] == [a.unique_id for a in eager_hood.agents]
    assert lazy.firm_rows.unmade == 0
    assert watched_ear.heard


def test_a_cell_whose_firms_left_before_anyone_made_them_is_empty_again():
    model = town()
    nodes = model.firms.node[model.firms.live]
    cells = model.space._cells
    alone = [n for n in np.unique(nodes).tolist() if list.__len__(cells[n]._agents) == 0]
    node = max(alone, key=lambda n: (nodes == n).sum())  # firms there, nothing made there
    rows = model.firms.live[nodes == node]
    assert len(rows) >= 2 and not cells[node].empty
    model.firm_rows.remove(model, rows[:-1])
    assert not cells[node].empty  # one firm left, not made yet
    model.firm_rows.remove(model, rows[-1:])
    assert cells[node].empty
    assert all(a.index not in rows.tolist() for a in model.agents_by_type[CreativeFirm])


def test_firms_in_cells_with_a_capacity_are_made_at_once():
    # a city where firms enter every month (the drawn small town has none for months)
    model = CreativeClusterModel(
        rng=5, city="metropolis", population=300_000, spin_up={"months": 0}
    )
    for cell in model.space._cells.values():
        cell.capacity = 10_000
    first_new = model.firms.n
    model.run_for(2)
    new = [i for i in model.firms.live.tolist() if i >= first_new]
    made = {a.index for a in model.firm_rows.made()}
    assert new and set(new) <= made  # every firm that came since was made on entry
    assert all(a in a.cell._agents for a in model.firm_rows.made() if a.index in new)


def test_a_month_nobody_reads_makes_no_talent_agent():
    model = town()
    before = len(model.talent_rows.made())
    model.run_for(6)
    assert len(model.talent_rows.made()) <= before
    assert model.talent_rows.unmade == int(model.talents.alive.sum()) - len(
        model.talent_rows.made()
    )
    assert model.count_agents() == len(model.agents)


def test_removing_talents_nobody_made_tells_a_watcher_of_each():
    model = town()
    rows = model.talents.live[1:4]  # the first talent made the class's agent set
    assert all(model.talent_rows.agents[i] is None for i in rows)
    ear = Ear(model, ModelSignals.AGENT_REMOVED)
    total = model.count_agents()
    model.talent_rows.remove(model, rows)
    assert len(ear.heard) == 3
    assert model.count_agents() == len(model.agents) == total - 3
    assert all(a.index not in rows.tolist() for a in model.agents_by_type[Talent])


def test_an_agent_set_held_across_months_lists_the_talents_that_came_since():
    model = town()
    held, talents = model.agents, model.agents_by_type[Talent]
    dataset = model.data_registry.track_agents(talents, "talents", "index")
    model.run_for(3)
    alive = set(model.talents.live.tolist())
    assert len(held) == model.count_agents() and set(held) == set(model.agents)
    assert {a.index for a in talents} == alive
    assert {row["index"] for row in dataset.data} == alive  # Mesa's data registry


def test_a_restore_tells_a_watcher_of_every_agent_it_replaces():
    from clustersim.model import spinup

    model = town()
    model.run_for(2)
    agents = model.count_agents()
    rows = len(model.talent_rows.living()) + len(model.firm_rows.living())
    ear = Ear(model, ModelSignals.AGENT_REMOVED)
    spinup.restore(model, spinup.snapshot(model))
    assert len(ear.heard) == rows
    assert model.count_agents() == len(model.agents) == agents


def test_a_row_removed_twice_in_one_call_is_removed_once():
    model = town()
    rows = model.talents.live[1:3]
    before = model.count_agents()
    model.talent_rows.remove(model, np.array([rows[0], rows[1], rows[0]]))
    assert model.count_agents() == len(model.agents) == before - 2


def test_removing_every_agent_leaves_none_made_or_not():
    model = town()
    model.run_for(1)
    model.remove_all_agents()
    assert len(model.agents) == model.count_agents() == 0


def test_spun_up_models_list_the_agents_mesa_s_own_calls_would_have_made(tmp_path, monkeypatch):
    """Month 0 run or read from the cache, talents made late or by Mesa one by one: same."""
    from clustersim.model import bulk_agents, spinup_cache

    def pair(folder):
        monkeypatch.setenv(spinup_cache.CACHE_ENV, str(tmp_path / folder))
        ran, restored = (
            CreativeClusterModel(rng=5, city="small_town", population=4000, spin_up={"months": 24})
            for _ in range(2)
        )
        assert (ran.spin_up_source, restored.spin_up_source) == ("run", "cache")
        return ran, restored

    lazy = pair("lazy")
    monkeypatch.setattr(bulk_agents, "_observed", lambda *_: True)  # Mesa's per-agent path
    eager = pair("eager")
    assert eager[0].talent_rows.unmade == 0
    for model in (*lazy, *eager):
        model.run_for(2)
    assert view(lazy[0]) == view(lazy[1]) == view(eager[0]) == view(eager[1])


def test_row_agents_read_like_a_list_of_each_row_s_agent():
    model = town()
    model.run_for(3)
    agents = model.firm_agents
    rows = model.firms.n
    assert len(agents) == rows == len(list(agents))
    living = set(model.firms.live.tolist())
    assert [a is not None for a in agents] == [i in living for i in range(rows)]
    assert agents[-1] is agents[rows - 1] and agents[1:4] == [agents[i] for i in (1, 2, 3)]
    assert all(agents[i].index == i for i in living)
    with pytest.raises(IndexError):
        agents[rows]


def test_the_space_s_own_collections_list_the_agents_in_cells():
    """Mesa's ``space.agents`` and ``all_cells`` (built with the space) see every cell's list."""
    lazy, eager = town(), town()
    watched_ear = watched(eager)
    for model in (lazy, eager):
        model.run_for(2)
    assert lazy.firm_rows.unmade > 0
    ids = {m: sorted(a.unique_id for a in m.space.agents) for m in (lazy, eager)}
    in_cells = sum(len(cell.agents) for cell in eager.space._cells.values())
    assert len(ids[lazy]) == in_cells > 2 and ids[lazy] == ids[eager]
    assert lazy.firm_rows.unmade == 0
    assert [len(c.agents) for c in lazy.space.all_cells] == [
        len(c.agents) for c in eager.space.all_cells
    ]
    assert watched_ear.heard


def test_mesa_ids_are_held_in_32_bits_and_fail_loudly_past_them():
    from clustersim.model import agent_rows

    np.testing.assert_array_equal(agent_rows._id_range(5, 3), [5, 6, 7])
    assert agent_rows._id_range(2**31 - 2, 2)[-1] == 2**31 - 1
    with pytest.raises(OverflowError, match="past 2147483647"):
        agent_rows._id_range(2**31 - 2, 3)
    model = CreativeClusterModel(rng=3, city="small_town", spin_up={"months": 0})
    model.step()  # talents and firms made late, from their 32-bit ids
    ids = [agent.unique_id for agent in model.agents]
    assert {type(i) for i in ids} == {int} and len(set(ids)) == len(ids)
