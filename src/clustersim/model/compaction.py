"""Live-row compaction of the agent tables, and the archive of the rows of agents gone.

A talent who left and a firm that exited keep their row in the state tables until
the tables are compacted: the living rows are then renumbered in order and the others
move to the model's :class:`Archive`, which the result tables read, so
``talents.parquet`` and ``firms.parquet`` still hold every agent ever created, with
ids that never change (a row's **public id**; it equals the row until the first
compaction). Without compaction a city's tables grow without bound: a 10k-talent
city holds about three rows per living talent after 120 months, and about twenty
after its 1,200-month spin-up, and every pass over a whole table pays for them.

:func:`maybe_compact` runs at the start of each month and compacts when the rows
of agents gone outnumber the living ones (:data:`DEAD_SHARE`), so each row is moved
at most about once more than it is written, and tables hold fewer than twice the
living rows. The renumbering keeps the living rows' order, so every draw and every
sum over living rows is the same as without it: results are bit-identical (tested).

What holds rows is declared here: :data:`ROW_REFS` (columns holding rows of a table,
renumbered), :data:`ID_REFS` (columns holding public ids, kept), :data:`ROW_ARRAYS`
(model arrays with an entry per row, sliced), the collaboration ties (renumbered),
the Mesa agents of the rows (:data:`AGENT_ROWS`) and each policy's own state
(``rows_renumbered``). The spin-up's end (:func:`compact` with ``archive=False``)
drops the rows of agents gone instead, and numbers public ids from 0 again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mesa import Model

from clustersim.model.state import AgentTable

__all__ = [
    "AGENT_ROWS",
    "ARCHIVED",
    "DEAD_SHARE",
    "ID_REFS",
    "MIN_DEAD_ROWS",
    "ROW_ARRAYS",
    "ROW_REFS",
    "Archive",
    "archive_of",
    "compact",
    "maybe_compact",
    "state_tables",
    "table_like",
]

#: Columns holding rows of a table (-1: none): (table, column) -> table referred to.
#: Renumbered when the table referred to is compacted; archived as public ids.
ROW_REFS: dict[tuple[str, str], str] = {("talents", "employer"): "firms"}
#: Columns holding public ids of a table (-1: none): (table, column) -> table referred
#: to. A compaction keeps them; the spin-up's end maps them to the new rows (-1: gone).
ID_REFS: dict[tuple[str, str], str] = {("firms", "parent"): "firms"}
#: Model arrays with one entry per row of a table (rows added since may be missing at
#: the end): attribute -> table.
ROW_ARRAYS: dict[str, str] = {"open_vacancies": "firms"}
#: The Mesa agents of a table's rows (:class:`~clustersim.model.agent_rows.AgentRows`):
#: table -> model attribute, in the order their agents are renumbered.
AGENT_ROWS: dict[str, str] = {"talents": "talent_rows", "firms": "firm_rows"}

#: The columns of archived rows: those the result tables read (``clustersim.model.tables``).
#: The others (a talent's taste, a firm's revenue, vacancies, subsidy of the month, ...)
#: matter only while the agent is alive, and are dropped with the row.
ARCHIVED: dict[str, tuple[str, ...]] = {
    "talents": (
        "sector",
        "skill",
        "home",
        "employer",
        "origin",
        "arrived",
        "left",
        "left_region",
        "to_other_work",
        "grant",
    ),
    "firms": (
        "sector",
        "node",
        "productivity",
        "edge",
        "cash",
        "founded",
        "exit_step",
        "employees",
        "peak_employees",
        "origin",
        "parent",
        "innovations",
        "ever_incubated",
        "subsidy_received",
    ),
}

#: A month starts with a compaction when, in some table, the rows of agents gone are at
#: least this share of its rows (0.5: as many as the living rows).
DEAD_SHARE = 0.5
#: ... and at least this many (a small town's few rows are not worth a compaction).
MIN_DEAD_ROWS = 256

#: Name of the public-id column of archived rows.
ID = "id"


class Archive:
    """The rows of agents gone, moved out of the state tables, and every row's public id.

    Public ids are issued in row order: the rows kept by the last compaction hold
    the ids in :attr:`kept`, rows appended since the ids from :attr:`issued` on.
    """

    def __init__(self) -> None:
        #: table name -> archived parts, each a dict of columns (with :data:`ID`)
        self.parts: dict[str, list[dict[str, np.ndarray]]] = {}
        #: table name -> public ids of the rows kept by the last compaction
        self.kept: dict[str, np.ndarray] = {}
        #: table name -> public ids issued up to the last compaction
        self.issued: dict[str, int] = {}

    def ids(self, name: str, rows: np.ndarray | int) -> np.ndarray:
        """Public ids of rows ``rows`` of table ``name`` (an int n: rows 0..n-1); -1 stays -1."""
        if isinstance(rows, int | np.integer):
            rows = np.arange(rows)
        rows = np.asarray(rows, dtype=np.int64)
        kept = self.kept.get(name)
        if kept is None:
            return rows.copy()
        out = self.issued[name] + rows - len(kept)
        older = (rows >= 0) & (rows < len(kept))
        out[older] = kept[rows[older]]
        out[rows < 0] = -1
        return out

    def rows_of(
        self,
        name: str,
        table: AgentTable,
        extra: dict[str, tuple[np.ndarray, Any]] | None = None,
    ) -> dict[str, np.ndarray]:
        """Every row table ``name`` ever had, archived and current, in public-id order.

        The :data:`ARCHIVED` columns of ``table`` plus :data:`ID`; :data:`ROW_REFS`
        columns of current rows are given as public ids, as the archived ones are.
        ``extra``: more columns, name -> (values of the current rows, value of the
        archived rows).
        """
        current = {c: getattr(table, c) for c in ARCHIVED[name]}
        for (owner, column), ref in ROW_REFS.items():
            if owner == name and ref in self.kept:
                current[column] = self.ids(ref, current[column]).astype(current[column].dtype)
        current[ID] = self.ids(name, table.n)
        extra = extra or {}
        current.update({c: values for c, (values, _) in extra.items()})
        archived = self.parts.get(name, [])
        if not archived:
            return current
        parts = [_filled(part, extra) for part in archived] + [current]
        order = np.argsort(np.concatenate([p[ID] for p in parts]), kind="stable")
        return {c: np.concatenate([p[c] for p in parts])[order] for c in current}

    def archived(self, name: str) -> int:
        """How many rows of table ``name`` are archived."""
        return sum(len(p[ID]) for p in self.parts.get(name, []))


def state_tables(model: Model) -> dict[str, AgentTable]:
    """The model's agent tables by attribute name."""
    return {k: v for k, v in vars(model).items() if isinstance(v, AgentTable)}


