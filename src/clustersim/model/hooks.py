"""The model's extension point for policies: the policy layer plugs its levers in here.

The model never imports :mod:`clustersim.policy`. Instead the policy package
registers one :class:`PolicyPlugin` when it is imported (``import clustersim``
does so), and the model asks it to check and build the levers a config names.
Levers, in turn, reach the model only through the public interface described
by :class:`clustersim.model.host.PolicyHost`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from clustersim.errors import ConfigError

__all__ = ["PolicyAgent", "PolicyPlugin", "policy_plugin", "register_policy_plugin"]


class PolicyAgent(Protocol):
    """What the model reads of a policy agent: it steps it and tabulates these fields."""

    name: str
    start: int
    duration: int | None
    status: str
    stop_step: int | None
    stop_reason: str | None
    spent: float

    def step(self) -> None:
        """Act for one month."""

    def rows_renumbered(self, new_row: Mapping[str, np.ndarray]) -> None:
        """The agent tables were compacted: ``new_row[table][old row]`` is the new row (-1: gone).

        A policy keeping rows of a table (or arrays with an entry per row) maps them.
        """


class PolicyPlugin(Protocol):
    """Checks and builds the levers of a ``policy`` config mapping (lever key -> settings)."""

    def validate(self, policy: Mapping[str, Any], steps: int) -> None:
        """Raise ConfigError on the first invalid lever setting."""

    def check_city(self, model: Any, policy: Mapping[str, Any]) -> None:
        """Raise ConfigError if a configured lever cannot act in ``model``'s city at all.

        Called once the city and its institutions exist, before the spin-up.
        """

    def build(self, model: Any, policy: Mapping[str, Any]) -> list[PolicyAgent]:
        """Create the levers as agents of ``model``, in config order."""


_PLUGIN: list[PolicyPlugin] = []


def register_policy_plugin(plugin: PolicyPlugin) -> None:
    """Install the policy plug-in (the policy package calls this once, at import)."""
    _PLUGIN[:] = [plugin]


def policy_plugin() -> PolicyPlugin:
    """The installed policy plug-in; ConfigError if levers are asked for without one."""
    if not _PLUGIN:
        raise ConfigError(
            "policy levers need the policy package: import clustersim (or clustersim.policy) first"
        )
    return _PLUGIN[0]
