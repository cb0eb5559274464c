"""The Policy base agent: timing, targeting, costs paid from the municipal budget.

A concrete lever subclasses :class:`Policy` (through
:class:`clustersim.policy.lever.Lever`) and overrides :meth:`Policy.on_start`,
:meth:`Policy.act` (each paid month) and :meth:`Policy.on_stop`. It must act
through the model's mechanisms (e.g. change amenity, rents, travel times,
productivity), never by writing outcomes directly, and it reaches the model
only through :class:`clustersim.model.host.PolicyHost`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from clustersim.model.host import PolicyHost

__all__ = ["Policy"]


class Policy(mesa.Agent):
    """A policy intervention that acts each month while active and books its cost.

    Args:
        model: the model (see :class:`~clustersim.model.host.PolicyHost`).
        name: label used in spend tables.
        start: first month (model step) the policy acts, >= 1.
        duration: months it runs; None runs to the end of the simulation.
        target: node ids it targets (empty: the whole focus place).
        intensity: lever-specific strength, >= 0; at 0 the policy is off (it never
            starts, acts or pays), so a plan with a lever at 0 runs as the plan without it.
        cost_once: one-off cost in EUR paid at the start.
        cost_monthly: cost in EUR paid every active month.

    Attributes:
        status: "scheduled", "active", "stopped" or "off" (intensity 0).
        stop_step: month it stopped, or None.
        stop_reason: why it stopped ("completed" or "budget exhausted ...").
        spent: total EUR paid so far.
    """

    model: PolicyHost

    def __init__(
        self,
        model: PolicyHost,
        *,
        name: str = "policy",
        start: int = 1,
        duration: int | None = None,
        target: Sequence[int] = (),
        intensity: float = 1.0,
        cost_once: float = 0.0,
        cost_monthly: float = 0.0,
    ) -> None:
        for field_name, value in (
            ("cost_once", cost_once),
            ("cost_monthly", cost_monthly),
            ("intensity", intensity),
        ):
            if value < 0:
                raise ValueError(f"policy {name}: {field_name} must be >= 0, got {value}")
        if start < 1:
            raise ValueError(f"policy {name}: start must be >= 1, got {start}")
        if duration is not None and duration < 1:
            raise ValueError(f"policy {name}: duration must be >= 1 or None, got {duration}")
        n_nodes = model.graph.number_of_nodes()
        for node in target:
            if not 0 <= node < n_nodes:
                raise ValueError(f"policy {name}: target node {node} is not in the city graph")
        super().__init__(model)
        self.name = name
        self.start = start
        self.duration = duration
        self.target = list(target)
        self.intensity = intensity
        self.cost_once = cost_once
        self.cost_monthly = cost_monthly
        self.status = "off" if intensity == 0 else "scheduled"
        self.stop_step: int | None = None
        self.stop_reason: str | None = None
        self.spent = 0.0
        self.model.policies.append(self)

    @property
    def target_nodes(self) -> list[int]:
        """Targeted node ids; the focus place's nodes when no target was given."""
        return self.target or [int(n) for n in self.model.focus_nodes]

    #: Where the lever's costs go (see ``Municipality.pay``): local staff and works
    #: by default; a lever overrides it when it pays outside contractors.
    spends_on = "other_firms"

    def pay(self, amount: float, what: str, to: str | None = None) -> bool:
        """Pay ``amount`` EUR from the municipal budget; stop the policy if it cannot.

        The money goes to ``to`` (default: the lever's ``spends_on``).
        """
        if amount <= 0:
            return True
        if self.model.municipality.pay(amount, self.name, to=to or self.spends_on):
            self.spent += amount
            return True
        left = self.model.municipality.budget
        self.stop(f"budget exhausted: {what} of {amount:,.0f} EUR, {left:,.0f} EUR left")
        return False

    def purchase(self, amount: float, what: str) -> bool:
        """Pay ``amount`` EUR for purchases from creative firms within reach of the targets."""
        if amount <= 0:
            return True
        if self.model.municipality.purchase(amount, self.name, self.target_nodes):
            self.spent += amount
            return True
        left = self.model.municipality.budget
        self.stop(f"budget exhausted: {what} of {amount:,.0f} EUR, {left:,.0f} EUR left")
        return False

    def step(self) -> None:
        """Start, pay, act or stop, depending on the month."""
        t = self.model.steps
        if self.status in ("stopped", "off") or t < self.start:
            return
        if self.status == "scheduled":
            if not self.pay(self.cost_once, "one-off cost"):
                return
            self.status = "active"
            self.on_start()
        if self.duration is not None and t >= self.start + self.duration:
            self.stop("completed")
            return
        if self.pay(self.cost_monthly, "monthly cost"):
            self.act()

    def stop(self, reason: str) -> None:
        """Stop for good, record when and why, and undo temporary effects."""
        if self.status in ("stopped", "off"):
            return
        was_active = self.status == "active"
        self.status = "stopped"
        self.stop_step = self.model.steps
        self.stop_reason = reason
        if was_active:
            self.on_stop()

    def on_start(self) -> None:
        """Hook: the first paid month (e.g. build a hub). Default: nothing."""

    def act(self) -> None:
        """Hook: every paid month while active. Default: nothing."""

    def on_stop(self) -> None:
        """Hook: when the policy stops (e.g. a subsidy ends). Default: nothing."""

    def rows_renumbered(self, new_row: Mapping[str, np.ndarray]) -> None:
        """Hook: the agent tables were compacted; map rows this policy keeps. Default: nothing.

        ``new_row[table][old row]`` is the row's new number, -1 for an agent gone (its
        row archived). Called between months, whatever the policy's status.
        """
