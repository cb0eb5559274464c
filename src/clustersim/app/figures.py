"""The app's matplotlib figures: the city map and the time-series plots of a town.

No Solara here: :class:`CityMapFigure` and :class:`CityPlotsFigure` take a
:class:`~clustersim.app.scenarios.ClassroomTown`, redraw from its current state
(:meth:`update`) and hand out PNG frames (:meth:`png`) that the page shows. The
plots' titles come from the declared outcomes (:mod:`clustersim.model.outcomes`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patheffects import withStroke

from clustersim.app.scenarios import ClassroomTown
from clustersim.model.outcomes import outcome

__all__ = [
    "LAYERS",
    "PLOTS",
    "CityMapFigure",
    "CityPlotsFigure",
    "draw_positions",
    "layer_values",
    "plot_title",
]

#: Map colour layers: key -> (button label, colour bar label, colormap).
LAYERS: dict[str, tuple[str, str, str]] = {
    "rent": ("Rent", "Rent (EUR/month)", "YlOrRd"),
    "creative_density": ("Creative density", "Creative jobs per 1,000 people", "PuBu"),
    "amenity": ("Amenity", "Amenity (index)", "YlGn"),
    "accessibility": ("Accessibility", "Accessibility (index)", "BuPu"),
}

_PLACE_GAP = 0.35  # gap between drawn places, as a share of the focus town's width
_FIRM_COLOUR, _TENANT_COLOUR = "#1f2937", "#c026d3"
_HALO = [withStroke(linewidth=2.5, foreground="white")]  # keeps labels legible over firms


def _unit_hash(ids: np.ndarray, salt: int) -> np.ndarray:
    """A deterministic pseudo-random number in [0, 1) per id (for firm jitter; no RNG drawn)."""
    x = (ids.astype(np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(29)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(32)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def draw_positions(model: ClassroomTown) -> np.ndarray:
    """Node positions (km) for drawing: other places are moved next to the focus town.

    A partner town is 60-150 km from its large city; drawn to scale, the town
    would be a dot. Each place keeps its own shape; the link is labelled instead.
    """
    g = model.graph
    pos = np.array([[g.nodes[i]["x"], g.nodes[i]["y"]] for i in range(model.n_nodes)], float)
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
    if layer == "accessibility":
        return np.asarray(model.accessibility, float)
    if layer == "creative_density":
        jobs = np.bincount(
            model.firms.node[model.firms.alive],
            weights=model.firms.employees[model.firms.alive],
            minlength=model.n_nodes,
        )
        people = np.maximum(model.residents + _talents_at(model), 1.0)
        return 1000.0 * jobs / people
    raise ValueError(f"layer must be one of {', '.join(LAYERS)}; got {layer!r}")


def _talents_at(model: ClassroomTown) -> np.ndarray:
    t = model.talents
    return np.bincount(t.home[t.alive], minlength=model.n_nodes)


def _layer_range(model: ClassroomTown, layer: str) -> tuple[float, float]:
    """A fixed colour range per town, so colours change when the town does."""
    if layer in ("amenity", "accessibility"):
        return 0.0, 1.5 if layer == "amenity" else 1.0
    start = layer_values(model, layer)
    if layer == "rent":
        return 0.8 * float(start.min()), 1.4 * float(start.max())
    return 0.0, max(2.0 * float(start.max()), 1.0)


class _Frame:
    """Fast PNG frames of a figure whose static part (axes, labels, legend) rarely changes.

    The static part is rendered once and kept as a bitmap; each frame restores it
    and draws only the changing artists on top (Agg blitting), about ten times
    faster than ``savefig`` on the classroom machines.
    """

    def __init__(self, figure: Figure, dynamic: Sequence) -> None:
        self.figure, self.dynamic = figure, list(dynamic)
        self.canvas = FigureCanvasAgg(figure)
        self._background, self._key = None, None

    def png(self, static_key: object = None) -> bytes:
        """The figure as PNG; the static part is re-rendered when ``static_key`` changes."""
        if self._background is None or static_key != self._key:
            for artist in self.dynamic:
                artist.set_visible(False)
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._key = static_key
            for artist in self.dynamic:
                artist.set_visible(True)
        else:
            self.canvas.restore_region(self._background)
        for artist in self.dynamic:
            self.figure.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba())
        out = io.BytesIO()
        image.convert("RGB").save(out, format="png", compress_level=1)
        return out.getvalue()


class CityMapFigure:
    """The city graph: nodes sized by population and coloured by a layer, firms, talents."""

    def __init__(self, model: ClassroomTown, layer: str) -> None:
        self.model, self.layer = model, layer
        self.figure = Figure(figsize=(6.4, 5.0), dpi=90)
        ax = self.ax = self.figure.add_axes((0.0, 0.0, 0.78, 0.93))
        ax.set_aspect("equal")
        ax.set_axis_off()
        self.pos = pos = draw_positions(model)
        span = np.ptp(pos, axis=0).max() or 1.0
        pad = 0.08 * span
        ax.set_xlim(pos[:, 0].min() - pad, pos[:, 0].max() + pad)
        ax.set_ylim(pos[:, 1].min() - pad, pos[:, 1].max() + pad)
        self._draw_edges()
        # points per data unit, to keep firms inside their node's disc
        width_pt = self.figure.get_figwidth() * 72 * 0.78
        self.data_per_pt = np.ptp(ax.get_xlim()) / width_pt
        people = model.residents + _talents_at(model)
        self.size_scale = 1400.0 / max(float(np.sqrt(people.max())), 1.0)
        self._draw_nodes(people)
        self.firms = ax.scatter([], [], s=5, linewidths=0, zorder=3)
        self.hubs = ax.scatter(
            [], [], s=320, marker="*", c=_TENANT_COLOUR, edgecolors="k", zorder=5
        )
        self.culture = ax.scatter([], [], s=45, marker="D", c="#14b8a6", edgecolors="k", zorder=4)
        self.unis = ax.scatter([], [], s=55, marker="^", c="#8b5cf6", edgecolors="k", zorder=4)
        self._add_labels(people)
        self.title = self.figure.text(0.39, 0.96, "", ha="center", va="center", fontsize=10)
        self._add_legend()
        self.frame = _Frame(
            self.figure,
            [
                self.nodes,
                self.firms,
                self.hubs,
                self.culture,
                self.unis,
                *self.talent_labels,
                *self.place_labels,
                self.title,
            ],
        )
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
                fontsize=7,
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
        colourbar_axes = self.figure.add_axes((0.8, 0.5, 0.025, 0.4))
        self.figure.colorbar(self.nodes, cax=colourbar_axes, label=label)

    def _add_labels(self, people: np.ndarray) -> None:
        """Talent counts under the focus town's places (its 20 largest if many), place names."""
        model, ax, pos = self.model, self.ax, self.pos
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
                fontsize=7,
                color="#111827",
                path_effects=_HALO,
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
                fontsize=9,
                fontweight="bold",
                path_effects=_HALO,
                zorder=6,
            )
            for i in centres
        ]

    def _add_legend(self) -> None:
        """What the markers mean, and what the number under a place counts."""
        self.figure.legend(
            handles=[
                Line2D([], [], ls="", marker="o", ms=3, color=_FIRM_COLOUR, label="creative firm"),
                Line2D([], [], ls="", marker="o", ms=3, color=_TENANT_COLOUR, label="hub tenant"),
                Line2D(
                    [], [], ls="", marker="*", ms=11, color=_TENANT_COLOUR, label="creative hub"
                ),
                Line2D([], [], ls="", marker="D", ms=5, color="#14b8a6", label="culture"),
                Line2D([], [], ls="", marker="^", ms=6, color="#8b5cf6", label="university"),
            ],
            loc="lower left",
            bbox_to_anchor=(0.78, 0.02),
            fontsize=7,
            frameon=False,
            title="number under a place:\ntalents living there",
            title_fontsize=7,
        )

    def png(self) -> bytes:
        """The map as PNG (call :meth:`update` first)."""
        return self.frame.png()

    def _sizes(self, people: np.ndarray) -> np.ndarray:
        return 30.0 + self.size_scale * np.sqrt(np.maximum(people, 0.0))

    def _at_nodes(self, nodes: Sequence[int]) -> np.ndarray:
        return self.pos[np.asarray(nodes, dtype=int)].reshape(-1, 2)

    def update(self) -> None:
        """Redraw from the model's current state (sizes, colours, firms, labels)."""
        m = self.model
        talents = _talents_at(m)
        people = m.residents + talents
        sizes = self._sizes(people)
        self.nodes.set_sizes(sizes)
        self.nodes.set_array(layer_values(m, self.layer))
        f = m.firms
        alive = np.flatnonzero(f.alive)
        node = f.node[alive]
        radius = 0.8 * np.sqrt(sizes[node]) / 2 * self.data_per_pt
        angle = 2 * np.pi * _unit_hash(alive, 1)
        r = radius * np.sqrt(_unit_hash(alive, 2))
        xy = self.pos[node] + np.column_stack([r * np.cos(angle), r * np.sin(angle)])
        self.firms.set_offsets(xy.reshape(-1, 2))
        tenant = f.incubator[alive] >= 0
        self.firms.set_facecolors(
            np.where(tenant[:, None], _rgba(_TENANT_COLOUR), _rgba(_FIRM_COLOUR))
        )
        self.firms.set_sizes(np.where(tenant, 12.0, 5.0))
        self.hubs.set_offsets(self._at_nodes([h.node for h in m.incubators]))
        self.culture.set_offsets(self._at_nodes([c.node for c in m.cultural_institutions]))
        self.unis.set_offsets(self._at_nodes([u.node for u in m.universities]))
        radius_pt = np.sqrt(sizes) / 2
        for text, i in zip(self.talent_labels, self.labelled, strict=True):
            text.set_text(f"{talents[i]:,}")
            text.xyann = (0, -radius_pt[i] - 1)
        for text, i in zip(self.place_labels, self.centres, strict=True):
            text.xyann = (0, radius_pt[i] + 1)
        self.title.set_text(f"{m.place_names[m.focus_place]}, month {m.steps}")


