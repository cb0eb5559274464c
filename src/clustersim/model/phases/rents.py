"""Rents phase: rents against the housing stock, slow building, displacement.

Rents clear demand against the housing stock, the stock responds slowly, and
low-income residents leave where their rent burden stays above the overburden
threshold. Displaced residents move to the cheapest nodes of their place that have free
space, or leave the region when there are none (O'Sullivan 2002; Malik et al.
2015). The functions are in :mod:`clustersim.model.housing`.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.model import housing
from clustersim.model.phases.aggregates import Census, living_income, per_place

__all__ = [
    "anchor_housing",
    "anchor_migration",
    "dwellings",
    "income_per_person",
    "open_housing",
    "place_rent",
    "place_rent_index",
    "space_demand",
    "update_rents",
]


def space_demand(model: Model, census: Census) -> np.ndarray:
    """Space demand per node: residents, talents, workspace of jobs and visitors."""
    workspace = model.params.rent.workspace_weight * census.jobs_at
    return model.residents + census.talents_at + workspace + model.visitor_demand


def income_per_person(model: Model, census: Census) -> np.ndarray:
    """Monthly income per person living at each node.

    Talents earn their wage or benefit, other workers the wage of other work,
    the other residents transfers. A node where nobody lives takes its place's
    income per person (what newcomers there would earn on average), so its rent
    does not fall to nothing.
    """
    t = model.talents
    live = t.live
    talents = np.bincount(t.home[live], weights=living_income(model), minlength=model.n_nodes)
    workers = model.other_workers * model.other_wage[model.place]
    inactive = (
        np.maximum(model.residents - model.other_workers, 0.0) * model.params.households.transfer
    )
    people = model.residents + census.talents_at
    income = talents + workers + inactive
    by_place = _index(per_place(model, income), per_place(model, people), empty=0.0)
    return np.divide(income, people, out=by_place[model.place], where=people > 0)


def open_housing(model: Model, census: Census) -> None:
    """The housing market at the start: stock, occupancy, incomes and burdens to compare with.

    The stock is the space demand at the start over one minus the graph's vacant
    share; rents, incomes and the wage of other work are remembered as they are,
    so that targets and burdens are indices relative to the start.
    """
    rp = model.params.rent
    demand = space_demand(model, census)
    # a node where nobody lives or works (allowed in GraphML) gets one unit of space
    model.housing_stock = np.maximum(demand / _occupied_share(model), 1.0)
    # the share of a node's space that is homes (the rest: workspace and visitors)
    people = model.residents + census.talents_at
    model.home_share = np.divide(people, demand, out=np.ones(model.n_nodes), where=demand > 0)
    model.low_income_burden = np.full(model.n_nodes, rp.low_income_burden)
    model.overburden_months = np.zeros(model.n_nodes, dtype=np.int64)
    anchor_housing(model, census)
    anchor_migration(model, census)


def dwellings(model: Model) -> np.ndarray:
    """Homes at each node: the housing stock times the share of it that was homes at the start.

    At least one, so that every node stays a location one can choose.
    """
    return np.maximum(model.housing_stock * model.home_share, 1.0)


def anchor_housing(model: Model, census: Census) -> None:
    """Take the housing market as it is at setup as the reference of its indices.

    Rents, stock, occupancy, incomes, the wage of other work and low-income
    households' burdens at setup are the start that targets, supply and burdens
    compare with. They are not taken again at month 0: the spin-up brings the
    market to the state its own law leads to, and taking a second reference then
    would change that law when a run's clock starts (docs/model.md, section 7.11).
    """
    demand = space_demand(model, census)
    model.base_rent = model.rent.copy()
    model.base_stock = model.housing_stock.copy()
    # an empty node's reference is the occupancy the graph gives it, not zero
    occupancy = demand / np.maximum(model.base_stock, 1e-9)
    model.base_occupancy = np.where(demand > 0, occupancy, _occupied_share(model))
    model.base_income = income_per_person(model, census)
    model.base_other_wage = model.other_wage.copy()
    model.base_burden = model.low_income_burden.copy()


def anchor_migration(model: Model, census: Census) -> None:
    """The rents and housing shares the migration of other workers compares with (setup only).

    A household weighs a place's rents against what the same home costs elsewhere
    (Roback 1982), and what it costs elsewhere does not change when a run's
    clock starts: taking month 0's rents as the reference again (as the housing
    market does) would change the law of migration at month 0. In a town whose
    rents fell during the spin-up, other workers who stayed for the cheaper
    homes would then start leaving at month 0 (4% of the flagship's town in ten
    years).
    """
    people = model.residents + census.talents_at
    rent_paid = per_place(model, people / model.params.households.size * model.rent)
    income = per_place(model, people * income_per_person(model, census))
    model.housing_share0 = _index(rent_paid, income, empty=0.0)
    model.base_place_rent = place_rent(model)


def place_rent(model: Model) -> np.ndarray:
    """Mean rent of each place, weighted by its nodes' non-creative residents."""
    weight = np.maximum(model.residents, 0.0)
    return _index(per_place(model, weight * model.rent), per_place(model, weight), empty=0.0)