def archive_of(model: Model) -> Archive:
    """The model's archive (created empty on first use)."""
    archive = getattr(model, "archive", None)
    if archive is None:
        archive = model.archive = Archive()
    return archive


def maybe_compact(model: Model) -> bool:
    """Compact the tables (archiving rows of agents gone) if some table is mostly dead rows.

    Returns whether it did.
    """
    # the agent tables decide: a scan of every model attribute each month costs more
    for name in AGENT_ROWS:
        table = getattr(model, name)
        dead = table.n - len(table.live)
        if dead >= MIN_DEAD_ROWS and dead >= DEAD_SHARE * table.n:
            # the spin-up's months keep nothing of the agents gone (its end drops them)
            compact(model, archive=getattr(model, "recording_rows", True))
            return True
    return False


def compact(model: Model, *, archive: bool = True) -> None:
    """Keep only the living rows of every table, in order, and renumber what refers to rows.

    Args:
        model: the model.
        archive: move the other rows to the model's :class:`Archive` (public ids
            kept); False (the spin-up's end): drop them, number public ids from 0
            again, and map :data:`ID_REFS` to the new rows (-1 where gone).
    """
    tables = state_tables(model)
    store = archive_of(model)
    keep = {name: np.array(table.live) for name, table in tables.items()}
    ids = {name: store.ids(name, table.n) for name, table in tables.items()}
    new_row = {}
    for name, table in tables.items():
        new_row[name] = np.full(table.n, -1, dtype=np.int64)
        new_row[name][keep[name]] = np.arange(len(keep[name]))
    if archive:
        _archive_gone(store, tables, ids)
    for (name, column), ref in ROW_REFS.items():
        values = getattr(tables[name], column)
        setattr(tables[name], column, _mapped(values, new_row[ref]))
    if not archive:
        for (name, column), ref in ID_REFS.items():
            values = getattr(tables[name], column)
            kept_ids = ids[ref][keep[ref]]  # ascending
            at = np.searchsorted(kept_ids, values)
            found = (values >= 0) & (at < len(kept_ids))
            found[found] = kept_ids[at[found]] == values[found]
            setattr(tables[name], column, np.where(found, at, -1).astype(values.dtype))
    for attr, ref in ROW_ARRAYS.items():
        values = getattr(model, attr, None)
        if isinstance(values, np.ndarray) and values.ndim == 1:
            setattr(model, attr, values[keep[ref][keep[ref] < len(values)]])
    if len(model.ties):
        ties = new_row["firms"][model.ties]
        model.ties = ties[(ties >= 0).all(axis=1)]  # monotone renumbering: still sorted
    for name, table in tables.items():
        table.keep_rows(keep[name])  # in place, column by column
        if name in AGENT_ROWS:
            getattr(model, AGENT_ROWS[name]).keep(keep[name])
    for policy in getattr(model, "policies", ()):
        policy.rows_renumbered(new_row)
    if archive:
        for name in tables:
            store.kept[name] = ids[name][keep[name]]
            # the rows before: all of them may have been gone (none kept)
            store.issued[name] = (
                int(ids[name][-1]) + 1 if len(ids[name]) else store.issued.get(name, 0)
            )
    else:
        model.archive = Archive()


