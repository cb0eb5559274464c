"""Occupational choice: residents take up creative work, creative workers fall back to other work.

Each month a share ``labour.occupation_review_rate`` of other workers and of
creative workers compares creative work with other work: log expected income
in each (weighted by ``talent.wage_weight``), a vocation term for creative work
(``labour.creative_vocation``: negative, few have it) and a switching cost, with
logit taste shocks (a Roy model of occupational choice with heterogeneous
aptitude: Roy 1951; Heckman & Honore 1990). Residents who consider creative work
draw their aptitude (skill) first, so those who switch are the more apt. Creative
employment can therefore grow when creative work pays, and shrinks when it does
not: the labour supply of creative work is elastic, not a fixed stock.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.model import draws
from clustersim.model.phases.roster import add_talents, remove_talents
from clustersim.model.state import TalentOrigin

__all__ = ["choose_occupations", "creative_gain"]


def creative_gain(
    creative_income: np.ndarray,
    other_income: np.ndarray,
    wage_weight: float,
    vocation: float,
) -> np.ndarray:
    """Utility of creative over other work: wage_weight * log(income ratio) + vocation.

    Examples:
        >>> creative_gain(np.array([2000.0]), np.array([2000.0]), 2.0, -2.0)
        array([-2.])
    """
    ratio = np.maximum(creative_income, 1.0) / np.maximum(other_income, 1.0)
    return wage_weight * np.log(ratio) + vocation


def choose_occupations(model: Model, node_income: np.ndarray) -> np.ndarray:
    """Residents switch into creative work and creative workers out of it; returns the new ids.

    Args:
        model: the model.
        node_income: expected monthly creative income per skill unit by node and
            sector (:func:`clustersim.model.phases.moves.node_income`).
    """
    _fall_back(model, node_income)
    return _take_up(model, node_income)


def _logit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def _take_up(model: Model, node_income: np.ndarray) -> np.ndarray:
    """Other workers who review and choose creative work become talents at their node."""
    lab, tp, rng = model.params.labour, model.params.talent, model.rng
    reviewers = rng.poisson(lab.occupation_review_rate * np.maximum(model.other_workers, 0.0))
    reviewers = np.minimum(reviewers, np.floor(np.maximum(model.other_workers, 0.0))).astype(
        np.int64
    )
    homes = np.repeat(np.arange(model.n_nodes), reviewers)
    sectors = draws.categories(rng, model.n_sectors, len(homes), model.sector_traits["weight"])
    sigma = tp.skill_sigma
    skill = rng.lognormal(-0.5 * sigma**2, sigma, size=len(homes))
    gain = creative_gain(
        skill * node_income[homes, sectors],
        model.other_wage[model.place[homes]],
        tp.wage_weight,
        lab.creative_vocation,
    )
    take = rng.random(len(homes)) < _logit(gain - lab.occupation_switch_cost)
    homes, sectors, skill = homes[take], sectors[take], skill[take]
    moved = np.bincount(homes, minlength=model.n_nodes)
    model.other_workers = model.other_workers - moved
    model.residents = model.residents - moved
    model.took_up_by_node += moved
    return add_talents(
        model,
        homes,
        sectors,
        origin=TalentOrigin.LOCAL,
        skill=skill,
        retention=tp.local_attachment,
    )


def _fall_back(model: Model, node_income: np.ndarray) -> None:
    """Creative workers who review and choose other work leave creative work, stay home."""
    lab, tp, rng = model.params.labour, model.params.talent, model.rng
    t = model.talents
    alive = t.live
    review = alive[rng.random(len(alive)) < lab.occupation_review_rate]
    employed = t.employer[review] >= 0
    income = t.skill[review] * node_income[t.home[review], t.sector[review]]
    income[employed] = model.talent_income(review[employed])
    gain = creative_gain(
        income, model.other_wage[model.place[t.home[review]]], tp.wage_weight, lab.creative_vocation
    )
    leave = review[rng.random(len(review)) < _logit(-gain - lab.occupation_switch_cost)]
    homes = np.bincount(t.home[leave], minlength=model.n_nodes)
    remove_talents(model, leave, to_other_work=True)
    model.other_workers = model.other_workers + homes
    model.residents = model.residents + homes
    model.fell_back_by_node += homes
