"""Growable struct-of-arrays tables holding agent state for vectorised mechanisms."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["AgentTable"]


class AgentTable:
    """Columns of equal length that grow by doubling; rows are never reused.

    A row index is an agent's permanent id, so tables written at the end
    contain every agent that ever existed.

    Examples:
        >>> t = AgentTable({"skill": (np.float64, 0.0), "home": (np.int32, -1)})
        >>> t.append(2, skill=[1.0, 2.0])
        array([0, 1])
        >>> t.home[:2]
        array([-1, -1], dtype=int32)
    """

    def __init__(self, columns: dict[str, tuple[Any, Any]], capacity: int = 64) -> None:
        object.__setattr__(self, "_spec", dict(columns))
        object.__setattr__(self, "n", 0)
        object.__setattr__(
            self,
            "_data",
            {name: np.full(capacity, fill, dtype=dtype) for name, (dtype, fill) in columns.items()},
        )

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._data[name][: self.n]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._data:
            self._data[name][: self.n] = value
        else:
            object.__setattr__(self, name, value)

    @property
    def columns(self) -> list[str]:
        """Column names."""
        return list(self._spec)

    def append(self, count: int, **values: Any) -> np.ndarray:
        """Add ``count`` rows; columns not given get their fill value. Returns the new row ids."""
        start = self.n
        end = start + count
        capacity = len(next(iter(self._data.values())))
        if end > capacity:
            new_capacity = max(end, 2 * capacity)
            for name, (dtype, fill) in self._spec.items():
                grown = np.full(new_capacity, fill, dtype=dtype)
                grown[:start] = self._data[name][:start]
                self._data[name] = grown
        for name, value in values.items():
            if name not in self._data:
                raise KeyError(f"unknown column {name!r}")
            self._data[name][start:end] = value
        object.__setattr__(self, "n", end)
        return np.arange(start, end)

    def nbytes(self) -> int:
        """Memory held by the columns (including spare capacity)."""
        return sum(a.nbytes for a in self._data.values())
