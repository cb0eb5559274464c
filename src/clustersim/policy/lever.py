"""What every lever shares: settings, targets, its own random stream, costs and the Lever class.

A lever (one module under :mod:`clustersim.policy.levers`) subclasses
:class:`LeverSettings` for its parameters and :class:`Lever` for its behaviour.
Levers never write outcomes (jobs, firms, talents) directly: they change what
the mechanisms read (the hooks of :class:`~clustersim.model.host.PolicyHost`)
and pay for it from the municipal budget.

Each lever draws its own random numbers from a child stream of the model's
seed, keyed by its name, so adding a lever does not shift the random numbers
the rest of the model uses (common random numbers across scenarios).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from clustersim.errors import ConfigError
from clustersim.params import MAX_MONTHS, param
from clustersim.policy.base import Policy

if TYPE_CHECKING:
    from clustersim.model.host import PolicyHost

__all__ = [
    "MAX_COST_MONTHLY",
    "MAX_COST_ONCE",
    "TARGET_RULES",
    "Lever",
    "LeverSettings",
    "cost_factor",
    "lever_rng",
    "resolve_targets",
]

MAX_COST_ONCE = 1e10
"""Largest one-off cost of a lever (EUR): ten billion, above any municipal project
(European Capitals of Culture spent EUR 5.5m-59m; docs/evidence.md)."""

MAX_COST_MONTHLY = 1e9
"""Largest running cost of a lever (EUR/month): a billion a month."""

#: Rules a lever's ``target`` may name instead of a list of node names.
TARGET_RULES = {
    "centre": "the focus place's centre node",
    "focus": "every node of the focus place",
    "most_vacant": "the focus node with the most vacant space",
    "most_vacant_3": "the three focus nodes with the most vacant space",
    "highest_amenity": "the focus node with the highest amenity",
    "cheapest": "the focus node with the lowest rent",
    "university": "focus nodes with a university (else the centre)",
    "transport_link": "the transport edges joining the focus place to other places",
}


@dataclass
class LeverSettings:
    """Settings every lever shares: timing, target, intensity and costs."""

    start: int = param(
        12,
        unit="month",
        doc="first month the lever acts (<= steps)",
        source="-",
        ge=1,
        le=MAX_MONTHS,
    )
    duration: int | None = param(
        None,
        unit="months",
        doc="months it runs; null = to the end",
        source="-",
        ge=1,
        le=MAX_MONTHS,
        optional=True,
    )
    target: Any = param(
        "centre",
        unit="-",
        doc="node names (list) or a rule: " + ", ".join(TARGET_RULES),
        source="-",
    )
    intensity: float = param(
        1.0, unit="-", doc="strength relative to the default", source="-", ge=0, le=10
    )
    cost_once: float = param(
        0.0,
        unit="EUR",
        doc="one-off cost paid at the start",
        source="-",
        ge=0,
        le=MAX_COST_ONCE,
    )
    cost_monthly: float = param(
        0.0,
        unit="EUR/month",
        doc="running cost per month",
        source="-",
        ge=0,
        le=MAX_COST_MONTHLY,
    )
    cost_scaling: float = param(
        1.0,
        unit="-",
        doc="costs are quoted at intensity 1 and grow as intensity ** cost_scaling: 1 = in "
        "proportion, 0 = the same at any intensity, between = economies of scale (applies to "
        "cost_once, cost_monthly and per-edition costs; grants and subsidies are paid per unit)",
        source="assumption",
        ge=0,
        le=1,
    )


def _rule_targets(model: PolicyHost, rule: str, focus: list[int]) -> list[int]:
    """Node ids a rule of :data:`TARGET_RULES` names."""
    if rule == "centre" or rule == "transport_link":
        from clustersim.model.city import centre_node

        return [centre_node(model.graph, model.place_names[model.focus_place])]
    if rule == "focus":
        return focus
    if rule.startswith("most_vacant"):
        k = 3 if rule.endswith("_3") else 1
        order = np.argsort(-model.vacant_space0[focus], kind="stable")
        return [focus[i] for i in order[:k]]
    if rule == "highest_amenity":
        return [focus[int(np.argmax(model.amenity[focus]))]]
    if rule == "cheapest":
        return [focus[int(np.argmin(model.rent[focus]))]]
    with_uni = [n for n in focus if model.university_count[n] > 0]  # "university"
    return with_uni or _rule_targets(model, "centre", focus)


def resolve_targets(model: PolicyHost, target: Any, *, lever: str) -> list[int]:
    """Node ids a target names: a rule from :data:`TARGET_RULES`, node names, or node ids."""
    if isinstance(target, str) and target in TARGET_RULES:
        return _rule_targets(model, target, [int(n) for n in model.focus_nodes])
    names = [target] if isinstance(target, str | int) else list(target or [])
    if not names:
        raise ConfigError(f"policy.{lever}.target must name nodes or a rule; got an empty list")
    nodes = []
    for name in names:
        if isinstance(name, int) and not isinstance(name, bool):
            if not 0 <= name < model.n_nodes:
                raise ConfigError(
                    f"policy.{lever}.target: node {name} is not in the city graph "
                    f"(0..{model.n_nodes - 1})"
                )
            nodes.append(name)
        elif name in model.node_names:
            nodes.append(model.node_names.index(name))
        else:
            allowed = ", ".join(list(TARGET_RULES) + model.node_names[:5]) + ", ..."
            raise ConfigError(
                f"policy.{lever}.target: unknown node or rule {name!r}; allowed: {allowed}"
            )
    return nodes


_LEVER_STREAM = 0x6C65766572  # "lever": separates lever streams from other spawned children


def lever_rng(model: PolicyHost, name: str) -> np.random.Generator:
    """A random generator for lever ``name``: a child of the model's seed keyed by the name.

    Drawing from it leaves ``model.rng`` untouched, so a run with the lever and
    one without share the model's random numbers (common random numbers), and
    a lever's own draws do not depend on which other levers are configured.
    """
    seq = model.rng.bit_generator.seed_seq
    key = (*getattr(seq, "spawn_key", ()), _LEVER_STREAM, zlib.crc32(name.encode()))
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=key))


def cost_factor(settings: LeverSettings) -> float:
    """What a lever's quoted costs are multiplied by at its intensity.

    Costs in the settings are those of the default scale (intensity 1). A lever
    run at twice the intensity buys twice the tenant places, visitors, travel-time
    cut or broadband gain, so by default it costs twice as much
    (``cost_scaling = 1``); ``cost_scaling < 1`` models economies of scale and
    ``0`` a fixed price.

    Examples:
        >>> cost_factor(LeverSettings(intensity=2.0))
        2.0
        >>> cost_factor(LeverSettings(intensity=4.0, cost_scaling=0.5))
        2.0
        >>> cost_factor(LeverSettings(intensity=3.0, cost_scaling=0.0))
        1.0
    """
    return float(settings.intensity**settings.cost_scaling)


class Lever(Policy):
    """A configured lever: reads its settings, resolves its target nodes.

    A lever module sets the class attributes below and ``LEVER = TheClass``;
    the registry (:mod:`clustersim.policy.registry`) finds it by the module's
    name, which is also the lever's name in configs (``configs/policy/<name>.yaml``).

    Attributes:
        Settings: the lever's settings dataclass (a :class:`LeverSettings`).
        label: short name in the classroom app (e.g. "Creative hub").
        summary: one sentence for students: what the lever does in the model.
        main: shown first in the app; the others sit under "More levers".
        order: position in lists of levers (the app, error messages); ties by name.
        settings: the lever's validated settings (an instance of ``Settings``).
        lever_rng: the lever's own random generator (see :func:`lever_rng`).
    """

    Settings: ClassVar[type[LeverSettings]] = LeverSettings
    label: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    main: ClassVar[bool] = False
    order: ClassVar[int] = 1000

    @classmethod
    def refusal(cls, model: PolicyHost) -> str | None:
        """Why this lever cannot act in ``model``'s city at all (None: it can).

        A lever that would be paid for and do nothing there is refused: building
        the model raises a ConfigError with this reason before the spin-up
        (:func:`clustersim.policy.registry.check_city`, the one place that checks it),
        and the app shows the lever switched off with the reason's first clause (up
        to a colon).
        """
        return None

    def __init__(self, model: PolicyHost, name: str, settings: LeverSettings) -> None:
        self.settings = settings
        self.lever_rng = lever_rng(model, name)
        nodes = resolve_targets(model, settings.target, lever=name)
        super().__init__(
            model,
            name=name,
            start=settings.start,
            duration=settings.duration,
            target=nodes,
            intensity=settings.intensity,
            cost_once=settings.cost_once * cost_factor(settings),
            cost_monthly=settings.cost_monthly * cost_factor(settings),
        )
        self._ramp_month = 0

    def ramp(self, values: np.ndarray, total_gain: float, months: int) -> None:
        """Raise ``values`` at the target nodes by one month's share of a gain (capped at 1).

        Gradual levers (broadband rollout, openness) call it each month; they add
        their step to whatever the array holds, so two levers on the same nodes
        add up. After ``months`` calls it does nothing.
        """
        if self._ramp_month >= months:
            return
        self._ramp_month += 1
        nodes = self.target_nodes
        values[nodes] = np.minimum(values[nodes] + total_gain / months, 1.0)
