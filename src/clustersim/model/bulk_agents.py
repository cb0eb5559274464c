"""Mesa agents of talent and firm rows: talents' made when read, firms' registered in bulk.

Tens of thousands of talents enter and leave creative work each year, each a
Mesa ``Agent`` registered with the model (``Agent.__init__`` ->
``Model.register_agent``) and removed again (``Agent.remove``). Mesa does this
one agent at a time: each call formats a debug message and emits an
``agents`` signal, about 5 microseconds an agent, a sixth of the model's step.
A talent's agent takes its id on arrival but its object is made only when
someone reads the model's agents (:class:`AgentRows`, :class:`LiveAgentSet`); a
firm's is made at once (firms live in the cells of the space) and registered in
bulk. Either way the model ends in exactly the state Mesa's per-agent calls would
leave (the same attributes on each agent, the same ids in the same order, the
same members of ``model.agents`` and ``model.agents_by_type``). When anything
observes the model's agents (a Mesa signal subscriber, a batch of signals, a data
registry dataset of the class), they take Mesa's own per-agent path, so no signal
is ever lost.

This relies on Mesa 3.5's registration internals (``Model._all_agents``,
``Model._agents_by_type``, ``_HardKeyAgentSet._agents``, through which every method
of Mesa's agent sets reads its members, ``Cell._agents`` and ``HasCell._mesa_cell``
for the firms' cells); Mesa is pinned, and ``tests/model/test_bulk_agents.py``
compares both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from mesa import Agent, Model
from mesa.agentset import _HardKeyAgentSet
from mesa.discrete_space import CellAgent
from mesa.discrete_space.cell_agent import HasCell
from mesa.model import ModelSignals

from clustersim.model.agents import CreativeFirm, Talent

__all__ = [
    "AgentRows",
    "LiveAgentSet",
    "add_agents",
    "add_firm_agents",
    "add_talent_agents",
    "count_agents",
    "move_to_end",
    "remove_agents",
]

#: The cell property of Mesa's movable cell agents (a class that replaces it is left alone).
_CELL = HasCell.__dict__["cell"]


def _members(agents: _HardKeyAgentSet) -> dict[Agent, None]:
    """The members of a Mesa agent set, read without making any agent."""
    return agents._members if isinstance(agents, LiveAgentSet) else agents._agents


class LiveAgentSet(_HardKeyAgentSet):
    """A Mesa agent set whose agents not made yet are made before anything reads it.

    Every method of Mesa's agent set reads its members through ``_agents``; here that
    first calls ``make`` (:meth:`AgentRows.make`), so a set held across months (a
    ``model.agents`` kept by a user, a data registry tracking ``agents_by_type[Talent]``)
    lists every agent, in id order, whenever it is read. Adding and removing members
    (Mesa's registration) make nothing.
    """

    def __init__(self, members: dict[Agent, None], random: Any, make: Callable[[], None]):
        self._make = make
        super().__init__([], random=random)
        self._members = members

    @property
    def _agents(self) -> dict[Agent, None]:
        self._make()
        return self._members

    @_agents.setter
    def _agents(self, members: dict[Agent, None]) -> None:
        self._members = members

    def add(self, agent: Agent) -> None:  # noqa: D102
        self._members[agent] = None

    def discard(self, agent: Agent) -> None:  # noqa: D102
        self._members.pop(agent, None)

    def remove(self, agent: Agent) -> None:  # noqa: D102
        del self._members[agent]


def _observed(model: Model, cls: type[Agent], signal: str) -> bool:
    """True when Mesa's per-agent path would tell anyone about a change of agents."""
    return bool(
        cls._datasets
        or model._batch_context is not None
        or model._suppress
        or model._has_subscribers("agents", signal)
        or cls not in model._agents_by_type
    )


def add_talent_agents(model: Model, ids: np.ndarray) -> list[Talent]:
    """Create and register the Mesa agents of talent rows ``ids``; returns them in order.

    Equivalent to ``[Talent(model, int(i)) for i in ids]``.
    """
    if len(ids) == 0:
        return []
    if Talent not in model._agents_by_type:  # Mesa makes the class's agent set for the first
        return [Talent(model, int(ids[0])), *add_talent_agents(model, ids[1:])]
    if _observed(model, Talent, ModelSignals.AGENT_ADDED):
        return [Talent(model, int(i)) for i in ids]
    agents = _new_agents(model, Talent, ids)
    _register(model, Talent, agents)  # their ids, as Model.register_agent gives them
    return agents


def _register(model: Model, cls: type[Agent], agents: list[Agent]) -> None:
    """Give ``agents`` the next ids and make them members of the model's agent sets."""
    first = model.agent_id_counter
    for offset, agent in enumerate(agents):
        agent.unique_id = first + offset
    model.agent_id_counter = first + len(agents)
    members = dict.fromkeys(agents)
    _members(model._all_agents).update(members)
    _members(model._agents_by_type[cls]).update(members)


def add_firm_agents(model: Model, ids: np.ndarray) -> list[CreativeFirm]:
    """Create and register the Mesa agents of firm rows ``ids``, each in its node's cell.

    Equivalent to ``[CreativeFirm(model, int(i)) for i in ids]``.
    """
    if len(ids) == 0:
        return []
    if CreativeFirm not in model._agents_by_type:  # Mesa makes the class's agent set
        return [CreativeFirm(model, int(ids[0])), *add_firm_agents(model, ids[1:])]
    cell_of = model.space._cells  # what model.space[node] reads
    cells = [cell_of[node] for node in model.firms.node[ids].tolist()]
    distinct = dict.fromkeys(cells)
    bounded = any(cell.capacity is not None for cell in distinct)
    if bounded or _observed(model, CreativeFirm, ModelSignals.AGENT_ADDED):
        return [CreativeFirm(model, int(i)) for i in ids]
    agents = []
    new = object.__new__
    for index, cell in zip(ids.tolist(), cells, strict=True):
        agent = new(CreativeFirm)
        # what Agent.__init__, CreativeFirm.__init__ and the cell setter (HasCell) set
        agent.model = model
        agent.pos = None
        agent.index = index
        agent._mesa_cell = cell
        cell._agents.append(agent)
        agents.append(agent)
    for cell in distinct:
        cell.empty = False
    _register(model, CreativeFirm, agents)
    return agents


def add_agents(model: Model, cls: type[Agent], ids: np.ndarray) -> list[Agent]:
    """The Mesa agents of rows ``ids`` of the table of ``cls`` (Talent or CreativeFirm)."""
    return {Talent: add_talent_agents, CreativeFirm: add_firm_agents}[cls](model, ids)


def _remove_from_cells(agents: list[CellAgent]) -> None:
    """Take ``agents`` out of their cells, as their ``cell = None`` would one by one.

    A cell's list is filtered once for all its leavers (the others keep their order),
    not searched once per leaver: removing k of n agents costs n, not k x n.
    """
    leaving: dict[object, set[CellAgent]] = {}
    for agent in agents:
        cell = agent._mesa_cell
        if cell is not None:
            leaving.setdefault(cell, set()).add(agent)
            agent._mesa_cell = None
    for cell, gone in leaving.items():
        if len(gone) == 1:
            cell._agents.remove(next(iter(gone)))
        else:
            cell._agents[:] = [a for a in cell._agents if a not in gone]
        cell.empty = not cell._agents


def remove_agents(model: Model, agents: Iterable[Agent]) -> None:
    """Remove Mesa agents from the model; equivalent to ``agent.remove()`` for each one."""
    agents = list(agents)
    if not agents:
        return
    by_class: dict[type[Agent], list[Agent]] = {}
    for agent in agents:
        by_class.setdefault(type(agent), []).append(agent)
    for cls, group in by_class.items():
        # a class with clean-up of its own keeps it; a CellAgent's is leaving its cell
        in_cell = cls.remove is CellAgent.remove and cls.cell is _CELL
        plain = cls.remove is Agent.remove or in_cell
        if not plain or _observed(model, cls, ModelSignals.AGENT_REMOVED):
            for agent in group:
                agent.remove()
            continue
        everyone, of_class = _members(model._all_agents), _members(model._agents_by_type[cls])
        for agent in group:
            if agent in of_class:  # Agent.remove ignores an agent removed before
                del of_class[agent]
                del everyone[agent]
        if in_cell:
            _remove_from_cells(group)


def move_to_end(model: Model, agents: list[Agent]) -> None:
    """Make ``agents`` the last members of ``model.agents`` and of their type's set, in order.

    The spin-up uses it so that a model whose month 0 was run lists its agents in
    the order of one whose month 0 was restored from the cache.
    """
    everyone = _members(model._all_agents)
    for agent in agents:
        of_class = _members(model._agents_by_type[type(agent)])
        del everyone[agent], of_class[agent]
        everyone[agent] = None
        of_class[agent] = None


#: States of a row's Mesa agent in :class:`AgentRows`.
_UNMADE, _MADE, _GONE = 0, 1, 2


class AgentRows:
    """The Mesa agents of one agent table's rows, made only when someone reads them.

    A row's agent gets its Mesa id when the row is added (``agent_id_counter`` moves
    on as if it were registered), but a talent's ``Talent`` object is made only when
    :meth:`make` is called: whenever ``model.agents`` or ``model.agents_by_type[Talent]``
    (:class:`LiveAgentSet`, also when held from an earlier month) or
    ``model.talent_agents`` is read. The objects made
    then are those Mesa's per-agent calls would have made (same class, attributes
    and ids) and take their places in the model's agent sets in id order, which is
    the order Mesa's registration gives. Until then a row costs 17 bytes (its id, its
    state, its slot in :attr:`agents`) instead of an object and two registrations:
    most months nobody reads the talents' agents.

    Agents are made at once (:func:`add_agents`) when ``lazy`` is false (firms: they
    are in the cells of the space, which anyone may read) or when a Mesa signal
    subscriber, a batch of signals or a data registry watches the class, so no
    signal is lost.

    Args:
        cls: the agent class of the rows (``Talent`` or ``CreativeFirm``).
        lazy: whether agents may be made later than their rows.
    """

    def __init__(self, cls: type[Agent], *, lazy: bool) -> None:
        self.cls = cls
        self.lazy = lazy
        #: The agent of each row, None while not made or when gone.
        self.agents: list[Agent | None] = []
        self._ids = np.zeros(0, dtype=np.int64)
        self._state = np.zeros(0, dtype=np.int8)
        #: Rows whose agent exists for Mesa but is not made yet.
        self.unmade = 0

    def _grow(self, n: int) -> None:
        """Room for ``n`` rows (the rows of :attr:`agents`); spare capacity left unwritten."""
        rows = len(self.agents)
        if n > len(self._state):  # the pages of the spare capacity stay unwritten
            size = max(n, 2 * len(self._state), 64)
            ids, state = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int8)
            ids[:rows], state[:rows] = self._ids[:rows], self._state[:rows]
            self._ids, self._state = ids, state
        if n > rows:
            self._ids[rows:n] = -1
            self._state[rows:n] = _GONE
            self.agents.extend([None] * (n - rows))

    def add(self, model: Model, rows: np.ndarray) -> None:
        """Give rows ``rows`` (in increasing order, without an agent) their Mesa agents."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        self._grow(int(rows[-1]) + 1)
        if self.cls not in model._agents_by_type:  # Mesa makes the class's agent set
            self._made(rows[:1], add_agents(model, self.cls, rows[:1]))
            rows = rows[1:]
        if not self.lazy or _observed(model, self.cls, ModelSignals.AGENT_ADDED):
            self._made(rows, add_agents(model, self.cls, rows))
            return
        self._go_live(model)
        first = model.agent_id_counter
        model.agent_id_counter = first + len(rows)
        self._ids[rows] = np.arange(first, first + len(rows))
        self._state[rows] = _UNMADE
        self.unmade += len(rows)

    def _go_live(self, model: Model) -> None:
        """Make the model's agent sets that will hold these rows' agents :class:`LiveAgentSet`."""
        sets = model._agents_by_type
        if type(model._all_agents) is LiveAgentSet and type(sets[self.cls]) is LiveAgentSet:
            return

        def make() -> None:
            self.make(model)

        for agents, put in (
            (model._all_agents, lambda live: setattr(model, "_all_agents", live)),
            (sets[self.cls], lambda live: sets.__setitem__(self.cls, live)),
        ):
            if type(agents) is not LiveAgentSet:
                put(LiveAgentSet(_members(agents), agents.random, make))

    def _made(self, rows: np.ndarray, agents: list[Agent]) -> None:
        for row, agent in zip(rows.tolist(), agents, strict=True):
            self.agents[row] = agent
            self._ids[row] = agent.unique_id
        self._state[rows] = _MADE

    def remove(self, model: Model, rows: np.ndarray) -> None:
        """Remove the agents of rows ``rows`` as ``agent.remove()`` each would (gone: no-op)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        _, first = np.unique(rows, return_index=True)
        if len(first) < len(rows):  # a row given twice is removed once, at its first place
            rows = rows[np.sort(first)]
        state = self._state[rows]
        unmade = rows[state == _UNMADE]
        if len(unmade) and _observed(model, self.cls, ModelSignals.AGENT_REMOVED):
            self.make(model)  # a watcher hears of each removal, as from Mesa
            state = self._state[rows]
            unmade = rows[:0]
        made = rows[state == _MADE]
        agents = self.agents
        remove_agents(model, [agents[i] for i in made.tolist()])
        for i in made.tolist():
            agents[i] = None
        self._state[made] = _GONE
        self._state[unmade] = _GONE
        self.unmade -= len(unmade)

    def make(self, model: Model) -> None:
        """Make the agents of every row not made yet and register them in id order."""
        if not self.unmade:
            return
        rows = np.flatnonzero(self._state[: len(self.agents)] == _UNMADE)
        agents = _new_agents(model, self.cls, rows)
        for agent, uid in zip(agents, self._ids[rows].tolist(), strict=True):
            agent.unique_id = uid
        self._made(rows, agents)
        self.unmade = 0
        members = sorted(agents, key=_unique_id)  # rows renumbered by a spin-up keep id order
        _insert_in_id_order(_members(model._all_agents), members)
        _insert_in_id_order(_members(model._agents_by_type[self.cls]), members)

    def made(self) -> list[Agent]:
        """The agents made so far, in row order."""
        return [a for a in self.agents if a is not None]

    def keep(self, rows: np.ndarray) -> None:
        """Keep only rows ``rows`` (the table compacted to them, in order); agents follow."""
        agents = [self.agents[i] for i in rows.tolist()]
        for index, agent in enumerate(agents):
            if agent is not None:
                agent.index = index
        self.agents = agents
        self._ids = self._ids[rows]
        self._state = self._state[rows]

    def living(self) -> np.ndarray:
        """Rows with an agent (made or not)."""
        return np.flatnonzero(self._state[: len(self.agents)] != _GONE)

    def renumber(self, first: int) -> int:
        """Give the agents of the living rows the ids ``first, first + 1, ...`` in row order.

        Returns the next id after them.
        """
        rows = self.living()
        self._ids[rows] = np.arange(first, first + len(rows))
        for row in rows[self._state[rows] == _MADE].tolist():
            self.agents[row].unique_id = int(self._ids[row])
        return first + len(rows)

    def clear(self, model: Model, n: int) -> None:
        """Remove every agent (as ``agent.remove()`` each); ``n`` rows remain, none alive."""
        if self.unmade and _observed(model, self.cls, ModelSignals.AGENT_REMOVED):
            self.make(model)  # a watcher hears of each removal, as from Mesa
        remove_agents(model, self.made())
        self.agents = [None] * n
        self._ids = np.full(n, -1, dtype=np.int64)
        self._state = np.full(n, _GONE, dtype=np.int8)
        self.unmade = 0


