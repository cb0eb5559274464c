"""Classroom app settings: city choices, policy levers and guided lesson scenarios (no UI code).

The browser page (:mod:`clustersim.app.page`) only turns widgets into a
:class:`ClassroomSettings` and hands it to :class:`ClassroomTown`; everything a
setting means for the model lives here, so it can be tested without a browser.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from clustersim.model.city import (
    CITY_KINDS,
    PRESETS,
    build_city_graph,
    city_config_from_name,
)
from clustersim.model.config import FirmParams, InstitutionParams, MarketParams, SpinUpParams
from clustersim.model.core import CreativeClusterModel

__all__ = [
    "CITY_LABELS",
    "LEVER_INFO",
    "SCENARIOS",
    "ClassroomSettings",
    "ClassroomTown",
    "LeverInfo",
    "Scenario",
    "available_levers",
    "city_graph",
    "model_kwargs",
    "refused_levers",
    "spin_up_months",
]

_GENERATED = CITY_KINDS  # the generated kinds, listed once in clustersim.model.city

#: City choices of the page: generator names, then the URBACT partner towns (with their city).
CITY_LABELS: dict[str, str] = {
    **{
        key: f"{spec.name} ({spec.population:,})"
        for key in _GENERATED
        if key in CITY_KINDS
        for spec in [city_config_from_name(key, None)]
    },
    **{
        key: f"{p.town} ({p.country}, {p.population:,}) + {p.city}"
        for key, p in sorted(PRESETS.items(), key=lambda item: item[1].population)
    },
}


@dataclass(frozen=True)
class LeverInfo:
    """How the page shows one policy lever.

    Attributes:
        label: Short name on the switch.
        summary: One sentence for students: what the lever does in the model.
        main: Shown first; the others sit under "More levers".
    """

    label: str
    summary: str
    main: bool = False


def _lever_info() -> dict[str, LeverInfo]:
    """Page labels from the lever modules (their ``label``, ``summary``, ``main``), main first."""
    try:
        from clustersim.policy.levers import LEVERS
    except ImportError:
        return {}
    ordered = sorted(LEVERS.items(), key=lambda item: not item[1].main)  # stable: registry order
    return {name: LeverInfo(cls.label, cls.summary, cls.main) for name, cls in ordered}


#: Page labels of the levers of :mod:`clustersim.policy.levers` (``LEVERS`` decides which exist).
LEVER_INFO: dict[str, LeverInfo] = _lever_info()


def available_levers() -> list[str]:
    """Lever names the installed model accepts, main levers first; empty if it has no levers."""
    if "policy" not in inspect.signature(CreativeClusterModel.__init__).parameters:
        return []
    try:
        from clustersim.policy.levers import LEVERS
    except ImportError:
        return []
    known = [name for name in LEVER_INFO if name in LEVERS]
    return known + sorted(set(LEVERS) - set(known))


def refused_levers(model: CreativeClusterModel | None) -> dict[str, str]:
    """Levers that cannot act in ``model``'s city, with the reason (the lever's ``refusal``)."""
    if model is None:
        return {}
    try:
        from clustersim.policy.levers import LEVERS
    except ImportError:
        return {}
    reasons = {name: LEVERS[name].refusal(model) for name in available_levers()}
    return {name: reason for name, reason in reasons.items() if reason is not None}


_FIRM = FirmParams()
_MARKET = MarketParams()
_INSTITUTIONS = InstitutionParams()


@dataclass(frozen=True)
class ClassroomSettings:
    """Everything a student can set on the page; one value = one reproducible town.

    Attributes:
        city: A key of :data:`CITY_LABELS`.
        seed: Seed of the town and of its agents (same seed, same town).
        levers: (lever name, intensity) of each lever switched on.
        policy_start: Month the levers start.
        budget: Municipal budget for creative policies at the start (EUR).
        agglomeration_cap: Creative jobs within reach of a node beyond which
            clustering adds no productivity; None = uncapped (the model's default).
        accessibility: Divides the travel time from the region's gateway to the
            outside world's markets (``market.outside_time``): 2 halves it.
    """

    city: str = "small_town"
    seed: int = 0
    levers: tuple[tuple[str, float], ...] = ()
    policy_start: int = 12
    budget: float = _INSTITUTIONS.municipality_budget
    agglomeration_cap: float | None = _FIRM.agglomeration_cap
    accessibility: float = 1.0

    def __post_init__(self) -> None:
        if self.city not in CITY_LABELS:
            raise ValueError(f"city must be one of {', '.join(CITY_LABELS)}; got {self.city!r}")
        if not 0.1 <= self.accessibility <= 5:
            raise ValueError(f"accessibility must be 0.1-5 times today's, got {self.accessibility}")
        names = [name for name, _ in self.levers]
        if len(set(names)) != len(names):
            raise ValueError(f"each lever may be switched on once, got {names}")

    def lever_intensity(self, name: str) -> float | None:
        """Intensity of lever ``name``, or None when it is off."""
        return dict(self.levers).get(name)

    def with_lever(self, name: str, intensity: float | None) -> ClassroomSettings:
        """These settings with lever ``name`` switched off (None) or on at ``intensity``."""
        levers = [(n, i) for n, i in self.levers if n != name]
        if intensity is not None:
            levers.append((name, float(intensity)))
        order = list(LEVER_INFO)
        levers.sort(key=lambda item: order.index(item[0]) if item[0] in order else len(order))
        return dataclasses.replace(self, levers=tuple(levers))

    def policy(self) -> dict[str, dict[str, Any]]:
        """The model's ``policy`` argument: lever name -> settings."""
        return {
            name: {"intensity": intensity, "start": self.policy_start}
            for name, intensity in self.levers
        }


def spin_up_months() -> int:
    """Months every town runs without policy before its month 0 (``spin_up.months``)."""
    return int(SpinUpParams().months)


def city_graph(settings: ClassroomSettings, rng: np.random.Generator) -> nx.Graph:
    """The city graph of ``settings``, drawn from ``rng``.

    With ``rng = np.random.default_rng(seed)`` it is the graph
    ``CreativeClusterModel(city=settings.city, rng=seed)`` builds: accessibility
    changes travel times to outside markets, not the graph.
    """
    return build_city_graph(city_config_from_name(settings.city, None), rng)


def model_kwargs(settings: ClassroomSettings) -> dict[str, Any]:
    """Keyword arguments of :class:`~clustersim.model.core.CreativeClusterModel` for settings.

    The town is the one ``clustersim city=<city> seed=<seed>`` runs (the city's
    name and the integer seed), so its spin-up is shared, through the cache,
    with every run of that town. Another accessibility divides the travel time
    from the region's gateway to the outside world's markets
    (``market.outside_time``) by it: the town reaches more or fewer outside
    buyers, and its external price follows (its market access).
    """
    kwargs: dict[str, Any] = {
        "city": settings.city,
        "rng": settings.seed,
        "firm": {"agglomeration_cap": settings.agglomeration_cap},
        "institutions": {"municipality_budget": float(settings.budget)},
    }
    if settings.accessibility != 1.0:
        kwargs["market"] = {"outside_time": _MARKET.outside_time / settings.accessibility}
    if settings.levers:
        kwargs["policy"] = settings.policy()
    return kwargs


class ClassroomTown(CreativeClusterModel):
    """The town of the classroom page: a CreativeClusterModel built from ClassroomSettings.

    With levers on it also runs the same town without them (``baseline``, same
    seed, same graph), so the plots can show what the policy changed.

    Args:
        settings: The settings, or a function returning the current ones (the
            page's Reset button rebuilds the town from what the controls show now).
        baseline: Also run the town without levers when levers are on.
    """

    #: The same town without levers (None without levers, or not built yet).
    baseline: CreativeClusterModel | None = None

    def __init__(
        self,
        *,
        settings: ClassroomSettings | Callable[[], ClassroomSettings] | None = None,
        baseline: bool = True,
    ) -> None:
        if callable(settings):
            settings = settings()
        self.settings = settings if settings is not None else ClassroomSettings()
        super().__init__(**model_kwargs(self.settings))
        if baseline and self.settings.levers:
            plain = dataclasses.replace(self.settings, levers=())
            self.baseline = CreativeClusterModel(**model_kwargs(plain))
        #: Held during a step; readers in other threads (a download) hold it to see whole months.
        self.lock = threading.RLock()

    def step(self) -> None:
        """Advance the town (and its baseline) by one month.

        The spin-up inside the model's constructor steps the model's own monthly
        process, never this method, so the lock and the baseline always exist here.
        """
        with self.lock:
            super().step()
            if self.baseline is not None:
                self.baseline.step()


@dataclass(frozen=True)
class Scenario:
    """A guided lesson step: settings to load and what students should watch for.

    ``watch_for`` announces only what the model shows in most seeds within
    ``months`` (tests/app/test_lessons.py runs each scenario and checks it).

    Attributes:
        title: Shown in the scenario menu.
        settings: What the controls are set to.
        watch_for: A few sentences (Markdown) shown above the town.
        months: How long the lesson runs the town (the text's "five years" and so on).
    """

    title: str
    settings: ClassroomSettings
    watch_for: str
    months: int = 60


SCENARIOS: dict[str, Scenario] = {
    "small_town": Scenario(
        "1. A small town without policy",
        ClassroomSettings(),
        "A town of 12,000 people. Circles are neighbourhoods sized by population, dots are "
        "creative firms, the number under a circle counts the creative workers (talents) "
        "living there. Month 0 is the town after 100 years of the model without policy. "
        "**Watch for:** press ▶ and follow five years (60 months). The creative economy is "
        "small: 30 to 50 creative firms, 110 to 160 creative jobs (2 to 3 in every 100 jobs), "
        "most in one or two neighbourhoods (map: Creative density). Firms open and close, "
        "about five a year; creative jobs and talents go up and down but stay within a quarter "
        "of where they started; rents do not move. The town does not take off by itself.",
    ),
    "hub_and_festival": Scenario(
        "2. The same town with a creative hub and a festival",
        ClassroomSettings(levers=(("creative_hub", 1.0), ("festival", 1.0))),
        "The same town (same seed) with a creative hub and a yearly festival from month 12; "
        "the grey dashed lines are the town without them. **Watch for:** the spending (about "
        "0.6 M EUR for the hub in month 12, its running costs, then a festival every year "
        "from month 19: 2.3 M EUR in five years), the hub's star and its tenant firms in "
        "magenta, and the rents at the centre (map: Rent), which jump with every festival "
        "and ease off in between. After five years the town's mean rent is about 6% above "
        "the grey line. And creative jobs? The gap stays within a few dozen jobs and changes "
        "a lot from one seed to another: one run cannot tell it from chance. Money well spent? "
        "What would you change?",
    ),
    "metropolis": Scenario(
        "3. A metropolis",
        ClassroomSettings(city="metropolis"),
        "A polycentric metropolis of one million; with this many firms the map draws one "
        "circle per neighbourhood, sized by its creative firms. **Watch for:** follow three "
        "years (36 months). Like the small town, it does not grow by itself: every month "
        "about 55 creative firms open and as many close, yet creative jobs and firms stay "
        "within 3% of where they started. What differs is the level: about 5,800 creative "
        "firms and 20,000 creative jobs, 4 to 5 in every 100 jobs (small town: 2 to 3); "
        "creative workers earn a little less than other work pays (small town: about three "
        "quarters); and jobs gather in the centre, the densest neighbourhood, with more than "
        "half of the city's creative jobs (map: Creative density). Why would the same rules "
        "give the big city nearly twice the small town's creative share?",
        months=36,
    ),
    "free_play": Scenario(
        "Free play",
        ClassroomSettings(),
        "Choose a town, for example a partner town next to its large city, and switch levers "
        "on and off. Every change rebuilds the town from month 0 with the same seed, so it is "
        "the same town until your levers start; after that, chance plays along, so another "
        "seed can tell another story: try two or three before you conclude. Another city, "
        "seed, agglomeration cap or accessibility is another town, with 100 years of its own "
        "before month 0.",
    ),
}
"""The guided lesson, in order (docs/teaching.md has the lesson plan)."""
