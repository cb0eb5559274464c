"""Per-step aggregates of the agent tables: counts by node, sector and firm.

The phases take these counts once from the state they start from and hand them
on (a :class:`Census`), and count anew only after the state counted has changed:
a firm's exit changes the firms per node, a move the talents per node, a hire
the jobs. Every count is an integer, so sums of counts are exact in any order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mesa import Model

__all__ = [
    "Census",
    "Employment",
    "count_employees",
    "effective_labour",
    "employed_income",
    "employed_rows",
    "employment",
    "firms_per_node",
    "jobs_by_node_sector",
    "living_income",
    "match_factor",
    "per_place",
    "talent_income",
    "talents_by_node_sector",
    "talents_per_node",
    "unemployed_rows",
]


class Employment:
    """Who works where: derived from the talent table at one version of its guarded columns.

    Taken by :func:`employment`, which caches it on the talent table until a
    talent is added, leaves, is hired or loses a job (the table's ``version``).
    Each part is computed when first asked for.

    Attributes:
        version: ``talents.version`` when taken.
        firms: the firm table it was taken with.
    """

    def __init__(self, model: Model) -> None:
        self._model = model
        self._talents = model.talents
        self.firms = model.firms
        self.version = model.talents.version
        self._parts: dict[str, np.ndarray] = {}
        #: (the wages, pay ratios and benefit it was computed with, the incomes): see
        #: :func:`living_income`.
        self.kept_income: tuple[tuple[bytes, bytes, float], np.ndarray] | None = None

    def _part(self, name: str) -> np.ndarray:
        parts = self._parts
        if name not in parts:
            t = self._talents
            # a talent that leaves loses its job (roster.remove_talents): rows with an
            # employer are living ones, and one pass over the column finds them
            if name == "rows":
                parts[name] = np.flatnonzero(t.employer >= 0)
            elif name == "idle":
                parts[name] = np.flatnonzero(t.alive & (t.employer < 0))
            elif name == "working":
                parts[name] = t.employer[t.live] >= 0
            elif name == "employer":
                parts[name] = t.employer[self.rows]
            elif name == "skill":
                parts[name] = t.skill[self.rows]
            elif name == "match":
                parts[name] = match_factor(self._model, self.rows, self.employer)
            elif name == "firm_place":
                parts[name] = self._model.place[self.firms.node[self.employer]]
            for array in parts.values():
                if array.flags.writeable:  # shared by every caller until employment changes
                    array.flags.writeable = False
        return parts[name]

    @property
    def rows(self) -> np.ndarray:
        """Living talents with an employer, in row order."""
        return self._part("rows")

    @property
    def idle(self) -> np.ndarray:
        """Living talents without an employer, in row order."""
        return self._part("idle")

    @property
    def working(self) -> np.ndarray:
        """For each living row (``talents.live``), whether it has an employer."""
        return self._part("working")

    @property
    def employer(self) -> np.ndarray:
        """The firm of each of :attr:`rows`."""
        return self._part("employer")

    @property
    def skill(self) -> np.ndarray:
        """The skill of each of :attr:`rows`."""
        return self._part("skill")

    @property
    def firm_place(self) -> np.ndarray:
        """The place of the employer of each of :attr:`rows` (firms never move)."""
        return self._part("firm_place")

    @property
    def match(self) -> np.ndarray:
        """The match factor of each of :attr:`rows` (:func:`match_factor`)."""
        return self._part("match")

    def per_firm(self, kind: str, n_firms: int) -> np.ndarray:
        """Employees (``"count"``) or effective labour (``"labour"``) of the first firm rows."""
        key = f"{kind}:{n_firms}"
        parts = self._parts
        if key not in parts:
            if kind == "labour":
                sums = np.bincount(self.employer, self.skill * self.match, minlength=n_firms)
            elif "employer" in parts:
                sums = np.bincount(parts["employer"], minlength=n_firms)
            else:  # counted without listing the employed rows: idle talents land in bin 0
                t = self._talents
                sums = np.bincount(t.employer[t.live] + 1, None, n_firms + 1)[1:]
            sums = sums[:n_firms]
            sums.flags.writeable = False
            parts[key] = sums
        return parts[key]


def employment(model: Model) -> Employment:
    """The model's :class:`Employment` now (cached until the talent table changes)."""
    t = model.talents
    cached = getattr(t, "employment_cache", None)
    if cached is not None and cached.version == t.version and cached.firms is model.firms:
        return cached
    taken = Employment(model)
    t.employment_cache = taken
    return taken


def employed_rows(model: Model) -> np.ndarray:
    """Rows of living talents with an employer, in row order."""
    return employment(model).rows


def unemployed_rows(model: Model) -> np.ndarray:
    """Rows of living talents without an employer, in row order."""
    return employment(model).idle


def firms_per_node(model: Model) -> np.ndarray:
    """Living firms at each node."""
    f = model.firms
    return np.bincount(f.node[f.live], minlength=model.n_nodes)


def jobs_by_node_sector(model: Model) -> np.ndarray:
    """Jobs (employees of living firms) by node (rows) and sector (columns)."""
    f = model.firms
    alive = f.live
    key = f.node[alive].astype(np.int64) * model.n_sectors + f.sector[alive]
    jobs = np.bincount(key, weights=f.employees[alive], minlength=model.n_nodes * model.n_sectors)
    return jobs.reshape(model.n_nodes, model.n_sectors)


def talents_per_node(model: Model) -> np.ndarray:
    """Living talents whose home is each node."""
    t = model.talents
    return np.bincount(t.home[t.live], minlength=model.n_nodes)


def talents_by_node_sector(model: Model) -> np.ndarray:
    """Living talents by home node (rows) and sector (columns), as floats."""
    t = model.talents
    alive = t.live
    key = t.home[alive].astype(np.int64) * model.n_sectors + t.sector[alive]
    counts = np.bincount(key, minlength=model.n_nodes * model.n_sectors)
    return counts.reshape(model.n_nodes, model.n_sectors).astype(float)


def per_place(model: Model, by_node: np.ndarray) -> np.ndarray:
    """Sum a node array over the nodes of each place."""
    return np.bincount(model.place, weights=by_node, minlength=len(model.place_names))


@dataclass(frozen=True)
class Census:
    """Counts of the agent tables at one moment of the month.

    Take it with :meth:`of` where a phase starts and pass it to the phases that
    follow for as long as the counted state (firms alive, their employees,
    talents' homes) does not change.

    Attributes:
        firms_at: living firms per node.
        jobs: jobs by node and sector (:func:`jobs_by_node_sector`).
        jobs_at: jobs per node.
        talents_at: living talents per home node.
    """

    firms_at: np.ndarray
    jobs: np.ndarray
    jobs_at: np.ndarray
    talents_at: np.ndarray

    @classmethod
    def of(cls, model: Model) -> Census:
        """Count the model's tables now."""
        jobs = jobs_by_node_sector(model)
        return cls(
            firms_at=firms_per_node(model),
            jobs=jobs,
            jobs_at=jobs.sum(axis=1),
            talents_at=talents_per_node(model),
        )


def count_employees(model: Model) -> None:
    """Recount each firm's employees from the talents' employers (and update the peaks).

    Call it after any change of employers, firms or talents alive, before the
    ``employees`` column is read again.
    """
    f = model.firms
    f.employees = employment(model).per_firm("count", f.n)
    f.peak_employees = np.maximum(f.peak_employees, f.employees)


def match_factor(
    model: Model, talent_ids: np.ndarray, employer: np.ndarray | None = None
) -> np.ndarray:
    """Productivity factor of employed talents: 1 in their own sector, lower in another.

    ``employer`` (the talents' employers, when the caller has them) saves a lookup.
    """
    t = model.talents
    employer = t.employer[talent_ids] if employer is None else employer
    same = model.firms.sector[employer] == t.sector[talent_ids]
    return np.where(same, 1.0, model.params.labour.cross_sector_productivity)


def effective_labour(model: Model) -> np.ndarray:
    """Skill-weighted labour of each firm (row of ``model.firms``), with the match factor."""
    return employment(model).per_firm("labour", model.firms.n)


def employed_income(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Living employed talents (row order) and their monthly income (:func:`talent_income`)."""
    e = employment(model)
    income = model.wage[e.firm_place] * e.skill * e.match * model.firms.pay_ratio[e.employer]
    return e.rows, income


def living_income(model: Model) -> np.ndarray:
    """Monthly income of each living talent (``talents.live`` order): wage, or benefit if idle.

    The values of ``talent_income(model, talents.live)``, taken from the cached
    employment (:func:`employed_income`) instead of looking every row up again, and
    kept (read-only) with it while the wages, the firms' pay ratios and the benefit
    are those it was computed with: rents and recording read the same month's incomes.
    """
    e = employment(model)
    benefit = model.params.talent.unemployment_income
    inputs = (model.wage.tobytes(), model.firms.pay_ratio.tobytes(), float(benefit))
    kept = e.kept_income
    if kept is not None and kept[0] == inputs:
        return kept[1]
    income = np.full(len(model.talents.live), benefit)
    income[e.working] = employed_income(model)[1]
    income.flags.writeable = False
    e.kept_income = (inputs, income)
    return income


def talent_income(model: Model, ids: np.ndarray | None = None) -> np.ndarray:
    """Monthly income of talent rows ``ids`` (default all): wage if employed, else benefit.

    The wage is that of the employer's place, per unit of skill times the match
    factor, times the employer's ``pay_ratio`` (below 1 when a one-person firm
    cannot pay its owner the going wage).
    """
    t = model.talents
    ids = np.arange(t.n) if ids is None else np.asarray(ids, dtype=np.int64)
    income = np.full(len(ids), model.params.talent.unemployment_income)
    emp = np.flatnonzero(t.alive[ids] & (t.employer[ids] >= 0))
    rows = ids[emp]
    employer = t.employer[rows]
    firm_place = model.place[model.firms.node[employer]]
    income[emp] = (
        model.wage[firm_place]
        * t.skill[rows]
        * match_factor(model, rows, employer)
        * model.firms.pay_ratio[employer]
    )
    return income
