"""Firm demography phase: firms exit, spin-offs and start-ups enter.

Firms exit by a hazard falling with age, when out of cash, or when nobody is
left; new firms start with capital from their place's savings.

Employees found spin-offs near their parent (Klepper 2010) and unemployed
talents found start-ups, often imitating locally successful sectors (Zhang
2003). Founders pick a node within commuting reach by a logit over expected
unit revenue with the agglomeration benefit of the creative jobs within reach
(Arthur 1990), rent and the local success of their sector.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.model import draws
from clustersim.model import mechanisms as mech
from clustersim.model.compaction import archive_of
from clustersim.model.phases.accounts import to_households
from clustersim.model.phases.aggregates import (
    count_employees,
    employment,
    jobs_by_node_sector,
    unemployed_rows,
)
from clustersim.model.phases.fields import agglomeration
from clustersim.model.phases.roster import add_firms
from clustersim.model.state import FirmOrigin

__all__ = ["enter_firms", "exit_firms"]


def exit_firms(model: Model) -> None:
    """Firms exit when nobody works there, their cash has run out, or by the hazard.

    The hazard falls from ``firm.young_exit_hazard`` at founding toward
    ``firm.mature_exit_hazard`` with age (scale ``firm.hazard_decline``): the
    shocks that close young firms most often (lost clients, the founder's
    other options). It is higher for firms earning less than the target margin
    and lower for those earning more (``firm.exit_margin_sensitivity``). Cash
    left is returned to the owners; debts are written off by outside creditors.
    Employees become unemployed, ties end.
    """
    fp = model.params.firm
    f, t = model.firms, model.talents
    alive = f.live
    age = model.steps - f.founded[alive]
    hazard = mech.exit_hazard(age, fp.young_exit_hazard, fp.mature_exit_hazard, fp.hazard_decline)
    hazard = hazard * mech.exit_risk_factor(
        f.margin[alive], fp.target_margin, fp.exit_margin_sensitivity
    )
    gone = f.employees[alive] == 0  # the owner and every employee left
    leave = gone | (f.cash[alive] < 0) | (model.rng.random(len(alive)) < hazard)
    dead = alive[leave]
    if len(dead) == 0:
        return
    _wind_up(model, dead)
    f.mark_gone(dead)
    f.exit_step[dead] = model.steps
    f.incubator[dead] = -1
    model.exits_by_node += np.bincount(f.node[dead], minlength=model.n_nodes)
    dead_mask = np.zeros(f.n, dtype=bool)
    dead_mask[dead] = True
    staff = employment(model)
    t.put("employer", staff.rows[dead_mask[staff.employer]], -1)
    if len(model.ties):
        keep = ~(dead_mask[model.ties[:, 0]] | dead_mask[model.ties[:, 1]])
        model.ties = model.ties[keep]
    model.firm_rows.remove(model, dead)
    count_employees(model)


def _wind_up(model: Model, dead: np.ndarray) -> None:
    """Return exiting firms' cash to their owners; outside creditors write off their debts."""
    f, n_places = model.firms, len(model.place_names)
    place = model.place[f.node[dead]]
    cash = f.cash[dead]
    returned = np.bincount(place, weights=np.maximum(cash, 0.0), minlength=n_places)
    written_off = np.bincount(place, weights=np.maximum(-cash, 0.0), minlength=n_places)
    to_households(model, "liquidations", returned)
    model.ledger.book("debt_write_off", written_off)


def enter_firms(model: Model) -> None:
    """Spin-offs and start-ups: draw founders, their sectors and nodes, and open the firms."""
    t, f = model.talents, model.firms
    spinners, spin_parent = _spin_off_founders(model)
    starters = _start_up_founders(model)
    if len(spinners) == 0 and len(starters) == 0:
        return
    success = _sector_success(model)
    founders = np.concatenate([starters, spinners])
    origins = np.concatenate([t.home[starters], f.node[spin_parent]])
    sectors = np.concatenate([_start_up_sectors(model, starters, success), f.sector[spin_parent]])
    nodes = _founder_nodes(model, origins, sectors, success)
    stay = np.zeros(len(founders), dtype=bool)
    stay[len(starters) :] = model.rng.random(len(spinners)) < model.params.firm.spinoff_near_parent
    nodes = np.where(stay, origins, nodes)
    start_up = np.arange(len(founders)) < len(starters)  # founders: start-ups, then spin-offs
    origin = np.where(start_up, int(FirmOrigin.START_UP), int(FirmOrigin.SPIN_OFF))
    parent = np.full(len(founders), -1)
    parent[~start_up] = archive_of(model).ids("firms", spin_parent)  # a public id
    capital = _startup_capital(model, nodes)
    ids = add_firms(model, nodes, sectors, origin=origin, parent=parent, cash=capital)
    t.put("employer", founders, ids)
    model.births_by_node += np.bincount(nodes, minlength=model.n_nodes)
    count_employees(model)


