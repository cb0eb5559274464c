"""A sensitivity design's settings: which parameters over which ranges, and its sample points.

The ``sensitivity:`` section of a design (``kind: sensitivity``) names the model
(clustersim, or a registered toy model of :mod:`clustersim.experiments.toy_models`),
the method (``morris`` or ``sobol``), the parameters and their ranges, the outcomes
and the month. Ranges default to each parameter's documented bounds, the range its
:func:`~clustersim.params.param` declares (an open bound, ``>`` or ``<``, is moved in
by 1% of the range); ``relative_range: r`` makes them ``default x (1 - r, 1 + r)``
within those bounds, and ``ranges:`` narrows single parameters. SALib draws the
sample; every distinct point becomes one arm of the design, so each run of a
replicate is a point and the replicate's seed, shared by every point (common random
numbers).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustersim.errors import ConfigError
from clustersim.experiments.design_checks import refuse_unknown
from clustersim.experiments.toy_models import TOY_MODELS
from clustersim.model.compose import did_you_mean
from clustersim.model.outcomes import OUTCOME_NAMES
from clustersim.params import allowed_text, check_value

__all__ = [
    "AGAINST_SUFFIX",
    "ASSUMPTION",
    "CLUSTERSIM",
    "METHODS",
    "NOISE_INDEX",
    "NOISE_P",
    "Factor",
    "SensitivitySettings",
    "comparison_arms",
    "is_comparison",
    "lever_parameters",
    "model_parameters",
    "parse_factors",
    "parse_settings",
    "point_arms",
    "sample",
    "section_model",
    "whole_setting",
]

METHODS = ("morris", "sobol")
"""Sensitivity methods: Morris screening, Sobol indices from a Saltelli sample."""

CLUSTERSIM = "clustersim"
"""``sensitivity.model`` of designs that run clustersim (the default)."""

ASSUMPTION = "assumption"
"""``sensitivity.parameters: assumption``: every parameter whose source says "assumption"."""

KEYS = (
    "model",
    "method",
    "samples",
    "levels",
    "parameters",
    "exclude",
    "ranges",
    "relative_range",
    "outcomes",
    "month",
    "seed",
    "resamples",
    "against",
)
"""The keys of a design's ``sensitivity:`` section."""

NOISE_INDEX = "noise_mu_star"
"""Morris, two or more replicates: the mu* seed noise alone gives a parameter's steps (an
index of ``sensitivity.parquet``, :func:`clustersim.experiments.sensitivity.noise_mu_star`)."""

NOISE_P = "noise_p"
"""Morris, two or more replicates: a sign-flip p-value of a parameter's steps against seed
noise (an index of ``sensitivity.parquet``; ``sensitivity.noise_test``)."""

AGAINST_SUFFIX = "_against"
"""Name of a point's comparison arm: the point's name and this (``p0000_against``)."""


def is_comparison(arm: str) -> bool:
    """Whether a sensitivity design's arm holds comparison runs (``sensitivity.against``)."""
    return str(arm).endswith(AGAINST_SUFFIX)


OPEN_BOUND_STEP = 0.01
"""Share of a range by which a default range keeps off an open bound (``>`` or ``<``)."""

NOT_VARIED = ("seed", "steps")


@dataclass(frozen=True)
class Factor:
    """One parameter varied by the analysis.

    Attributes:
        name: its path in the config (``talent.review_rate``) or in the toy model.
        low: lowest value sampled.
        high: highest value sampled.
        integer: whether values are rounded to whole numbers.
        unit: its unit (``""`` for toy models).
    """

    name: str
    low: float
    high: float
    integer: bool = False
    unit: str = ""


