"""clustersim: agent-based simulation of creative-cluster development in towns and cities."""

from __future__ import annotations

# Mesa first: its modules name their loggers by inspecting the call stack, which costs
# more the deeper the import (0.07 s more a process when imported through our modules)
import mesa as _mesa  # noqa: F401

from clustersim import policy as _policy  # noqa: F401  (plugs the levers into the model)
from clustersim.errors import CityGraphError, ClusterSimError, ConfigError
from clustersim.model.compose import load_config
from clustersim.model.config import SimConfig
from clustersim.model.core import CreativeClusterModel
from clustersim.model.results import SimulationResult
from clustersim.model.simulate import run_config, simulate
from clustersim.policy.base import Policy
from clustersim.version import __version__

__all__ = [
    "CityGraphError",
    "ClusterSimError",
    "ConfigError",
    "CreativeClusterModel",
    "Policy",
    "SimConfig",
    "SimulationResult",
    "__version__",
    "load_config",
    "run_config",
    "simulate",
]
