"""Policy levers: the ``Policy`` base agent, the lever registry and one module per lever.

Importing this package registers the lever modules of :mod:`clustersim.policy.levers`
in :data:`clustersim.policy.registry.LEVERS` and plugs the registry into the model
(see :mod:`clustersim.model.hooks`), so a config's ``policy`` mapping is checked
and built here. Levers reach the model only through
:class:`clustersim.model.host.PolicyHost`.
"""

from __future__ import annotations

from clustersim.model.hooks import register_policy_plugin
from clustersim.policy import levers as _levers  # noqa: F401  (registers every lever module)
from clustersim.policy import registry as _registry
from clustersim.policy.base import Policy

__all__ = ["Policy"]


class _LeverPlugin:
    """The registry's checks and builder, as the model's policy plug-in."""

    validate = staticmethod(_registry.validate_policy_config)
    check_city = staticmethod(_registry.check_city)
    build = staticmethod(_registry.build_policies)


register_policy_plugin(_LeverPlugin())