def _archive_gone(
    store: Archive, tables: dict[str, AgentTable], ids: dict[str, np.ndarray]
) -> None:
    """Move the rows of agents gone into ``store``, references as public ids."""
    for name, table in tables.items():
        gone = np.flatnonzero(~table.alive)
        if len(gone) == 0:
            continue
        part = {c: getattr(table, c)[gone] for c in ARCHIVED[name]}
        for (owner, column), ref in ROW_REFS.items():
            if owner == name:
                part[column] = _mapped(part[column], ids[ref])
        part[ID] = ids[name][gone]
        store.parts.setdefault(name, []).append(part)


def _filled(part: dict[str, np.ndarray], extra: dict[str, tuple[np.ndarray, Any]]) -> dict:
    """An archived part with the ``extra`` columns at their archived value (a new dict)."""
    n = len(part[ID])
    return {**part, **{c: np.full(n, fill, dtype=v.dtype) for c, (v, fill) in extra.items()}}


def _mapped(values: np.ndarray, by_row: np.ndarray) -> np.ndarray:
    """Row references ``values`` looked up in ``by_row`` (a new row or a public id; -1 stays -1)."""
    if len(by_row) == 0:
        return np.full_like(values, -1)
    return np.where(values >= 0, by_row[np.maximum(values, 0)], -1).astype(values.dtype)


def table_like(like: AgentTable, columns: dict[str, np.ndarray]) -> AgentTable:
    """A new table with the columns of ``like`` holding ``columns`` (all of one length)."""
    n = len(next(iter(columns.values()))) if columns else 0
    table = AgentTable(like._spec, capacity=max(n, 64))
    table.append(n, **columns)
    return table
