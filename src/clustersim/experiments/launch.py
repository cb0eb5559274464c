"""The ``clustersim`` command: a Hydra app that runs one simulation and saves its tables.

Usage::

    clustersim city=small_town steps=120 seed=7
    clustersim city=obidos city.population=20000 talent.amenity_weight=2
    clustersim --multirun city=small_town,metropolis seed=0,1,2

Every override is checked before Hydra starts (:func:`check_arguments`), in every
form: ``key=value``, ``+key=value`` (only :data:`EXTRA_KEYS` in a multirun, and
Hydra's open settings), ``++key=value`` (existing keys only), ``~key``, sweeps
(each run of a multirun), ``hydra.*`` settings and group choices (``city=``,
``policy=``, ``plan=``, ``hydra/launcher=``: names of their config folder, never a
path). A bad one prints one line naming the field and what is allowed (for a typo:
what was meant) and exits with code 2, leaving nothing behind.

In a multirun every job goes through the runner (:func:`run_hydra_job`): results in
``<sweep dir>/runs/<hash>-s<seed>``, finished runs skipped on re-launch, failures
recorded. ``clustersim-experiment run --launcher NAME`` starts such a multirun as a
child process, ``python -m clustersim.experiments.launch --multirun ...``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import logging
import math
import os
import shutil
import signal
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from clustersim.errors import ClusterSimError, ConfigError
from clustersim.experiments.blas import one_blas_thread
from clustersim.experiments.design import Design
from clustersim.experiments.execute import (
    Terminated,
    freeze_at_exit,
    sweep_lock,
    terminate_as_interrupt,
)
from clustersim.experiments.runner import (
    RunSpec,
    error_line,
    parse_overrides,
    replicate_seed,
    run_spec,
)
from clustersim.files import LockHeld
from clustersim.model.compose import (
    Composer,
    config_dir,
    did_you_mean,
    parse_override,
    register_configs,
)
from clustersim.model.config import SimConfig, from_dictconfig, iter_parameters
from clustersim.params import check_value

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override

__all__ = ["EXTRA_KEYS", "SweepLock", "check_arguments", "main", "run_hydra_job", "run_job"]

log = logging.getLogger("clustersim.experiments.launch")

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
_NO_CHECK_FLAGS = ("--help", "-h", "--hydra-help", "--version", "--shell-completion", "-sc")
"""Hydra flags that run nothing: the overrides are not checked."""

_REFUSED_FLAGS = {
    "config_path": "--config-path",
    "config_name": "--config-name",
    "config_dir": "--config-dir",
    "experimental_rerun": "--experimental-rerun",
}
"""Hydra flags that would read configs from elsewhere than clustersim's config folder."""

EXTRA_KEYS = ("replicate", "xp.site", "xp.arm", "xp.replicate")
"""The keys a multirun may add with ``+`` (see :func:`run_hydra_job`); no other key is added."""

MAX_COMBINATIONS = 32
"""A sweep with up to this many runs is checked run by run; a larger one value by value."""


