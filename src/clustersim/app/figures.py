"""The app's matplotlib figures: their two looks (projector, compact), PNG frames, and the plots.

No Solara here. A :class:`FigureLook` says how large a figure is drawn and how big
its text is (:data:`LOOKS`: a large one for a classroom projector and today's
compact one); :class:`PngFrames` turns a figure into fast PNG frames; and
:class:`CityPlotsFigure` draws the time-series plots of a
:class:`~clustersim.app.scenarios.ClassroomTown`, redrawn from its current state
(:meth:`~CityPlotsFigure.update`). The plots' titles come from the declared
outcomes (:mod:`clustersim.model.outcomes`). The city map is in
:mod:`clustersim.app.citymap`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from clustersim.app.scenarios import ClassroomTown
from clustersim.model.outcomes import outcome

__all__ = [
    "DEFAULT_LOOK",
    "LOOKS",
    "PLOTS",
    "CityPlotsFigure",
    "FigureLook",
    "PngFrames",
    "plot_title",
]


@dataclass(frozen=True)
class FigureLook:
    """How large the figures are drawn and how big their text is.

    Sizes of text are in points; a figure is ``map_size`` (or ``plots_size``) inches at
    ``dpi`` pixels per inch, so its PNG is that many pixels, and the page shows it at
    that size or smaller.

    Attributes:
        label: Name on the page's layout switch.
        map_size: Width and height of the map (inches).
        plots_size: Width and height of the four plots together (inches).
        dpi: Pixels per inch of the PNG frames.
        small: Legends, counts under places, link lengths.
        ticks: Tick labels and axis labels.
        title: Plot titles and place names.
        heading: The map's title (town and month).
        line: Width of the town's lines on the plots.
        title_chars: A plot title longer than this breaks before its unit; 0 = never.
    """

    label: str
    map_size: tuple[float, float]
    plots_size: tuple[float, float]
    dpi: float
    small: float
    ticks: float
    title: float
    heading: float
    line: float
    title_chars: int = 0

    def pixels(self, figure: str) -> tuple[int, int]:
        """Width and height of the PNG of ``figure`` ("map" or "plots"), in pixels."""
        width, height = self.map_size if figure == "map" else self.plots_size
        return round(width * self.dpi), round(height * self.dpi)


#: The page's layouts: a large one for a classroom projector (legible from the back of
#: the room on a 1920x1080 screen: the map beside the plots, each about half the screen)
#: and the compact one of a laptop screen (the sizes of the first classroom page).
LOOKS: dict[str, FigureLook] = {
    "projector": FigureLook(
        "Projector",
        map_size=(9.2, 7.3),
        plots_size=(9.4, 5.6),
        dpi=100,
        small=11,
        ticks=12,
        title=14,
        heading=15,
        line=2.6,
        title_chars=32,
    ),
    "compact": FigureLook(
        "Compact",
        map_size=(6.4, 5.0),
        plots_size=(6.4, 5.0),
        dpi=90,
        small=7,
        ticks=8,
        title=9,
        heading=10,
        line=1.6,
    ),
}
DEFAULT_LOOK = "projector"


class PngFrames:
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


def _tick(value: float, _position: object = None) -> str:
    """A tick label with thousands separators: 17,500 rather than 17500; 0.25 stays 0.25."""
    return f"{value:,.0f}" if value == round(value) else f"{value:,.2g}"


def _series(model, key: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    months = np.array([row["step"] for row in model.records], float)
    values = np.array([row[key] for row in model.records], float) * scale
    if _cumulative(key):
        values = np.cumsum(values)
    return months, values


class CityPlotsFigure:
    """Time series of the focus town; grey dashed: the same town without levers."""

    def __init__(self, model: ClassroomTown, look: FigureLook = LOOKS["compact"]) -> None:
        self.model, self.look = model, look
        self.figure = Figure(figsize=look.plots_size, dpi=look.dpi)
        # margins in points, from the text they hold, so the larger look gets the room it needs
        width, height = (72 * side for side in look.plots_size)
        left = 3.6 * look.ticks + 12  # tick labels such as 17,500
        bottom = 2.6 * look.ticks + 8  # tick labels and "month"
        top = 1.8 * look.small + 1.5 * look.title + 6  # the legend and a title
        self.figure.subplots_adjust(
            left=left / width,
            right=0.98,
            bottom=bottom / height,
            top=1 - top / height,
            wspace=0.3,
            hspace=0.35,
        )
        axes = self.figure.subplots(2, 2, sharex=True)
        self.lines = [
            self._plot(ax, key, scale) for ax, (key, scale) in zip(axes.flat, PLOTS, strict=True)
        ]
        for ax in axes[1]:
            ax.set_xlabel("month", fontsize=look.ticks)
        if model.baseline is not None:
            self.figure.legend(
                handles=[self.lines[0][1], self.lines[0][2]],
                loc="upper center",
                ncol=2,
                fontsize=look.small,
                frameon=False,
                borderaxespad=0.1,
            )
        self.frame = PngFrames(
            self.figure, [x for _, line, ghost in self.lines for x in (ghost, line)]
        )
        self.update()

    def _plot(self, ax, key: str, scale: float) -> tuple:
        """One plot's axes, its town line and its baseline line (grey dashed)."""
        look = self.look
        title = plot_title(key, scale)
        if look.title_chars and len(title) > look.title_chars:  # wider than its plot
            title = title.replace(" (", "\n(")
        ax.set_title(title, fontsize=look.title, y=1.0, pad=4)
        ax.tick_params(labelsize=look.ticks)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5, integer=True))
        ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(4))
        ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(_tick))
        (line,) = ax.plot(
            [],
            [],
            color="#2563eb",
            lw=look.line,
            label="this town (with its levers)" if self.model.baseline else "this town",
        )
        (ghost,) = ax.plot(
            [],
            [],
            color="#9ca3af",
            lw=0.75 * look.line,
            ls="--",
            label="the same town without levers",
        )
        if self.model.settings.levers:
            ax.axvline(self.model.settings.policy_start, color="#f97316", lw=0.8, ls=":")
        return ax, line, ghost

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
