"""Labour-market phase: quits, hiring plans, layoffs, matching within reach, wages.

Firms plan to grow with their margin and shrink when it is low; job seekers are
matched to open vacancies within commuting reach; each place's wage follows
the tightness of its labour market.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.model import draws, kernels
from clustersim.model import mechanisms as mech
from clustersim.model.phases.aggregates import (
    Census,
    count_employees,
    effective_labour,
    employment,
    per_place,
    unemployed_rows,
)

__all__ = ["clear_labour_market", "productivity_wage"]


def clear_labour_market(model: Model, census: Census) -> None:
    """Quits, layoffs, and matching of job seekers to vacancies; then wages adjust.

    Leaves ``model.open_vacancies`` (per firm, still open after matching) for
    talents' job prospects. ``census`` gives the talents per node (homes do not
    change in this phase).
    """
    _quit(model)
    count_employees(model)
    alive, change = _hiring_plans(model)
    _lay_off(model, alive, change)
    vacancies = np.zeros(model.firms.n, dtype=np.int64)
    vacancies[alive] = np.maximum(change, 0)
    vacancies[alive[model.firms.employees[alive] == 0]] += 1
    firm = _match(model, vacancies)
    count_employees(model)
    model.open_vacancies = vacancies - np.bincount(firm, minlength=model.firms.n)
    _adjust_wages(model, census, vacancies, firm)


def _quit(model: Model) -> None:
    """Employees quit at ``labour.quit_rate``; owners of one-person firms do not.

    Owners leave by closing the firm (the exit hazard) or by taking other work.
    """
    e = employment(model)
    employed = e.rows[model.firms.employees[e.employer] > 1]
    quits = employed[model.rng.random(len(employed)) < model.params.labour.quit_rate]
    model.talents.put("employer", quits, -1)


def _hiring_plans(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Living firms and their planned change of staff (no growth without cash)."""
    fp = model.params.firm
    f = model.firms
    alive = f.live
    change = mech.hiring_targets(
        f.employees[alive], f.margin[alive], fp.growth_sensitivity, fp.target_margin, model.rng
    )
    change = np.where(f.cash[alive] <= 0, np.minimum(change, 0), change)
    return alive, change


def _lay_off(model: Model, alive: np.ndarray, change: np.ndarray) -> None:
    """Firms planning to shrink lay off staff at random; each keeps at least its founder."""
    t, f = model.talents, model.firms
    cut = np.minimum(np.maximum(-change, 0), np.maximum(f.employees[alive] - 1, 0))
    if not cut.any():
        return
    cut_by_firm = np.zeros(f.n, dtype=np.int64)
    cut_by_firm[alive] = cut
    # only staff of firms that cut: rank them in random order within their firm
    e = employment(model)
    cuts = cut_by_firm[e.employer] > 0
    staff, firm_of = e.rows[cuts], e.employer[cuts]
    order = np.argsort(firm_of + model.rng.random(len(staff)), kind="stable")
    staff, firm_of = staff[order], firm_of[order]
    rank = np.arange(len(firm_of)) - np.searchsorted(firm_of, firm_of, side="left")
    t.put("employer", staff[rank < cut_by_firm[firm_of]], -1)


def _match(model: Model, vacancies: np.ndarray) -> np.ndarray:
    """Searching job seekers apply within reach; returns the firm of each hire."""
    lab = model.params.labour
    t, f = model.talents, model.firms
    seekers = unemployed_rows(model)
    seekers = seekers[model.rng.random(len(seekers)) < lab.search_rate]
    args = (t.home[seekers], t.sector[seekers], f.node, f.sector, vacancies, model.commute_reach)
    if _compiled_match(model, len(seekers), vacancies):  # the same hires from the same draws
        n_sectors = int(max(f.sector.max(), args[1].max())) + 1
        hired, firm = kernels.match_labour(
            *(np.asarray(a, dtype=np.int64) for a in args[:5]),
            np.ascontiguousarray(model.commute_reach, dtype=np.float64),
            float(lab.cross_sector_productivity), n_sectors, model.rng,
        )  # fmt: skip
    else:
        hired, firm = mech.match_labour(
            *args, lab.cross_sector_productivity, model.rng, _reach_rows(model)
        )
    t.put("employer", seekers[hired], firm)
    return firm


#: Largest city (nodes) whose labour matching may run compiled: the kernel weighs every
#: hiring node, where numpy's search in a bigger city weighs only the reachable ones.
_MATCH_KERNEL_NODES = 300


def _compiled_match(model: Model, n_seekers: int, vacancies: np.ndarray) -> bool:
    """Whether this month's matching runs compiled (:func:`kernels.match_labour`)."""
    if n_seekers == 0 or model.n_nodes > _MATCH_KERNEL_NODES or not (vacancies > 0).any():
        return False
    return kernels.worth(n_seekers * model.n_nodes, "MATCH_ENTRIES")


def _adjust_wages(model: Model, census: Census, vacancies: np.ndarray, hires: np.ndarray) -> None:
    """Each place's wage follows its tightness (open jobs minus unemployed, per talent)."""
    lab = model.params.labour
    t, f = model.talents, model.firms
    if kernels.worth(f.n + len(model.place), "WAGE_ENTRIES"):  # the same wages, compiled
        model.wage = kernels.wages(
            model.wage, model.place, t.home[unemployed_rows(model)], f.node, vacancies, hires,
            census.talents_at, f.live, f.revenue, effective_labour(model),
            np.array([lab.wage_adjustment, lab.wage_productivity_pull, lab.wage_floor,
                      lab.labour_share]),
        )  # fmt: skip
        return
    n_places = len(model.place_names)
    unemployed = np.bincount(model.place[t.home[unemployed_rows(model)]], minlength=n_places)
    open_jobs = np.bincount(
        model.place[f.node], weights=np.maximum(vacancies, 0), minlength=n_places
    )
    open_jobs = open_jobs - np.bincount(model.place[f.node[hires]], minlength=n_places)
    talents = per_place(model, census.talents_at)
    tightness = (open_jobs - unemployed) / np.maximum(talents, 1)
    change = np.clip(lab.wage_adjustment * tightness, -0.01, 0.01)
    wage = model.wage * (1.0 + change)
    target = productivity_wage(model)
    wage = np.where(np.isnan(target), wage, wage + lab.wage_productivity_pull * (target - wage))
    model.wage = np.maximum(wage, lab.wage_floor)


def productivity_wage(model: Model) -> np.ndarray:
    """Labour share of each place's creative revenue (subsidies included) per effective worker.

    NaN where a place has no workers.
    """
    lab, f = model.params.labour, model.firms
    alive = f.live
    n_places = len(model.place_names)
    place = model.place[f.node[alive]]
    revenue = np.bincount(place, weights=f.revenue[alive], minlength=n_places)
    labour = np.bincount(place, weights=effective_labour(model)[alive], minlength=n_places)
    return np.divide(
        lab.labour_share * revenue, labour, out=np.full(n_places, np.nan), where=labour > 0
    )


def _reach_rows(model: Model) -> draws.ReachableRows:
    """The job search's rows of nodes within commuting reach, kept until the reach changes.

    Made again whenever ``model.commute_reach`` is another array (travel times changed,
    or a spin-up was restored); the leading underscore keeps it out of the spin-up's
    snapshot.
    """
    kept = getattr(model, "_commute_rows", None)
    if kept is None or kept.source is not model.commute_reach:
        kept = model._commute_rows = draws.ReachableRows(model.commute_reach)
    return kept