def _rgba(colour: str) -> np.ndarray:
    return np.array(mpl.colors.to_rgba(colour))


#: The four plots, in reading order: (declared outcome, scale of its values on the plot).
#: Flows (counted per month) are drawn cumulatively, levels as they are.
PLOTS: tuple[tuple[str, float], ...] = (
    ("creative_employment", 1.0),
    ("creative_firms", 1.0),
    ("mean_rent", 1.0),
    ("policy_spend", 1e-3),
)
_SCALE_WORDS = {1.0: "", 1e-3: "thousand ", 1e-6: "million "}


def _cumulative(key: str) -> bool:
    """Whether the plot of outcome ``key`` adds it up (a flow) rather than showing it (a level)."""
    return outcome(key).kind == "flow"


def plot_title(key: str, scale: float = 1.0) -> str:
    """The title of the plot of outcome ``key``, from its declared label and unit.

    Examples:
        >>> plot_title("creative_employment")
        'Creative employment (jobs)'
        >>> plot_title("creative_firms")
        'Creative firms'
        >>> plot_title("policy_spend", 1e-3)
        'Policy spend, cumulative (thousand EUR)'
    """
    declared = outcome(key)
    title = declared.label + (", cumulative" if _cumulative(key) else "")
    if scale != 1.0 or declared.unit not in declared.label:
        title += f" ({_SCALE_WORDS[scale]}{declared.unit})"
    return title[:1].upper() + title[1:]


