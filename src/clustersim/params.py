"""Parameter metadata: a dataclass field that knows its unit, meaning, source and range.

The model's config schema and the policy levers' settings both declare their
fields with :func:`param`; :func:`check_value` turns a value outside the
declared range into a one-line :class:`~clustersim.errors.ConfigError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from clustersim.errors import ConfigError

__all__ = ["allowed_text", "check_value", "param"]


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
    """A dataclass field with unit, meaning, source and allowed range as metadata."""
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
    }
    return field(default=default, metadata=meta)


def allowed_text(meta: Mapping[str, Any]) -> str:
    """What a parameter allows, in words ("one of a, b", ">= 0 and <= 1", "any value")."""
    parts = []
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    if meta.get("ge") is not None:
        parts.append(f">= {meta['ge']:g}")
    if meta.get("gt") is not None:
        parts.append(f"> {meta['gt']:g}")
    if meta.get("le") is not None:
        parts.append(f"<= {meta['le']:g}")
    if meta.get("lt") is not None:
        parts.append(f"< {meta['lt']:g}")
    return " and ".join(parts) if parts else "any value"


def check_value(path: str, value: Any, meta: Mapping[str, Any]) -> None:
    """Raise ConfigError naming ``path``, the value and what is allowed when it is out of range."""
    if value is None:
        if meta.get("optional"):
            return
        raise ConfigError(f"{path} must be set ({allowed_text(meta)}), got null")
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{path} must be {allowed_text(meta)}; got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        bad = (
            math.isnan(value)
            or (meta.get("ge") is not None and value < meta["ge"])
            or (meta.get("gt") is not None and value <= meta["gt"])
            or (meta.get("le") is not None and value > meta["le"])
            or (meta.get("lt") is not None and value >= meta["lt"])
        )
        if bad:
            raise ConfigError(f"{path} must be {allowed_text(meta)}, got {value!r}")
