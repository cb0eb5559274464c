"""Production phase: firms produce, sell on local and external markets, pay costs, innovate.

Output ``q = A * g(n_j) * (1 + MAR + Jacobs) * (1 + knowledge) * L^alpha``
(Arthur 1990; Glaeser et al. 1992; Valero & Van Reenen 2019). Local sales face
competition within reach (a Huff split of household budgets); external sales
are priced by accessibility, broadband for digital sectors and collaboration
ties (Krugman 1991; Czernich et al. 2011; Falck et al. 2010).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mesa import Model

from clustersim.model import mechanisms as mech
from clustersim.model.phases.aggregates import Census, effective_labour

__all__ = ["Market", "produce"]


@dataclass(frozen=True)
class Market:
    """This month's prices and spillovers by node (rows) and sector (columns).

    Founders read them when they choose where to open a firm.

    Attributes:
        local_price: price of a unit of output sold locally.
        external_price: price of a unit sold outside the region, before a firm's
            own ties and market reach.
        spillover: output multiplier from the sector mix and knowledge (all
            spillovers except agglomeration).
    """

    local_price: np.ndarray
    external_price: np.ndarray
    spillover: np.ndarray

    def unit_revenue(self, local_share: np.ndarray) -> np.ndarray:
        """Expected revenue per unit of output (sectors sell ``local_share`` locally)."""
        ls = local_share[None, :]
        return self.spillover * (ls * self.local_price + (1 - ls) * self.external_price)


def produce(model: Model, census: Census, *, pay: bool) -> None:
    """Set each living firm's revenue, profit and margin; when ``pay``, book cash and innovate.

    Writes ``model.market`` (this month's prices). ``pay=False`` (at setup)
    prices the initial state without changing cash or drawing innovations.
    """
    fp = model.params.firm
    f = model.firms
    alive = np.flatnonzero(f.alive)
    node, sector = f.node[alive], f.sector[alive]
    agglo, mix, know = _spillovers(model, census)
    spill_node = agglo[:, None] * mix * know[:, None]
    boost, discount = _incubator_terms(model, alive)
    spill = spill_node[node, sector] * boost
    labour = effective_labour(model)[alive]
    q = mech.firm_output(f.productivity[alive], spill, labour, fp.returns_to_labour)
    model.market = Market(
        local_price=_local_prices(model, census, node, sector, q),
        external_price=_external_prices(model),
        spillover=mix * know[:, None],
    )
    ties = model.ties
    degree = np.bincount(ties.ravel(), minlength=f.n)[alive] if len(ties) else 0
    revenue = _revenue(model, alive, q, degree)
    if pay:
        f.subsidy_received[alive] += f.subsidy[alive]
    wage_bill = model.wage[model.place[node]] * labour
    workspace = model.rent[node] * model.rent_factor[node] * fp.workspace_rent_share
    rent_cost = workspace * np.maximum(f.employees[alive], 1) * (1.0 - discount)
    profit = revenue - wage_bill - rent_cost - fp.fixed_cost
    f.revenue[alive] = revenue
    f.profit[alive] = profit
    f.margin[alive] = profit / np.maximum(revenue, 1.0)
    if not pay:
        return
    f.cash[alive] += profit
    _innovate(model, alive, degree, know)


def _spillovers(model: Model, census: Census) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agglomeration benefit by node, sector-mix spillover by node and sector, knowledge by node."""
    fp = model.params.firm
    agglo = mech.agglomeration_benefit(
        census.firms_at, fp.agglomeration_strength, fp.agglomeration_cap
    )
    mix = mech.sector_mix_spillover(
        model.commute_reach @ census.jobs, fp.specialisation_weight, fp.diversity_weight
    )
    know = 1.0 + fp.knowledge_weight * model.knowledge + model.productivity_bonus
    return agglo, mix, know


def _incubator_terms(model: Model, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output boost (1 plus the hub's boost) and rent discount of each living firm."""
    hub_of = model.firms.incubator[alive]
    incubated = hub_of >= 0
    boost = np.ones(len(alive))
    discount = np.zeros(len(alive))
    if incubated.any():
        boost_by_hub = {h.unique_id: h.boost for h in model.incubators}
        boost[incubated] += np.array([boost_by_hub.get(h, 0.0) for h in hub_of[incubated]])
        disc_by_hub = {h.unique_id: h.rent_discount for h in model.incubators}
        discount[incubated] = [disc_by_hub.get(h, 0.0) for h in hub_of[incubated]]
    return boost, discount


def _local_prices(
    model: Model, census: Census, node: np.ndarray, sector: np.ndarray, q: np.ndarray
) -> np.ndarray:
    """Local unit prices: households' budgets within reach split over local supply."""
    fp = model.params.firm
    ls = model.sector_traits["local_share"]
    supply = np.bincount(
        node.astype(np.int64) * model.n_sectors + sector,
        weights=ls[sector] * q,
        minlength=model.n_nodes * model.n_sectors,
    ).reshape(model.n_nodes, model.n_sectors)
    spend_share = model.sector_traits["weight"] * ls
    spend_share = spend_share / spend_share.sum()
    people = model.residents + census.talents_at
    budget = (fp.local_spend * people * (1.0 + model.demand_bonus))[:, None] * spend_share[None, :]
    return mech.local_unit_prices(budget, supply, model.commute_reach, 2 * fp.unit_price)


def _external_prices(model: Model) -> np.ndarray:
    """External unit prices by node and sector: accessibility, and broadband for digital."""
    fp = model.params.firm
    digital = model.sector_traits["digital"]
    access = np.power(model.accessibility, fp.accessibility_elasticity)
    return (
        fp.unit_price
        * access[:, None]
        * (1.0 + fp.digital_tech_weight * model.tech[:, None] * digital[None, :])
    )


def _revenue(
    model: Model, alive: np.ndarray, q: np.ndarray, degree: np.ndarray | int
) -> np.ndarray:
    """Revenue of living firms: local and external sales of output ``q``, plus subsidy."""
    fp = model.params.firm
    f, market = model.firms, model.market
    node, sector = f.node[alive], f.sector[alive]
    ls = model.sector_traits["local_share"]
    networking = 1.0 + fp.networking_weight * np.log1p(degree)
    external = market.external_price[node, sector] * networking * f.market_reach[alive]
    revenue = q * (ls[sector] * market.local_price[node, sector] + (1 - ls[sector]) * external)
    return revenue + f.subsidy[alive]


def _innovate(model: Model, alive: np.ndarray, degree: np.ndarray | int, know: np.ndarray) -> None:
    """Innovation: more likely with ties and near universities; raises productivity."""
    fp, nw = model.params.firm, model.params.network
    f = model.firms
    p_innov = (
        fp.innovation_rate * (1 + nw.innovation_weight * np.log1p(degree)) * know[f.node[alive]]
    )
    innovates = model.rng.random(len(alive)) < np.minimum(p_innov, 1.0)
    winners = alive[innovates]
    f.productivity[winners] *= 1.0 + fp.innovation_step
    f.innovations[winners] += 1
    model.innovations_by_node += np.bincount(f.node[winners], minlength=model.n_nodes)
