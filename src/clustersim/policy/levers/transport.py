"""The transport accessibility lever: shorter travel times on the link (can drain a small town).

Evidence: market access raises external prices (Krugman 1991); counties bypassed
by high-speed rail lost, and small cities on the line saw marginal or negative
effects (Qin 2017; Diao 2018).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from clustersim.errors import ConfigError
from clustersim.params import param
from clustersim.policy.lever import MAX_COST_ONCE, Lever, LeverSettings, resolve_targets

if TYPE_CHECKING:
    from clustersim.model.host import PolicyHost

__all__ = ["LEVER", "Transport", "TransportSettings"]


@dataclass
class TransportSettings(LeverSettings):
    """Transport accessibility settings."""

    time_cut: float = param(
        0.4,
        unit="share",
        doc="share of travel time cut on the target edges (scaled by intensity, max 0.9)",
        ge=0,
        le=0.9,
    )
    # <= 1 accessibility unit: the whole accessibility index (0-1)
    accessibility_gain: float = param(
        0.1,
        unit="accessibility units",
        doc="accessibility gain of the focus place",
        ge=0,
        le=1.0,
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
    """Transport accessibility: shorter travel times on chosen edges, better market access.

    Cuts travel time on the focus place's transport links (or on all edges
    between the named nodes) and raises the focus place's accessibility
    (external market prices, Krugman 1991). It can DRAIN a small town: the
    large city's firms then reach the town's households and the town's
    talents reach city jobs, so the town's own creative firms lose ground
    (Qin 2017; Diao 2018: counties bypassed by high-speed rail lost, small
    cities on the line saw marginal or negative effects). The works are
    lasting: nothing is undone when the programme stops.
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
        """Cut travel times and raise accessibility (lasting infrastructure)."""
        m = self.model
        cut = min(self.settings.time_cut * self.intensity, 0.9)
        m.graph = m.graph.copy()  # copy on write: never edit the caller's graph object
        for u, v in self.edges:
            minutes = m.graph.edges[u, v]["travel_time"] * (1.0 - cut)
            m.graph.edges[u, v]["travel_time"] = max(minutes, 1.0)
        m.set_travel_times_changed()
        gain = self.settings.accessibility_gain * self.intensity
        m.accessibility[m.focus_nodes] = np.minimum(m.accessibility[m.focus_nodes] + gain, 1.0)


LEVER = Transport
