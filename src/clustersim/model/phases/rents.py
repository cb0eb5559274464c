"""Rents phase: rents move toward demand-driven targets; low-income residents are displaced.

Displaced residents move to the cheapest nodes of their place that have free
space, or leave when there are none (O'Sullivan 2002; Malik et al. 2015).
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.model import housing
from clustersim.model.phases.aggregates import Census

__all__ = ["space_demand", "update_rents"]


def space_demand(model: Model, census: Census) -> np.ndarray:
    """Space demand per node: residents, talents, workspace of jobs and visitors."""
    workspace = model.params.rent.workspace_weight * census.jobs_at
    return model.residents + census.talents_at + workspace + model.visitor_demand


def update_rents(model: Model, census: Census) -> None:
    """Move rents a step toward their targets, then displace and rehouse low-income residents.

    ``census`` counts the talents and jobs per node (neither changes here).
    """
    rp = model.params.rent
    demand = space_demand(model, census)
    target = housing.rent_targets(model.base_rent, demand, model.base_demand, rp.elasticity)
    model.rent = model.rent + rp.adjustment_speed * (target - model.rent)
    out = housing.displacement(model.low_income, model.rent, model.base_rent, rp.displacement_rate)
    if out.sum() <= 0:
        return
    workers_out = out * np.divide(
        model.other_workers, model.residents, out=np.zeros(model.n_nodes), where=model.residents > 0
    )
    model.low_income -= out
    model.residents -= out
    model.other_workers = model.other_workers - workers_out
    model.displaced_by_node = out
    free = np.maximum(model.capacity - space_demand(model, census), 0.0)
    _rehouse(model, out, workers_out, free)


def _rehouse(model: Model, out: np.ndarray, workers_out: np.ndarray, free: np.ndarray) -> None:
    """Displaced residents of each place move into free space at its cheapest nodes."""
    ratio = model.rent / model.base_rent
    for p in range(len(model.place_names)):
        nodes = np.flatnonzero(model.place == p)
        amount = out[nodes].sum()
        if amount <= 0:
            continue
        cheap = nodes[ratio[nodes] <= ratio[nodes].min() + 0.05]
        room = free[cheap]
        if room.sum() <= 0:
            continue
        moved = min(amount, room.sum())
        share = room / room.sum() * moved
        model.low_income[cheap] += share
        model.residents[cheap] += share
        model.other_workers[cheap] += share * workers_out[nodes].sum() / amount
