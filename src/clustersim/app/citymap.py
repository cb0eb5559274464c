"""The app's city map: places sized by people and coloured by a layer, firms, institutions, labels.

No Solara here: :class:`CityMapFigure` takes a
:class:`~clustersim.app.scenarios.ClassroomTown`, redraws from its current state
(:meth:`~CityMapFigure.update`) and hands out PNG frames (:meth:`~CityMapFigure.png`).
A town with more than :data:`FIRM_DOTS_MAX` creative firms (a metropolis has about
6,000) gets one marker per place, its area proportional to the place's firms,
instead of one dot per firm, which would merge into black blobs.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patheffects import withStroke

from clustersim.app.figures import LOOKS, FigureLook, PngFrames
from clustersim.app.scenarios import ClassroomTown
from clustersim.model.compaction import archive_of

__all__ = [
    "FIRM_DOTS_MAX",
    "LAYERS",
    "CityMapFigure",
    "draw_positions",
    "draws_firms_per_place",
    "firms_per_node",
    "layer_values",
    "legend_counts",
]

#: Map colour layers: key -> (button label, colour bar label, colormap).
LAYERS: dict[str, tuple[str, str, str]] = {
    "rent": ("Rent", "Rent (EUR/month)", "YlOrRd"),
    "creative_density": ("Creative density", "Creative jobs per 1,000 people", "PuBu"),
    "amenity": ("Amenity", "Amenity (index)", "YlGn"),
    "market_access": ("Market access", "Market access (x the reference external price)", "BuPu"),
}

#: Above this many living creative firms the map draws one marker per place, not per firm.
FIRM_DOTS_MAX = 1500

_PLACE_GAP = 0.35  # gap between drawn places, as a share of the focus town's width
_FIRM_COLOUR, _TENANT_COLOUR = "#1f2937", "#c026d3"
_COMPACT_AXES_PT = 335.0  # short side of the compact map's axes; marker sizes scale with it


def _halo(width: float) -> list:
    """A white outline that keeps labels legible over firms."""
    return [withStroke(linewidth=width, foreground="white")]


def _unit_hash(ids: np.ndarray, salt: int) -> np.ndarray:
    """A deterministic pseudo-random number in [0, 1) per id (for firm jitter; no RNG drawn)."""
    x = (ids.astype(np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(29)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(32)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def draw_positions(model: ClassroomTown) -> np.ndarray:
    """Node positions (km) for drawing: each place spread around its centre, side by side.

    A town's core is a kilometre across and its villages 5-15 km out; drawn to scale,
    the core's circles pile up. So each place is drawn with distances from its centre
    taken as ``sqrt(r * r_max)`` (directions kept, the farthest node stays put), which
    opens the core and brings the hinterland in. A partner town is 60-150 km from its
    large city; drawn to scale, the town would be a dot, so other places are moved
    next to the focus town. Each place keeps its own shape; the link is labelled
    instead.
    """
    g = model.graph
    pos = np.array([[g.nodes[i]["x"], g.nodes[i]["y"]] for i in range(model.n_nodes)], float)
    roles = np.array([g.nodes[i].get("role", "") for i in range(model.n_nodes)])
    for p in range(len(model.place_names)):
        nodes = np.flatnonzero(model.place == p)
        centres = nodes[roles[nodes] == "centre"]
        if len(nodes) < 2:
            continue
        centre = pos[centres[0]] if len(centres) else pos[nodes].mean(axis=0)
        offset = pos[nodes] - centre
        r = np.hypot(offset[:, 0], offset[:, 1])
        reach = r.max()
        if reach > 0:
            scale = np.divide(np.sqrt(r * reach), r, out=np.ones_like(r), where=r > 0)
            pos[nodes] = centre + offset * scale[:, None]
    focus = model.place == model.focus_place
    right = pos[focus, 0].max()
    gap = _PLACE_GAP * max(np.ptp(pos[focus, 0]), 1.0)
    for p in range(len(model.place_names)):
        nodes = model.place == p
        if p == model.focus_place or not nodes.any():
            continue
        pos[nodes, 0] += right + gap - pos[nodes, 0].min()
        right = pos[nodes, 0].max()
    return pos


def layer_values(model: ClassroomTown, layer: str) -> np.ndarray:
    """The value of map layer ``layer`` at every node."""
    if layer == "rent":
        return np.asarray(model.rent, float)
    if layer == "amenity":
        return np.asarray(model.amenity, float)
    if layer == "market_access":
        return np.asarray(model.market_access, float)
    if layer == "creative_density":
        jobs = np.bincount(
            model.firms.node[model.firms.alive],
            weights=model.firms.employees[model.firms.alive],
            minlength=model.n_nodes,
        )
        people = np.maximum(model.residents + _talents_at(model), 1.0)
        return 1000.0 * jobs / people
    raise ValueError(f"layer must be one of {', '.join(LAYERS)}; got {layer!r}")


def firms_per_node(model: ClassroomTown) -> np.ndarray:
    """Living creative firms at every node."""
    return np.bincount(model.firms.node[model.firms.alive], minlength=model.n_nodes)


def draws_firms_per_place(model: ClassroomTown, limit: int = FIRM_DOTS_MAX) -> bool:
    """Whether the map of ``model`` shows one marker per place rather than a dot per firm.

    Decided once, when the map is built: more than ``limit`` living creative firms
    (anywhere on the map) are too many dots to tell apart.
    """
    return int(model.firms.alive.sum()) > limit


def legend_counts(largest: float) -> list[int]:
    """Round firm counts for the legend of per-place markers: about ``largest`` and a quarter.

    Examples:
        >>> legend_counts(160)
        [20, 100]
        >>> legend_counts(491)
        [50, 200]
        >>> legend_counts(3)
        [1, 2]
    """
    nice = [m * 10**e for e in range(6) for m in (1, 2, 5)]
    top = max([n for n in nice if n <= max(largest, 2)])
    quarter = max([n for n in nice if n <= max(top / 4, 1)])
    return sorted({quarter, top}) if quarter < top else [max(top // 2, 1), top]


def _talents_at(model: ClassroomTown) -> np.ndarray:
    t = model.talents
    return np.bincount(t.home[t.alive], minlength=model.n_nodes)


def _layer_range(model: ClassroomTown, layer: str) -> tuple[float, float]:
    """A fixed colour range per town, so colours change when the town does."""
    if layer == "amenity":
        return 0.0, 1.5
    start = layer_values(model, layer)
    if layer == "rent":
        return 0.8 * float(start.min()), 1.4 * float(start.max())
    if layer == "market_access":  # moves only when travel times do
        return 0.95 * float(start.min()), 1.05 * float(start.max())
    return 0.0, max(2.0 * float(start.max()), 1.0)


def _rgba(colour: str) -> np.ndarray:
    return np.array(mpl.colors.to_rgba(colour))


class CityMapFigure:
    """The city graph: nodes sized by population and coloured by a layer, firms, talents.

    Args:
        model: The town to draw.
        layer: A key of :data:`LAYERS`, the colour of the places.
        look: Size of the figure and of its text (:data:`~clustersim.app.figures.LOOKS`).
    """

    def __init__(
        self, model: ClassroomTown, layer: str, look: FigureLook = LOOKS["compact"]
    ) -> None:
        self.model, self.layer, self.look = model, layer, look
        self.figure = Figure(figsize=look.map_size, dpi=look.dpi)
        ax = self.ax = self.figure.add_axes((0.0, 0.0, 0.76, 0.93))
        ax.set_aspect("equal")
        ax.set_axis_off()
        self.pos = pos = draw_positions(model)
        span = np.ptp(pos, axis=0).max() or 1.0
        pad = 0.08 * span
        ax.set_xlim(pos[:, 0].min() - pad, pos[:, 0].max() + pad)
        ax.set_ylim(pos[:, 1].min() - pad, pos[:, 1].max() + pad)
        self._draw_edges()
        # points per data unit (equal aspect: the tighter side decides), to keep firms in discs
        width_pt, height_pt = 0.76 * look.map_size[0] * 72, 0.93 * look.map_size[1] * 72
        self.data_per_pt = max(np.ptp(ax.get_xlim()) / width_pt, np.ptp(ax.get_ylim()) / height_pt)
        self.marker_scale = (min(width_pt, height_pt) / _COMPACT_AXES_PT) ** 2
        people = model.residents + _talents_at(model)
        self.size_scale = 1400.0 / max(float(np.sqrt(people.max())), 1.0)
        self._draw_nodes(people)
        self.per_place = draws_firms_per_place(model)
        self.firms = ax.scatter([], [], s=5, linewidths=0, zorder=3)
        if self.per_place:
            counts = firms_per_node(model)
            self.area_per_firm = 0.5 * float(np.median(self._sizes(people))) / max(counts.max(), 1)
            self.firm_groups = ax.scatter(
                [], [], c=_FIRM_COLOUR, alpha=0.55, edgecolors="white", linewidths=0.8, zorder=2
            )
        s = self.marker_scale
        self.hubs = ax.scatter(
            [], [], s=320 * s, marker="*", c=_TENANT_COLOUR, edgecolors="k", zorder=5
        )
        self.culture = ax.scatter(
            [], [], s=45 * s, marker="D", c="#14b8a6", edgecolors="k", zorder=4
        )
        self.unis = ax.scatter([], [], s=55 * s, marker="^", c="#8b5cf6", edgecolors="k", zorder=4)
        self._add_labels(people)
        self.title = self.figure.text(
            0.38, 0.965, "", ha="center", va="center", fontsize=look.heading
        )
        self._add_legend()
        dynamic = [self.nodes, self.firms, self.hubs, self.culture, self.unis]
        if self.per_place:
            dynamic.insert(1, self.firm_groups)
        dynamic += [*self.talent_labels, *self.place_labels, self.title]
        self.frame = PngFrames(self.figure, dynamic)
        self.update()

    def _draw_edges(self) -> None:
        """Streets within a place as grey lines; links between places dashed, with their length."""
        model, ax, pos = self.model, self.ax, self.pos
        g = model.graph
        local = [(pos[u], pos[v]) for u, v in g.edges if model.place[u] == model.place[v]]
        links = [(u, v) for u, v in g.edges if model.place[u] != model.place[v]]
        ax.add_collection(LineCollection(local, colors="#9ca3af", linewidths=0.8, zorder=0))
        for u, v in links:
            (x0, y0), (x1, y1) = pos[u], pos[v]
            ax.plot([x0, x1], [y0, y1], ls="--", color="#6b7280", lw=1.2, zorder=0)
            data = g.edges[u, v]
            km = f"{data['distance_km']:.0f} km, " if "distance_km" in data else ""
            ax.annotate(
                f"{km}{data['travel_time']:.0f} min",
                ((x0 + x1) / 2, (y0 + y1) / 2),
                ha="center",
                va="bottom",
                fontsize=self.look.small,
                color="#374151",
            )

    def _draw_nodes(self, people: np.ndarray) -> None:
        """The places' discs, sized by ``people`` and coloured by the layer, with a colour bar."""
        model, pos = self.model, self.pos
        _, label, cmap = LAYERS[self.layer]
        vmin, vmax = _layer_range(model, self.layer)
        self.nodes = self.ax.scatter(
            pos[:, 0],
            pos[:, 1],
            s=self._sizes(people),
            c=layer_values(model, self.layer),
            cmap=cmap,
            norm=mpl.colors.Normalize(vmin, vmax),
            edgecolors="#374151",
            linewidths=0.6,
            alpha=0.9,
            zorder=1,
        )
        colourbar_axes = self.figure.add_axes((0.79, 0.55, 0.025, 0.36))
        bar = self.figure.colorbar(self.nodes, cax=colourbar_axes)
        bar.set_label(label, fontsize=self.look.ticks)
        bar.ax.tick_params(labelsize=self.look.ticks)

    def _add_labels(self, people: np.ndarray) -> None:
        """Talent counts under the focus town's places (its 20 largest if many), place names."""
        model, ax, pos, look = self.model, self.ax, self.pos, self.look
        g = model.graph
        focus = np.flatnonzero(model.place == model.focus_place)
        centres = [i for i in range(model.n_nodes) if g.nodes[i].get("role") == "centre"]
        labelled = focus if len(focus) <= 40 else focus[np.argsort(-people[focus])[:20]]
        self.labelled = sorted({*map(int, labelled), *centres})
        self.talent_labels = [
            ax.annotate(
                "",
                pos[i],
                xytext=(0, -9),
                textcoords="offset points",  # moved below the disc in update()
                ha="center",
                va="top",
                fontsize=look.small,
                color="#111827",
                path_effects=_halo(0.25 * look.small + 0.75),
                zorder=6,
            )
            for i in self.labelled
        ]
        self.centres = centres
        self.place_labels = [
            ax.annotate(
                g.nodes[i]["place"],
                pos[i],
                xytext=(0, 12),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=look.title,
                fontweight="bold",
                path_effects=_halo(0.25 * look.title + 0.5),
                zorder=6,
            )
            for i in centres
        ]

    def _add_legend(self) -> None:
        """What the markers mean, and what the number under a place counts."""
        s, small = np.sqrt(self.marker_scale), self.look.small
        marker = {"ls": "", "marker": "o"}
        handles = [
            Line2D([], [], ms=3 * s, color=_FIRM_COLOUR, label="creative firm", **marker),
            Line2D([], [], ms=3 * s, color=_TENANT_COLOUR, label="hub tenant", **marker),
            Line2D(
                [], [], ms=11 * s, color=_TENANT_COLOUR, label="creative hub", ls="", marker="*"
            ),
            Line2D([], [], ms=5 * s, color="#14b8a6", label="culture", ls="", marker="D"),
            Line2D([], [], ms=6 * s, color="#8b5cf6", label="university", ls="", marker="^"),
        ]
        if self.per_place:  # firms are in the legend of the per-place markers
            handles = handles[1:]
        self.figure.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.76, 0.0),
            fontsize=small,
            frameon=False,
            title="number under a place:\ntalents living there",
            title_fontsize=small,
            alignment="left",
        )
        if self.per_place:
            self._add_firm_legend()

    def _add_firm_legend(self) -> None:
        """Sizes of the per-place firm markers, with a word on why firms are not dots."""
        largest = float(firms_per_node(self.model).max())
        sizes = [
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                ms=np.sqrt(self.area_per_firm * n),
                color=_FIRM_COLOUR,
                alpha=0.55,
                mec="white",
                label=f"{n:,} firms",
            )
            for n in legend_counts(largest)
        ]
        legend = self.figure.legend(
            handles=sizes,
            loc="upper left",
            bbox_to_anchor=(0.76, 0.5),
            fontsize=self.look.small,
            frameon=False,
            title="creative firms per place\n(too many for a dot each)",
            title_fontsize=self.look.small,
            alignment="left",
            labelspacing=1.0,
        )
        legend.set_zorder(7)

    def png(self) -> bytes:
        """The map as PNG (call :meth:`update` first)."""
        return self.frame.png()

    def _sizes(self, people: np.ndarray) -> np.ndarray:
        return self.marker_scale * (30.0 + self.size_scale * np.sqrt(np.maximum(people, 0.0)))

    def _at_nodes(self, nodes: Sequence[int]) -> np.ndarray:
        return self.pos[np.asarray(nodes, dtype=int)].reshape(-1, 2)

    def _draw_firms(self, sizes: np.ndarray) -> np.ndarray:
        """Firms as dots in their place's disc (tenants of a hub in magenta), or per place.

        Returns:
            The radius (points) of what is drawn at each node, for the labels below it.
        """
        f, s = self.model.firms, self.marker_scale
        alive = np.flatnonzero(f.alive)
        tenant = f.incubator[alive] >= 0
        if self.per_place:  # one marker per place; tenants stay dots
            counts = firms_per_node(self.model)
            areas = self.area_per_firm * counts
            self.firm_groups.set_offsets(self.pos)
            self.firm_groups.set_sizes(areas)
            alive = alive[tenant]
            tenant = tenant[tenant]
        node = f.node[alive]
        radius = 0.8 * np.sqrt(sizes[node]) / 2 * self.data_per_pt
        firm_id = archive_of(self.model).ids("firms", alive)  # rows change at compactions
        angle = 2 * np.pi * _unit_hash(firm_id, 1)
        r = radius * np.sqrt(_unit_hash(firm_id, 2))
        xy = self.pos[node] + np.column_stack([r * np.cos(angle), r * np.sin(angle)])
        self.firms.set_offsets(xy.reshape(-1, 2))
        self.firms.set_facecolors(
            np.where(tenant[:, None], _rgba(_TENANT_COLOUR), _rgba(_FIRM_COLOUR)).reshape(-1, 4)
        )
        self.firms.set_sizes(np.where(tenant, 12.0 * s, 5.0 * s))
        drawn = np.maximum(sizes, areas) if self.per_place else sizes
        return np.sqrt(drawn) / 2

    def update(self) -> None:
        """Redraw from the model's current state (sizes, colours, firms, labels)."""
        m = self.model
        talents = _talents_at(m)
        sizes = self._sizes(m.residents + talents)
        self.nodes.set_sizes(sizes)
        self.nodes.set_array(layer_values(m, self.layer))
        radius_pt = self._draw_firms(sizes)
        self.hubs.set_offsets(self._at_nodes([h.node for h in m.incubators]))
        self.culture.set_offsets(self._at_nodes([c.node for c in m.cultural_institutions]))
        self.unis.set_offsets(self._at_nodes([u.node for u in m.universities]))
        for text, i in zip(self.talent_labels, self.labelled, strict=True):
            text.set_text(f"{talents[i]:,}")
            text.xyann = (0, -radius_pt[i] - 1)
        for text, i in zip(self.place_labels, self.centres, strict=True):
            text.xyann = (0, radius_pt[i] + 1)
        self.title.set_text(f"{m.place_names[m.focus_place]}, month {m.steps}")
