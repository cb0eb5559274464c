"""Errors that clustersim reports to users as one clear line."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["CityGraphError", "ClusterSimError", "ConfigError", "did_you_mean"]


class ClusterSimError(Exception):
    """Base class for errors shown to users as a single line (no traceback)."""


class ConfigError(ClusterSimError, ValueError):
    """A configuration value is invalid; the message names the field, value and what is allowed."""


class CityGraphError(ClusterSimError, ValueError):
    """A city graph (generated or loaded from GraphML) is missing or has invalid attributes."""


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` naming the option closest to ``word``, or ``""``.

    Dotted keys are also matched on their last part, so ``revew_rate`` finds
    ``talent.review_rate``.

    Examples:
        >>> did_you_mean("obidoss", ["obidos", "mizil"])
        "; did you mean 'obidos'?"
    """
    options = list(dict.fromkeys(str(o) for o in options))
    tail = word.rsplit(".", 1)[-1]
    near = [o for o in options if _similar(o.rsplit(".", 1)[-1], tail) >= 0.75]
    close = sorted(near, key=lambda o: -_similar(o, word))[:1]
    return f"; did you mean '{close[0]}'?" if close else ""


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()