@dataclass(frozen=True)
class SensitivitySettings:
    """A checked ``sensitivity:`` section.

    Attributes:
        model: ``clustersim`` or a toy model's name.
        method: ``morris`` or ``sobol``.
        samples: Morris trajectories, or the Sobol base sample N.
        levels: Morris grid levels.
        factors: the parameters varied, with their ranges.
        outcomes: the outcomes analysed.
        month: the month whose outcomes are analysed (None: the last month).
        seed: seed of the sample and of the bootstrap intervals.
        resamples: bootstrap resamples of the intervals.
        against: overrides of the comparison runs; when given, each point also runs with
            them (same parameters, same seed) and the outcomes analysed are the
            differences: the effect of what the site does (its plan) at that point.
    """

    model: str
    method: str
    samples: int
    levels: int
    factors: tuple[Factor, ...]
    outcomes: tuple[str, ...]
    month: int | None
    seed: int
    resamples: int
    against: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """The factors' names, in order."""
        return [f.name for f in self.factors]

    @property
    def problem(self) -> dict[str, Any]:
        """SALib's problem definition."""
        return {
            "num_vars": len(self.factors),
            "names": self.names,
            "bounds": [[f.low, f.high] for f in self.factors],
        }

    @property
    def is_toy(self) -> bool:
        """Whether a toy model is evaluated instead of clustersim."""
        return self.model != CLUSTERSIM


def model_parameters() -> dict[str, tuple[Mapping[str, Any], Any]]:
    """Numeric model parameters that can be varied: path -> (metadata, default)."""
    from clustersim.model.config import iter_parameters

    return {
        path: (f.metadata, value)
        for path, f, value in iter_parameters()
        if f.metadata.get("kind") in ("int", "float") and path not in NOT_VARIED
    }


def lever_parameters() -> dict[str, tuple[Mapping[str, Any], Any]]:
    """Numeric settings of every lever: ``policy.<lever>.<setting>`` -> (metadata, default).

    A design may vary them like model parameters; the site must switch the lever on
    (``policy=[...]``), or composing its runs says how to.
    """
    import dataclasses

    from clustersim.policy.registry import LEVERS

    found = {}
    for name, lever in LEVERS.items():
        defaults = lever.Settings()
        for f in dataclasses.fields(lever.Settings):
            value = getattr(defaults, f.name)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric or (value is None and f.name == "duration"):
                found[f"policy.{name}.{f.name}"] = (dict(f.metadata), value)
    return found


def whole_setting(
    raw: Mapping[str, Any], key: str, default: int, least: int, section: str = "sensitivity"
) -> int:
    """The whole-number setting ``key`` of a design's section (at least ``least``).

    Raises:
        ConfigError: one line naming ``<section>.<key>``, the value and what is allowed.
    """
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ConfigError(f"{section}.{key} must be an integer >= {least}, got {value!r}")
    return int(value)


def _names(raw: Any, field: str, section: str = "sensitivity") -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        raise ConfigError(f"{section}.{field} must be a list of names, got {raw!r}")
    return [str(x) for x in raw]


def _check_known(
    names: list[str], known: Mapping[str, Any], field: str, what: str, section: str = "sensitivity"
) -> None:
    for name in names:
        if name not in known:
            hint = did_you_mean(name, list(known))
            raise ConfigError(f"{section}.{field} must name {what}; got {name!r}{hint}")


def _bounds(name: str, meta: Mapping[str, Any], section: str) -> tuple[float, float, bool, bool]:
    """A parameter's documented range and whether each end is open (``>`` or ``<``)."""
    low = meta.get("ge") if meta.get("ge") is not None else meta.get("gt")
    high = meta.get("le") if meta.get("le") is not None else meta.get("lt")
    if low is None or high is None:
        raise ConfigError(
            f"{name} has no documented {'lower' if low is None else 'upper'} bound "
            f"({allowed_text(meta)}); give its range in {section}.ranges"
        )
    return float(low), float(high), meta.get("ge") is None, meta.get("le") is None


def _inside(
    low: float, high: float, bounds: tuple[float, float, bool, bool], integer: bool
) -> tuple[float, float]:
    """``[low, high]`` clipped to the documented bounds, kept off an open bound."""
    lo, hi, lo_open, hi_open = bounds
    step = (min(high, hi) - max(low, lo)) * OPEN_BOUND_STEP
    if low <= lo:
        low = lo + (1 if integer else step) if lo_open else lo
    if high >= hi:
        high = hi - (1 if integer else step) if hi_open else hi
    return low, high


