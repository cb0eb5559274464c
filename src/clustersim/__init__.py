"""clustersim: agent-based simulation of creative-cluster development in towns and cities."""

from __future__ import annotations

from clustersim.config import SimConfig, load_config
from clustersim.errors import CityGraphError, ClusterSimError, ConfigError
from clustersim.model import CreativeClusterModel
from clustersim.policy import Policy
from clustersim.results import SimulationResult
from clustersim.simulate import run_config, simulate

__version__ = "0.1.0"

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
