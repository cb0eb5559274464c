"""The classroom browser app: a live creative city on a Mesa SolaraViz page.

Run it with ``clustersim-app`` (or ``solara run clustersim.app.page``); it listens on
127.0.0.1:8765 by default and needs no internet. Every browser session builds
its own :class:`~clustersim.app.scenarios.ClassroomTown`, so one student's
clicks never move another's city. The page draws the city graph itself with
matplotlib (Mesa's Network renderer lays nodes out by a spring layout and
cannot size or colour them by data) and the plots from ``model.records``.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import io
import re
import threading
import warnings
from collections.abc import Callable, Sequence

import matplotlib as mpl
import numpy as np
import PIL.Image
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patheffects import withStroke
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter
from solara.alias import rw

from clustersim.app.scenarios import (
    CITY_LABELS,
    LEVER_INFO,
    SCENARIOS,
    ClassroomSettings,
    ClassroomTown,
    available_levers,
)
from clustersim.errors import ClusterSimError

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LAYERS",
    "TITLE",
    "BrowserTown",
    "CityMap",
    "CityMapFigure",
    "CityPlots",
    "CityPlotsFigure",
    "Page",
    "draw_positions",
    "layer_values",
    "main",
]

TITLE = "clustersim classroom: a live creative city"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_SCENARIO = "small_town"
_DEFAULT_CAP = ClassroomSettings().agglomeration_cap or 40.0

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


class BrowserTown(ClassroomTown):
    """A :class:`ClassroomTown` that stops playing when its browser session closes.

    SolaraViz's Play button steps the model in a non-daemon thread until the model
    stops running. A student who closes the tab (or a server shut down with Ctrl+C)
    while the town plays would otherwise leave that thread stepping forever and keep
    the server process from exiting. The town remembers its session's
    ``solara.kernel_closed_event()`` and, once it is set, takes no more steps and
    reports ``running = False``, which ends the Play loop.
    """

    # The signature repeats ClassroomTown's on purpose: SolaraViz's Reset passes a
    # ``scenario`` to any model whose __init__ takes **kwargs.
    def __init__(
        self,
        *,
        settings: ClassroomSettings | Callable[[], ClassroomSettings] | None = None,
        baseline: bool = True,
    ) -> None:
        super().__init__(settings=settings, baseline=baseline)
        try:
            self.session_closed: threading.Event | None = solara.kernel_closed_event()
        except RuntimeError:  # built outside a browser session (tests, notebooks)
            self.session_closed = None

    def step(self) -> None:
        """Advance one month, unless the browser session that owns the town has closed."""
        if self.session_closed is not None and self.session_closed.is_set():
            self.running = False
            return
        super().step()


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
        # points per data unit, to keep firms inside their node's disc
        width_pt = self.figure.get_figwidth() * 72 * 0.78
        self.data_per_pt = np.ptp(ax.get_xlim()) / width_pt
        people = model.residents + _talents_at(model)
        self.size_scale = 1400.0 / max(float(np.sqrt(people.max())), 1.0)
        _, label, cmap = LAYERS[layer]
        vmin, vmax = _layer_range(model, layer)
        self.nodes = ax.scatter(
            pos[:, 0],
            pos[:, 1],
            s=self._sizes(people),
            c=layer_values(model, layer),
            cmap=cmap,
            norm=mpl.colors.Normalize(vmin, vmax),
            edgecolors="#374151",
            linewidths=0.6,
            alpha=0.9,
            zorder=1,
        )
        colourbar_axes = self.figure.add_axes((0.8, 0.5, 0.025, 0.4))
        self.figure.colorbar(self.nodes, cax=colourbar_axes, label=label)
        self.firms = ax.scatter([], [], s=5, linewidths=0, zorder=3)
        self.hubs = ax.scatter(
            [], [], s=320, marker="*", c=_TENANT_COLOUR, edgecolors="k", zorder=5
        )
        self.culture = ax.scatter([], [], s=45, marker="D", c="#14b8a6", edgecolors="k", zorder=4)
        self.unis = ax.scatter([], [], s=55, marker="^", c="#8b5cf6", edgecolors="k", zorder=4)
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
        self.title = self.figure.text(0.39, 0.96, "", ha="center", va="center", fontsize=10)
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


_PLOTS = (
    ("creative_employment", "Creative employment (jobs)", 1.0),
    ("creative_firms", "Creative firms", 1.0),
    ("mean_rent", "Mean rent (EUR/month)", 1.0),
    ("policy_spend", "Policy spend, cumulative (thousand EUR)", 1e-3),
)


def _series(model, key: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    months = np.array([row["step"] for row in model.records], float)
    values = np.array([row[key] for row in model.records], float) * scale
    if key == "policy_spend":
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
        for ax, (_key, label, _scale) in zip(axes.flat, _PLOTS, strict=True):
            ax.set_title(label, fontsize=9, y=1.0, pad=4)
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
        for (ax, line, ghost), (key, _label, scale) in zip(self.lines, _PLOTS, strict=True):
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

    The current limits are kept while the data fit and fill a fair part of them,
    so the axes (the slow part to draw) change only now and then.
    """
    values = np.asarray(values, float)
    low, high = float(values.min()), float(values.max())
    if key == "policy_spend":
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