def _relative(name: str, default: Any, r: float, section: str) -> tuple[float, float]:
    if default is None or default == 0:
        raise ConfigError(
            f"{section}.relative_range cannot give {name} a range (its default is "
            f"{default!r}); give it one in {section}.ranges or leave it out with exclude"
        )
    low, high = sorted(float(f"{v:.12g}") for v in (default * (1 - r), default * (1 + r)))
    return low, high


def _given_range(
    name: str, value: Any, meta: Mapping[str, Any] | None, box: tuple, section: str
) -> tuple:
    field = f"{section}.ranges.{name}"
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
    ):
        raise ConfigError(f"{field} must be [low, high] (two numbers), got {value!r}")
    low, high = float(value[0]), float(value[1])
    if meta is not None:
        plain = {**meta, "kind": None}  # whole numbers are rounded when sampled
        check_value(field, low, plain)
        check_value(field, high, plain)
    elif low < box[0] or high > box[1]:
        raise ConfigError(
            f"{field} must lie within [{box[0]:g}, {box[1]:g}], got [{low:g}, {high:g}]"
        )
    if not low < high:
        raise ConfigError(f"{field} must have low < high, got [{low:g}, {high:g}]")
    return low, high


def _selected(
    raw: Mapping[str, Any], known: Mapping[str, Any], toy: bool, section: str
) -> list[str]:
    """The names of the parameters varied, checked."""
    chosen = raw.get("parameters")
    what = (
        "the toy model's parameters"
        if toy
        else "numeric model parameters (docs/model.md) or lever settings (docs/policies.md)"
    )
    assumptions = [
        n
        for n, (meta, _) in known.items()
        if not toy and ASSUMPTION in str(meta.get("source")) and not n.startswith("policy.")
    ]
    if chosen is None and toy:
        names = list(known)
    elif chosen == ASSUMPTION and not toy:
        names = assumptions
    elif isinstance(chosen, list | tuple) and chosen:
        names = _names(chosen, "parameters", section)
        if not toy and ASSUMPTION in names:  # the assumptions, and the names listed with them
            at = names.index(ASSUMPTION)
            names = [*names[:at], *assumptions, *names[at + 1 :]]
            names = [n for n in names if n != ASSUMPTION]
        _check_known(names, known, "parameters", what, section)
    else:
        allowed = "a list of parameter names" + ("" if toy else " or 'assumption'")
        raise ConfigError(f"{section}.parameters must be {allowed}, got {chosen!r}")
    exclude = _names(raw.get("exclude"), "exclude", section)
    _check_known(exclude, known, "exclude", what, section)
    names = [n for n in dict.fromkeys(names) if n not in exclude]
    if not names:
        raise ConfigError(f"{section}.parameters leaves no parameter to vary")
    return names


