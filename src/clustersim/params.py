"""Parameter metadata: a dataclass field that knows its unit, meaning, source and range.

The model's config schema and the policy levers' settings both declare their
fields with :func:`param`; :func:`check_value` turns a value that is not a
finite number inside the declared range into a one-line
:class:`~clustersim.errors.ConfigError`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from clustersim.errors import ConfigError

__all__ = [
    "MAX_EUR_PER_MONTH",
    "MAX_MINUTES",
    "MAX_MONTHS",
    "MAX_UTILS",
    "MAX_WEIGHT",
    "allowed_text",
    "check_value",
    "format_bound",
    "param",
]

# Shared upper bounds. Every numeric parameter has a finite, documented range: wide
# enough for any plausible study, narrow enough that the model's arithmetic and its
# random draws cannot overflow (Poisson means, geometric probabilities, array sizes).

MAX_UTILS = 50.0
"""Largest logit weight or utility cost (utils): at 50 utils a choice is already
deterministic (a rival option's odds are exp(-50) ~ 2e-22); defaults are 0.3-2."""

MAX_MINUTES = 600.0
"""Longest travel time, commute or distance-decay scale (minutes): ten hours, the
bound of ``city.travel_time``; defaults are 15-60."""

#: provenance of the defaults estimated by the shipped calibration (a parameter's ``source``)
CALIBRATED_EU = (
    "estimated together with three other firm and labour parameters by the simulated method "
    "of moments (design calibration_eu, 5 Dec 2026, model of commit cf7862e, fingerprint "
    "0580e4c06280e38c; docs/calibration.md, section What the shipped calibration found); "
    "consistent with the figures but not pinned down by them"
)

MAX_MONTHS = 2400
"""Longest span in months (a lever's start, duration, ramp or programme length): the
longest simulation horizon (``steps <= 2400``, 200 years)."""

MAX_EUR_PER_MONTH = 100_000.0
"""Largest monthly income, wage floor or rent (EUR/month): about 40 times the EU
median monthly earnings; defaults are 700-2,200."""

MAX_WEIGHT = 10.0
"""Largest weight, elasticity or ratio (spillover, reach and productivity weights,
elasticities, dwellings per job): a tenfold effect per unit, far beyond any estimate;
defaults are 0.05-1.5."""


def param(
    default: Any,
    *,
    unit: str,
    doc: str,
    source: str = "assumption",
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple[str, ...] | None = None,
    optional: bool = False,
) -> Any:
    """A dataclass field with unit, meaning, source and allowed range as metadata.

    A numeric default also fixes the field's kind (``"int"`` or ``"float"``):
    :func:`check_value` then refuses values of another type.
    """
    kind = None
    if isinstance(default, numbers.Integral) and not isinstance(default, bool):
        kind = "int"
    elif isinstance(default, numbers.Real) and not isinstance(default, bool):
        kind = "float"
    meta = {
        "unit": unit,
        "doc": doc,
        "source": source,
        "ge": ge,
        "gt": gt,
        "le": le,
        "lt": lt,
        "choices": choices,
        "optional": optional,
        "kind": kind,
    }
    return field(default=default, metadata=meta)


def format_bound(bound: float) -> str:
    """A range bound in words: ``1e+06``, ``0.5``; a large power of two as ``2**63``."""
    if isinstance(bound, int) and bound >= 2**32 and bound & (bound - 1) == 0:
        return f"2**{bound.bit_length() - 1}"
    return f"{bound:g}"


def allowed_text(meta: Mapping[str, Any]) -> str:
    """What a parameter allows, in words ("one of a, b", ">= 0 and <= 1", "any value")."""
    parts = []
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if meta.get(key) is not None:
            parts.append(f"{sign} {format_bound(meta[key])}")
    return " and ".join(parts) if parts else "any value"


def _out_of_range(value: float, meta: Mapping[str, Any]) -> bool:
    """Whether a number is non-finite or outside the declared bounds."""
    if isinstance(value, float) and not math.isfinite(value):
        return True
    return (
        (meta.get("ge") is not None and value < meta["ge"])
        or (meta.get("gt") is not None and value <= meta["gt"])
        or (meta.get("le") is not None and value > meta["le"])
        or (meta.get("lt") is not None and value >= meta["lt"])
    )


def _shown(value: Any) -> str:
    """A value for a one-line message: numbers as plain Python numbers, long text cut."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        text = str(int(value))
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        text = repr(float(value))
    else:
        text = repr(value)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= 80 else text[:77] + "..."


def check_value(path: str, value: Any, meta: Mapping[str, Any]) -> None:
    """Raise ConfigError naming ``path``, the value and what is allowed when it is invalid.

    Invalid means: null where a value is required, not one of the choices, not a
    number (or not an integer) for a numeric field, not finite (NaN, +inf, -inf),
    or outside the declared range.

    Examples:
        >>> check_value("firm.unit_price", float("inf"), {"gt": 0, "le": 1e6})
        Traceback (most recent call last):
        ...
        clustersim.errors.ConfigError: firm.unit_price must be > 0 and <= 1e+06, got inf
    """
    if value is None:
        if meta.get("optional"):
            return
        raise ConfigError(f"{path} must be set ({allowed_text(meta)}), got null")
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{path} must be {allowed_text(meta)}; got {value!r}")
    kind = meta.get("kind")
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind == "int" and not (number and isinstance(value, numbers.Integral)):
        raise ConfigError(f"{path} must be an integer ({allowed_text(meta)}), got {_shown(value)}")
    if kind == "float" and not number:
        raise ConfigError(f"{path} must be a number ({allowed_text(meta)}), got {_shown(value)}")
    if number and _out_of_range(value if isinstance(value, int) else float(value), meta):
        raise ConfigError(f"{path} must be {allowed_text(meta)}, got {_shown(value)}")