def _startup_capital(model: Model, nodes: np.ndarray) -> np.ndarray:
    """Start-up capital of new firms at ``nodes``: lognormal, paid from the place's savings."""
    fp = model.params.firm
    sigma = fp.startup_cash_sigma
    capital = fp.startup_cash * model.rng.lognormal(-0.5 * sigma**2, sigma, size=len(nodes))
    by_place = np.bincount(model.place[nodes], weights=capital, minlength=len(model.place_names))
    model.ledger.book("startup_capital", by_place)
    model.deposits = model.deposits - by_place
    return capital


def _spin_off_founders(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Employees who found a spin-off, and their parent firms.

    The rate rises with the parent's margin; a parent keeps at least one
    person, so at most ``employees - 1`` spin-offs leave it in a month.
    """
    fp = model.params.firm
    f = model.firms
    staff = employment(model)
    employed, parent = staff.rows, staff.employer
    p_spin = (fp.spinoff_rate * np.clip(1.0 + 10.0 * f.margin, 0.0, 3.0))[parent]
    spin = model.rng.random(len(employed)) < p_spin
    spinners, spin_parent = employed[spin], parent[spin]
    order = np.argsort(spin_parent, kind="stable")
    spinners, spin_parent = spinners[order], spin_parent[order]
    rank = np.arange(len(spin_parent)) - np.searchsorted(spin_parent, spin_parent)
    keep = rank < f.employees[spin_parent] - 1
    return spinners[keep], spin_parent[keep]


def _start_up_founders(model: Model) -> np.ndarray:
    """Unemployed talents who found a start-up (``firm.entrepreneurship_rate``)."""
    unemployed = unemployed_rows(model)
    return unemployed[model.rng.random(len(unemployed)) < model.params.firm.entrepreneurship_rate]


def _sector_success(model: Model) -> np.ndarray:
    """Reach-weighted positive profits of each sector by node, as a share of all sectors."""
    f = model.firms
    alive = f.live
    profits = np.bincount(
        f.node[alive].astype(np.int64) * model.n_sectors + f.sector[alive],
        weights=np.maximum(f.profit[alive], 0.0),
        minlength=model.n_nodes * model.n_sectors,
    ).reshape(model.n_nodes, model.n_sectors)
    near = model.commute_reach @ profits
    return near / np.maximum(near.sum(axis=1, keepdims=True), 1.0)


def _start_up_sectors(model: Model, starters: np.ndarray, success: np.ndarray) -> np.ndarray:
    """A start-up's sector: the founder's own, or copied from successful neighbours."""
    fp = model.params.firm
    t, rng = model.talents, model.rng
    sectors = t.sector[starters].astype(np.int64)
    copy = rng.random(len(starters)) < fp.imitation_weight / (1.0 + fp.imitation_weight)
    copied = draws.choose_rows(success, rng, t.home[starters[copy]])
    sectors[np.flatnonzero(copy)[copied >= 0]] = copied[copied >= 0]
    return sectors


def _founder_nodes(
    model: Model, origins: np.ndarray, sectors: np.ndarray, success: np.ndarray
) -> np.ndarray:
    """Node each founder picks within commuting reach of ``origins`` (logit choice)."""
    fp = model.params.firm
    agglo = agglomeration(model, jobs_by_node_sector(model).sum(axis=1), own_jobs=1.0)
    unit = model.market.unit_revenue(model.sector_traits["local_share"])
    # a node's value depends on the founder's sector only: one row per sector present
    present, row = np.unique(sectors, return_inverse=True)
    utility = mech.founder_node_utility(
        unit[:, present].T,
        agglo,
        model.rent * model.rent_factor,
        success[:, present].T,
        fp.workspace_rent_share,
        fp.imitation_weight,
        fp.location_noise,
    )[row]
    minutes = model.travel_time[origins]
    if fp.home_distance_weight:  # founders stay near home (Dahl & Sorenson 2009)
        utility = utility - fp.home_distance_weight * minutes / 60.0
    utility = np.where(minutes <= model.params.labour.max_commute, utility, -np.inf)
    return draws.logit_choice(utility, model.rng)
