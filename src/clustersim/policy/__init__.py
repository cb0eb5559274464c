"""Policy levers: the ``Policy`` base agent, the lever registry and one module per lever.

Importing this package plugs the levers into the model (see
:mod:`clustersim.model.hooks`), so a config's ``policy`` mapping is checked and
built by the registry here.
"""

from __future__ import annotations

from clustersim.model.hooks import register_policy_plugin
from clustersim.policy import levers as _levers
from clustersim.policy.base import Policy

__all__ = ["Policy"]


class _LeverPlugin:
    """The registry's checks and builder, as the model's policy plug-in."""

    validate = staticmethod(_levers.validate_policy_config)
    build = staticmethod(_levers.build_policies)


register_policy_plugin(_LeverPlugin())
