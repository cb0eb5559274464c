"""The model layer: config schema, city graphs, state, mechanisms, phases, outcomes, results.

Nothing here imports the policy levers, the experiments or the app.
"""

from __future__ import annotations

from clustersim.model.core import CreativeClusterModel
from clustersim.model.results import SimulationResult
from clustersim.model.simulate import run_config, simulate

__all__ = ["CreativeClusterModel", "SimulationResult", "run_config", "simulate"]
