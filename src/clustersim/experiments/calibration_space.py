"""A calibration design's settings: parameters, target moments, and how to search.

The ``calibration:`` section of a design (``kind: calibration``) names the model
(clustersim, or a registered toy model of :mod:`clustersim.experiments.toy_models`
whose outcomes are its moments), the parameters estimated and their ranges (the same
keys as a sensitivity design: ``parameters``, ``exclude``, ``ranges``,
``relative_range``), the target moments (a file of ``configs/targets/`` or a mapping
in the design), which of them are fitted (``fit``) and which are kept out to validate
(``hold_out``), and the search: ``trials`` evaluations by Optuna's TPE sampler in
batches of ``batch``, then up to ``refine`` Gauss-Newton steps. A recovery design
(``planted:``) simulates its "observed" moments at planted parameter values instead
of reading targets, so the estimates can be checked against known values.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clustersim.errors import ConfigError
from clustersim.experiments.design_checks import refuse_unknown
from clustersim.experiments.moments import MOMENTS
from clustersim.experiments.sensitivity_space import (
    CLUSTERSIM,
    Factor,
    parse_factors,
    section_model,
    whole_setting,
)
from clustersim.experiments.toy_models import TOY_MODELS
from clustersim.model.compose import config_dir, did_you_mean

__all__ = [
    "KEYS",
    "CalibrationSettings",
    "Target",
    "load_targets",
    "parse_calibration",
]

KEYS = (
    "model",
    "parameters",
    "exclude",
    "ranges",
    "relative_range",
    "targets",
    "fit",
    "hold_out",
    "planted",
    "observed_replicates",
    "observed_seed",
    "trials",
    "batch",
    "startup",
    "refine",
    "step",
    "validation_replicates",
    "seed",
)
"""The keys of a design's ``calibration:`` section."""

TARGET_KEYS = ("value", "sd", "source", "uncertainty")
"""The keys of one target moment."""


@dataclass(frozen=True)
class Target:
    """A target moment: its published value and uncertainty.

    Attributes:
        moment: the moment's name (:data:`clustersim.experiments.moments.MOMENTS`, or a
            toy model's outcome).
        value: the published (or, in a recovery, simulated) value.
        sd: its uncertainty as a standard deviation (> 0).
        source: where the value comes from.
        uncertainty: why ``sd`` is what it is.
    """

    moment: str
    value: float
    sd: float
    source: str = ""
    uncertainty: str = ""


@dataclass(frozen=True)
class CalibrationSettings:
    """A checked ``calibration:`` section.

    Attributes:
        model: ``clustersim`` or a toy model's name.
        factors: the parameters estimated, with the ranges searched.
        targets: target moments by name (empty in a recovery: they are simulated).
        targets_name: the targets file's name (or ``design`` for targets given inline).
        fit: the moments the distance is computed over.
        hold_out: the moments kept out of the fit, reported for validation.
        planted: parameter -> value of a recovery design (empty otherwise).
        observed_replicates: replicates simulating the observed moments of a recovery.
        observed_seed: root seed of those replicates (not the calibration's).
        trials: evaluations of the global search.
        batch: evaluations proposed at once (run in parallel).
        startup: evaluations drawn at random before TPE models the distance.
        refine: Gauss-Newton steps after the search.
        step: finite-difference step, as a share of each parameter's range.
        validation_replicates: replicates at the estimate for the validation table.
        seed: seed of the search.
    """

    model: str
    factors: tuple[Factor, ...]
    targets: dict[str, Target]
    targets_name: str
    fit: tuple[str, ...]
    hold_out: tuple[str, ...]
    planted: dict[str, float]
    observed_replicates: int
    observed_seed: int | None
    trials: int
    batch: int
    startup: int
    refine: int
    step: float
    validation_replicates: int
    seed: int

    @property
    def names(self) -> list[str]:
        """The parameters' names, in order."""
        return [f.name for f in self.factors]

    @property
    def moments(self) -> tuple[str, ...]:
        """Every moment measured: the fitted ones, then the held-out ones."""
        return (*self.fit, *self.hold_out)

    @property
    def is_toy(self) -> bool:
        """Whether a toy model is evaluated instead of clustersim."""
        return self.model != CLUSTERSIM

    @property
    def is_recovery(self) -> bool:
        """Whether the observed moments are simulated at planted values."""
        return bool(self.planted)


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(f"{field} must be a finite number, got {value!r}")
    return float(value)


def _target(name: str, raw: Any, where: str) -> Target:
    field = f"{where}.{name}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{field} must be a mapping (value:, sd:, source:), got {raw!r}")
    for key in raw:
        if key not in TARGET_KEYS:
            raise ConfigError(f"{field}.{key} is not a setting; settings: {', '.join(TARGET_KEYS)}")
    if "value" not in raw or "sd" not in raw:
        raise ConfigError(f"{field} needs value: and sd: (its uncertainty)")
    sd = _number(raw["sd"], f"{field}.sd")
    if not sd > 0:
        raise ConfigError(f"{field}.sd must be > 0, got {sd:g}")
    return Target(
        name,
        _number(raw["value"], f"{field}.value"),
        sd,
        str(raw.get("source", "")),
        str(raw.get("uncertainty", "")),
    )


