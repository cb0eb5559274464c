"""The ``clustersim`` command: a Hydra app that runs one simulation and saves its tables.

Usage::

    clustersim city=small_town steps=120 seed=7
    clustersim city=obidos city.population=20000 talent.amenity_weight=2
    clustersim --multirun city=small_town,metropolis seed=0,1,2

Every override is validated before Hydra creates an output directory: a bad
value prints one line naming the field and what is allowed, and exits with
code 2, leaving nothing behind.

In a multirun every job goes through the runner (:func:`run_hydra_job`): results in
``<sweep dir>/runs/<hash>-s<seed>``, finished runs skipped on re-launch, failures
recorded. ``clustersim-experiment run --launcher NAME`` starts such a multirun as a
child process, ``python -m clustersim.experiments.launch --multirun ...``.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from clustersim.errors import ClusterSimError
from clustersim.experiments.design import Design
from clustersim.experiments.runner import (
    RunSpec,
    error_line,
    parse_overrides,
    replicate_seed,
    run_spec,
)
from clustersim.model.compose import config_dir, load_config, register_configs
from clustersim.model.config import from_dictconfig

__all__ = ["main", "run_hydra_job", "run_job"]

log = logging.getLogger("clustersim.experiments.launch")

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
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


def _sweep_dir() -> Path:
    """The multirun's sweep directory, made absolute against the launching directory."""
    hc = HydraConfig.get()
    sweep = Path(str(hc.sweep.dir))
    return sweep if sweep.is_absolute() else Path(str(hc.runtime.cwd)) / sweep


def _design_spec(cfg: DictConfig, task: list[str], sweep_dir: Path) -> RunSpec:
    """The run of the design saved in the sweep directory that ``+xp.*`` names."""
    design = Design.load(sweep_dir / "experiment.yaml")
    xp = cfg.xp
    extra = [o for o in task if not o.lstrip("+").startswith("xp.")]
    return design.spec(str(xp.site), str(xp.arm), int(xp.replicate), extra_overrides=extra)


def _sweep_spec(cfg: DictConfig, task: list[str]) -> RunSpec:
    """The run of a plain sweep job: its overrides and seed (``+replicate`` spawns it)."""
    plain = OmegaConf.to_container(cfg, resolve=False)
    labels = parse_overrides(task)
    overrides = [o for o in task if not o.lstrip("+").startswith("replicate=")]
    seed = int(plain.get("seed", 0))
    if "replicate" in plain:
        labels["root_seed"] = seed
        seed = replicate_seed(seed, int(plain["replicate"]))
    overrides = [o for o in overrides if not o.startswith("seed=")]
    return RunSpec(overrides=tuple(overrides), seed=seed, labels=labels)


def run_hydra_job(cfg: DictConfig) -> dict[str, Any]:
    """The task of one Hydra multirun job (any launcher): run it through the runner.

    Results go to ``<hydra.sweep.dir>/runs/<hash>-s<seed>/`` whatever the job number,
    so a re-launched sweep skips what is complete. Two extra keys are understood:

    * ``+replicate=i``: the seed becomes child ``i`` of ``SeedSequence(seed)``
      (``seed`` is then the root seed), e.g. ``+replicate=range(0,8)``.
    * ``+xp.site=S +xp.arm=A +xp.replicate=i``: one run of the experiment design
      saved in ``<hydra.sweep.dir>/experiment.yaml`` (written by ``clustersim-experiment``).

    Failures are recorded in the run's ``meta.json`` and logged; the job returns
    normally so the launcher goes on with the other jobs.
    """
    task = [str(o) for o in HydraConfig.get().overrides.task]
    sweep_dir = _sweep_dir()
    if "xp" in cfg:
        try:
            spec = _design_spec(cfg, task, sweep_dir)
        except Exception as exc:  # no design to record the run under: log it, go on
            log.error("job FAILED (%s): %s", " ".join(task), error_line(exc))
            return {"status": "failed", "run_dir": None, "error": error_line(exc)}
    else:
        spec = _sweep_spec(cfg, task)
    record = run_spec(spec, sweep_dir / "runs")
    where = record.run_dir
    if record.stale:
        log.warning("stale run made by a different model version, re-run: %s", where)
    if record.status == "failed":
        log.error("run FAILED (%s): %s -> %s", " ".join(task), record.error, where)
    else:
        log.info("run %s in %.1fs: %s", record.status, record.wall_time_s, where)
    return {"status": record.status, "run_dir": str(where), "error": record.error}


register_configs()


@hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")
def _hydra_app(cfg: DictConfig) -> dict:
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        # Each sweep job goes through the runner: results in <sweep dir>/runs/<hash>-s<seed>,
        # complete runs skipped on re-launch, failures recorded without stopping the sweep.
        return run_hydra_job(cfg)
    try:
        return run_job(cfg)
    except ClusterSimError as exc:
        out = Path(HydraConfig.get().runtime.output_dir)
        if not (out / "summary.json").exists():
            shutil.rmtree(out, ignore_errors=True)
        sys.exit(_error(str(exc)))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``clustersim`` command; returns the exit code.

    Exit codes: 0 done (a multirun's failed runs are recorded, not counted here),
    2 bad input, 130 interrupted (a multirun resumes when launched again).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    multirun = any(a in ("-m", "--multirun") for a in args)
    if not multirun and not any(a in _HYDRA_FLAGS or a.startswith("--cfg") for a in args):
        try:
            _prevalidate(args)
        except ClusterSimError as exc:
            return _error(str(exc))
    saved, sys.argv = sys.argv, [sys.argv[0] if sys.argv else "clustersim", *args]
    try:
        _hydra_app()  # Hydra's decorator reads its arguments from sys.argv
    except KeyboardInterrupt:
        resume = "; launch the same sweep again to resume" if multirun else ""
        print(f"clustersim: interrupted{resume}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        sys.argv = saved
    return 0


if __name__ == "__main__":
    # Run as `python -m`: call this module under its own name, as the console script does,
    # so the job function that launchers (joblib, Ray, submitit) pickle is found by name.
    from clustersim.experiments.launch import main as _main

    sys.exit(_main())