@solara.component
def CityMap(model: ClassroomTown):
    """The city graph with a layer switch (re-drawn every step)."""
    update_counter.get()
    layer, set_layer = solara.use_state("rent")
    drawing = solara.use_memo(lambda: CityMapFigure(model, layer), [model, layer])
    drawing.update()
    names = {button: key for key, (button, _, _) in LAYERS.items()}
    with solara.Column(gap="4px") as main:
        solara.ToggleButtonsSingle(
            value=next(name for name, key in names.items() if key == layer),
            values=list(names),
            on_value=lambda name: set_layer(names[name]),
            dense=True,
        )
        png = solara.use_memo(drawing.png, [drawing, model.steps, update_counter.value])
        rw.Image(value=png, format="png")
    return main


@solara.component
def CityPlots(model: ClassroomTown):
    """Creative employment, firms, rent and policy spend over time."""
    update_counter.get()
    drawing = solara.use_memo(lambda: CityPlotsFigure(model), [model])
    drawing.update()
    png = solara.use_memo(drawing.png, [drawing, model.steps, update_counter.value])
    return rw.Image(value=png, format="png")


def _town_summary(model: ClassroomTown) -> str:
    """One line about the town and its policy, e.g. for the lesson card."""
    r = model.records[-1]
    town = model.place_names[model.focus_place]
    parts = [
        f"**{town}**, month {model.steps}",
        f"{r['creative_employment']:,.0f} creative jobs",
        f"{r['creative_firms']:,} creative firms",
        f"{r['talents']:,} talents",
        f"mean rent {r['mean_rent']:,.0f} EUR",
        f"budget left {model.municipality.budget / 1e6:,.2f} M EUR",
    ]
    levers = [
        f"{LEVER_INFO[n].label if n in LEVER_INFO else n} x{i:g}" for n, i in model.settings.levers
    ]
    policy = (
        f"levers from month {model.settings.policy_start}: {', '.join(levers)}"
        if levers
        else "no policy levers"
    )
    stopped = [f"{p.name} stopped ({p.stop_reason})" for p in model.policies if p.stop_reason]
    return " · ".join(parts) + f" · {policy}" + (f" · {'; '.join(stopped)}" if stopped else "")


def _settings_summary(settings: ClassroomSettings) -> str:
    """The key parameters in force, in one line."""
    cap = settings.agglomeration_cap
    return " · ".join(
        [
            f"Seed {settings.seed}",
            f"agglomeration cap {cap:g} firms" if cap is not None else "agglomeration uncapped",
            f"accessibility x{settings.accessibility:g}",
            f"municipal budget {settings.budget / 1e6:g} M EUR",
        ]
    )


def _rich_text(text: str, style: str = "") -> solara.Element:
    """Text with **bold** and *italic*, as HTML.

    solara.Markdown would fetch KaTeX from a CDN on every page, which fails offline.
    """
    body = html.escape(text)
    body = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", body)
    body = re.sub(r"\*(.+?)\*", r"<i>\1</i>", body)
    return solara.HTML(tag="div", unsafe_innerHTML=body, style=f"margin: 4px 0; {style}")


@solara.component
def LessonGuide(
    model: ClassroomTown,
    scenario: str,
    on_scenario: Callable[[str], None],
    settings: ClassroomSettings,
):
    """The scenario menu, what to watch for, and the town in one line."""
    update_counter.get()
    lesson = SCENARIOS[scenario]
    titles = {s.title: key for key, s in SCENARIOS.items()}
    with solara.Card(margin=0) as card:
        solara.Select(
            "Lesson scenario",
            value=lesson.title,
            values=list(titles),
            on_value=lambda title: on_scenario(titles[title]),
            style={"max-width": "560px"},
        )
        _rich_text(lesson.watch_for)
        if settings != lesson.settings and scenario != "free_play":
            _rich_text("*You changed this scenario's settings: it is now your experiment.*")
        _rich_text(_town_summary(model), style="font-size: 0.9em; color: #374151")
        _rich_text(_settings_summary(model.settings), style="font-size: 0.8em; color: #6b7280")
    return card


@solara.component
def LeverSwitch(name: str, settings: ClassroomSettings, on_settings: Callable):
    """On/off and intensity of one lever."""
    info = LEVER_INFO.get(name)
    label = info.label if info else name.replace("_", " ").capitalize()
    intensity = settings.lever_intensity(name)
    with solara.Column(gap="0px") as column:
        solara.Checkbox(
            label=label,
            value=intensity is not None,
            on_value=lambda on: on_settings(settings.with_lever(name, 1.0 if on else None)),
        )
        if intensity is not None:
            if info:
                solara.Text(info.summary, style={"font-size": "0.8em", "color": "#4b5563"})
            solara.SliderFloat(
                f"{label} intensity",
                value=intensity,
                min=0.25,
                max=3.0,
                step=0.25,
                on_value=lambda v: on_settings(settings.with_lever(name, v)),
            )
    return column