def load_targets(spec: Any, known: tuple[str, ...]) -> tuple[dict[str, Target], str]:
    """Target moments from a file of ``configs/targets/`` (by name) or an inline mapping.

    Args:
        spec: a file name (``eu_creative_firms``) or ``{moment: {value:, sd:, ...}}``.
        known: the moments the model can measure.

    Returns:
        The targets by moment, and where they came from (the file's name or ``design``).

    Raises:
        ConfigError: one line naming the file or field, the value and what is allowed.
    """
    import yaml

    if isinstance(spec, str):
        folder = config_dir() / "targets"
        names = sorted(p.stem for p in folder.glob("*.yaml"))
        path = folder / f"{spec}.yaml"
        if "/" in spec or not path.is_file():
            raise ConfigError(
                f"calibration.targets must be one of {', '.join(names)} (configs/targets/) "
                f"or a mapping of moments; got {spec!r}{did_you_mean(spec, names)}"
            )
        try:
            raw = yaml.safe_load(Path(path).read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from None
        moments, where, origin = (raw or {}).get("moments"), f"{path.name}: moments", spec
    elif isinstance(spec, Mapping):
        moments, where, origin = spec, "calibration.targets", "design"
    else:
        raise ConfigError(
            f"calibration.targets must be a file name in configs/targets/ or a mapping, "
            f"got {spec!r}"
        )
    if not isinstance(moments, Mapping) or not moments:
        raise ConfigError(f"{where} must map moment names to value:, sd:, source:")
    refuse_unknown(where, moments, known, "moment")
    return {str(n): _target(str(n), v, where) for n, v in moments.items()}, origin


def _whole(raw: Mapping[str, Any], key: str, default: int, least: int) -> int:
    return whole_setting(raw, key, default, least, "calibration")


def _moment_list(raw: Any, key: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        raise ConfigError(f"calibration.{key} must be a list of moments, got {raw!r}")
    for name in raw:
        if name not in allowed:
            raise ConfigError(
                f"calibration.{key} must name {what} ({', '.join(allowed)}); got {name!r}"
                f"{did_you_mean(str(name), allowed)}"
            )
    return tuple(dict.fromkeys(str(n) for n in raw))


def _planted(raw: Any, factors: tuple[Factor, ...]) -> dict[str, float]:
    if raw is None:
        return {}
    names = [f.name for f in factors]
    if not isinstance(raw, Mapping) or set(raw) != set(names):
        raise ConfigError(
            f"calibration.planted must give a value to every parameter estimated "
            f"({', '.join(names)}); got {raw!r}"
        )
    planted = {}
    for f in factors:
        value = _number(raw[f.name], f"calibration.planted.{f.name}")
        if not f.low <= value <= f.high:
            raise ConfigError(
                f"calibration.planted.{f.name} must lie in its range [{f.low:g}, {f.high:g}], "
                f"got {value:g}"
            )
        planted[f.name] = value
    return planted


def _moments(raw: Mapping[str, Any], known: tuple[str, ...], recovery: bool):
    """The targets, the fitted and the held-out moments."""
    if recovery:
        if "targets" in raw:
            raise ConfigError(
                "a recovery design (calibration.planted) simulates its targets; drop "
                "calibration.targets"
            )
        targets, origin = {}, "planted"
        fit = _moment_list(raw.get("fit"), "fit", known, "moments the model measures")
        hold_out = _moment_list(raw.get("hold_out", []), "hold_out", known, "moments")
    else:
        if "targets" not in raw:
            raise ConfigError("calibration.targets is required (a file of configs/targets/)")
        targets, origin = load_targets(raw["targets"], known)
        names = tuple(targets)
        fit = _moment_list(raw.get("fit", list(names)), "fit", names, "target moments")
        rest = [n for n in names if n not in fit]
        hold_out = _moment_list(raw.get("hold_out", rest), "hold_out", names, "target moments")
    if not fit:
        raise ConfigError("calibration.fit must name at least one moment")
    both = set(fit) & set(hold_out)
    if both:
        raise ConfigError(f"calibration: {sorted(both)[0]} is both fitted and held out")
    return targets, origin, fit, hold_out


def parse_calibration(raw: Any) -> CalibrationSettings:
    """Check a design's ``calibration:`` section.

    Raises:
        ConfigError: one line naming the field, the value and what is allowed.
    """
    model = section_model(raw, KEYS, "calibration", "parameters:, targets:, ...")
    if raw.get("parameters") is None:
        raise ConfigError("calibration.parameters is required (a list of parameter names)")
    factors = parse_factors(raw, model, "calibration")
    known = TOY_MODELS[model].outcomes if model != CLUSTERSIM else tuple(MOMENTS)
    planted = _planted(raw.get("planted"), factors)
    targets, origin, fit, hold_out = _moments(raw, known, bool(planted))
    if len(fit) < len(factors):
        raise ConfigError(
            f"calibration.fit has {len(fit)} moment(s) for {len(factors)} parameters: "
            "fit at least as many moments as parameters, or the estimates are not identified"
        )
    step = _number(raw.get("step", 0.1), "calibration.step")
    if not 0 < step <= 0.25:
        raise ConfigError(f"calibration.step must be > 0 and <= 0.25, got {step:g}")
    observed_seed = raw.get("observed_seed")
    if observed_seed is not None:
        observed_seed = _whole(raw, "observed_seed", 0, 0)
    return CalibrationSettings(
        model=model,
        factors=factors,
        targets=targets,
        targets_name=origin,
        fit=fit,
        hold_out=hold_out,
        planted=planted,
        observed_replicates=_whole(raw, "observed_replicates", 8, 2),
        observed_seed=observed_seed,
        trials=_whole(raw, "trials", 64, 1),
        batch=_whole(raw, "batch", 8, 1),
        startup=_whole(raw, "startup", 16, 0),
        refine=_whole(raw, "refine", 2, 0),
        step=step,
        validation_replicates=_whole(raw, "validation_replicates", 8, 2),
        seed=_whole(raw, "seed", 0, 0),
    )