def parse_factors(
    raw: Mapping[str, Any], model: str, section: str = "sensitivity"
) -> tuple[Factor, ...]:
    """The parameters a design's section varies, with their ranges (checked).

    ``section`` names the design's section in error messages (``sensitivity``,
    ``calibration``); its keys ``parameters``, ``exclude``, ``ranges`` and
    ``relative_range`` mean the same in every kind of design.
    """
    toy = model != CLUSTERSIM
    if toy:
        known: Mapping[str, Any] = {n: (None, None) for n in TOY_MODELS[model].parameters}
    else:
        known = {**model_parameters(), **lever_parameters()}
    names = _selected(raw, known, toy, section)
    ranges = raw.get("ranges") or {}
    if not isinstance(ranges, Mapping):
        raise ConfigError(f"{section}.ranges must map names to [low, high], got {ranges!r}")
    _check_known(
        list(ranges), dict.fromkeys(names), "ranges", "parameters that are varied", section
    )
    r = raw.get("relative_range")
    if r is not None and (
        toy or isinstance(r, bool) or not isinstance(r, numbers.Real) or not 0 < r <= 1
    ):
        allowed = "not used with toy models" if toy else "a number > 0 and <= 1"
        raise ConfigError(f"{section}.relative_range must be {allowed}, got {r!r}")
    factors = []
    for name in names:
        meta, default = known[name]
        integer = bool(meta and meta.get("kind") == "int")
        box = (
            (*TOY_MODELS[model].parameters[name], False, False)
            if toy
            else _bounds(name, meta, section)
        )
        if name in ranges:
            low, high = _given_range(name, ranges[name], meta, box, section)
        else:
            wanted = _relative(name, default, float(r), section) if r is not None else box[:2]
            low, high = _inside(*wanted, box, integer)
        if not low < high:
            raise ConfigError(
                f"{name}: its range [{low:g}, {high:g}] has no width; set it in ranges"
            )
        factors.append(Factor(name, float(low), float(high), integer, meta["unit"] if meta else ""))
    return tuple(factors)


def _outcomes(raw: Mapping[str, Any], model: str) -> tuple[str, ...]:
    known = TOY_MODELS[model].outcomes if model != CLUSTERSIM else OUTCOME_NAMES[1:]
    first = known[0] if model != CLUSTERSIM else "creative_employment"
    names = _names(raw.get("outcomes", [first]), "outcomes")
    if not names:
        raise ConfigError("sensitivity.outcomes must name at least one outcome")
    _check_known(names, dict.fromkeys(known), "outcomes", f"outcomes ({', '.join(known)})")
    return tuple(dict.fromkeys(names))


def section_model(raw: Any, keys: tuple[str, ...], section: str, example: str) -> str:
    """Check that a design's section is a mapping of known keys; the model it names.

    Raises:
        ConfigError: one line naming the section or key and what is allowed.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"a {section} design needs a {section}: section ({example})")
    refuse_unknown(section, raw, keys)
    model = str(raw.get("model", CLUSTERSIM))
    if model != CLUSTERSIM and model not in TOY_MODELS:
        allowed = ", ".join([CLUSTERSIM, *TOY_MODELS])
        raise ConfigError(f"{section}.model must be one of {allowed}; got {model!r}")
    return model


def parse_settings(raw: Any) -> SensitivitySettings:
    """Check a design's ``sensitivity:`` section.

    Raises:
        ConfigError: one line naming the field, the value and what is allowed.
    """
    model = section_model(raw, KEYS, "sensitivity", "method:, ...")
    method = raw.get("method", "morris")
    if method not in METHODS:
        raise ConfigError(f"sensitivity.method must be one of {', '.join(METHODS)}; got {method!r}")
    month = raw.get("month")
    if month is not None:
        month = whole_setting(raw, "month", 0, 1)
    factors = parse_factors(raw, model)
    against = _against(raw, model)
    varied = {f.name for f in factors}
    for item in against:
        key = item.lstrip("+~").partition("=")[0].strip()
        if key in varied:  # the sample's value would be set after it: it would do nothing
            raise ConfigError(
                f"sensitivity.against: {item!r} sets {key}, which the sample varies (its "
                "sampled value is set after the overrides); leave it out of one of the two"
            )
    return SensitivitySettings(
        model=model,
        method=str(method),
        samples=whole_setting(raw, "samples", 10, 1),
        levels=whole_setting(raw, "levels", 4, 2),
        factors=factors,
        outcomes=_outcomes(raw, model),
        month=month,
        seed=whole_setting(raw, "seed", 0, 0),
        resamples=whole_setting(raw, "resamples", 1000, 10),
        against=against,
    )


def _against(raw: Mapping[str, Any], model: str) -> tuple[str, ...]:
    """The comparison runs' overrides (``sensitivity.against``), checked for form."""
    value = raw.get("against")
    if value is None:
        return ()
    example = "e.g. [plan=none]"
    if model != CLUSTERSIM:
        raise ConfigError(
            f"sensitivity.against compares runs of clustersim; a toy model ({model}) has none"
        )
    if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
        raise ConfigError(
            f"sensitivity.against must be a non-empty list of overrides ({example}), got {value!r}"
        )
    for item in value:
        key, sep, _ = str(item).lstrip("+~").partition("=")
        removal = str(item).startswith("~")  # ~KEY removes a group entry: no value needed
        if not isinstance(item, str) or not (sep or removal) or not key.strip():
            raise ConfigError(
                f"sensitivity.against: each entry is an override KEY=VALUE ({example}), "
                f"got {item!r}"
            )
    return tuple(value)


