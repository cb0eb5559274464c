"""The classroom page's cards: lesson guide, town-and-policy controls, the gap, downloads.

Solara components without page layout: :mod:`clustersim.app.page` places them.
Each takes the text sizes of the page's layout (:data:`TEXT_SIZES`), so the
projector layout is legible from the back of a classroom.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import solara
from mesa.visualization.utils import update_counter

from clustersim.app.readout import (
    ONE_HISTORY,
    baseline_gap,
    download_name,
    firms_csv,
    timeseries_csv,
)
from clustersim.app.scenarios import (
    CITY_LABELS,
    LEVER_INFO,
    SCENARIOS,
    ClassroomSettings,
    ClassroomTown,
    available_levers,
)

__all__ = [
    "TEXT_SIZES",
    "UNCAPPED_CAUTION",
    "BaselineReadout",
    "ClassroomControls",
    "Downloads",
    "LessonGuide",
    "LeverSwitch",
    "PreparingNotice",
    "SpeedControls",
    "TextSizes",
    "preparing_text",
]

#: The cap a student gets on ticking the box (creative jobs within a few minutes' reach).
_DEFAULT_CAP = ClassroomSettings().agglomeration_cap or 200.0

#: Shown under the cap's box when it is unticked, as it is by default
#: (tests/app/test_scenarios.py checks the small-town part).
UNCAPPED_CAUTION = (
    "Uncapped, as in the model's defaults: productivity rises by about 3.5% each time the "
    "creative jobs within a few minutes' reach double. In the small town no place reaches "
    "200 jobs: there a cap of 200 or more changes nothing."
)


@dataclass(frozen=True)
class TextSizes:
    """CSS font sizes of the page's text in one layout.

    Attributes:
        body: The lesson text.
        small: Summaries, captions, labels of numbers.
        number: The live numbers (month, jobs, gap, cost).
    """

    body: str
    small: str
    number: str


#: Text sizes per layout (the keys of :data:`clustersim.app.figures.LOOKS`). On a projector
#: the share of the screen's width is what counts at the back of the room, so the projector
#: layout's text grows with the window (20 px body text at 1920 px wide), the figures too.
TEXT_SIZES: dict[str, TextSizes] = {
    "projector": TextSizes(
        body="max(1.05vw, 14px)", small="max(0.85vw, 11px)", number="max(1.45vw, 19px)"
    ),
    "compact": TextSizes(body="1rem", small="0.85rem", number="1.4rem"),
}


def _rich_text(text: str, style: str = "") -> solara.Element:
    """Text with **bold** and *italic*, as HTML.

    solara.Markdown would fetch KaTeX from a CDN on every page, which fails offline.
    """
    body = html.escape(text)
    body = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", body)
    body = re.sub(r"\*(.+?)\*", r"<i>\1</i>", body)
    return solara.HTML(tag="div", unsafe_innerHTML=body, style=f"margin: 4px 0; {style}")


def _town_summary(model: ClassroomTown) -> str:
    """One line about the town and its policy, e.g. for the lesson card."""
    r = model.records[-1]
    town = model.place_names[model.focus_place]
    parts = [
        f"**{town}**, month {model.steps}",
        f"{r['creative_employment']:,.0f} creative jobs",
        f"{r['creative_firms']:,} creative firms",
        f"{r['talents']:,} talents",
        f"{r['creative_share']:.1%} of jobs creative",
        f"creative pay {r['mean_income']:,.0f} EUR (other work {r['other_wage']:,.0f})",
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
            f"agglomeration cap {cap:g} jobs" if cap is not None else "agglomeration uncapped",
            f"accessibility x{settings.accessibility:g}",
            f"municipal budget {settings.budget / 1e6:g} M EUR",
        ]
    )


def preparing_text(months: int) -> str:
    """What the page says while a town is built: 'Preparing the town (100 years without policy)...'.

    Examples:
        >>> preparing_text(1200)
        'Preparing the town (100 years without policy)...'
        >>> preparing_text(18)
        'Preparing the town (18 months without policy)...'
        >>> preparing_text(0)
        'Preparing the town...'
    """
    if months <= 0:
        return "Preparing the town..."
    span = f"{months // 12} years" if months % 12 == 0 else f"{months} months"
    return f"Preparing the town ({span} without policy)..."


@solara.component
def PreparingNotice(months: int, sizes: TextSizes = TEXT_SIZES["compact"]):
    """Shown while a town is built: its spin-up runs (only the first time it is opened)."""
    with solara.Card(margin=0, classes=["clustersim-preparing"]) as card:
        solara.v.ProgressLinear(indeterminate=True, color="primary")
        _rich_text(f"**{preparing_text(months)}**", style=f"font-size: {sizes.body}")
        if months > 0:
            _rich_text(
                f"The first time a town is opened, the model runs it for {months} months without "
                "policy, so that month 0 is what the model's own dynamics made of the town, not "
                "the drawn starting point. A metropolis takes a while; afterwards the town opens "
                "at once.",
                style=f"font-size: {sizes.small}; color: #4b5563",
            )
    return card


@solara.component
def LessonGuide(
    model: ClassroomTown,
    scenario: str,
    on_scenario: Callable[[str], None],
    settings: ClassroomSettings,
    sizes: TextSizes = TEXT_SIZES["compact"],
):
    """The scenario menu, what to watch for, and the town in one line."""
    update_counter.get()
    lesson = SCENARIOS[scenario]
    titles = {s.title: key for key, s in SCENARIOS.items()}
    with solara.Card(margin=0) as card:
        with solara.Row(gap="24px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select(
                "Lesson scenario",
                value=lesson.title,
                values=list(titles),
                on_value=lambda title: on_scenario(titles[title]),
                style={"flex": "1 1 320px", "max-width": "560px", "font-size": sizes.small},
            )
            with solara.Column(gap="0px", style={"flex": "2 1 400px"}):
                _rich_text(_town_summary(model), style=f"font-size: {sizes.small}; color: #374151")
                _rich_text(
                    _settings_summary(model.settings),
                    style=f"font-size: calc({sizes.small} * 0.85); color: #6b7280",
                )
        _rich_text(lesson.watch_for, style=f"font-size: {sizes.body}; line-height: 1.35")
        if settings != lesson.settings and scenario != "free_play":
            _rich_text(
                "*You changed this scenario's settings: it is now your experiment.*",
                style=f"font-size: {sizes.body}",
            )
    return card


def _stat(label: str, value: str, sizes: TextSizes, colour: str = "#111827") -> None:
    """One live number under its label."""
    with solara.Column(gap="0px"):
        solara.Text(label, style={"font-size": sizes.small, "color": "#4b5563"})
        solara.Text(
            value,
            classes=["clustersim-number"],
            style={"font-size": sizes.number, "font-weight": "600", "color": colour},
        )


@solara.component
def BaselineReadout(model: ClassroomTown, sizes: TextSizes = TEXT_SIZES["compact"]):
    """Creative jobs against the same town without levers, money spent, cost per extra job."""
    update_counter.get()
    gap = baseline_gap(model)
    with solara.Column(gap="4px", classes=["clustersim-readout"]) as column:
        if gap is None:
            _rich_text(
                "**No levers on.** Switch one on (*Town and policy*) and the same town without "
                "levers runs alongside: the page then shows the gap in creative jobs and the "
                "cost per extra job.",
                style=f"font-size: {sizes.small}; color: #374151",
            )
            return column
        colour = "#15803d" if gap.gap > 0 else "#b91c1c" if gap.gap < 0 else "#111827"
        with solara.Row(gap="28px", style={"flex-wrap": "wrap", "align-items": "flex-end"}):
            _stat("Creative jobs", f"{gap.jobs:,.0f}", sizes)
            _stat("Without levers", f"{gap.baseline_jobs:,.0f}", sizes, "#6b7280")
            _stat("Gap", gap.gap_text(), sizes, colour)
            _stat("Spent so far", gap.spent_text(), sizes)
            cost = gap.cost_per_job
            _stat(
                "Cost per extra creative job",
                "no extra jobs yet" if cost is None else f"{cost:,.0f} EUR",
                sizes,
            )
        _rich_text(ONE_HISTORY, style=f"font-size: calc({sizes.small} * 0.9); color: #6b7280")
    return column


@solara.component
def Downloads(model: ClassroomTown):
    """Take the run home: the time series and the firm table as CSV files."""
    update_counter.get()
    series = solara.use_memo(lambda: functools.partial(timeseries_csv, model), [model])
    firms = solara.use_memo(lambda: functools.partial(firms_csv, model), [model])
    with solara.Row(gap="8px") as row:
        solara.FileDownload(
            series,
            filename=download_name(model, "timeseries"),
            label="Time series CSV",
            mime_type="text/csv",
        )
        solara.FileDownload(
            firms,
            filename=download_name(model, "firms"),
            label="Firms CSV",
            mime_type="text/csv",
        )
    return row


@solara.component
def LeverSwitch(
    name: str, settings: ClassroomSettings, on_settings: Callable, refused: str | None = None
):
    """On/off and intensity of one lever; switched off and greyed, with why, when ``refused``."""
    info = LEVER_INFO.get(name)
    label = info.label if info else name.replace("_", " ").capitalize()
    intensity = None if refused else settings.lever_intensity(name)
    with solara.Column(gap="0px") as column:
        solara.Checkbox(
            label=label,
            value=intensity is not None,
            disabled=refused is not None,
            on_value=lambda on: on_settings(settings.with_lever(name, 1.0 if on else None)),
        )
        if refused:
            solara.Text(
                f"Not here: {refused.split(':')[0]}.",
                style={"font-size": "0.8em", "color": "#6b7280"},
                classes=["clustersim-lever-refused"],
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


def _lever_switches(
    settings: ClassroomSettings, on_settings: Callable, refused: Mapping[str, str]
) -> None:
    """The main levers, the others under "More levers", start month and budget."""
    levers = available_levers()
    if not levers:
        solara.Info("This version of clustersim has no policy levers.", dense=True)
        return
    main = [n for n in levers if n in LEVER_INFO and LEVER_INFO[n].main]
    for name in main:
        LeverSwitch(name, settings, on_settings, refused.get(name))
    with solara.Details("More levers", expand=any(n not in main for n, _ in settings.levers)):
        for name in levers:
            if name not in main:
                LeverSwitch(name, settings, on_settings, refused.get(name))
    solara.SliderInt(
        "Levers start in month",
        value=settings.policy_start,
        min=1,
        max=60,
        on_value=lambda v: on_settings(dataclasses.replace(settings, policy_start=v)),
    )
    solara.SliderFloat(
        "Municipal budget (M EUR)",
        value=settings.budget / 1e6,
        min=0.0,
        max=30.0,
        step=0.5,
        on_value=lambda v: on_settings(dataclasses.replace(settings, budget=v * 1e6)),
    )


@solara.component
def ClassroomControls(
    settings: ClassroomSettings,
    on_settings: Callable[[ClassroomSettings], None],
    refused: Mapping[str, str] | None = None,
):
    """Side panel: city, levers and key parameters.

    ``refused``: levers that cannot act in the town shown, with why
    (:func:`~clustersim.app.scenarios.refused_levers`); they are shown switched off.
    """
    cities = {label: key for key, label in CITY_LABELS.items()}

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
        _lever_switches(settings, on_settings, refused or {})
        _rich_text("**Key parameters**")
        capped = settings.agglomeration_cap is not None
        solara.Checkbox(
            label="Clustering benefits stop at a cap",
            value=capped,
            on_value=lambda on: change(agglomeration_cap=_DEFAULT_CAP if on else None),
        )
        if not capped:
            solara.Text(
                UNCAPPED_CAUTION,
                style={"font-size": "0.8em", "color": "#b45309"},
                classes=["clustersim-uncapped"],
            )
        if capped:
            solara.SliderInt(
                "Agglomeration cap (creative jobs within reach)",
                value=int(settings.agglomeration_cap),
                min=20,
                max=2000,
                step=20,
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
def SpeedControls(play_interval: solara.Reactive[int], render_interval: solara.Reactive[int]):
    """How fast ▶ plays, and how many months a Step (or one redraw while playing) moves on."""
    with solara.Card("Speed", margin=0) as card:
        solara.SliderInt(
            "Pause between months while playing (ms)",
            value=play_interval,
            min=50,
            max=1000,
            step=50,
        )
        solara.SliderInt(
            "Months per Step and per redraw", value=render_interval, min=1, max=12, step=1
        )
    return card
