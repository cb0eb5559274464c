"""Mesa agents of talent and firm rows registered and removed in bulk.

Tens of thousands of talents enter and leave creative work each year, and firms
enter and exit by the thousand, each a Mesa ``Agent`` registered with the model
(``Agent.__init__`` -> ``Model.register_agent``) and removed again
(``Agent.remove``). Mesa does this one agent at a time: each call formats a debug
message and emits an ``agents`` signal, about 5 microseconds an agent, a sixth of
the model's step, and a firm also enters and leaves its cell's list. Here the
objects are made with the attributes their constructors set, registered and removed
in bulk, and a cell's list is filtered once for all its leavers; the model ends in
exactly the state Mesa's per-agent calls would leave (the same attributes on each
agent, the same ids in the same order, the same members of ``model.agents``,
``model.agents_by_type`` and of each cell). When anything observes the model's
agents (a Mesa signal subscriber, a batch of signals, a data registry dataset of the
class), they take Mesa's own per-agent path, so no signal is ever lost. Which
agents are made when is :mod:`clustersim.model.agent_rows`' business (they are made
when someone reads them; :class:`LiveAgentSet` is the agent set that makes them).

This relies on Mesa 3.5's registration internals (``Model._all_agents``,
``Model._agents_by_type``, ``_HardKeyAgentSet._agents``, through which every method
of Mesa's agent sets reads its members, ``Cell._agents``, which Mesa's cells,
neighbourhoods and cell collections read directly, and ``HasCell._mesa_cell`` for
the firms' cells); Mesa is pinned, and ``tests/model/test_bulk_agents.py``
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
    "LiveAgentSet",
    "add_agents",
    "add_firm_agents",
    "add_talent_agents",
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
        #: What makes the agents not made yet (one per :class:`AgentRows` of the set's agents).
        self.makers = [make]
        super().__init__([], random=random)
        self._members = members

    @property
    def _agents(self) -> dict[Agent, None]:
        for make in self.makers:
            make()
        return self._members

    @_agents.setter
    def _agents(self, members: dict[Agent, None]) -> None:
        self._members = members

    def __getstate__(self) -> dict[str, Any]:
        # pickle and deepcopy: the members and the makers, making no agent
        return {"members": self._members, "random": self.random, "makers": self.makers}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.makers, self.random, self._members = state["makers"], state["random"], state["members"]

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
    for cell, gone in leaving.items():  # list's own methods: a live list makes nothing
        here = cell._agents
        if len(gone) == 1:
            list.remove(here, next(iter(gone)))
        else:
            list.__setitem__(here, slice(None), [a for a in list.__iter__(here) if a not in gone])
        cell.empty = list.__len__(here) == 0


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


def _new_agents(model: Model, cls: type[Agent], rows: np.ndarray) -> list[Agent]:
    """Objects of ``cls`` for ``rows`` with the attributes its constructor sets (not registered).

    A firm's object knows its cell (``HasCell._mesa_cell``) but is not in its list yet
    (:func:`_put_in_cells`).
    """
    if cls not in (Talent, CreativeFirm):
        raise TypeError(f"{cls.__name__} agents are made by their constructor")
    cells = _cells(model, rows) if cls is CreativeFirm else None
    agents = []
    new = object.__new__
    for at, index in enumerate(rows.tolist()):
        agent = new(cls)
        # the attributes Agent.__init__, Model.register_agent and Talent.__init__ or
        # CreativeFirm.__init__ (with the cell setter of HasCell) set
        agent.model = model
        agent.pos = None
        agent.index = index
        if cells is not None:
            agent._mesa_cell = cells[at]
        agents.append(agent)
    return agents


def _cells(model: Model, rows: np.ndarray) -> list[Any]:
    """The cells of the nodes of firm rows ``rows`` (what ``model.space[node]`` reads)."""
    cell_of = model.space._cells
    return [cell_of[node] for node in model.firms.node[rows].tolist()]
