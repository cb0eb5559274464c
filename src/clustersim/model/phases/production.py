"""Production phase: firms produce, sell on local and external markets, pay costs, innovate.

Output ``q = A * g(D_j) * (1 + MAR + Jacobs) * (1 + knowledge) * L^alpha``, with
``g`` rising with the creative jobs within reach (Ciccone & Hall 1996; Arthur
1990; Glaeser et al. 1992; Valero & Van Reenen 2019). Local sales face
competition within reach (a Huff split of household budgets); external sales
are priced by market access (the people a node reaches), broadband for digital
sectors and collaboration ties (Harris 1954; Redding & Venables 2004; Czernich
et al. 2011; Falck et al. 2010), and outside buyers pay less for a place's
output the more of it they are sold (a constant demand elasticity; Armington
1969; Simonovska & Waugh 2014).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mesa import Model

from clustersim.model import mechanisms as mech
from clustersim.model.phases.aggregates import (
    Census,
    effective_labour,
    employed_income,
    employment,
    per_place,
)
from clustersim.model.phases.fields import agglomeration

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

    Outside demand is anchored at month 0: until then (the drawn state and the
    spin-up) each place's export volume is its reference and the export price
    stays at the going price; from month 0 on, the price moves along the demand
    curve as the volume leaves the month-0 volume (:func:`mech.export_price_factor`).
    """
    fp = model.params.firm
    f = model.firms
    alive = f.live
    node, sector = f.node[alive], f.sector[alive]
    agglo, mix, know = _spillovers(model, census)
    spill_node = agglo[:, None] * mix * know[:, None]
    boost, discount = _incubator_terms(model, alive)
    spill = spill_node[node, sector] * boost
    labour = effective_labour(model)[alive]
    productivity = f.productivity[alive] * np.exp(f.edge[alive])
    q = mech.firm_output(productivity, spill, labour, fp.returns_to_labour)
    sales = _local_market(model, census, node, sector, q)
    ties = model.ties
    degree = np.bincount(ties.ravel(), minlength=f.n)[alive] if len(ties) else 0
    price = _external_prices(model)
    at_going_price = _exports(model, alive, q, degree, price)
    volume = np.bincount(
        model.place[node], weights=at_going_price, minlength=len(model.place_names)
    )
    if not model.export_demand_anchored:  # the spin-up: outside demand takes any volume
        model.export_volume0 = volume
    factor = mech.export_price_factor(volume, model.export_volume0, fp.external_demand_elasticity)
    model.export_price_factor = factor
    model.market = Market(
        local_price=sales.price,
        external_price=price * factor[model.place][:, None],
        spillover=mix * know[:, None],
    )
    local = q * model.sector_traits["local_share"][sector] * sales.price[node, sector]
    external = at_going_price * factor[model.place[node]]
    subsidy = f.subsidy[alive]
    revenue = local + external + subsidy
    wage_bill = model.wage[model.place[node]] * labour
    workspace = model.rent[node] * model.rent_factor[node] * fp.workspace_rent_share
    rent_cost = workspace * np.maximum(f.employees[alive], 1) * (1.0 - discount)
    pay_ratio = _owner_pay(f.employees[alive], revenue - rent_cost - fp.fixed_cost, wage_bill)
    wage_bill = wage_bill * pay_ratio
    profit = revenue - wage_bill - rent_cost - fp.fixed_cost
    f.revenue[alive] = revenue
    f.profit[alive] = profit
    f.margin[alive] = profit / np.maximum(revenue, 1.0)
    if not pay:
        return
    granted = np.flatnonzero(subsidy.view(np.uint64))  # adding +0.0 changes no total
    f.subsidy_received[alive[granted]] += subsidy[granted]
    f.pay_ratio[alive] = pay_ratio
    f.cash[alive] += profit
    _book(model, alive, sales, external, subsidy, wage_bill, rent_cost)
    _innovate(model, alive, degree, know)
    _productivity_shocks(model, alive)


def _owner_pay(employees: np.ndarray, surplus: np.ndarray, wage_bill: np.ndarray) -> np.ndarray:
    """Share of the going wage each firm pays: one-person firms pay their owner what is left.

    The owner of a one-person firm draws what remains after rent and running
    costs, up to the going wage (more is profit); firms with staff pay the wage.

    Examples:
        >>> _owner_pay(np.array([1, 1, 3]), np.array([1000.0, -50.0, 0.0]), np.full(3, 2000.0))
        array([0.5, 0. , 1. ])
    """
    own = np.clip(
        np.divide(surplus, wage_bill, out=np.ones_like(surplus), where=wage_bill > 0), 0, 1
    )
    return np.where(employees == 1, own, 1.0)