def comparison_arms(
    points: list[tuple[str, tuple[tuple[str, Any], ...]]],
) -> tuple[dict[str, tuple[tuple[str, Any], ...]], dict[str, str]]:
    """The comparison runs' arms of a design with ``sensitivity.against``.

    A comparison run takes its point's model parameters but not its lever settings
    (``policy.<lever>.<setting>``): the levers they set are those of the site's plan,
    which the comparison runs leave out. Points that differ only in lever settings (a
    Morris step along one) therefore share one comparison arm, named after the first
    of them (``p0001_against``), so no run is made twice.

    Returns:
        The comparison arms (name -> parameter values) in order, and each point's arm.
    """
    arms: dict[str, tuple[tuple[str, Any], ...]] = {}
    named: dict[tuple, str] = {}
    of: dict[str, str] = {}
    for name, values in points:
        kept = tuple((p, v) for p, v in values if not str(p).startswith("policy."))
        if kept not in named:
            named[kept] = name + AGAINST_SUFFIX
            arms[named[kept]] = kept
        of[name] = named[kept]
    return arms, of


def sample(settings: SensitivitySettings) -> np.ndarray:
    """SALib's sample: one row per model evaluation, one column per factor (not rounded).

    Morris: ``samples`` trajectories of ``k + 1`` points on a grid of ``levels``
    levels; Sobol: Saltelli's extension of the Sobol sequence, ``samples x (k + 2)``
    rows (first-order and total indices).
    """
    try:
        from SALib.sample import morris, sobol
    except ImportError:  # the analysis extra is not installed
        raise ConfigError(
            "sensitivity designs need SALib: pip install 'clustersim[analysis]'"
        ) from None
    problem = settings.problem
    if settings.method == "morris":
        return morris.sample(
            problem, settings.samples, num_levels=settings.levels, seed=settings.seed
        )
    import warnings

    with warnings.catch_warnings():  # SALib warns when N is not a power of 2: docs say so
        warnings.simplefilter("ignore", UserWarning)
        return sobol.sample(problem, settings.samples, calc_second_order=False, seed=settings.seed)


def _plain(value: float, integer: bool) -> int | float:
    return int(np.rint(value)) if integer else float(value)


def point_arms(
    settings: SensitivitySettings, x: np.ndarray
) -> tuple[list[tuple[str, tuple[tuple[str, Any], ...]]], np.ndarray]:
    """The distinct sample points as named arms, and the point of every sample row.

    Whole-number parameters are rounded first; rows that are then equal (a Morris
    point met by two trajectories) share one arm, so no run is made twice.

    Returns:
        ``[(arm name, ((parameter, value), ...)), ...]`` in order of first appearance,
        and for every row of ``x`` the index of its arm.
    """
    width = max(4, len(str(len(x))))
    seen: dict[tuple, int] = {}
    rows = np.empty(len(x), dtype=int)
    arms = []
    for i, row in enumerate(x):
        values = tuple(
            (f.name, _plain(v, f.integer)) for f, v in zip(settings.factors, row, strict=True)
        )
        key = tuple(v for _, v in values)
        if key not in seen:
            seen[key] = len(arms)
            arms.append((f"p{len(arms):0{width}d}", values))
        rows[i] = seen[key]
    return arms, rows
