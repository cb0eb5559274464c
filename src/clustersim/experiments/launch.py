"""The ``clustersim`` command: a Hydra app that runs one simulation and saves its tables.

Usage::

    clustersim city=small_town steps=120 seed=7
    clustersim city=obidos city.population=20000 talent.amenity_weight=2
    clustersim --multirun city=small_town,metropolis seed=0,1,2

Every override is validated before Hydra creates an output directory: a bad
value prints one line naming the field and what is allowed, and exits with
code 2, leaving nothing behind.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from clustersim.errors import ClusterSimError
from clustersim.model.compose import config_dir, load_config, register_configs
from clustersim.model.config import from_dictconfig

__all__ = ["main", "run_job"]

EXIT_USAGE = 2
_HYDRA_FLAGS = (
    "--help",
    "-h",
    "--hydra-help",
    "--cfg",
    "-c",
    "--info",
    "--version",
    "--shell-completion",
    "-sc",
)


def _error(message: str) -> int:
    print(f"clustersim: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _prevalidate(args: list[str]) -> None:
    """Compose and validate the config the arguments describe (single runs only)."""
    overrides = [a for a in args if not a.startswith("-") and not a.startswith("hydra")]
    overrides = [
        a.lstrip("+") if a.startswith("+") and not a.startswith("++") else a for a in overrides
    ]
    groups: dict[str, str | None] = {"city": "small_town", "policy": None}
    rest = []
    for o in overrides:
        key, _, value = o.partition("=")
        if key in groups and "=" in o:
            groups[key] = value
        else:
            rest.append(o)
    cfg, _ = load_config(groups["city"], groups["policy"], overrides=rest)
    # building the model checks what needs the graph: GraphML files, policy target nodes
    from clustersim.model.core import CreativeClusterModel

    CreativeClusterModel.from_config(cfg)


def run_job(cfg: DictConfig) -> dict:
    """Run one simulation for a composed Hydra config and save it in the job's output dir."""
    from clustersim.model.simulate import run_config

    sim_cfg = from_dictconfig(cfg)
    result = run_config(sim_cfg)
    out = Path(HydraConfig.get().runtime.output_dir)
    result.save(out)
    print(result.summary_table())
    print(f"results: {out}")
    return result.summary()


register_configs()


@hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")
def _hydra_app(cfg: DictConfig) -> dict:
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        # Each sweep job goes through the runner: results in <sweep dir>/runs/<hash>-s<seed>,
        # complete runs skipped on re-launch, failures recorded without stopping the sweep.
        from clustersim.experiments.runner import run_hydra_job

        return run_hydra_job(cfg)
    try:
        return run_job(cfg)
    except ClusterSimError as exc:
        out = Path(HydraConfig.get().runtime.output_dir)
        if not (out / "summary.json").exists():
            shutil.rmtree(out, ignore_errors=True)
        sys.exit(_error(str(exc)))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``clustersim`` command."""
    args = list(sys.argv[1:] if argv is None else argv)
    multirun = any(a in ("-m", "--multirun") for a in args)
    if not multirun and not any(a in _HYDRA_FLAGS or a.startswith("--cfg") for a in args):
        try:
            _prevalidate(args)
        except ClusterSimError as exc:
            return _error(str(exc))
    sys.argv = [sys.argv[0] if sys.argv else "clustersim", *args]
    _hydra_app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
