"""Checks the measurement scripts of ``experiments/`` share: ranges, no levers, a probe build.

:func:`check_script` returns the first one-line problem, so a script prints it and
exits 2 before any run and before writing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from clustersim.errors import ConfigError
from clustersim.model.compose import load_config
from clustersim.model.core import CreativeClusterModel

__all__ = ["check_script", "probe_model"]


def _out_of_range(checks: Iterable[tuple[str, int, int, int]]) -> str | None:
    """The first ``(option, value, low, high)`` whose value is outside ``low..high``."""
    for name, value, low, high in checks:
        if not low <= value <= high:
            return f"{name} must be {low}-{high}, got {value}"
    return None


def _policy_setting(sets: Sequence[str]) -> str | None:
    """The first ``KEY=VALUE`` setting that would switch a lever on (``plan`` or ``policy.*``)."""
    for text in sets:
        if text.split("=", 1)[0].split(".", 1)[0] in ("plan", "policy"):
            return text
    return None


def probe_model(city: str, sets: Sequence[str]) -> CreativeClusterModel:
    """Build ``city`` with ``sets`` and no spin-up, so a bad name or value fails at once.

    Raises:
        clustersim.errors.ConfigError: one-line message naming the field and value.
    """
    cfg, _ = load_config(city, None, overrides=["spin_up.months=0", *sets])
    return CreativeClusterModel.from_config(cfg)


def check_script(
    ranges: Iterable[tuple[str, int, int, int]],
    sets: Sequence[str],
    city: str,
    without_policy: str,
) -> tuple[str | None, CreativeClusterModel | None]:
    """All three checks in order: (the first problem, or None and the probe model).

    ``without_policy`` is what the script says when a setting would switch a lever on.
    """
    problem = _out_of_range(ranges)
    if problem:
        return problem, None
    setting = _policy_setting(sets)
    if setting:
        return f"--set {setting}: {without_policy}", None
    try:
        return None, probe_model(city, sets)
    except ConfigError as err:
        return str(err), None