def _error(message: str) -> int:
    print(f"clustersim: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _read_args(args: list[str]) -> argparse.Namespace:
    """Hydra's command line, read as Hydra reads it; ConfigError instead of a usage exit."""
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()

    def refuse(message: str) -> NoReturn:
        raise ConfigError(message)

    parser.error = refuse  # type: ignore[method-assign]
    ns = parser.parse_args(args)
    if ns.run + ns.multirun + (ns.cfg is not None) + (ns.info is not None) > 1:
        raise ConfigError("give only one of --run, --multirun, --cfg and --info")
    for attr, flag in _REFUSED_FLAGS.items():
        if getattr(ns, attr):
            raise ConfigError(
                f"{flag} is not supported: clustersim reads its configs from {config_dir()} "
                "only (your own GraphML file: city=graphml city.graphml=PATH)"
            )
    return ns


def _values(override: Override) -> list[Any]:
    """The values an override stands for: one, or each value of a list or range sweep."""
    if not override.is_sweep_override():
        return [override.value()]
    if not override.is_discrete_sweep():
        raise ConfigError(
            f"{override.input_line}: sweeps take lists (a,b,c), choice(...) or range(...)"
        )
    return list(override.sweep_iterator())


def _value_lines(override: Override) -> list[str]:
    """The override once per value it sweeps over, as Hydra's basic sweeper spells them."""
    if not override.is_sweep_override():
        return [str(override.input_line)]
    _values(override)  # refuses interval sweeps
    key = override.get_key_element()
    return [f"{key}={value}" for value in override.sweep_string_iterator()]


def _whole_numbers(override: Override, below: int | None = None) -> None:
    upto = f" and < {below}" if below is not None else ""
    for value in _values(override):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(
                f"+{override.key_or_group} must be whole numbers >= 0{upto}; got {value!r}"
            )
        if below is not None and value >= below:
            raise ConfigError(
                f"+{override.key_or_group} must be whole numbers >= 0{upto}; got {value!r}"
            )


def _sweep_dir_of(hydra_overrides: list[Override]) -> Path | None:
    for override in hydra_overrides:
        if override.key_or_group == "hydra.sweep.dir" and not override.is_delete():
            return Path(str(override.value())).expanduser().absolute()
    return None


def _check_design_keys(extra: dict[str, Override], hydra_overrides: list[Override]) -> None:
    """``+xp.*``: the design saved in the sweep directory has those sites, arms, replicates."""
    missing = [f"+{k}" for k in EXTRA_KEYS[1:] if k not in extra]
    if missing:
        raise ConfigError(f"+xp.site, +xp.arm and +xp.replicate go together; missing {missing[0]}")
    sweep_dir = _sweep_dir_of(hydra_overrides)
    path = sweep_dir / "experiment.yaml" if sweep_dir else None
    if path is None or not path.is_file():
        raise ConfigError(
            "+xp.* runs read their design from <hydra.sweep.dir>/experiment.yaml, "
            f"which is not there ({path or 'no hydra.sweep.dir given'}); "
            "run designs with clustersim-experiment run"
        )
    design = Design.load(path)
    for key, names in (("xp.site", design.sites), ("xp.arm", design.arms)):
        for value in _values(extra[key]):
            if str(value) not in names:
                raise ConfigError(
                    f"+{key} must be one of {', '.join(names)} (the design in {path}); "
                    f"got {value!r}{did_you_mean(str(value), names)}"
                )
    _whole_numbers(extra["xp.replicate"], below=design.replicates)


def _check_extra_keys(
    extra: list[Override], multirun: bool, model: list[Override], hydra_overrides: list[Override]
) -> None:
    """The ``+replicate`` and ``+xp.*`` keys: added with +, in a multirun, in one valid set."""
    for override in extra:
        if not override.is_add():
            raise ConfigError(
                f"{override.key_or_group} is not a model parameter: add it with "
                f"+{override.input_line.lstrip('+~')} in a multirun (-m)"
            )
        if not multirun:
            raise ConfigError(f"+{override.key_or_group} works in a multirun only (add -m)")
    keys = {o.key_or_group: o for o in extra}
    if "replicate" in keys:
        if len(keys) > 1:
            raise ConfigError("+replicate and +xp.* do not go together")
        _whole_numbers(keys["replicate"])
    elif keys:
        if model:
            raise ConfigError(
                f"{model[0].input_line}: +xp.* runs take their overrides from the design; "
                "pass model overrides to clustersim-experiment run"
            )
        _check_design_keys(keys, hydra_overrides)


def _sweep_runs(model: list[Override], multirun: bool) -> tuple[list[list[str]], list[list[str]]]:
    """The runs to check: ``(runs, variants)``.

    ``runs`` is each combination of swept values; for a sweep of more than
    :data:`MAX_COMBINATIONS` runs, the first combination only, and ``variants`` each
    other value of each swept key with the others at their first value.
    """
    lists = []
    for override in model:
        if override.is_sweep_override() and not multirun:
            raise ConfigError(
                f"{override.input_line} is a sweep: run it with --multirun (-m), "
                "or write a list as key=[a,b]"
            )
        lists.append(_value_lines(override))
    if math.prod(len(values) for values in lists) <= MAX_COMBINATIONS:
        return [list(run) for run in itertools.product(*lists)], []
    first = [values[0] for values in lists]
    variants = [[*first[:i], v, *first[i + 1 :]] for i, vs in enumerate(lists) for v in vs[1:]]
    return [first], variants


def _check_runs(model: list[Override], hydra_lines: list[str], multirun: bool) -> SimConfig:
    """Compose and validate every run the model overrides describe; the first run's config."""
    composer = Composer()
    runs, variants = _sweep_runs(model, multirun)
    configs = [from_dictconfig(composer.compose([*hydra_lines, *run])) for run in runs]
    cheap = _parameters()
    base = composer.compose([*hydra_lines, *runs[0]]) if variants else None
    for run, first in ((r, runs[0]) for r in variants):
        changed = next(line for line, was in zip(run, first, strict=True) if line != was)
        key = changed.split("=", 1)[0].lstrip("+~")
        if key in cheap and "=" in changed and changed[0] not in "+~":
            # a plain parameter: its value alone decides (cross-field rules: city, steps, policy)
            composer.apply(base, [changed])
            check_value(key, OmegaConf.select(base, key), cheap[key])
        else:
            from_dictconfig(composer.compose([*hydra_lines, *run]))
    return configs[0]


def _parameters() -> dict[str, dict]:
    """Metadata of the parameters whose value is checked on its own (no cross-field rule)."""
    return {
        path: dict(f.metadata)
        for path, f, _ in iter_parameters()
        if path.split(".", 1)[0] not in ("city", "steps", "policy")
    }


def check_arguments(args: list[str]) -> None:
    """Check a ``clustersim`` command line before anything runs or is written.

    Every override is read as Hydra reads it and checked against the config: group
    choices name a config of their folder, keys exist (``+`` adds only the
    :data:`EXTRA_KEYS` of a multirun and Hydra's open settings, ``++`` adds nothing),
    values are valid. A multirun's sweeps are checked run by run (value by value for
    more than :data:`MAX_COMBINATIONS` runs). A single run also builds its model (checks
    GraphML files and policy targets).

    Raises:
        ClusterSimError: one line saying what is wrong and, for a typo, what was meant.
    """
    ns = _read_args(args)
    parsed = [parse_override(o) for o in ns.overrides]
    extra = [o for o in parsed if o.key_or_group in EXTRA_KEYS]
    hydra_overrides = [o for o in parsed if o.is_hydra_override()]
    model = [o for o in parsed if o not in extra and o not in hydra_overrides]
    for override in hydra_overrides:
        if override.is_sweep_override():
            raise ConfigError(f"{override.input_line}: Hydra's settings cannot be swept")
        if override.key_or_group.split(".")[:2] == ["hydra", "searchpath"]:
            raise ConfigError(
                f"{override.input_line}: clustersim reads its configs from {config_dir()} only"
            )
        if override.key_or_group.startswith("hydra.sweeper.params"):
            raise ConfigError(
                f"{override.input_line}: give sweeps on the command line (key=a,b), "
                "where every run is checked"
            )
    _check_extra_keys(extra, ns.multirun, model, hydra_overrides)
    cfg = _check_runs(model, [str(o.input_line) for o in hydra_overrides], ns.multirun)
    _CHECKED.clear()
    if not ns.multirun and not ns.cfg and not ns.info:
        # building the model checks what needs the graph: GraphML files, policy target
        # nodes; the run then takes this model instead of building it again, unless the
        # job's environment or folder differ from this one (Hydra's hydra.job settings)
        from clustersim.model.core import CreativeClusterModel

        started = time.perf_counter()
        built = CreativeClusterModel.from_config(cfg)
        if not any(o.key_or_group.startswith("hydra.job") for o in hydra_overrides):
            _CHECKED.append((cfg, built, time.perf_counter() - started))


#: The model a single run's check built, with its config and seconds to build: run_job
#: takes it when its own config is the same (the command builds its model once).
_CHECKED: list[tuple[SimConfig, Any, float]] = []


def _checked_model(cfg: SimConfig) -> tuple[Any, float]:
    """The model the check built for ``cfg`` and its build time, or (None, 0); taken once."""
    checked, _CHECKED[:] = list(_CHECKED), []
    if checked and checked[0][0] == cfg:
        return checked[0][1], checked[0][2]
    return None, 0.0


def run_job(cfg: DictConfig) -> dict:
    """Run one simulation for a composed Hydra config and save it in the job's output dir."""
    from clustersim.model.simulate import run_config

    sim_cfg = from_dictconfig(cfg)
    model, build_s = _checked_model(sim_cfg)
    result = run_config(sim_cfg, model=model, build_s=build_s)
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


_SWEEP_HOLD = ExitStack()
"""The sweep lock this process holds during a multirun (kept off the picklable callback)."""


class SweepLock(Callback):
    """Hydra callback (``hydra.callbacks`` in ``config.yaml``): one multirun per sweep directory.

    A multirun holds ``<sweep dir>/.sweep.lock`` from its start to its end, since the
    job folders (``<sweep dir>/<job number>/``, their logs and ``.hydra/``) and
    ``multirun.yaml`` would be shared with any other sweep into that directory. A
    second multirun into it is refused before it writes anything: one line naming the
    holder, exit code 2.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Take the sweep directory's lock, or exit 2 naming the sweep that holds it."""
        sweep = Path(str(config.hydra.sweep.dir))
        try:
            _SWEEP_HOLD.enter_context(sweep_lock(sweep, wait=False))
        except LockHeld as exc:
            sys.exit(
                _error(
                    f"another sweep is running in {sweep}: {exc.holder}; wait for it to "
                    "end, or choose another hydra.sweep.dir"
                )
            )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Release the sweep directory's lock."""
        _SWEEP_HOLD.close()


register_configs()


@hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")
def _hydra_app(cfg: DictConfig) -> dict:
    one_blas_thread()  # beside other jobs, and the same bits as a sweep's run (blas.py)
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


def _quiet_sigterm_after_ray_init() -> None:
    """Let a SIGTERM end this process without Ray's stack dump once Ray starts in it.

    ``ray.init`` sets a Python handler for SIGTERM (a clean exit) and then Ray's failure
    signal handler over it, which prints ``*** SIGTERM received at time=...`` and a stack
    dump before passing the signal on: every sweep a scheduler cancels would end with
    one, as if it had crashed. After ``ray.init`` the Python handler is put back for
    SIGTERM alone; the dumps of real crashes (SIGSEGV, SIGABRT, ...) stay. Wraps
    ``ray.init`` in this process (the Hydra child a Ray launcher runs in), once; without
    Ray installed it does nothing (the launcher says what is missing). The child then
    exits through Ray's own handler, as it did after the dump.
    """
    try:
        import ray
    except Exception:  # not installed, or broken: the launcher says so when it starts
        return
    init = ray.init
    if getattr(init, "_clustersim_quiet_sigterm", False):
        return

    @functools.wraps(init)
    def init_then_quiet_sigterm(*args: Any, **kwargs: Any) -> Any:
        try:
            return init(*args, **kwargs)
        finally:
            handler = signal.getsignal(signal.SIGTERM)  # Python's view: Ray's clean exit
            if handler is not None and threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, handler)  # over Ray's dumping C handler

    init_then_quiet_sigterm._clustersim_quiet_sigterm = True  # type: ignore[attr-defined]
    ray.init = init_then_quiet_sigterm


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``clustersim`` command; returns the exit code.

    Exit codes: 0 done (a multirun's failed runs are recorded, not counted here),
    2 bad input, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM); an interrupted
    multirun resumes when launched again. The process then exits without the garbage
    collector's last passes (:func:`~clustersim.experiments.execute.freeze_at_exit`).
    """
    freeze_at_exit()
    args = list(sys.argv[1:] if argv is None else argv)
    multirun = any(a in ("-m", "--multirun") for a in args)
    if "hydra/launcher=ray_local" in args:
        # a single-machine Ray instance: Ray then binds every server to 127.0.0.1
        # (read when ray is imported: set before _quiet_sigterm_after_ray_init imports it)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    if not any(a in _NO_CHECK_FLAGS for a in args):
        try:
            check_arguments(args)
        except ClusterSimError as exc:
            return _error(str(exc))
    if any(a.startswith("hydra/launcher=ray") for a in args):
        _quiet_sigterm_after_ray_init()
    saved, sys.argv = sys.argv, [sys.argv[0] if sys.argv else "clustersim", *args]
    try:
        with terminate_as_interrupt():  # SIGTERM stops a launcher's workers as Ctrl-C does
            _hydra_app()  # Hydra's decorator reads its arguments from sys.argv
    except KeyboardInterrupt as exc:
        resume = "; launch the same sweep again to resume" if multirun else ""
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"clustersim: {how}{resume}", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    finally:
        sys.argv = saved
        _SWEEP_HOLD.close()  # a sweep that raised ends without on_multirun_end
        _CHECKED.clear()  # a run that failed before taking its model leaves none behind
    return 0


if __name__ == "__main__":
    # Run as `python -m`: call this module under its own name, as the console script does,
    # so the job function that launchers (joblib, Ray, submitit) pickle is found by name.
    from clustersim.experiments.launch import main as _main

    sys.exit(_main())
