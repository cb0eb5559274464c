"""simulate(): compose a config, run the model, return its result tables."""

from __future__ import annotations

import time

import pandas as pd

from clustersim.errors import ConfigError
from clustersim.model.compose import load_config
from clustersim.model.config import SimConfig, to_plain_dict
from clustersim.model.core import CreativeClusterModel
from clustersim.model.results import SimulationResult

__all__ = ["run_config", "simulate"]


def simulate(
    city: str = "small_town",
    policy: str | None = None,
    steps: int = 120,
    seed: int = 0,
    overrides: list[str] | None = None,
    spin_up: int | None = None,
) -> SimulationResult:
    """Run one simulation and return its tables.

    Args:
        city: a city config name (small_town, medium_city, metropolis, region, or a
            partner-town preset such as obidos).
        policy: lever config name(s), e.g. ``"creative_hub"`` or ``"[creative_hub,festival]"``;
            None or ``"none"`` for no levers (a plan in ``overrides`` may still add some).
        steps: months to simulate.
        seed: root seed; the same seed gives identical tables.
        overrides: Hydra override strings, e.g. ``["city.population=50000"]``.
        spin_up: months run without policy before month 0 (overrides
            ``spin_up.months``; 0: month 0 is the drawn initial state). The end state
            is cached per config and seed (see :mod:`clustersim.model.spinup`).

    Raises:
        clustersim.errors.ConfigError: one-line message on any invalid value.

    Examples:
        >>> result = simulate("small_town", steps=3, overrides=["city.population=5000"])
        >>> list(result.timeseries["step"])
        [0, 1, 2, 3]
    """
    if isinstance(overrides, str):  # list("a=1") would be its characters
        raise ConfigError(f"overrides must be a list of overrides ([{overrides!r}]), got a string")
    overrides = list(overrides or [])
    if spin_up is not None:
        overrides.append(f"spin_up.months={spin_up}")
    cfg, _ = load_config(city, policy, steps=steps, seed=seed, overrides=overrides)
    return run_config(cfg)


def run_config(
    cfg: SimConfig, *, model: CreativeClusterModel | None = None, build_s: float = 0.0
) -> SimulationResult:
    """Run a validated config for ``cfg.steps`` months.

    ``model``: the model of ``cfg`` already built (at month 0) and the seconds its
    build took, ``build_s``, counted in the wall time; by default it is built here.
    """
    from clustersim.version import __version__

    started = time.perf_counter() - build_s
    if model is None:
        model = CreativeClusterModel.from_config(cfg)
    elif model.steps != 0:
        raise ValueError(f"run_config needs a model at month 0, got one at month {model.steps}")
    model.run_for(cfg.steps)
    wall = time.perf_counter() - started
    return SimulationResult(
        timeseries=pd.DataFrame(model.records),
        firms=model.firm_table(),
        talents=model.talent_table(),
        places=pd.DataFrame(model.place_records),
        policies=model.policy_table(),
        ledger=model.ledger_table(),
        config=to_plain_dict(cfg),
        meta={
            "seed": cfg.seed,
            "wall_time_s": round(wall, 3),
            "clustersim_version": __version__,
            # how month 0 was reached: months of spin-up, and "run", "cache" or "none"
            "spin_up_months": model.spin_up_months,
            "spin_up_source": model.spin_up_source,
        },
    )
