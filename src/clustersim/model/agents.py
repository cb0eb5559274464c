"""Mesa agents: the per-agent face of state the model keeps in numpy arrays.

Creative firms are ``CellAgent`` objects living on the city graph (a Mesa
``Network`` space); talents are plain Mesa agents whose home node is an array
entry (tens of thousands move each year). Their attributes are read from, and written to,
the model's arrays, so vectorised mechanisms and per-agent code always agree.
Institutions are ``FixedAgent`` objects at one node.
"""

from __future__ import annotations

import numpy as np
from mesa import Agent, Model
from mesa.discrete_space import CellAgent, FixedAgent

from clustersim.model.sectors import SECTOR_NAMES

__all__ = [
    "CreativeFirm",
    "CulturalInstitution",
    "Incubator",
    "Municipality",
    "Talent",
    "University",
]


class Talent(Agent):
    """A creative worker: sector, skill, income, preferences, employer and home node.

    Talents are plain Mesa agents whose home node lives in the model's arrays:
    tens of thousands move each year, and moving them between Mesa cells (a
    list per cell) would cost more than the whole vectorised location choice.

    Args:
        model: the model holding the talent arrays.
        index: row of this talent in ``model.talents``.
    """

    def __init__(self, model: Model, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def sector(self) -> str:
        """Creative sector the talent trained in."""
        return SECTOR_NAMES[int(self.model.talents.sector[self.index])]

    @property
    def skill(self) -> float:
        """Skill (productivity units; population mean about 1)."""
        return float(self.model.talents.skill[self.index])

    @property
    def income(self) -> float:
        """Monthly income in EUR: wage if employed, else unemployment income."""
        return float(self.model.talent_income([self.index])[0])

    @property
    def amenity_taste(self) -> float:
        """Weight this talent gives to amenity (cultural life) when choosing where to live."""
        return float(self.model.talents.taste[self.index])

    @property
    def home(self) -> int:
        """Node id of the talent's home."""
        return int(self.model.talents.home[self.index])

    @property
    def employer(self) -> CreativeFirm | None:
        """The firm employing the talent, or None when unemployed."""
        firm = int(self.model.talents.employer[self.index])
        return None if firm < 0 else self.model.firm_agents[firm]


class CreativeFirm(CellAgent):
    """A creative firm in one of the twelve sectors.

    Args:
        model: the model holding the firm arrays.
        index: row of this firm in ``model.firms``; it changes when the tables are
            compacted (:mod:`clustersim.model.compaction`). Its permanent id, the
            ``firm_id`` of result tables, is ``model.archive.ids("firms", [index])``.
    """

    def __init__(self, model: Model, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.cell = model.space[int(model.firms.node[index])]

    @property
    def sector(self) -> str:
        """Creative sector of the firm."""
        return SECTOR_NAMES[int(self.model.firms.sector[self.index])]

    @property
    def node(self) -> int:
        """Node id where the firm is located."""
        return int(self.model.firms.node[self.index])

    @property
    def employees(self) -> int:
        """Current number of employees (including the founder)."""
        return int(self.model.firms.employees[self.index])

    @property
    def productivity(self) -> float:
        """Total factor productivity A of the firm."""
        return float(self.model.firms.productivity[self.index])

    @property
    def cash(self) -> float:
        """Cash in EUR; the firm exits when it runs out."""
        return float(self.model.firms.cash[self.index])

    @property
    def age(self) -> int:
        """Months since founding."""
        return int(self.model.steps - self.model.firms.founded[self.index])

    @property
    def collaborators(self) -> list[int]:
        """Rows of the firms this firm has collaboration ties with (rows, as ``index``)."""
        edges = self.model.ties
        mine = edges[(edges == self.index).any(axis=1)]
        return sorted(int(i) for i in mine.ravel() if i != self.index)


class University(FixedAgent):
    """A university: graduates enter the local labour market; knowledge spills over nearby.

    Source: Valero & Van Reenen 2019 (universities raise GDP per head, with
    spillover to neighbouring regions).
    """

    def __init__(self, model: Model, node: int, graduates_per_year: float) -> None:
        super().__init__(model)
        self.node = node
        self.graduates_per_year = graduates_per_year
        self.cell = model.space[node]

    def graduates_this_month(self) -> int:
        """Draw this month's creative-field graduates (Poisson)."""
        return int(self.model.rng.poisson(self.graduates_per_year / 12.0))


class CulturalInstitution(FixedAgent):
    """A museum, theatre or festival venue adding amenity around its node."""

    def __init__(self, model: Model, node: int, strength: float) -> None:
        super().__init__(model)
        self.node = node
        self.strength = strength
        self.cell = model.space[node]


class Incubator(FixedAgent):
    """A creative hub or incubator with limited capacity.

    Tenants get subsidised workspace and a productivity/networking boost for a
    fixed programme, then graduate and pay full costs (incubated firms grow
    faster but survive less well after leaving; see docs/evidence.md, "Creative hub and
    incubator").
    """

    def __init__(
        self,
        model: Model,
        node: int,
        capacity: int,
        *,
        rent_discount: float | None = None,
        boost: float | None = None,
        months: int | None = None,
    ) -> None:
        super().__init__(model)
        p = model.params.institutions
        self.node = node
        self.capacity = capacity
        self.rent_discount = p.incubator_rent_discount if rent_discount is None else rent_discount
        self.boost = p.incubator_boost if boost is None else boost
        self.months = p.incubator_months if months is None else months
        self.cell = model.space[node]
        self.graduated = 0

    def tenants(self) -> np.ndarray:
        """Firm ids currently incubated here."""
        f = self.model.firms
        return np.flatnonzero(f.alive & (f.incubator == self.unique_id))

    def step(self) -> None:
        """Graduate tenants whose programme ended, then admit young firms up to capacity."""
        f = self.model.firms
        tenants = self.tenants()
        done = tenants[self.model.steps - f.incubated_since[tenants] >= self.months]
        f.incubator[done] = -1
        self.graduated += len(done)
        free = self.capacity - (len(tenants) - len(done))
        if free <= 0:
            return
        reach = self.model.travel_time[self.node] <= self.model.params.labour.max_commute
        young = np.flatnonzero(
            f.alive
            & (f.incubator < 0)
            & (f.ever_incubated == 0)
            & reach[f.node]
            & (self.model.steps - f.founded <= 12)
        )
        if len(young) == 0:
            return
        chosen = self.model.rng.permutation(young)[:free]
        f.incubator[chosen] = self.unique_id
        f.incubated_since[chosen] = self.model.steps
        f.ever_incubated[chosen] = 1


class Municipality(FixedAgent):
    """The municipality: holds the creative-policy budget and pays for policies.

    Every payment is booked by policy and step so that reports can show spend
    per lever; a payment the budget cannot cover is refused.
    """

    def __init__(self, model: Model, node: int, budget: float, monthly_income: float) -> None:
        super().__init__(model)
        self.node = node
        self.budget = float(budget)
        self.monthly_income = float(monthly_income)
        self.spent_total = 0.0
        self.spent_this_step: dict[str, float] = {}
        self.cell = model.space[node]

    def reset(self, budget: float) -> None:
        """Start month 0 with ``budget`` and nothing spent (after the spin-up)."""
        self.budget = float(budget)
        self.spent_total = 0.0
        self.spent_this_step = {}

    def step(self) -> None:
        """Start a new month: external grants arrive, this month's booking is reset."""
        self.budget += self.monthly_income
        self.model.ledger.book("grants", self._at_town_hall(self.monthly_income))
        self.spent_this_step = {}

    def _at_town_hall(self, amount: float) -> np.ndarray:
        """``amount`` by place: all of it in the municipality's own place."""
        out = np.zeros(len(self.model.place_names))
        out[self.model.focus_place] = amount
        return out

    def pay(self, amount: float, payee: str, to: str = "other_firms") -> bool:
        """Pay ``amount`` EUR for ``payee`` if the budget covers it; return whether it did.

        ``to`` says where the money goes: ``"other_firms"`` (local staff,
        buildings, works), ``"world"`` (outside contractors), ``"households"``
        (grants to people), ``"creative_firms"`` (purchases from local creative
        firms at the policy's nodes; ``nodes`` via :meth:`purchase`) or
        ``"subsidies"`` (the firms' ``subsidy`` column, booked when firms receive it).
        """
        if amount < 0:
            raise ValueError(f"payment must be >= 0, got {amount}")
        if to not in _DESTINATIONS:
            raise ValueError(f"payment destination must be one of {_DESTINATIONS}, got {to!r}")
        if amount > self.budget + 1e-9:
            return False
        self.budget -= amount
        self.spent_total += amount
        self.spent_this_step[payee] = self.spent_this_step.get(payee, 0.0) + amount
        m, at_hall = self.model, self._at_town_hall(amount)
        if to == "other_firms":
            m.ledger.book("policy_services", at_hall)
            m.policy_services = m.policy_services + at_hall
        elif to == "world":
            m.ledger.book("policy_abroad", at_hall)
        elif to == "households":
            m.ledger.book("policy_grants", at_hall)
            m.deposits = m.deposits + at_hall
        return True

    def purchase(self, amount: float, payee: str, nodes: list[int]) -> bool:
        """Pay ``amount`` EUR for purchases from creative firms within reach of ``nodes``."""
        if not self.pay(amount, payee, to="creative_firms"):
            return False
        self.model.policy_purchases[nodes] += amount / len(nodes)
        return True


#: Where a municipal payment can go (see :meth:`Municipality.pay`).
_DESTINATIONS = ("other_firms", "world", "households", "creative_firms", "subsidies")
