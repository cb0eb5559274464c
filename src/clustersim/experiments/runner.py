"""Run one configuration and seed into its own directory, resumably, recording failures.

One run = a resolved model config + a seed -> ``<runs_dir>/<hash>-s<seed>/`` holding
the result tables (``timeseries``, ``firms``, ``talents``, ``places`` as Parquet),
``config.json``, ``summary.json`` and ``meta.json``. ``meta.json`` is written last:
a run directory is *complete* when its ``meta.json`` says ``"status": "ok"`` for the
same config hash and seed, was made by the same model code (the same
:func:`model_fingerprint`) and all result files are present. Complete runs are
skipped, so re-running an interrupted sweep redoes only missing or broken runs.
A finished run made by another model version is *stale*: it is re-run and replaced,
never reused. A run that raises gets ``meta.json`` with ``"status": "failed"`` and
the error, and is retried next time; the exception never escapes :func:`run_spec`.

Many processes may run into one ``runs/`` folder at once (two ``clustersim-experiment
run`` of one design, overlapping Hydra jobs): a run is computed only while its lock,
``<run dir>/.lock``, is held (:func:`clustersim.files.hold_lock`), and its status is
checked again once the lock is held, so no run is computed twice and no process
touches another's save. What a killed process left (temporary siblings of the run
directory) is removed by the next holder of the run's lock.

Replicate seeds come from one root seed through :class:`numpy.random.SeedSequence`
(child ``i`` of the root), and every arm of a comparison uses the same replicate
seeds (common random numbers), so arm differences are not luck.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import os
import platform
import socket
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from clustersim.errors import ConfigError
from clustersim.experiments.provenance import git_commit, model_fingerprint
from clustersim.files import LockHeld, hold_lock, remove_temporaries, write_text_atomically
from clustersim.model.compose import load_config
from clustersim.model.config import SimConfig, to_plain_dict, validate
from clustersim.model.results import RESULT_FILES

__all__ = [
    "GROUP_KEYS",
    "RUN_LOCK",
    "RunRecord",
    "RunSpec",
    "compose_config",
    "config_hash",
    "error_line",
    "is_complete",
    "parse_overrides",
    "read_meta",
    "replicate_seed",
    "replicate_seeds",
    "run_config_in",
    "run_dir_name",
    "run_spec",
    "run_status",
    "value_overrides",
    "why_not_ok",
]

GROUP_KEYS = ("city", "policy")
"""Config groups chosen by ``key=name`` overrides (composition, not values)."""

HASH_LENGTH = 16

RUN_LOCK = ".lock"
"""The lock file in a run directory, held while the run is computed and saved."""


@dataclass(frozen=True)
class RunSpec:
    """What to run: Hydra overrides, a seed, and labels identifying the run in its sweep.

    Attributes:
        overrides: Hydra override strings (``city=region``, ``plan=creative_city``,
            ``city.population=12000``...), applied in order.
        seed: the model's root seed for this run.
        labels: what the run stands for in its sweep (experiment, site, arm,
            replicate, swept parameters); they become columns when aggregating.
        steps: months to simulate (None: the config's ``steps``).
        values: parameter values set on the composed config after the overrides,
            ``(("talent.review_rate", 0.03), ...)`` (a sensitivity design's sample
            point: one Hydra composition serves every point).
    """

    overrides: tuple[str, ...] = ()
    seed: int = 0
    labels: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    values: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class RunRecord:
    """What happened to one run.

    Attributes:
        status: ``"ok"`` (computed now), ``"skipped"`` (already complete), ``"failed"``,
            or ``"busy"`` (another process is computing it; only when not waiting for it).
        run_dir: the run's directory.
        seed: the run's seed.
        config_hash: hash of the resolved config without the seed (None if it did not resolve).
        labels: the run's labels.
        wall_time_s: seconds spent (0 when skipped).
        error: one-line error for failed runs.
        stale: the directory held a finished run made by another model version
            (another :func:`model_fingerprint`), which this run replaced.
    """

    status: str
    run_dir: Path
    seed: int
    config_hash: str | None
    labels: dict[str, Any]
    wall_time_s: float = 0.0
    error: str | None = None
    stale: bool = False


def replicate_seed(root_seed: int, replicate: int) -> int:
    """Seed of replicate ``replicate``: child ``replicate`` of ``SeedSequence(root_seed)``.

    Equal to ``SeedSequence(root_seed).spawn(n)[replicate]`` for any ``n > replicate``,
    so adding replicates later never changes the seeds of existing ones.

    Examples:
        >>> replicate_seed(2026, 3) == replicate_seeds(2026, 5)[3]
        True
    """
    if root_seed < 0 or replicate < 0:
        raise ValueError(f"root seed and replicate must be >= 0, got {root_seed}, {replicate}")
    child = np.random.SeedSequence(root_seed, spawn_key=(replicate,))
    return int(child.generate_state(1, dtype=np.uint32)[0])


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """Seeds of ``n`` replicates spawned from one root seed (see :func:`replicate_seed`)."""
    children = np.random.SeedSequence(root_seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(cfg: SimConfig | dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the resolved config, without seed and Hydra keys.

    Two runs with the same hash and seed are the same simulation. Whether the
    spin-up came from its cache (``spin_up.cache``) does not change a result, so it
    is not part of the hash.
    """
    plain = dict(cfg) if isinstance(cfg, dict) else to_plain_dict(cfg)
    plain.pop("seed", None)
    plain.pop("hydra", None)
    if isinstance(plain.get("spin_up"), dict):
        plain["spin_up"] = {k: v for k, v in plain["spin_up"].items() if k != "cache"}
    return hashlib.sha256(_canonical(plain).encode()).hexdigest()


def run_dir_name(hash_: str, seed: int) -> str:
    """Directory name of a run: shortened config hash and seed, e.g. ``3f2a...-s123``."""
    return f"{hash_[:HASH_LENGTH]}-s{seed}"


def read_meta(run_dir: Path) -> dict[str, Any] | None:
    """The run's ``meta.json`` as a dict, or None when missing or unreadable."""
    try:
        return json.loads((Path(run_dir) / "meta.json").read_text())
    except (OSError, ValueError):
        return None


def run_status(
    run_dir: Path,
    hash_: str | None = None,
    seed: int | None = None,
    *,
    fingerprint: str | None = None,
) -> str:
    """What ``run_dir`` holds, for a run of this hash and seed (when given).

    Args:
        run_dir: a run directory.
        hash_: the expected config hash (None: any).
        seed: the expected seed (None: any).
        fingerprint: the expected model fingerprint (None: this model's,
            :func:`model_fingerprint`).

    Returns:
        ``"ok"`` (a complete run of this model), ``"stale"`` (a finished run whose
        ``meta.json`` records another model fingerprint, or none), ``"broken"``
        (finished, but result files are missing), ``"failed"`` (the run raised, or is
        not finished), or ``"missing"`` (no readable ``meta.json``, or one of another
        config or seed).
    """
    run_dir = Path(run_dir)
    meta = read_meta(run_dir)
    if not meta:
        return "missing"
    if hash_ is not None and meta.get("config_hash") != hash_:
        return "missing"
    if seed is not None and meta.get("seed") != seed:
        return "missing"
    if meta.get("status") != "ok":
        return "failed"
    if not all(_whole(run_dir / name) for name in RESULT_FILES):
        return "broken"
    expected = model_fingerprint() if fingerprint is None else fingerprint
    return "ok" if meta.get("model_fingerprint") == expected else "stale"


def _whole(path: Path) -> bool:
    """Whether a result file is there and, for Parquet, not cut short.

    A Parquet file has its magic bytes at both ends; one cut by a full disk or by a copy
    stopped part-way has no footer (and aggregating it failed with a traceback).
    """
    try:
        size = path.stat().st_size
        if path.suffix != ".parquet":
            return size > 0
        if size < 12:
            return False
        with path.open("rb") as f:
            head = f.read(4)
            f.seek(-4, 2)
            return head == b"PAR1" and f.read(4) == b"PAR1"
    except OSError:
        return False


def why_not_ok(run_dir: Path) -> str:
    """Why ``run_dir`` holds no usable run of this model: its error, or what it lacks.

    A run made by another model version (the model's code changed while a search
    ran, or since) says so and names both fingerprints, instead of "did not finish".
    """
    status = run_status(run_dir)
    meta = read_meta(run_dir) or {}
    if status == "stale":
        made_by = meta.get("model_fingerprint") or "none"
        return (
            f"made by another model version (fingerprint {made_by}, this one "
            f"{model_fingerprint()}): the model's code changed; run the command again"
        )
    if status == "broken":
        return "finished, but result files are missing"
    return str(meta.get("error") or "did not finish")


def is_complete(
    run_dir: Path,
    hash_: str | None = None,
    seed: int | None = None,
    *,
    fingerprint: str | None = None,
) -> bool:
    """Whether ``run_dir`` holds a finished run of this model (of this hash and seed, when given).

    A finished run made by another model version (see :func:`model_fingerprint`) is
    not complete: it is stale. ``fingerprint`` as in :func:`run_status`.
    """
    return run_status(run_dir, hash_, seed, fingerprint=fingerprint) == "ok"


def parse_overrides(overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Hydra override strings as ``{key: value}`` labels, values parsed as YAML scalars.

    Hydra's own settings (``hydra...``) are left out.

    Examples:
        >>> parse_overrides(["city=region", "+replicate=2", "firm.agglomeration_cap=null"])
        {'city': 'region', 'replicate': 2, 'firm.agglomeration_cap': None}
    """
    import yaml

    labels: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        key = key.lstrip("+~")
        if not sep or key.startswith("hydra.") or key.startswith("hydra/"):
            continue
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        labels[key] = parsed if isinstance(parsed, str | int | float | bool | None) else value
    return labels


@functools.lru_cache(maxsize=64)
def _compose_cached(overrides: tuple[str, ...], steps: int | None) -> SimConfig:
    """The typed config of an override list, its values' ranges not checked yet."""
    groups = {"city": "small_town", "policy": "none"}
    rest = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep and key in GROUP_KEYS:
            groups[key] = value
        else:
            rest.append(item)
    # keep_global_state: inside a running Hydra app (a multirun job) its state must survive
    cfg, _ = load_config(
        groups["city"],
        groups["policy"],
        steps=steps,
        overrides=rest,
        keep_global_state=True,
        check=False,
    )
    return cfg


def compose_config(
    overrides: list[str] | tuple[str, ...],
    *,
    seed: int,
    steps: int | None = None,
    values: tuple[tuple[str, Any], ...] = (),
) -> SimConfig:
    """Compose and validate the model config for overrides, parameter values and a seed.

    Compositions are cached per override list, so the runs of one arm compose once;
    ``values`` (``(path, value)`` pairs) are then set on a copy. A lever's setting
    (``policy.creative_hub.boost``) is set so too when it is a number and the composed
    plan has that key; otherwise Hydra composes it (and refuses a key the plan lacks).
    Every value is checked once all are set: a lever's checks (a start month within the
    horizon, say) see the value set, not the lever's default.

    Raises:
        clustersim.errors.ConfigError: one-line message on an invalid value.
    """
    levers = tuple((p, v) for p, v in values if str(p).startswith("policy."))
    others = tuple((p, v) for p, v in values if not str(p).startswith("policy."))
    cfg = copy.deepcopy(_compose_cached(tuple(overrides), steps))
    if levers and not _set_lever_settings(cfg.policy, levers):
        composed = (*overrides, *value_overrides(levers))
        cfg = copy.deepcopy(_compose_cached(tuple(composed), steps))
    return dataclasses.replace(_with_values(cfg, others), seed=int(seed))


def _set_lever_settings(policy: dict[str, Any], levers: tuple[tuple[str, Any], ...]) -> bool:
    """Set lever settings on the composed ``policy`` as Hydra would compose them.

    Only numbers (bools included) on a key the policy has, where Hydra's parse of the
    override :func:`value_overrides` writes gives the same value back. Returns False,
    and leaves ``policy`` as it was, when any setting is not of that kind.
    """
    settings = []
    for path, value in levers:
        plain = value.item() if isinstance(value, np.generic) else value
        if not isinstance(plain, bool | int | float):
            return False
        *parents, leaf = str(path).split(".")[1:]
        node: Any = policy
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node or isinstance(node[leaf], dict | list):
            return False
        settings.append((node, leaf, plain))
    for node, leaf, plain in settings:
        node[leaf] = plain
    return True


def _with_values(cfg: SimConfig, values: tuple[tuple[str, Any], ...]) -> SimConfig:
    """The config with parameters set (``talent.review_rate`` -> value), then validated.

    A lever's settings are not set here: :func:`compose_config` sets them.
    """
    for path, value in values:
        *parents, leaf = str(path).split(".")
        obj: Any = cfg
        for part in parents:
            obj = getattr(obj, part, None)
        if not dataclasses.is_dataclass(obj) or leaf not in {
            f.name for f in dataclasses.fields(obj)
        }:
            raise ConfigError(f"{path} is not a model parameter")
        if dataclasses.is_dataclass(getattr(obj, leaf)):
            raise ConfigError(f"{path} is a group of parameters, not one parameter")
        setattr(obj, leaf, value)
    return validate(cfg)


def value_overrides(values: tuple[tuple[str, Any], ...]) -> tuple[str, ...]:
    """Parameter values as override strings (``talent.review_rate=0.03``), for the record.

    Numpy scalars are written as plain numbers (their repr is not an override value).
    """
    return tuple(
        f"{path}={(value.item() if hasattr(value, 'item') else value)!r}" for path, value in values
    )


def _write_meta(run_dir: Path, meta: dict[str, Any]) -> None:
    write_text_atomically(run_dir / "meta.json", json.dumps(meta, indent=2, default=str))


def _base_meta(seed: int, hash_: str | None, labels: dict, overrides: tuple | list) -> dict:
    from clustersim.version import __version__

    return {
        "status": None,
        "config_hash": hash_,
        "seed": int(seed),
        "labels": dict(labels),
        "overrides": list(overrides),
        "model_fingerprint": model_fingerprint(),
        "clustersim_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def error_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_config_in(
    cfg: SimConfig,
    runs_dir: str | os.PathLike,
    *,
    labels: dict[str, Any] | None = None,
    overrides: tuple[str, ...] | list[str] = (),
    force: bool = False,
    wait: bool = True,
) -> RunRecord:
    """Run a validated config into ``runs_dir/<hash>-s<seed>``, unless already complete.

    Args:
        cfg: the validated config (its ``seed`` is the run's seed).
        runs_dir: directory holding one subdirectory per run.
        labels: what the run stands for (saved in ``meta.json``).
        overrides: the overrides it came from (saved in ``meta.json``).
        force: recompute even when a complete run exists.
        wait: when another process is computing this run, wait for it (and then
            skip the run it finished) instead of returning a ``"busy"`` record.

    The run is computed while its lock (``<run dir>/.lock``) is held, so a run is never
    computed by two processes at once. A run being recomputed (stale: finished by
    another model version, see :func:`model_fingerprint`; broken; or forced) loses its
    ``meta.json`` first, so the directory never passes for a finished run while its
    tables are being replaced.

    Returns:
        The run's record; failures are recorded, never raised.
    """
    labels = dict(labels or {})
    hash_ = config_hash(cfg)
    run_dir = Path(runs_dir) / run_dir_name(hash_, cfg.seed)
    if not force and run_status(run_dir, hash_, cfg.seed) == "ok":
        return RunRecord("skipped", run_dir, cfg.seed, hash_, labels)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        with hold_lock(run_dir / RUN_LOCK, wait=wait):
            return _run_locked(cfg, run_dir, hash_, labels, overrides, force=force)
    except LockHeld:
        return RunRecord("busy", run_dir, cfg.seed, hash_, labels)


def _run_locked(
    cfg: SimConfig,
    run_dir: Path,
    hash_: str,
    labels: dict[str, Any],
    overrides: tuple[str, ...] | list[str],
    *,
    force: bool,
) -> RunRecord:
    """Compute the run (its lock is held): check again, clean what a killed run left, run."""
    status = run_status(run_dir, hash_, cfg.seed)
    if not force and status == "ok":  # another process finished it while this one waited
        return RunRecord("skipped", run_dir, cfg.seed, hash_, labels)
    stale = status == "stale"
    (run_dir / "meta.json").unlink(missing_ok=True)
    remove_temporaries(run_dir)  # no live process saves this run: the lock is ours
    meta = _base_meta(cfg.seed, hash_, labels, overrides)
    meta["steps"] = cfg.steps
    meta["started_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    try:
        from clustersim.model.simulate import run_config

        result = run_config(cfg)
        result.save(run_dir)
        meta.update({k: v for k, v in result.meta.items() if k.startswith("spin_up_")})
    except Exception as exc:  # a failed run is recorded; the sweep goes on
        wall = time.perf_counter() - started
        meta.update(
            status="failed",
            error=error_line(exc),
            traceback=traceback.format_exc(),
            wall_time_s=round(wall, 3),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        _write_meta(run_dir, meta)
        return RunRecord("failed", run_dir, cfg.seed, hash_, labels, wall, meta["error"], stale)
    wall = time.perf_counter() - started
    meta.update(
        status="ok",
        error=None,
        wall_time_s=round(wall, 3),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _write_meta(run_dir, meta)
    return RunRecord("ok", run_dir, cfg.seed, hash_, labels, wall, stale=stale)


def run_spec(
    spec: RunSpec,
    runs_dir: str | os.PathLike,
    *,
    force: bool = False,
    wait: bool = True,
    config: SimConfig | None = None,
) -> RunRecord:
    """Compose a :class:`RunSpec`'s config and run it (see :func:`run_config_in`).

    A config that does not compose or validate is recorded as a failed run in
    ``runs_dir/invalid-<hash of the overrides>-s<seed>``. ``config``: the spec's config
    composed already (by :func:`compose_config`, e.g. in the process that hands runs to
    worker processes, which then need not compose).
    """
    overrides = (*spec.overrides, *value_overrides(spec.values))
    if config is not None and (config.seed != spec.seed or spec.steps not in (None, config.steps)):
        raise ValueError(
            f"run_spec: the config given (seed {config.seed}, {config.steps} months) is not "
            f"the spec's (seed {spec.seed}, {spec.steps} months)"
        )
    if config is None:
        try:
            config = compose_config(
                spec.overrides, seed=spec.seed, steps=spec.steps, values=spec.values
            )
        except Exception as exc:  # invalid input is recorded like any other failure
            key = hashlib.sha256(_canonical([list(overrides), spec.steps]).encode()).hexdigest()
            run_dir = Path(runs_dir) / f"invalid-{key[:HASH_LENGTH]}-s{spec.seed}"
            meta = _base_meta(spec.seed, None, spec.labels, overrides)
            meta.update(status="failed", error=error_line(exc), traceback=traceback.format_exc())
            _write_meta(run_dir, meta)
            error = meta["error"]
            return RunRecord("failed", run_dir, spec.seed, None, dict(spec.labels), 0.0, error)
    return run_config_in(
        config, runs_dir, labels=spec.labels, overrides=overrides, force=force, wait=wait
    )
