"""The classroom page: Solara components around a Mesa SolaraViz, one town per browser session.

``solara run clustersim.app`` (or ``clustersim-app``, :mod:`clustersim.app.serve`)
serves :func:`Page`. Every browser session builds its own :class:`BrowserTown`, so
one student's clicks never move another's city. The page shows the figures of
:mod:`clustersim.app.figures` (the city map and the plots), the lesson card and the
sidebar controls; what a setting means for the model lives in
:mod:`clustersim.app.scenarios`.
"""

from __future__ import annotations

import dataclasses
import html
import re
import threading
from collections.abc import Callable

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter
from solara.alias import rw

from clustersim.app.figures import LAYERS, CityMapFigure, CityPlotsFigure
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
    "TITLE",
    "BrowserTown",
    "CityMap",
    "CityPlots",
    "ClassroomControls",
    "LessonGuide",
    "Page",
]

TITLE = "clustersim classroom: a live creative city"
DEFAULT_SCENARIO = "small_town"
_DEFAULT_CAP = ClassroomSettings().agglomeration_cap or 40.0


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
