"""The classroom page: its own layout around Mesa's run controls, one town per browser session.

``solara run clustersim.app`` (or ``clustersim-app``, :mod:`clustersim.app.serve`)
serves :func:`Page`. Every browser session builds its own :class:`BrowserTown`, so
one student's clicks never move another's city; it builds it in a thread
(:func:`use_town_builder`), since a town's first build runs its spin-up (100 years
without policy before month 0), and says so on the page meanwhile. The page has two layouts
(:data:`~clustersim.app.figures.LOOKS`): *projector* (the default: large map and
plots, large text, the side panel closed) and *compact* (the side panel open,
today's laptop sizes), switched in the app bar. Mesa contributes its
``ModelController`` (Reset, ▶, Step); the page does not use ``SolaraViz``, whose
parameter card, thread switch and page tabs mean nothing in a classroom. The
figures are :mod:`clustersim.app.citymap` and :mod:`clustersim.app.figures`; the
cards are :mod:`clustersim.app.panels`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import cast

import solara
import solara.server.settings
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter
from solara.alias import rw

from clustersim.app.citymap import LAYERS, CityMapFigure
from clustersim.app.figures import DEFAULT_LOOK, LOOKS, CityPlotsFigure, FigureLook
from clustersim.app.panels import (
    TEXT_SIZES,
    BaselineReadout,
    ClassroomControls,
    Downloads,
    LessonGuide,
    PreparingNotice,
    SpeedControls,
    TextSizes,
)
from clustersim.app.scenarios import (
    SCENARIOS,
    ClassroomSettings,
    ClassroomTown,
    refused_levers,
    spin_up_months,
)
from clustersim.errors import ClusterSimError

__all__ = [
    "TITLE",
    "BrowserTown",
    "CityMap",
    "CityPlots",
    "Header",
    "Page",
    "RunCard",
    "TownRequest",
    "Workspace",
    "hide_solara_banner",
    "use_town_builder",
]

TITLE = "clustersim classroom: a live creative city"
SHORT_TITLE = "clustersim classroom"
DEFAULT_SCENARIO = "small_town"
#: Whether the side panel (town and policy, speed) starts open, per layout.
PANEL_OPEN = {"projector": False, "compact": True}
_PANEL_STYLE = {
    "flex": "0 0 380px",
    "width": "380px",
    "position": "sticky",
    "top": "60px",
    "max-height": "calc(100vh - 72px)",
    "overflow-y": "auto",
}
_HEADER_STYLE = "position: sticky; top: 0; z-index: 10; flex: none"
_log = logging.getLogger(__name__)


def hide_solara_banner() -> None:
    """Turn off Solara's "This website runs on Solara" banner and name the browser tab.

    Both are settings of the Solara server (``solara.server.settings.theme``), read
    each time it sends the page, so they hold for ``solara run`` and for tests.
    """
    solara.server.settings.theme.show_banner = False
    solara.server.settings.theme.title = TITLE


hide_solara_banner()


class BrowserTown(ClassroomTown):
    """A :class:`ClassroomTown` that stops playing when its browser session closes.

    Mesa's Play button steps the model in a non-daemon thread until the model
    stops running. A student who closes the tab (or a server shut down with Ctrl+C)
    while the town plays would otherwise leave that thread stepping forever and keep
    the server process from exiting. The town remembers its session's
    ``solara.kernel_closed_event()`` and, once it is set, takes no more steps and
    reports ``running = False``, which ends the Play loop. It also remembers the
    lesson scenario it was built for (``lesson``), which the page shows with it.
    """

    # The signature repeats ClassroomTown's on purpose: Mesa's Reset passes a
    # ``scenario`` to any model whose __init__ takes **kwargs.
    def __init__(
        self,
        *,
        settings: ClassroomSettings | Callable[[], ClassroomSettings] | None = None,
        baseline: bool = True,
        lesson: str | Callable[[], str] = DEFAULT_SCENARIO,
    ) -> None:
        super().__init__(settings=settings, baseline=baseline)
        self.lesson = lesson() if callable(lesson) else lesson
        try:
            self.session_closed: threading.Event | None = solara.kernel_closed_event()
        except RuntimeError:  # built outside a browser session (tests, notebooks)
            self.session_closed = None

    #: The session's closed event; None outside a browser session and until built.
    session_closed: threading.Event | None = None

    def step(self) -> None:
        """Advance one month, unless the browser session that owns the town has closed."""
        if self.session_closed is not None and self.session_closed.is_set():
            self.running = False
            return
        super().step()


def _figure_image(png: bytes, look: FigureLook, name: str) -> solara.Element:
    """A figure's PNG, at most its own size, shrinking with the page."""
    return rw.Image(
        value=png,
        format="png",
        layout={"width": "100%", "max_width": f"{look.pixels(name)[0]}px", "height": "auto"},
        _dom_classes=[f"clustersim-{name}"],
    )


