"""The Mesa agents of the agent tables' rows, made when someone reads them.

A row's agent takes its Mesa id when the row is added, as if it were registered,
but its object is made only when someone reads the model's agents: the model's
agent sets (:class:`~clustersim.model.bulk_agents.LiveAgentSet`), the rows' agents
(``model.talent_agents``, ``model.firm_agents``: :class:`RowAgents`) or, for firms,
the agents of any cell of the space (:class:`LiveCellList`). Agents made then are
registered in bulk (:mod:`clustersim.model.bulk_agents`) in the places and order
Mesa's per-agent calls would have given them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from mesa import Agent, Model
from mesa.discrete_space import CellAgent
from mesa.model import ModelSignals

from clustersim.model import bulk_agents
from clustersim.model.agents import CreativeFirm
from clustersim.model.bulk_agents import (
    LiveAgentSet,
    _cells,
    _members,
    _new_agents,
    add_agents,
    remove_agents,
)

__all__ = ["AgentRows", "LiveCellList", "RowAgents", "count_agents", "live_cells"]


class LiveCellList(list):
    """A cell's agents (Mesa's ``Cell._agents``) that makes the firms not made yet before a read.

    Mesa reads a cell's list directly (``cell.agents``, ``cell.is_empty``, a
    neighbourhood's or a cell collection's agents, which hold the list itself), so the
    list makes the model's unmade firms, each into its cell in id order, before it is
    read, counted or iterated. Adding and removing (Mesa's ``add_agent`` first counts,
    so it makes them too) work as on a list. The model's own bulk code reads it with
    ``list``'s methods, which make nothing.
    """

    __slots__ = ("_make",)

    def __init__(self, agents: Iterable[Agent], make: Callable[[], None]) -> None:
        super().__init__(agents)
        self._make = make

    def __reduce_ex__(self, protocol: Any) -> tuple:
        # pickle and deepcopy copy the agents the list holds, making none
        return _new_cell_list, (self._make,), None, list.__iter__(self)

    __hash__ = None  # type: ignore[assignment]  # as list's


def _making(name: str) -> Callable[..., Any]:
    """``list``'s method ``name``, called after the cell's firms are made."""
    method = getattr(list, name)

    def read(self: LiveCellList, *args: Any, **kwargs: Any) -> Any:
        self._make()
        return method(self, *args, **kwargs)

    read.__name__ = read.__qualname__ = name
    read.__doc__ = method.__doc__
    return read


def _new_cell_list(make: Callable[[], None]) -> LiveCellList:
    """An empty :class:`LiveCellList` (pickle and deepcopy then append its agents)."""
    return LiveCellList((), make)


#: list's methods that read the agents (copy, + and * give plain lists, as list's do)
_READS = (
    "__len__", "__iter__", "__reversed__", "__getitem__", "__contains__", "__eq__",
    "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__repr__", "__add__", "__mul__",
    "__rmul__", "copy", "index", "count", "pop", "sort",
)  # fmt: skip
for _name in _READS:
    setattr(LiveCellList, _name, _making(_name))


#: States of a row's Mesa agent in :class:`AgentRows`.
_UNMADE, _MADE, _GONE = 0, 1, 2
#: Mesa ids are held as 32-bit integers (4 bytes a row: a region has millions of rows).
_ID = np.int32
#: The largest Mesa id :data:`_ID` holds.
_ID_MAX = int(np.iinfo(_ID).max)


def _id_range(first: int, count: int) -> np.ndarray:
    """Mesa ids ``first, ..., first + count - 1`` as :data:`_ID` (fails past its range)."""
    if first + count - 1 > _ID_MAX:
        raise OverflowError(f"Mesa agent id {first + count - 1} is past {_ID_MAX}")
    return np.arange(first, first + count, dtype=_ID)


class AgentRows:
    """The Mesa agents of one agent table's rows, made only when someone reads them.

    A row's agent gets its Mesa id when the row is added (``agent_id_counter`` moves
    on as if it were registered), but a talent's ``Talent`` object is made only when
    :meth:`make` is called: whenever ``model.agents`` or ``model.agents_by_type[Talent]``
    (:class:`LiveAgentSet`, also when held from an earlier month) or
    ``model.talent_agents`` is read. The objects made
    then are those Mesa's per-agent calls would have made (same class, attributes
    and ids) and take their places in the model's agent sets in id order, which is
    the order Mesa's registration gives. Until then a row costs 9 bytes (its id and
    its state) instead of an object and two registrations: most months nobody reads
    the agents.

    A firm's agent (a ``CreativeFirm``, in the cell of its node) is made the same way
    when those or ``model.firm_agents`` or any cell's agents (:class:`LiveCellList`)
    are read, and put into its cell in id order; each cell's ``empty`` flag counts the
    firms not made yet.

    Agents are made at once (:func:`add_agents`) when ``lazy`` is false, when a cell
    of the space has a capacity (Mesa must then refuse a full cell at once), or when
    a Mesa signal subscriber, a batch of signals or a data registry watches the
    class, so no signal is lost.

    Args:
        cls: the agent class of the rows (``Talent`` or ``CreativeFirm``).
        lazy: whether agents may be made later than their rows.
    """

    def __init__(self, cls: type[Agent], *, lazy: bool) -> None:
        self.cls = cls
        self.lazy = lazy
        #: The agents made and not gone, by row (rows not made cost no slot).
        self._made_agents: dict[int, Agent] = {}
        #: Rows (of the table, all of them: made, not made and gone).
        self.n = 0
        self._ids = np.zeros(0, dtype=_ID)
        self._state = np.zeros(0, dtype=np.int8)
        #: Rows whose agent exists for Mesa but is not made yet.
        self.unmade = 0

    def _grow(self, n: int) -> None:
        """Room for ``n`` rows (the rows of :attr:`agents`); spare capacity left unwritten."""
        rows = self.n
        if n > len(self._state):  # the pages of the spare capacity stay unwritten
            size = max(n, 2 * len(self._state), 64)
            ids, state = np.empty(size, dtype=_ID), np.empty(size, dtype=np.int8)
            ids[:rows], state[:rows] = self._ids[:rows], self._state[:rows]
            self._ids, self._state = ids, state
        if n > rows:
            self._ids[rows:n] = -1
            self._state[rows:n] = _GONE
            self.n = n

    def add(self, model: Model, rows: np.ndarray) -> None:
        """Give rows ``rows`` (in increasing order, without an agent) their Mesa agents."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        self._grow(int(rows[-1]) + 1)
        if self.cls not in model._agents_by_type:  # Mesa makes the class's agent set
            self._made(rows[:1], add_agents(model, self.cls, rows[:1]))
            rows = rows[1:]
        in_cells = self.cls is CreativeFirm
        if (
            not self.lazy
            or bulk_agents._observed(model, self.cls, ModelSignals.AGENT_ADDED)
            or (in_cells and _bounded(model))
        ):
            self._made(rows, add_agents(model, self.cls, rows))
            return
        self._go_live(model)
        first = model.agent_id_counter
        model.agent_id_counter = first + len(rows)
        self._ids[rows] = _id_range(first, len(rows))
        self._state[rows] = _UNMADE
        self.unmade += len(rows)
        if in_cells:  # as Cell.add_agent: the cell is no longer empty
            for cell in dict.fromkeys(_cells(model, rows)):
                cell.empty = False

    def _go_live(self, model: Model) -> None:
        """Make the model's agent sets that will hold these rows' agents :class:`LiveAgentSet`."""
        sets = model._agents_by_type
        if type(model._all_agents) is LiveAgentSet and type(sets[self.cls]) is LiveAgentSet:
            return

        make = _Maker(self, model)
        for agents, put in (
            (model._all_agents, lambda live: setattr(model, "_all_agents", live)),
            (sets[self.cls], lambda live: sets.__setitem__(self.cls, live)),
        ):
            if type(agents) is not LiveAgentSet:
                put(LiveAgentSet(_members(agents), agents.random, make))
            elif not any(getattr(m, "rows", None) is self for m in agents.makers):
                agents.makers.append(make)

    def _made(self, rows: np.ndarray, agents: list[Agent]) -> None:
        for row, agent in zip(rows.tolist(), agents, strict=True):
            self._made_agents[row] = agent
            self._ids[row] = agent.unique_id
        self._state[rows] = _MADE

    def remove(self, model: Model, rows: np.ndarray) -> None:
        """Remove the agents of rows ``rows`` as ``agent.remove()`` each would (gone: no-op)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        if not (rows[1:] > rows[:-1]).all():  # (increasing rows, as the phases give, are unique)
            _, first = np.unique(rows, return_index=True)
            if len(first) < len(rows):  # a row given twice is removed once, at its first place
                rows = rows[np.sort(first)]
        state = self._state[rows]
        unmade = rows[state == _UNMADE]
        if len(unmade) and bulk_agents._observed(model, self.cls, ModelSignals.AGENT_REMOVED):
            self.make(model)  # a watcher hears of each removal, as from Mesa
            state = self._state[rows]
            unmade = rows[:0]
        made = rows[state == _MADE].tolist()
        agents = self._made_agents
        remove_agents(model, [agents.pop(i) for i in made])
        self._state[made] = _GONE
        self._state[unmade] = _GONE
        self.unmade -= len(unmade)
        if self.cls is CreativeFirm:
            self._refresh_empty(model, rows)

    def _refresh_empty(self, model: Model, rows: np.ndarray | None = None) -> None:
        """Set the ``empty`` flag of the cells of firm rows ``rows`` (None: every cell).

        A cell is empty when its list holds no agent and no firm not made yet is there.
        """
        unmade = np.flatnonzero(self._state[: self.n] == _UNMADE)
        waiting = np.bincount(model.firms.node[unmade], minlength=model.n_nodes) > 0
        if rows is None:
            cells = list(model.space._cells.items())
        else:
            nodes = np.unique(model.firms.node[rows]).tolist()
            cells = [(node, model.space._cells[node]) for node in nodes]
        for node, cell in cells:
            cell.empty = list.__len__(cell._agents) == 0 and not waiting[node]

    def make(self, model: Model) -> None:
        """Make the agents of every row not made yet and register them in id order."""
        if not self.unmade:
            return
        rows = np.flatnonzero(self._state[: self.n] == _UNMADE)
        agents = _new_agents(model, self.cls, rows)
        for agent, uid in zip(agents, self._ids[rows].tolist(), strict=True):
            agent.unique_id = uid
        self._made(rows, agents)
        self.unmade = 0
        members = sorted(agents, key=_unique_id)  # rows renumbered by a spin-up keep id order
        _insert_in_id_order(_members(model._all_agents), members)
        _insert_in_id_order(_members(model._agents_by_type[self.cls]), members)
        if self.cls is CreativeFirm:
            _put_in_cells(members)

    @property
    def agents(self) -> RowAgents:
        """The agent of each row, None while not made or when gone (a read-only sequence)."""
        return RowAgents(self._made_agents, self.n)

    def made(self) -> list[Agent]:
        """The agents made so far, in row order."""
        return [self._made_agents[row] for row in sorted(self._made_agents)]

    def keep(self, rows: np.ndarray) -> None:
        """Keep only rows ``rows`` (ascending: the table compacted to them); agents follow.

        Only the agents made are visited, so a table of a million rows whose agents
        nobody asked for is compacted without a loop over its rows.
        """
        made = np.sort(np.fromiter(self._made_agents, dtype=np.int64, count=len(self._made_agents)))
        index = np.searchsorted(rows, made)
        kept = index < len(rows)
        kept[kept] = rows[index[kept]] == made[kept]
        agents = {}
        for row, at in zip(made[kept].tolist(), index[kept].tolist(), strict=True):
            agent = self._made_agents[row]
            agent.index = at
            agents[at] = agent
        self._made_agents = agents
        self.n = len(rows)
        self._ids = self._ids[rows]
        self._state = self._state[rows]

    def living(self) -> np.ndarray:
        """Rows with an agent (made or not)."""
        return np.flatnonzero(self._state[: self.n] != _GONE)

    def renumber(self, first: int) -> int:
        """Give the agents of the living rows the ids ``first, first + 1, ...`` in row order.

        Returns the next id after them.
        """
        rows = self.living()
        self._ids[rows] = _id_range(first, len(rows))
        for row in rows[self._state[rows] == _MADE].tolist():
            self._made_agents[row].unique_id = int(self._ids[row])
        return first + len(rows)

    def clear(self, model: Model, n: int) -> None:
        """Remove every agent (as ``agent.remove()`` each); ``n`` rows remain, none alive."""
        if self.unmade and bulk_agents._observed(model, self.cls, ModelSignals.AGENT_REMOVED):
            self.make(model)  # a watcher hears of each removal, as from Mesa
        remove_agents(model, self.made())
        self._made_agents = {}
        self.n = n
        self._ids = np.full(n, -1, dtype=_ID)
        self._state = np.full(n, _GONE, dtype=np.int8)
        self.unmade = 0
        if self.cls is CreativeFirm:
            self._refresh_empty(model)


class _Maker:
    """What a :class:`LiveAgentSet` calls to make the agents of ``rows`` (picklable)."""

    __slots__ = ("model", "rows")

    def __init__(self, rows: AgentRows, model: Model) -> None:
        self.rows, self.model = rows, model

    def __call__(self) -> None:
        self.rows.make(self.model)


class RowAgents(Sequence):
    """The Mesa agent of each row of a table: the agent, or None while not made or gone.

    A view of :class:`AgentRows` (rows whose agents are not made cost no slot); index it
    by row (``model.firm_agents[firm]``) or iterate it as a list.
    """

    def __init__(self, made: dict[int, Agent], n: int) -> None:
        self._made, self._n = made, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, row: Any) -> Any:
        if isinstance(row, slice):
            return [self._made.get(i) for i in range(*row.indices(self._n))]
        row = int(row)
        if row < 0:
            row += self._n
        if not 0 <= row < self._n:
            raise IndexError("row out of range")
        return self._made.get(row)

    def __iter__(self) -> Any:
        get = self._made.get
        return (get(i) for i in range(self._n))


def count_agents(model: Model, *rows: AgentRows | None) -> int:
    """``len(model.agents)`` without making the agents of ``rows``."""
    return len(_members(model._all_agents)) + sum(r.unmade for r in rows if r is not None)


def _unique_id(agent: Agent) -> int:
    return agent.unique_id


def _bounded(model: Model) -> bool:
    """Whether a cell of the model's space has a capacity."""
    return any(cell.capacity is not None for cell in model.space._cells.values())