def place_rent_index(model: Model) -> np.ndarray:
    """Each place's mean rent relative to setup (1 where it had no residents then).

    The reference is taken once, at setup (:func:`anchor_migration`), not again at month 0.
    """
    return _index(place_rent(model), model.base_place_rent)


def _occupied_share(model: Model) -> np.ndarray:
    """One minus the graph's vacant share of each node, at least 0.05."""
    return np.maximum(1.0 - model.vacant_space0, 0.05)


def _index(now: np.ndarray, start: np.ndarray, empty: float = 1.0) -> np.ndarray:
    """``now / start``, and ``empty`` where ``start`` is not positive."""
    return np.divide(now, start, out=np.full(np.shape(now), empty), where=start > 0)


def update_rents(model: Model, census: Census) -> None:
    """Move rents toward what clears demand against the stock, build, then displace.

    ``census`` counts the talents and jobs per node (neither changes here).
    """
    rp = model.params.rent
    demand = space_demand(model, census)
    occupancy = _index(demand / np.maximum(model.housing_stock, 1e-9), model.base_occupancy)
    income = _index(income_per_person(model, census), model.base_income)
    target = housing.rent_targets(
        model.base_rent, occupancy, income, rp.elasticity, rp.income_elasticity
    )
    model.rent = model.rent + rp.adjustment_speed * (target - model.rent)
    rent_index = _index(model.rent, model.base_rent)
    model.housing_stock = housing.housing_supply(
        model.housing_stock,
        model.base_stock,
        rent_index,
        rp.supply_elasticity,
        rp.supply_speed,
        rp.depreciation,
    )
    wage_index = _index(model.other_wage, model.base_other_wage)[model.place]
    model.low_income_burden = housing.low_income_burden(model.base_burden, rent_index, wage_index)
    model.overburden_months = housing.sustained_months(
        model.overburden_months, model.low_income_burden, rp.burden_threshold
    )
    out = housing.displacement(
        model.low_income,
        model.low_income_burden,
        model.overburden_months,
        rp.burden_threshold,
        rp.burden_months,
        rp.displacement_rate,
    )
    if out.sum() <= 0:
        return
    workers_out = out * np.divide(
        model.other_workers, model.residents, out=np.zeros(model.n_nodes), where=model.residents > 0
    )
    model.low_income -= out
    model.residents -= out
    model.other_workers = model.other_workers - workers_out
    model.displaced_by_node = out
    free = np.maximum(model.housing_stock - space_demand(model, census), 0.0)
    _rehouse(model, out, workers_out, free)


def _rehouse(model: Model, out: np.ndarray, workers_out: np.ndarray, free: np.ndarray) -> None:
    """Displaced residents of each place move into free space at its cheapest nodes.

    Cheapest for them: the nodes where their burden is lowest (within 0.05 of the
    place's lowest burden) and below the overburden threshold; those who find no
    room there leave the region.
    """
    burden = model.low_income_burden
    threshold = model.params.rent.burden_threshold
    for p in range(len(model.place_names)):
        nodes = np.flatnonzero(model.place == p)
        amount = out[nodes].sum()
        if amount <= 0:
            continue
        cheap = nodes[(burden[nodes] <= burden[nodes].min() + 0.05) & (burden[nodes] <= threshold)]
        room = free[cheap]
        if room.sum() <= 0:
            continue
        moved = min(amount, room.sum())
        share = room / room.sum() * moved
        model.low_income[cheap] += share
        model.residents[cheap] += share
        model.other_workers[cheap] += share * workers_out[nodes].sum() / amount
