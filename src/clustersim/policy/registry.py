"""The registry of levers (name -> class): checks settings, builds levers, tabulates settings.

Lever modules under :mod:`clustersim.policy.levers` register themselves (that
package registers each of its modules when imported, and ``clustersim.policy``
imports it), so :data:`LEVERS` holds every lever as soon as any part of
``clustersim.policy`` is imported. The model reaches :func:`validate_policy_config`
and :func:`build_policies` through its policy plug-in (:mod:`clustersim.model.hooks`).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from clustersim.errors import ConfigError
from clustersim.params import allowed_text, check_value
from clustersim.policy.lever import TARGET_RULES, Lever, LeverSettings

if TYPE_CHECKING:
    from clustersim.model.host import PolicyHost
    from clustersim.policy.base import Policy

__all__ = [
    "LEVERS",
    "build_policies",
    "check_city",
    "lever_table",
    "register_module",
    "register_package",
    "settings_for",
    "validate_policy_config",
]

#: Lever name (as in configs/policy/) -> class, in the order levers are listed.
LEVERS: dict[str, type[Lever]] = {}


def register_module(module: ModuleType) -> str:
    """Register ``module.LEVER`` under the module's own name (its last part); return the name.

    Raises:
        TypeError: if the module sets no ``LEVER`` or it is not a Lever subclass.
    """
    name = module.__name__.rpartition(".")[2]
    lever = getattr(module, "LEVER", None)
    if not (isinstance(lever, type) and issubclass(lever, Lever)):
        raise TypeError(
            f"lever module {module.__name__} must set LEVER = <its Lever subclass>, got {lever!r}"
        )
    LEVERS[name] = lever
    return name


def register_package(package: str, path: Iterable[str]) -> list[str]:
    """Import and register every lever module of ``package`` (found in ``path``); return names.

    Modules whose names start with ``_`` are skipped. :data:`LEVERS` is then
    sorted by each lever's ``order`` and name.
    """
    names = [
        register_module(importlib.import_module(f"{package}.{info.name}"))
        for info in pkgutil.iter_modules(list(path))
        if not info.name.startswith("_")
    ]
    ordered = sorted(LEVERS.items(), key=lambda item: (item[1].order, item[0]))
    LEVERS.clear()
    LEVERS.update(ordered)
    return names


def _lever_name(key: str) -> str:
    """Lever type of a policy key: ``festival`` or ``festival_2`` (a second festival)."""
    if key in LEVERS:
        return key
    base, _, suffix = key.rpartition("_")
    if base in LEVERS and suffix.isdigit():
        return base
    raise ConfigError(f"policy.{key} is not a known lever; allowed: {', '.join(LEVERS)}")


def _checked_value(key: str, name: str, value: Any, default: Any) -> Any:
    """A setting's value after its type check: targets as given, numbers as int or float."""
    if name == "target":
        if not _is_target(value):
            raise ConfigError(
                f"policy.{key}.target must be a node name, a rule ({', '.join(TARGET_RULES)}) "
                f"or a list of node names, got {value!r}"
            )
        return value
    if isinstance(default, str):  # a setting of named choices (its range check names them)
        if not isinstance(value, str):
            raise ConfigError(f"policy.{key}.{name} must be text, got {value!r}")
        return value
    integer = name == "duration" or isinstance(default, int)
    if value is not None:
        allowed = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed):
            kind = "an integer" if integer else "a number"
            raise ConfigError(f"policy.{key}.{name} must be {kind}, got {value!r}")
        if not integer:
            try:
                value = float(value)
            except OverflowError:  # too large for a float: kept, and refused by its range
                pass
    return value


def settings_for(key: str, values: dict[str, Any] | None) -> LeverSettings:
    """Typed, validated settings of one lever (raises ConfigError naming lever and field)."""
    cls = LEVERS[_lever_name(key)].Settings
    if values is not None and not isinstance(values, Mapping):
        raise ConfigError(
            f"policy.{key} must be a mapping of settings (e.g. {{start: 12}}), got {values!r}"
        )
    values = dict(values or {})
    known = {f.name for f in dataclasses.fields(cls)}
    for field_name in values:
        if field_name not in known:
            raise ConfigError(
                f"policy.{key}.{field_name} is not a setting of this lever; "
                f"allowed: {', '.join(sorted(known))}"
            )
    settings = cls()
    for name, value in values.items():
        setattr(settings, name, _checked_value(key, name, value, getattr(settings, name)))
    for f in dataclasses.fields(cls):
        check_value(f"policy.{key}.{f.name}", getattr(settings, f.name), dict(f.metadata))
    return settings


def _is_target(value: Any) -> bool:
    """Whether ``value`` can name targets: a string, a node id, or a list of them."""
    items = value if isinstance(value, list | tuple) else [value]
    return all(isinstance(v, str | int) and not isinstance(v, bool) for v in items)


def _show_default(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 1000 else str(value)
    return f"`{value}`"


def lever_table(name: str) -> str:
    """Markdown table of a lever's settings: default, unit, allowed values, meaning, source.

    Generated from the settings dataclass metadata; ``docs/policies.md`` embeds
    one per lever and a test keeps them in sync.

    Examples:
        >>> print(lever_table("festival").splitlines()[0])
        | setting | default | unit | allowed | meaning | source |
    """
    cls = LEVERS[_lever_name(name)].Settings
    rows = [
        "| setting | default | unit | allowed | meaning | source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in dataclasses.fields(cls):
        meta = f.metadata
        allowed = "names or a rule" if f.name == "target" else allowed_text(dict(meta))
        if meta.get("optional"):
            allowed += " or null"
        rows.append(
            f"| `{f.name}` | {_show_default(getattr(cls(), f.name))} | {meta['unit']} "
            f"| {allowed} | {meta['doc']} | {meta['source']} |"
        )
    return "\n".join(rows)


def validate_policy_config(policy: dict[str, Any], steps: int) -> None:
    """Check every lever's settings and that it starts within the horizon."""
    for key, values in (policy or {}).items():
        settings = settings_for(key, values)
        if settings.start > steps:
            raise ConfigError(
                f"policy.{key}.start must be <= steps ({steps}), got {settings.start}"
            )


def check_city(model: PolicyHost, policy: dict[str, Any]) -> None:
    """Refuse the first configured lever that cannot act in ``model``'s city (``Lever.refusal``)."""
    for key in policy or {}:
        reason = LEVERS[_lever_name(key)].refusal(model)
        if reason is not None:
            raise ConfigError(f"policy.{key}: {reason}")


def build_policies(model: PolicyHost, policy: dict[str, Any]) -> list[Policy]:
    """Create the configured levers as Policy agents of ``model`` (in config order)."""
    return [
        LEVERS[_lever_name(key)](model, key, settings_for(key, values))
        for key, values in (policy or {}).items()
    ]