def _put_in_cells(agents: list[CellAgent]) -> None:
    """Put ``agents`` (sorted by id) into their cells' lists, which are kept in id order."""
    by_cell: dict[Any, list[CellAgent]] = {}
    for agent in agents:
        by_cell.setdefault(agent._mesa_cell, []).append(agent)
    for cell, new in by_cell.items():
        here = cell._agents
        size = list.__len__(here)
        if size and list.__getitem__(here, size - 1).unique_id > new[0].unique_id:
            merged = sorted([*list.__iter__(here), *new], key=_unique_id)
            list.__setitem__(here, slice(None), merged)
        else:
            list.extend(here, new)
        cell.empty = False


def live_cells(space: Any, make: Callable[[], None]) -> None:
    """Give every cell of ``space`` a :class:`LiveCellList` that calls ``make`` before reads.

    Call it when the space is built, before anything outside holds a cell's list: the
    space's own collections that hold them (``all_cells``, which Mesa's ``Network``
    builds while connecting its cells, and the cells' neighbourhoods) are dropped and
    built again on their next read, from the new lists.
    """
    for cell in space._cells.values():
        if type(cell._agents) is not LiveCellList:
            cell._agents = LiveCellList(list.__iter__(cell._agents), make)
            cell._clear_cache()
    space.__dict__.pop("all_cells", None)  # Mesa's cached_property, as its add_cell does


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
