"""Agent state: growable struct-of-arrays tables, their columns and the origin codes."""

from __future__ import annotations

import mmap
from enum import IntEnum
from typing import Any

import numpy as np

__all__ = ["FIRM_COLUMNS", "TALENT_COLUMNS", "AgentTable", "FirmOrigin", "TalentOrigin"]


class _Origin(IntEnum):
    """An origin code: stored as a small integer, shown by its label."""

    @property
    def label(self) -> str:
        """Category label in the result tables ("spin-off" for ``SPIN_OFF``)."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        """Labels of all codes in code order (the categories of the ``origin`` column)."""
        return tuple(member.label for member in cls)


class FirmOrigin(_Origin):
    """How a firm came about (the ``origin`` column of the firm table).

    Examples:
        >>> FirmOrigin.labels()
        ('initial', 'spin-off', 'start-up', 'policy')
    """

    INITIAL = 0  #: present at the start of the run
    SPIN_OFF = 1  #: founded by an employee of a living firm (its ``parent``)
    START_UP = 2  #: founded by an unemployed talent
    POLICY = 3  #: created by a policy lever


class TalentOrigin(_Origin):
    """How a talent came to the region (the ``origin`` column of the talent table).

    Examples:
        >>> TalentOrigin.labels()
        ('initial', 'immigrant', 'graduate', 'local', 'policy')
    """

    INITIAL = 0  #: living in the region at the start of the run
    IMMIGRANT = 1  #: moved in from outside the region
    GRADUATE = 2  #: graduated from a university of the region
    LOCAL = 3  #: a young local resident entering creative work
    POLICY = 4  #: came through a policy lever (talent attraction)


#: Columns of ``model.talents``: name -> (dtype, fill value of a new row).
TALENT_COLUMNS: dict[str, tuple[Any, Any]] = {
    "sector": (np.int16, 0),
    "skill": (np.float64, 1.0),
    "taste": (np.float64, 0.0),
    "home": (np.int32, -1),
    "employer": (np.int64, -1),
    "alive": (np.bool_, False),
    "arrived": (np.int32, 0),
    "left": (np.int32, -1),
    "left_region": (np.bool_, False),
    "to_other_work": (np.bool_, False),
    "origin": (np.int8, 0),
    "retention": (np.float64, 0.0),
    "grant": (np.float64, 0.0),
}

#: Columns of ``model.firms``: name -> (dtype, fill value of a new row).
FIRM_COLUMNS: dict[str, tuple[Any, Any]] = {
    "sector": (np.int16, 0),
    # numpy's index type: numpy gathers through an int32 index array 3x slower (it
    # converts it each time), and the month gathers through the firms' nodes dozens of times
    "node": (np.int64, 0),
    "productivity": (np.float64, 1.0),
    "cash": (np.float64, 0.0),
    "founded": (np.int32, 0),
    "exit_step": (np.int32, -1),
    "alive": (np.bool_, False),
    "employees": (np.int32, 0),
    "peak_employees": (np.int32, 0),
    "revenue": (np.float64, 0.0),
    "profit": (np.float64, 0.0),
    "margin": (np.float64, 0.0),
    "origin": (np.int8, 0),
    "parent": (np.int64, -1),
    "innovations": (np.int32, 0),
    "incubator": (np.int64, -1),
    "incubated_since": (np.int32, -1),
    "ever_incubated": (np.int8, 0),
    "subsidy": (np.float64, 0.0),
    "market_reach": (np.float64, 1.0),
    "subsidy_received": (np.float64, 0.0),
    "pay_ratio": (np.float64, 1.0),
    "edge": (np.float64, 0.0),
}


#: Columns of at least this many bytes are mapped from the operating system's zeroed pages.
MAPPED_BYTES = 1 << 20
#: Pages of this many bytes that hold only zero bytes are not copied when a column grows.
_PAGE = 1 << 16
#: The flags of a private anonymous map (None where mmap has none, as on Windows).
_PRIVATE_MAP = (
    mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
    if hasattr(mmap, "MAP_PRIVATE") and hasattr(mmap, "MAP_ANONYMOUS")
    else None
)


def zeroed_column(capacity: int, dtype: Any) -> np.ndarray:
    """A column of ``capacity`` zero bytes; a large one takes memory only where written.

    A column of :data:`MAPPED_BYTES` or more is a private anonymous memory map:
    until a page is written, reading it reads the kernel's shared zero page, which
    costs the process no memory, and the map is returned to the system when the
    column is freed. A smaller one comes from ``np.zeros``.

    Examples:
        >>> zeroed_column(3, np.int32)
        array([0, 0, 0], dtype=int32)
    """
    dtype = np.dtype(dtype)
    nbytes = capacity * dtype.itemsize
    if nbytes < MAPPED_BYTES or _PRIVATE_MAP is None:  # Windows: no private maps
        return np.zeros(capacity, dtype=dtype)
    # private: a read maps the zero page (a shared map would allocate on read), and a
    # forked process gets its own copy on write, as with heap memory
    return np.frombuffer(mmap.mmap(-1, nbytes, flags=_PRIVATE_MAP), dtype=dtype)


def _bits(values: np.ndarray) -> np.ndarray:
    """The values as unsigned integers of their size (zero exactly where every bit is)."""
    return np.ascontiguousarray(values).view(f"u{values.dtype.itemsize}")


def _copy_written(grown: np.ndarray, old: np.ndarray) -> None:
    """``grown[:len(old)] = old``, leaving out blocks of zero bytes (``grown`` is zeroed)."""
    if old.nbytes < MAPPED_BYTES:
        grown[: len(old)] = old
        return
    per_block = _PAGE // old.dtype.itemsize
    whole = len(old) // per_block * per_block
    written = _bits(old[:whole]).reshape(-1, per_block).any(axis=1)
    for block in np.flatnonzero(written):
        lo = block * per_block
        grown[lo : lo + per_block] = old[lo : lo + per_block]
    grown[whole : len(old)] = old[whole:]


class AgentTable:
    """Columns of equal length that grow by doubling; a row is never given to another agent.

    Rows are renumbered only by :meth:`keep_rows` (the model's compaction, which
    moves the rows of agents gone to an archive and keeps every agent's permanent
    id: :mod:`clustersim.model.compaction`).

    Memory: a column is zeroed when made (:func:`zeroed_column`), so a row's zero
    bytes are never written. A column that is zero for most rows, such as a
    policy's grant or subsidy, costs memory only for the rows that hold a value.

    The columns in :data:`GUARDED` (``alive``, ``employer``) say who exists and
    who works where; per-step aggregates derived from them (the living rows
    ``live``, who is employed) are cached until they change. Their buffers are
    therefore read-only: they are written through :meth:`put` (or
    :meth:`mark_gone`), :meth:`append` and assignment of the whole column, each
    of which bumps :attr:`version` (a write or append of no rows changes nothing and
    bumps nothing); an in-place write elsewhere fails loudly. A talent marked gone
    loses its employer at once (``roster.remove_talents``): the employed rows are
    those with an employer.

    Examples:
        >>> t = AgentTable({"skill": (np.float64, 0.0), "home": (np.int32, -1)})
        >>> t.append(2, skill=[1.0, 2.0])
        array([0, 1])
        >>> t.home[:2]
        array([-1, -1], dtype=int32)
    """

    #: Columns written only through put/mark_gone/append/assignment (their buffers are read-only).
    GUARDED = ("alive", "employer")

    def __init__(self, columns: dict[str, tuple[Any, Any]], capacity: int = 64) -> None:
        object.__setattr__(self, "_spec", dict(columns))
        object.__setattr__(self, "n", 0)
        # every column is zeroed and bytes past row n are never written: append writes
        # only the non-zero bytes of new rows, growth copies only the written blocks
        object.__setattr__(
            self,
            "_data",
            {name: zeroed_column(capacity, dtype) for name, (dtype, _) in columns.items()},
        )
        object.__setattr__(self, "_live", None)
        #: Bumped by every write of a guarded column and every append (of at least one row).
        object.__setattr__(self, "version", 0)
        self._lock()

    def __getattr__(self, name: str) -> np.ndarray:
        # called only when the column's view of rows 0..n-1 is not kept yet: it is
        # then kept in the instance dict, where later reads find it without a call,
        # until the rows or the buffers change (_forget_views)
        if name.startswith("_"):  # not a column (and no _data yet while unpickled)
            raise AttributeError(name)
        try:
            view = self._data[name][: self.n]
        except KeyError:
            raise AttributeError(name) from None
        self.__dict__[name] = view
        return view

    def _forget_views(self) -> None:
        """Drop the kept column views (before the row count or a buffer changes)."""
        pop = self.__dict__.pop
        for name in self._spec:
            pop(name, None)

    def __getstate__(self) -> dict[str, Any]:
        # pickle and deepcopy: the rows only (spare capacity is zeros), without the caches
        state = {
            k: v
            for k, v in self.__dict__.items()
            if k != "employment_cache" and k not in self._spec
        }
        state["_data"] = {name: column[: self.n] for name, column in self._data.items()}
        state["_capacity"] = len(next(iter(self._data.values())))
        state["_live"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        capacity, rows = state.pop("_capacity"), state.pop("_data")
        data = {}
        for name, values in rows.items():  # zeroed columns again, only written bytes written
            data[name] = zeroed_column(capacity, values.dtype)
            _copy_written(data[name], values)
        self.__dict__.update(state, _data=data)
        self._lock()

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.GUARDED and name in self._data:
            self.put(name, slice(0, self.n), value)
        elif name in self._data:
            self._data[name][: self.n] = value
        else:
            if name == "n":
                if value < self.n:  # bytes past n must stay zero: new rows are not written
                    raise ValueError(f"rows are never removed: n={value} < {self.n}")
                self._forget_views()
            object.__setattr__(self, name, value)

    def _lock(self) -> None:
        for name in self.GUARDED:
            if name in self._data:
                self._data[name].flags.writeable = False

    def put(self, column: str, rows: Any, values: Any) -> None:
        """Write ``values`` into ``column`` at ``rows`` (any numpy index); bumps :attr:`version`.

        The way to write a guarded column in place (``t.put("employer", ids, -1)``).
        Writing no rows changes nothing (not :attr:`version` either).
        """
        buffer = self._data[column]
        if isinstance(rows, slice):
            rows = slice(*rows.indices(self.n))
        else:
            rows = np.asarray(rows)
            if rows.dtype == np.bool_:
                rows = np.flatnonzero(rows)
            if rows.size == 0:
                return
        buffer.flags.writeable = True
        try:
            buffer[: self.n][rows] = values
        finally:
            if column in self.GUARDED:
                buffer.flags.writeable = False
        object.__setattr__(self, "version", self.version + 1)
        if column == "alive":
            live = self._live
            if live is not None and not isinstance(rows, slice) and not np.any(values):
                # rows only died: the living rows are those of before still alive
                live = live[buffer[live]]
                live.flags.writeable = False
            else:
                live = None
            object.__setattr__(self, "_live", live)

    @property
    def live(self) -> np.ndarray:
        """Row ids of the living rows (``alive`` true), in order; read-only, recomputed on change.

        Examples:
            >>> t = AgentTable({"alive": (np.bool_, False)})
            >>> t.append(3, alive=True)
            array([0, 1, 2])
            >>> t.mark_gone([1])
            >>> t.live
            array([0, 2])
        """
        live = self._live
        if live is None:
            live = np.flatnonzero(self._data["alive"][: self.n])
            live.flags.writeable = False
            object.__setattr__(self, "_live", live)
        return live

    def mark_gone(self, ids: Any) -> None:
        """Mark rows ``ids`` as no longer alive."""
        self.put("alive", np.asarray(ids, dtype=np.int64), False)

    @property
    def columns(self) -> list[str]:
        """Column names."""
        return list(self._spec)

    def append(self, count: int, **values: Any) -> np.ndarray:
        """Add ``count`` rows; columns not given get their fill value. Returns the new row ids.

        Adding no rows changes nothing (not :attr:`version` either).
        """
        start = self.n
        end = start + count
        for name in values:
            if name not in self._data:
                raise KeyError(f"unknown column {name!r}")
        if count == 0:
            return np.arange(start, end)
        self._forget_views()  # every column gets longer (and may move)
        capacity = len(next(iter(self._data.values())))
        if end > capacity:
            new_capacity = max(end, 2 * capacity)
            for name, (dtype, _) in self._spec.items():
                grown = zeroed_column(new_capacity, dtype)
                _copy_written(grown, self._data[name][:start])
                self._data[name] = grown
            self._lock()
        object.__setattr__(self, "n", end)
        live = self._live
        for name, value in values.items():
            if name in self.GUARDED:
                self.put(name, slice(start, end), value)
            else:
                _write_new(self._data[name], start, end, value)
        for name, fill in self._fills():  # a zero fill is there already: new rows are zeros
            if name not in values:
                buffer = self._data[name]
                writeable = buffer.flags.writeable
                buffer.flags.writeable = True
                _write_new(buffer, start, end, fill)
                buffer.flags.writeable = writeable
        object.__setattr__(self, "version", self.version + 1)
        if live is not None and "alive" in self._data:
            # new rows come after every old one: the living rows of before, then the new living
            live = np.concatenate([live, start + np.flatnonzero(self._data["alive"][start:end])])
            live.flags.writeable = False
        object.__setattr__(self, "_live", live)
        return np.arange(start, end)

    def keep_rows(self, rows: np.ndarray) -> None:
        """Keep only rows ``rows`` (ascending), renumbered ``0..len(rows)-1`` in their order.

        Column by column: each column's old buffer is let go before the next column is
        copied, so a compaction needs one column's memory more, not a second table.
        Views of the old columns taken before stay as they were.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and not (rows[1:] > rows[:-1]).all():
            raise ValueError("rows to keep must be ascending and distinct")
        if len(rows) and (rows[0] < 0 or rows[-1] >= self.n):
            raise IndexError(f"rows to keep must lie in 0..{self.n - 1}")
        self._forget_views()
        self.__dict__.pop("employment_cache", None)  # of the rows before
        k = len(rows)
        for name, (dtype, _) in self._spec.items():
            column = zeroed_column(max(k, 64), dtype)
            _write_new(column, 0, k, self._data[name][rows])
            self._data[name] = column  # the old buffer is freed here (unless viewed)
        object.__setattr__(self, "n", k)
        object.__setattr__(self, "_live", None)
        object.__setattr__(self, "version", self.version + 1)
        self._lock()

    def _fills(self) -> tuple[tuple[str, Any], ...]:
        """The columns whose fill value has a non-zero byte, with their fill values."""
        fills = self.__dict__.get("_nonzero_fills")
        if fills is None:
            fills = []
            for name, (dtype, fill) in self._spec.items():
                one = np.empty(1, dtype=dtype)
                one[0] = fill  # numpy's assignment cast, as _write_new does
                if one.view(np.uint8).any():
                    fills.append((name, fill))
            fills = tuple(fills)
            object.__setattr__(self, "_nonzero_fills", fills)
        return fills

    def nbytes(self) -> int:
        """Memory held by the columns (including spare capacity)."""
        return sum(a.nbytes for a in self._data.values())


def _write_new(buffer: np.ndarray, start: int, end: int, value: Any) -> None:
    """Write rows ``start:end`` of a zeroed ``buffer`` that were never written: non-zero bytes.

    Casts as numpy's assignment ``buffer[start:end] = value`` does (and fails where it
    fails), whatever the size of the buffer.
    """
    if buffer.nbytes < MAPPED_BYTES:  # heap memory, resident anyway: one plain write
        buffer[start:end] = value
        return
    rows = buffer[start:end]
    if np.ndim(value) == 0:
        one = np.empty(1, dtype=buffer.dtype)
        one[0] = value  # numpy's assignment cast
        if _bits(one)[0]:
            rows[...] = one[0]
        return
    if isinstance(value, np.ndarray) and value.dtype == buffer.dtype and value.shape == rows.shape:
        values = value
    else:
        values = np.empty(rows.shape, dtype=buffer.dtype)
        values[...] = value  # numpy's assignment cast and broadcast
    np.copyto(rows, values, where=_bits(values) != 0)