def count_agents(model: Model, rows: AgentRows | None) -> int:
    """``len(model.agents)`` without making the agents of ``rows``."""
    return len(_members(model._all_agents)) + (rows.unmade if rows is not None else 0)


def _unique_id(agent: Agent) -> int:
    return agent.unique_id


def _new_agents(model: Model, cls: type[Agent], rows: np.ndarray) -> list[Agent]:
    """Objects of ``cls`` for ``rows`` with the attributes its constructor sets (not registered)."""
    if cls is not Talent:
        raise TypeError(f"{cls.__name__} agents are made when their rows are added")
    agents = []
    new = object.__new__
    for index in rows.tolist():
        agent = new(cls)
        # the attributes Agent.__init__, Model.register_agent and Talent.__init__ set
        agent.model = model
        agent.pos = None
        agent.index = index
        agents.append(agent)
    return agents


def _insert_in_id_order(members: dict[Agent, None], new: list[Agent]) -> None:
    """Insert ``new`` (sorted by id) into ``members`` (kept in id order), in id order.

    Only the members with a higher id than the first new one are taken out and put
    back: agents made since the rows were added (firms of the month, a hub).
    """
    if not new:
        return
    lowest = new[0].unique_id
    later = []
    while members:
        last = next(reversed(members))
        if last.unique_id < lowest:
            break
        members.popitem()
        later.append(last)
    if later:
        new = sorted(new + later, key=_unique_id)
    members.update(dict.fromkeys(new))
