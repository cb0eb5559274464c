"""Mesa agents of talent and firm rows registered and removed in bulk, as Mesa's calls would.

Tens of thousands of talents enter and leave creative work each year, each a
Mesa ``Agent`` registered with the model (``Agent.__init__`` ->
``Model.register_agent``) and removed again (``Agent.remove``). Mesa does this
one agent at a time: each call formats a debug message and emits an
``agents`` signal, about 5 microseconds an agent, a sixth of the model's step.
When nobody listens to those signals, the functions here leave the model in
exactly the state Mesa's per-agent calls would (the same attributes on each
agent, the same ids in the same order, the same members of ``model.agents`` and
``model.agents_by_type``) for a fraction of the cost. When anything observes
the model's agents (a Mesa signal subscriber, a batch of signals, a data
registry dataset of the class), they take Mesa's own per-agent path, so no
signal is ever lost.

This relies on Mesa 3.5's registration internals (``Model._all_agents``,
``Model._agents_by_type``, ``_HardKeyAgentSet._agents``, ``Cell._agents`` and
``HasCell._mesa_cell`` for the firms' cells); Mesa is pinned, and
``tests/model/test_bulk_agents.py`` compares both paths.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from mesa import Agent, Model
from mesa.discrete_space import CellAgent
from mesa.discrete_space.cell_agent import HasCell
from mesa.model import ModelSignals

from clustersim.model.agents import CreativeFirm, Talent

__all__ = [
    "add_agents",
    "add_firm_agents",
    "add_talent_agents",
    "move_to_end",
    "remove_agents",
]

#: The cell property of Mesa's movable cell agents (a class that replaces it is left alone).
_CELL = HasCell.__dict__["cell"]


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
    agents = []
    new = object.__new__
    for index in ids.tolist():
        agent = new(Talent)
        # the attributes Agent.__init__, Model.register_agent and Talent.__init__ set
        agent.model = model
        agent.pos = None
        agent.index = index
        agents.append(agent)
    _register(model, Talent, agents)
    return agents


def _register(model: Model, cls: type[Agent], agents: list[Agent]) -> None:
    """Give ``agents`` the next ids and make them members of the model's agent sets."""
    first = model.agent_id_counter
    for offset, agent in enumerate(agents):
        agent.unique_id = first + offset
    model.agent_id_counter = first + len(agents)
    members = dict.fromkeys(agents)
    model._all_agents._agents.update(members)
    model._agents_by_type[cls]._agents.update(members)


def add_firm_agents(model: Model, ids: np.ndarray) -> list[CreativeFirm]:
    """Create and register the Mesa agents of firm rows ``ids``, each in its node's cell.

    Equivalent to ``[CreativeFirm(model, int(i)) for i in ids]``.
    """
    if len(ids) == 0:
        return []
    if CreativeFirm not in model._agents_by_type:  # Mesa makes the class's agent set
        return [CreativeFirm(model, int(ids[0])), *add_firm_agents(model, ids[1:])]
    cells = [model.space[node] for node in model.firms.node[ids].tolist()]
    bounded = any(cell.capacity is not None for cell in cells)
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
        cell._agents.append(agent)
        cell.empty = False
        agent._mesa_cell = cell
        agents.append(agent)
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
        everyone, of_class = model._all_agents._agents, model._agents_by_type[cls]._agents
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
    everyone = model._all_agents._agents
    for agent in agents:
        of_class = model._agents_by_type[type(agent)]._agents
        del everyone[agent], of_class[agent]
        everyone[agent] = None
        of_class[agent] = None