@dataclass(frozen=True)
class _Sales:
    """The local creative market this month: prices and who spent what where (EUR by place).

    ``spent[source]`` is what each source's buyers spent, by the buyers' place;
    ``sold[source]`` what firms received from them, by the firms' place;
    ``budget[source]`` what the buyers meant to spend, by their place.
    """

    price: np.ndarray
    budget: dict[str, np.ndarray]
    spent: dict[str, np.ndarray]
    sold: dict[str, np.ndarray]


def _book(
    model: Model,
    alive: np.ndarray,
    sales: _Sales,
    external: np.ndarray,
    subsidy: np.ndarray,
    wage_bill: np.ndarray,
    rent_cost: np.ndarray,
) -> None:
    """Book the month's sales and costs of creative firms in the ledger (by place)."""
    ledger, n_places = model.ledger, len(model.place_names)
    firm_place = model.place[model.firms.node[alive]]

    def by_firm_place(values: np.ndarray) -> np.ndarray:
        return np.bincount(firm_place, weights=values, minlength=n_places)

    focus = np.zeros(n_places)
    focus[model.focus_place] = 1.0
    spent, sold, budget = sales.spent, sales.sold, sales.budget
    ledger.book("creative_purchases", spent["households"], sold["households"])
    ledger.book("creative_imports", budget["households"] - spent["households"])
    ledger.book("visitor_spending", sold["visitors"])
    policy_spent = spent["policy"].sum()
    ledger.book("policy_purchases", focus * policy_spent, sold["policy"])
    ledger.book("policy_purchases_abroad", focus * (budget["policy"].sum() - policy_spent))
    ledger.book("external_sales", by_firm_place(external))
    ledger.book("subsidies", focus * subsidy.sum(), by_firm_place(subsidy))
    ledger.book("workspace_rent", by_firm_place(rent_cost))
    ledger.book("running_costs", by_firm_place(np.full(len(alive), model.params.firm.fixed_cost)))
    paid, received = _wages_by_place(model)
    ledger.book("creative_wages", paid, received)
    model.deposits = model.deposits + received