@solara.component
def CityMap(model: ClassroomTown, look: FigureLook = LOOKS["compact"]):
    """The city graph with a layer switch (re-drawn every step)."""
    update_counter.get()
    layer, set_layer = solara.use_state("rent")
    drawing = solara.use_memo(lambda: CityMapFigure(model, layer, look), [model, layer, look])
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
        _figure_image(png, look, "map")
    return main


@solara.component
def CityPlots(model: ClassroomTown, look: FigureLook = LOOKS["compact"]):
    """Creative employment, firms, rent and policy spend over time."""
    update_counter.get()
    drawing = solara.use_memo(lambda: CityPlotsFigure(model, look), [model, look])
    drawing.update()
    png = solara.use_memo(drawing.png, [drawing, model.steps, update_counter.value])
    return _figure_image(png, look, "plots")


@solara.component
def RunCard(
    model: solara.Reactive[ClassroomTown],
    rebuild: dict[str, Callable],
    play_interval: solara.Reactive[int],
    render_interval: solara.Reactive[int],
    sizes: TextSizes = TEXT_SIZES["compact"],
):
    """Reset, ▶ and Step (Mesa's), the month, and the gap to the same town without levers."""
    update_counter.get()
    use_threads = solara.use_reactive(False)
    with solara.Card(margin=0) as card:
        with solara.Row(gap="32px", style={"align-items": "center", "flex-wrap": "wrap"}):
            with solara.Column(style={"width": "280px"}):
                # Reset rebuilds BrowserTown(**{name: getter() for name, getter in rebuild})
                ModelController(
                    model,
                    model_parameters=rebuild,
                    play_interval=play_interval,
                    render_interval=render_interval,
                    use_threads=use_threads,
                )
            solara.Text(
                f"Month {model.value.steps}",
                classes=["clustersim-month"],
                style={"font-size": sizes.number, "font-weight": "600", "min-width": "5em"},
            )
            with solara.Column(style={"flex": "1 1 480px", "min-width": "0"}):
                BaselineReadout(model.value, sizes)
    return card


#: Where the run card, the map and the plots go in each layout (a CSS grid, so that the
#: components keep their place in the tree and Mesa's controller its state when switched).
_GRIDS = {
    "projector": {  # the map beside the numbers and the plots
        "grid-template-columns": "minmax(0, 920fr) minmax(0, 940fr)",
        "grid-template-areas": "'map run' 'map plots'",
        "grid-template-rows": "auto 1fr",
    },
    "compact": {  # the numbers above the map and the plots
        "grid-template-columns": "minmax(0, 1fr) minmax(0, 1fr)",
        "grid-template-areas": "'run run' 'map plots'",
    },
}


@solara.component
def Workspace(
    model: solara.Reactive[ClassroomTown],
    rebuild: dict[str, Callable],
    play_interval: solara.Reactive[int],
    render_interval: solara.Reactive[int],
    layout: str,
):
    """The run card, the map and the plots, placed as the layout wants them."""
    look, sizes = LOOKS[layout], TEXT_SIZES[layout]
    grid = {"display": "grid", "gap": "12px 16px", "align-items": "start", **_GRIDS[layout]}
    with solara.Div(style=grid, classes=[f"clustersim-{layout}"]) as main:
        with solara.Div(style={"grid-area": "run", "min-width": "0"}):
            RunCard(model, rebuild, play_interval, render_interval, sizes)
        with solara.Div(style={"grid-area": "map", "min-width": "0"}):
            CityMap(model.value, look)
        with solara.Div(style={"grid-area": "plots", "min-width": "0"}):
            CityPlots(model.value, look)
    return main


@solara.component
def Header(
    model: ClassroomTown | None,
    layout: str,
    on_layout: Callable[[str], None],
    panel: bool,
    on_panel: Callable,
):
    """The bar on top: title, downloads, the side panel's button, the layout switch."""
    labels = {look.label: key for key, look in LOOKS.items()}
    with solara.v.Toolbar(
        color="primary", dark=True, dense=True, style_=_HEADER_STYLE, class_="clustersim-header"
    ) as bar:
        solara.v.ToolbarTitle(children=[SHORT_TITLE])
        solara.v.Spacer()
        with solara.Row(gap="16px", style={"align-items": "center", "background": "none"}):
            with solara.Row(gap="16px", style={"align-items": "center", "background": "none"}):
                if model is not None:  # none until the first town is built
                    solara.Text("Download:")
                    Downloads(model)
            solara.Button(
                "Town and policy",
                icon_name="mdi-chevron-left" if panel else "mdi-tune",
                on_click=lambda: on_panel(not panel),
                outlined=not panel,
                classes=["clustersim-panel-button"],
            )
            solara.Text("Layout:")
            solara.ToggleButtonsSingle(
                value=LOOKS[layout].label,
                values=list(labels),
                on_value=lambda label: on_layout(labels[label]),
                dense=True,
                classes=["clustersim-layout"],
            )
    return bar