def _series(model, key: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    months = np.array([row["step"] for row in model.records], float)
    values = np.array([row[key] for row in model.records], float) * scale
    if _cumulative(key):
        values = np.cumsum(values)
    return months, values


class CityPlotsFigure:
    """Time series of the focus town; grey dashed: the same town without levers."""

    def __init__(self, model: ClassroomTown) -> None:
        self.model = model
        self.figure = Figure(figsize=(6.4, 5.0), dpi=90)
        self.figure.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.94, wspace=0.3)
        axes = self.figure.subplots(2, 2, sharex=True)
        self.lines = []
        for ax, (key, scale) in zip(axes.flat, PLOTS, strict=True):
            ax.set_title(plot_title(key, scale), fontsize=9, y=1.0, pad=4)
            ax.tick_params(labelsize=8)
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")
            ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5, integer=True))
            ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(4))
            (line,) = ax.plot([], [], color="#2563eb", lw=1.6, label="this town")
            (ghost,) = ax.plot([], [], color="#9ca3af", lw=1.2, ls="--", label="without levers")
            if model.settings.levers:
                ax.axvline(model.settings.policy_start, color="#f97316", lw=0.8, ls=":")
            self.lines.append((ax, line, ghost))
        for ax in axes[1]:
            ax.set_xlabel("month", fontsize=8)
        if model.baseline is not None:
            axes[0, 0].legend(fontsize=7, loc="lower left")
        self.frame = _Frame(
            self.figure, [x for _, line, ghost in self.lines for x in (ghost, line)]
        )
        self.update()

    def update(self) -> None:
        """Set the lines up to the model's current month; axes grow in steps, not every month."""
        m, base = self.model, self.model.baseline
        months = m.steps
        x_max = 24 if months <= 24 else 12 * int(np.ceil(months / 12))
        for (ax, line, ghost), (key, scale) in zip(self.lines, PLOTS, strict=True):
            line.set_data(*_series(m, key, scale))
            if base is not None:
                ghost.set_data(*_series(base, key, scale))
            ax.set_xlim(0, x_max)
            values = np.concatenate(
                [line.get_ydata()] + ([ghost.get_ydata()] if base is not None else [])
            )
            ax.set_ylim(*_y_range(ax.get_ylim(), values, key))

    def png(self) -> bytes:
        """The plots as PNG (call :meth:`update` first)."""
        limits = tuple((ax.get_xlim(), ax.get_ylim()) for ax, _, _ in self.lines)
        return self.frame.png(static_key=limits)


def _y_range(current: tuple[float, float], values: np.ndarray, key: str) -> tuple[float, float]:
    """Y limits for ``values``: at least +-10% around them, so noise does not look like a trend.

    A running total (a cumulative flow such as the policy spend) starts at 0. The
    current limits are kept while the data fit and fill a fair part of them, so the
    axes (the slow part to draw) change only now and then.
    """
    values = np.asarray(values, float)
    low, high = float(values.min()), float(values.max())
    if _cumulative(key) and low >= 0.0:  # a running total from 0, e.g. the policy spend
        wanted = (0.0, max(high * 1.25, 1.0))
    else:
        middle, half = (low + high) / 2, (high - low) / 2
        half = max(half * 1.25, 0.1 * abs(middle), 1.0)
        wanted = (max(middle - half, 0.0), middle + half)
    lo, hi = current
    fits = 0.0 <= lo <= low and high <= hi
    span = wanted[1] - wanted[0]
    snug = span <= hi - lo <= 2.0 * span
    return (lo, hi) if fits and snug else wanted