@solara.component
def ClassroomControls(
    settings: ClassroomSettings, on_settings: Callable[[ClassroomSettings], None]
):
    """Sidebar: city, levers and key parameters."""
    cities = {label: key for key, label in CITY_LABELS.items()}
    levers = available_levers()

    def change(**values) -> None:
        on_settings(dataclasses.replace(settings, **values))

    with solara.Card("Town and policy", margin=0) as card:
        solara.Select(
            "City",
            value=CITY_LABELS[settings.city],
            values=list(cities),
            on_value=lambda label: change(city=cities[label]),
        )
        _rich_text("**Policy levers**")
        if not levers:
            solara.Info("This version of clustersim has no policy levers.", dense=True)
        else:
            main = [n for n in levers if n in LEVER_INFO and LEVER_INFO[n].main]
            for name in main:
                LeverSwitch(name, settings, on_settings)
            with solara.Details(
                "More levers", expand=any(n not in main for n, _ in settings.levers)
            ):
                for name in levers:
                    if name not in main:
                        LeverSwitch(name, settings, on_settings)
            solara.SliderInt(
                "Levers start in month",
                value=settings.policy_start,
                min=1,
                max=60,
                on_value=lambda v: change(policy_start=v),
            )
            solara.SliderFloat(
                "Municipal budget (M EUR)",
                value=settings.budget / 1e6,
                min=0.0,
                max=30.0,
                step=0.5,
                on_value=lambda v: change(budget=v * 1e6),
            )
        _rich_text("**Key parameters**")
        capped = settings.agglomeration_cap is not None
        solara.Checkbox(
            label="Clustering benefits stop at a cap",
            value=capped,
            on_value=lambda on: change(agglomeration_cap=_DEFAULT_CAP if on else None),
        )
        if capped:
            solara.SliderInt(
                "Agglomeration cap (firms per place)",
                value=int(settings.agglomeration_cap),
                min=5,
                max=200,
                step=5,
                on_value=lambda v: change(agglomeration_cap=float(v)),
            )
        solara.SliderFloat(
            "Accessibility (x today's)",
            value=settings.accessibility,
            min=0.5,
            max=2.0,
            step=0.1,
            on_value=lambda v: change(accessibility=round(v, 2)),
        )
        solara.InputInt(
            "Seed (another town of the same kind)",
            value=settings.seed,
            on_value=lambda v: change(seed=int(v)),
        )
    return card


@solara.component
def _SidebarBelowMesa(children: list, depth: int = 3):
    """Sidebar content placed after SolaraViz's cards, so Step, Play and Reset stay on top.

    Solara orders sidebar content by how deep in the component tree it is
    declared; declaring it a few components deeper than SolaraViz puts it last.
    """
    if depth > 0:
        return _SidebarBelowMesa(children=children, depth=depth - 1)
    return solara.Sidebar(children=children)


@solara.component
def Page():
    """The classroom page: one town per browser session, controls, map and plots."""
    scenario = solara.use_reactive(DEFAULT_SCENARIO)
    settings = solara.use_reactive(SCENARIOS[DEFAULT_SCENARIO].settings)
    first_town = solara.use_memo(lambda: BrowserTown(settings=settings.value), [])
    model = solara.use_reactive(first_town)

    error = solara.use_reactive("")

    def apply(new: ClassroomSettings) -> None:
        try:
            town = BrowserTown(settings=new)
        except (ClusterSimError, ValueError) as problem:  # keep the current town
            error.set(f"That setting does not work: {problem}")
            return
        error.set("")
        settings.set(new)
        model.set(town)

    def choose_scenario(key: str) -> None:
        scenario.set(key)
        apply(SCENARIOS[key].settings)

    with solara.Column(style={"padding": "0 8px"}) as page:
        _SidebarBelowMesa(children=[ClassroomControls(settings.value, apply)])
        LessonGuide(model.value, scenario.value, choose_scenario, settings.value)
        if error.value:
            solara.Error(error.value)
        SolaraViz(
            model,
            components=[CityMap, CityPlots],
            model_params={"settings": settings.get},
            name=TITLE,
            play_interval=250,
        )
    return page


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the classroom app (``clustersim-app [--host H] [--port P] [--open]``)."""
    parser = argparse.ArgumentParser(
        prog="clustersim-app",
        description="Serve the clustersim classroom app (a live creative city) in the browser.",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this computer only; "
        "0.0.0.0 lets the classroom network reach it)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument("--open", action="store_true", help="open a browser tab when ready")
    args = parser.parse_args(argv)
    from solara.__main__ import cli

    # solara warns on every page load over plain http from another host (a classroom
    # network); the session cookie then falls back to SameSite=Lax, which is what we want
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

    cli.main(
        args=[
            "run",
            "clustersim.app.page",
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--production",
            "--open" if args.open else "--no-open",
        ],
        prog_name="clustersim-app",
    )


if __name__ == "__main__":
    main()