#: A town to build: (lesson scenario key, settings).
TownRequest = tuple[str, ClassroomSettings]


def use_town_builder(
    wanted: solara.Reactive[TownRequest | None],
    model: solara.Reactive[BrowserTown | None],
    error: solara.Reactive[str],
) -> None:
    """Build the town ``wanted`` asks for in a thread; once built, show it.

    Building a town runs its spin-up (years without policy before month 0), or
    reads it from the cache: for a metropolis a quarter of a minute or more the
    first time. Built in a thread, the page meanwhile says so and the current
    town stays usable. A request that a newer one replaced while it was built
    is dropped; a setting the model refuses leaves the current town and says why.
    """
    request = wanted.value

    def build() -> None:
        if request is None:
            return
        town, problem = None, ""
        try:
            town = BrowserTown(settings=request[1], lesson=request[0])
        except (ClusterSimError, ValueError) as refused:
            problem = f"That setting does not work: {refused}"
        except Exception as failure:  # the page must not say "Preparing" forever
            _log.exception("building the town failed")
            problem = f"The town could not be built: {type(failure).__name__}: {failure}"
        if wanted.value is not request:  # a newer request came meanwhile
            return
        # the notice goes before the town comes: each set redraws the page, and a town shown
        # under a "Preparing" notice that is about to go would jump up when it goes
        wanted.set(None)
        error.set(problem)
        if town is not None:
            model.set(town)  # the town brings its lesson and settings along

    solara.use_thread(build, dependencies=[request], intrusive_cancel=False)


@solara.component
def Page():
    """The classroom page: one town per browser session, controls, map and plots."""
    first: TownRequest = (DEFAULT_SCENARIO, SCENARIOS[DEFAULT_SCENARIO].settings)
    wanted = solara.use_reactive(cast(TownRequest | None, first))  # the town being built
    model = solara.use_reactive(cast(BrowserTown | None, None))  # the town shown
    error = solara.use_reactive("")
    use_town_builder(wanted, model, error)
    layout = solara.use_reactive(DEFAULT_LOOK)
    panel = solara.use_reactive(PANEL_OPEN[DEFAULT_LOOK])
    play_interval, render_interval = solara.use_reactive(250), solara.use_reactive(1)
    town = model.value
    scenario, settings = (town.lesson, town.settings) if town is not None else first
    # what Mesa's Reset rebuilds: the town shown, from month 0 (read when Reset is clicked)
    rebuild = {"settings": lambda: model.value.settings, "lesson": lambda: model.value.lesson}

    def choose_layout(key: str) -> None:
        layout.set(key)
        panel.set(PANEL_OPEN[key])

    sizes = TEXT_SIZES[layout.value]
    with solara.Column(gap="0px") as page:
        solara.Title(TITLE)  # the browser tab's
        Header(town, layout.value, choose_layout, panel.value, panel.set)
        with solara.Row(gap="16px", style={"align-items": "flex-start", "padding": "12px"}):
            # always in the tree (hidden when closed), so opening it remounts nothing
            open_ = {"display": "block" if panel.value else "none"}
            with solara.Div(style={**_PANEL_STYLE, **open_}, classes=["clustersim-panel"]):
                with solara.Column():
                    ClassroomControls(
                        settings, lambda new: wanted.set((scenario, new)), refused_levers(town)
                    )
                    SpeedControls(play_interval, render_interval)
            with solara.Column(gap="12px", style={"flex": "1 1 0", "min-width": "0"}):
                # always there, so that the notice coming and going remounts nothing below
                # (a remounted run card would forget that ▶ was pressed)
                quiet = wanted.value is None and not error.value  # no gap for an empty card
                status = {"display": "none"} if quiet else {"display": "grid", "gap": "12px"}
                with solara.Div(style=status, classes=["clustersim-status"]):
                    if wanted.value is not None:
                        PreparingNotice(spin_up_months(), sizes)
                    if error.value:
                        solara.Error(error.value)
                if town is not None:
                    LessonGuide(
                        town,
                        scenario,
                        lambda key: wanted.set((key, SCENARIOS[key].settings)),
                        settings,
                        sizes,
                    )
                    Workspace(model, rebuild, play_interval, render_interval, layout.value)
    return page
