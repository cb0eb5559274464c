"""Collaboration-ties phase: ties between firms lapse at random and new ones form.

A firm seeks partners at nearby nodes (more firms, shorter travel, better
access) and accepts firms of other sectors less readily than its own.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.model import kernels
from clustersim.model import mechanisms as mech
from clustersim.model.phases.aggregates import Census

__all__ = ["form_ties"]


def form_ties(model: Model, census: Census) -> None:
    """Ties lapse at ``network.tie_decay``; new ties form by proximity and sector similarity.

    ``census`` gives the living firms per node.
    """
    nw = model.params.network
    f, rng = model.firms, model.rng
    if len(model.ties):
        keep = rng.random(len(model.ties)) >= nw.tie_decay
        model.ties = model.ties[keep]
    alive = f.live
    if len(alive) < 2:
        return
    n_new = rng.poisson(nw.tie_rate * len(alive))
    if n_new == 0:
        return
    source = rng.choice(alive, size=n_new)
    other_sector = 1.0 / max(nw.same_sector_affinity, 1e-9)
    kernel = _kernel(model)
    if kernel is not None and kernels.worth(n_new * model.n_nodes, "TIE_ENTRIES"):
        # the same draws (a partner node, a firm there, the acceptance), one compiled pass
        u = rng.random(n_new), rng.random(n_new), rng.random(n_new)
        model.add_collaboration_ties(
            kernels.tie_pairs(
                source, f.node.astype(np.int64), f.sector.astype(np.int64), alive,
                census.firms_at.astype(float), kernel, other_sector, *u,
            )
        )  # fmt: skip
        return
    target = _partners(model, census, alive, source)
    same = f.sector[source] == f.sector[target]
    accept_p = np.where(same, 1.0, other_sector)
    ok = (source != target) & (rng.random(n_new) < np.minimum(accept_p, 1.0))
    model.add_collaboration_ties(np.stack([source[ok], target[ok]], axis=1))


def _partners(model: Model, census: Census, alive: np.ndarray, source: np.ndarray) -> np.ndarray:
    """A candidate partner for each seeking firm: a node by proximity, then a firm there."""
    nw = model.params.network
    f, rng = model.firms, model.rng
    firms_at = census.firms_at.astype(float)
    node = mech.collaboration_targets(
        f.node[source],
        firms_at,
        model.travel_time,
        model.market_access,
        nw.distance_scale,
        rng,
        kernel=_kernel(model),
    )
    order = alive[np.argsort(f.node[alive], kind="stable")]
    starts = np.searchsorted(f.node[order], np.arange(model.n_nodes))
    pick = starts[node] + (rng.random(len(source)) * firms_at[node]).astype(np.int64)
    return order[np.minimum(pick, len(order) - 1)]


#: Largest city (nodes) whose partner-search weights are kept between months (32 MB).
_KEPT_NODES = 2_000


def _kernel(model: Model) -> np.ndarray | None:
    """The partner search's distance weights between nodes, kept until their inputs change.

    None in a city of more than ``_KEPT_NODES`` nodes (the search then weighs its
    sources' rows each month, without keeping a nodes x nodes table).

    Kept with the arrays it was made from (travel times and market access are replaced,
    never edited in place, when a lever changes travel times) and the scale; an
    attribute with a leading underscore, so the spin-up's snapshot leaves it out.
    """
    inputs = (model.travel_time, model.market_access, model.params.network.distance_scale)
    if model.n_nodes > _KEPT_NODES:  # nodes x nodes floats: made each month instead
        return None
    kept = getattr(model, "_tie_kernel", None)
    if (
        kept is None
        or kept[0][0] is not inputs[0]
        or kept[0][1] is not inputs[1]
        or kept[0][2] != inputs[2]
    ):
        kernel = mech.collaboration_kernel(*inputs)
        model._tie_kernel = (inputs, kernel)
        return kernel
    return kept[1]
