"""The transport lever: shorter travel times on the link (can drain a small town).

It acts only through travel times: the town then reaches more people (market
potential, a higher external price; Harris 1954; Redding & Venables 2004), and
the large city's firms and jobs reach the town's households and talents.
Counties bypassed by high-speed rail lost, and small cities on the line saw
marginal or negative effects (Qin 2017; Diao 2018).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clustersim.errors import ConfigError
from clustersim.params import param
from clustersim.policy.lever import MAX_COST_ONCE, Lever, LeverSettings, resolve_targets

if TYPE_CHECKING:
    from clustersim.model.host import PolicyHost

__all__ = ["LEVER", "Transport", "TransportSettings"]


@dataclass
class TransportSettings(LeverSettings):
    """Transport settings."""

    time_cut: float = param(
        0.4,
        unit="share",
        doc="share of travel time cut on the target edges (scaled by intensity, max 0.9)",
        ge=0,
        le=0.9,
    )
    target: Any = param(
        "transport_link",
        unit="-",
        doc="edges: transport_link (the focus place's links to other places; in a one-place "
        "city the roads at its centre), or node names (every edge between them)",
    )
    cost_once: float = param(
        2_500_000.0,
        unit="EUR",
        doc="municipal share of the works (the state or region pays the rest)",
        source="assumption: ~10% of a EUR 25m rail/road upgrade",
        ge=0,
        le=MAX_COST_ONCE,
    )


def _transport_edges(model: PolicyHost, target: Any, nodes: list[int]) -> list[tuple[int, int]]:
    """Edges a transport lever improves: the focus place's links, or edges between ``nodes``."""
    g = model.graph
    if target == "transport_link":
        focus = set(int(n) for n in model.focus_nodes)
        links = [
            (u, v)
            for u, v, d in g.edges(data=True)
            if d.get("kind") == "transport" and ((u in focus) != (v in focus))
        ]
        if links or len(model.place_names) > 1:
            return links
        return [(nodes[0], v) for v in g.neighbors(nodes[0])]  # one place: roads at the centre
    chosen = set(nodes)
    return [(u, v) for u, v in g.edges if u in chosen and v in chosen]


class Transport(Lever):
    """Transport: shorter travel times on chosen edges, and nothing else.

    Cuts travel time on the focus place's transport links (or on all edges
    between the named nodes). Everything else follows from the travel times:
    the town's market potential rises with the people it now reaches, and so
    does its external price (:mod:`clustersim.model.market_access`); the large
    city's firms reach the town's households and the town's talents reach city
    jobs, so it can DRAIN a small town (Qin 2017; Diao 2018: counties bypassed
    by high-speed rail lost, small cities on the line saw marginal or negative
    effects). The works are lasting: nothing is undone when the programme stops.
    """

    Settings = TransportSettings
    label = "Transport"
    summary = "A faster link to the nearest large city."
    order = 50

    def __init__(self, model: PolicyHost, name: str, settings: LeverSettings) -> None:
        nodes = resolve_targets(model, settings.target, lever=name)
        self.edges = _transport_edges(model, settings.target, nodes)
        if not self.edges:
            raise ConfigError(
                f"policy.{name}.target: no edges to improve between {settings.target!r}; "
                "name two or more adjacent nodes"
            )
        super().__init__(model, name, settings)

    def on_start(self) -> None:
        """Cut travel times (lasting infrastructure); reach and market access follow."""
        m = self.model
        cut = min(self.settings.time_cut * self.intensity, 0.9)
        m.graph = m.graph.copy()  # copy on write: never edit the caller's graph object
        for u, v in self.edges:
            minutes = m.graph.edges[u, v]["travel_time"] * (1.0 - cut)
            m.graph.edges[u, v]["travel_time"] = max(minutes, 1.0)
        m.set_travel_times_changed()


LEVER = Transport
