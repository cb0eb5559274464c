"""Adding and removing talents and firms: rows of the agent tables and their Mesa agents.

A new agent takes a new row; removing an agent marks its row as gone and removes its
Mesa agent. The row stays until the tables are compacted
(:mod:`clustersim.model.compaction`), which keeps every agent's permanent id.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.model.state import FirmOrigin, TalentOrigin

__all__ = ["add_firms", "add_talents", "remove_talents"]


def add_talents(
    model: Model,
    homes: np.ndarray,
    sectors: np.ndarray,
    *,
    origin: TalentOrigin,
    skill_mean: float = 1.0,
    skill: np.ndarray | None = None,
    retention: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Add talents living at ``homes``; skill and amenity taste are drawn. Returns their ids.

    Args:
        model: the model whose talent table grows.
        homes: home node of each new talent.
        sectors: sector of each new talent.
        origin: how they came to the region.
        skill_mean: mean skill (lognormal around it).
        skill: their skills, when already known (then ``skill_mean`` is not used).
        retention: extra attachment to their home place at their next location review.
    """
    tp = model.params.talent
    n = len(homes)
    if n == 0:  # draws of no numbers take none from the stream: the same run without the calls
        return np.zeros(0, dtype=np.int64)
    sigma = tp.skill_sigma
    if skill is None:
        skill = skill_mean * model.rng.lognormal(-0.5 * sigma**2, sigma, size=n)
    taste = np.maximum(model.rng.normal(tp.amenity_weight, tp.amenity_weight_sd, size=n), 0.0)
    ids = model.talents.append(
        n,
        sector=sectors,
        skill=skill,
        taste=taste,
        home=homes,
        alive=True,
        arrived=model.steps,
        origin=int(origin),
        retention=retention,
    )
    model.talent_rows.add(model, ids)
    return ids


def add_firms(
    model: Model,
    nodes: np.ndarray,
    sectors: np.ndarray,
    *,
    origin: FirmOrigin | np.ndarray,
    founded: np.ndarray | int | None = None,
    cash: np.ndarray | float | None = None,
    parent: np.ndarray | int = -1,
) -> np.ndarray:
    """Add firms at ``nodes``; productivity is drawn. Returns their ids.

    Args:
        model: the model whose firm table grows.
        nodes: node of each new firm.
        sectors: sector of each new firm.
        origin: how the firms came about (one origin, or one per firm).
        founded: founding month (default: this month).
        cash: starting cash in EUR (default: ``firm.startup_cash``).
        parent: public id of the parent firm of spin-offs (-1 for none; see
            :mod:`clustersim.model.compaction`).
    """
    fp = model.params.firm
    n = len(nodes)
    sigma = fp.productivity_sigma
    ids = model.firms.append(
        n,
        sector=sectors,
        node=nodes,
        alive=True,
        origin=origin if isinstance(origin, np.ndarray) else int(origin),
        parent=parent,
        productivity=model.rng.lognormal(-0.5 * sigma**2, sigma, size=n),
        founded=model.steps if founded is None else founded,
        cash=fp.startup_cash if cash is None else cash,
    )
    model.firm_rows.add(model, ids)
    return ids


def remove_talents(
    model: Model, ids: np.ndarray, *, left_region: bool = False, to_other_work: bool = False
) -> None:
    """Talents ``ids`` leave creative work: jobs end, agents go.

    They retire, emigrate (``left_region``) or take other work in the region
    (``to_other_work``).
    """
    if len(ids) == 0:
        return
    t = model.talents
    t.mark_gone(ids)
    t.left[ids] = model.steps
    if left_region:  # both are false from a row's start
        t.left_region[ids] = True
    if to_other_work:
        t.to_other_work[ids] = True
    t.put("employer", ids, -1)
    model.talent_rows.remove(model, ids)