def _wages_by_place(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Creative wages by the employer's place and by the worker's home place."""
    emp, income = employed_income(model)
    n_places = len(model.place_names)
    paid = np.bincount(employment(model).firm_place, weights=income, minlength=n_places)
    received = np.bincount(model.place[model.talents.home[emp]], weights=income, minlength=n_places)
    return paid, received


def _spillovers(model: Model, census: Census) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agglomeration benefit by node, sector-mix spillover by node and sector, knowledge by node."""
    fp = model.params.firm
    agglo = agglomeration(model, census.jobs_at)
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


def _local_market(
    model: Model, census: Census, node: np.ndarray, sector: np.ndarray, q: np.ndarray
) -> _Sales:
    """Local prices and spending: households', visitors' and policy budgets split over supply.

    Buyers at node k split their budget over suppliers in reach in proportion to
    ``reach[k, j] * supply[j, s]`` (a Huff split, :func:`mech.local_unit_prices`);
    where the price would exceed the cap, suppliers sell at the cap and buyers
    spend correspondingly less there. What finds no supplier is not spent locally.
    """
    fp = model.params.firm
    ls = model.sector_traits["local_share"]
    n, ns = model.n_nodes, model.n_sectors
    supply = np.bincount(
        node.astype(np.int64) * ns + sector, weights=ls[sector] * q, minlength=n * ns
    ).reshape(n, ns)
    spend_share = model.sector_traits["weight"] * ls
    spend_share = spend_share / spend_share.sum()
    households = model.creative_budget
    budgets = {
        "households": households,
        "visitors": model.visitor_budget,
        "policy": model.policy_purchases,
    }
    reach = model.commute_reach
    total = sum(budgets.values())[:, None] * spend_share[None, :]
    z = reach @ supply
    raw = mech.local_unit_prices(total, supply, reach, np.inf, supply_in_reach=z)
    capped = np.divide(2 * fp.unit_price, raw, out=np.ones_like(raw), where=raw > 2 * fp.unit_price)
    bought = reach @ (supply * capped)  # what a unit of budget per z buys at k
    spent, sold, budget = {}, {}, {}
    for name, b in budgets.items():
        budget[name] = per_place(model, b)
        if not b.any():  # no visitors or policy purchases this month: nothing spent or sold
            spent[name], sold[name] = per_place(model, np.zeros(n)), per_place(model, np.zeros(n))
            continue
        wanted = b[:, None] * spend_share[None, :]
        ratio = np.divide(wanted, z, out=np.zeros((n, ns)), where=z > 0)
        # the only buyers (no visitors, no policy purchases: most months): the prices'
        # own product, reach.T @ (total / z) with the same bits (uncapped: cap inf)
        flow = raw if _same_bits(wanted, total) else reach.T @ ratio
        spent[name] = per_place(model, (ratio * bought).sum(axis=1))
        sold[name] = per_place(model, (supply * capped * flow).sum(axis=1))
    return _Sales(price=raw * capped, budget=budget, spent=spent, sold=sold)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two float arrays hold the same bits (``-0.0`` and ``0.0`` differ, NaNs too)."""
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def _external_prices(model: Model) -> np.ndarray:
    """External unit prices by node and sector: market access, and broadband for digital."""
    fp = model.params.firm
    digital = model.sector_traits["digital"]
    return (
        fp.unit_price
        * model.market_access[:, None]
        * (1.0 + fp.digital_tech_weight * model.tech[:, None] * digital[None, :])
    )


def _exports(
    model: Model, alive: np.ndarray, q: np.ndarray, degree: np.ndarray | int, price: np.ndarray
) -> np.ndarray:
    """Value of living firms' external sales at the going price, before outside demand responds.

    A firm sells the non-local share of its output ``q`` outside the region at
    ``price`` (by node and sector), raised by its collaboration ties and its
    own market reach.
    """
    fp = model.params.firm
    f = model.firms
    node, sector = f.node[alive], f.sector[alive]
    ls = model.sector_traits["local_share"]
    networking = 1.0 + fp.networking_weight * np.log1p(degree)
    return q * (1 - ls[sector]) * price[node, sector] * networking * f.market_reach[alive]


def _productivity_shocks(model: Model, alive: np.ndarray) -> None:
    """Firms' productivity moves: persistent shocks that revert to the mean over years.

    ``log A += theta * (mu - log A) + sigma * sqrt(theta * (2 - theta)) * e`` with
    ``theta = firm.productivity_reversion``, keeping the entry distribution
    (lognormal, mean 1, log-sd ``firm.productivity_sigma``) as the stationary one:
    selection of the productive firms then settles within years instead of
    driving productivity up for ever (Hopenhayn 1992; Foster, Haltiwanger &
    Syverson 2008).
    """
    fp = model.params.firm
    theta, sigma = fp.productivity_reversion, fp.productivity_sigma
    if theta <= 0 or len(alive) == 0:
        return
    f = model.firms
    mu = -0.5 * sigma**2
    log_a = np.log(f.productivity[alive])
    noise = model.rng.standard_normal(len(alive))
    log_a += theta * (mu - log_a) + sigma * np.sqrt(theta * (2.0 - theta)) * noise
    f.productivity[alive] = np.exp(log_a)


def _innovate(model: Model, alive: np.ndarray, degree: np.ndarray | int, know: np.ndarray) -> None:
    """Innovation: more likely with ties and near universities; raises productivity.

    An innovation adds to a firm's edge over competitors (log productivity);
    the edge erodes at ``firm.innovation_obsolescence`` as others catch up, so
    places that innovate more are more productive, not ever faster growing.
    """
    fp, nw = model.params.firm, model.params.network
    f = model.firms
    p_innov = (
        fp.innovation_rate * (1 + nw.innovation_weight * np.log1p(degree)) * know[f.node[alive]]
    )
    innovates = model.rng.random(len(alive)) < np.minimum(p_innov, 1.0)
    winners = alive[innovates]
    f.edge[alive] *= 1.0 - fp.innovation_obsolescence
    f.edge[winners] += np.log1p(fp.innovation_step)
    f.innovations[winners] += 1
    model.innovations_by_node += np.bincount(f.node[winners], minlength=model.n_nodes)
