"""Checks of a design file's fields before a design is built from them.

A design file is written by hand, so each field is checked for its kind and range
where it is read, and a wrong one is refused in one line that names the field, the
value and what is allowed (a key not known at all gets the nearest known key): a
typo must not be dropped silently (``replicats: 2`` running one replicate) and a wrong
value must not surface as a traceback after every run has finished (``analysis.ci:
5``). The kinds with a section of their own check that section in their own modules
(:mod:`clustersim.experiments.design_sections`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from clustersim.errors import ConfigError
from clustersim.model.compose import config_dir, did_you_mean
from clustersim.model.outcomes import OUTCOME_NAMES, flow_names

__all__ = ["ANALYSIS_KEYS", "DESIGN_KEYS", "check_raw", "metric_names", "refuse_unknown"]

#: The top-level keys of a design (besides a section named after its kind).
DESIGN_KEYS = (
    "name",
    "kind",
    "title",
    "description",
    "root_seed",
    "replicates",
    "steps",
    "baseline",
    "n_jobs",
    "common",
    "sites",
    "arms",
    "grid",
    "analysis",
)
#: The keys of a site, an arm and a grid.
SITE_KEYS = ("label", "overrides", "labels")
ARM_KEYS = ("label", "overrides", "labels", "values")
GRID_KEYS = ("levers", "intensities", "overrides")
#: The analysis settings (their defaults: ``design.DEFAULT_ANALYSIS``).
ANALYSIS_KEYS = (
    "metrics",
    "band_metrics",
    "scaling_metrics",
    "takeoff_lq",
    "takeoff_growth",
    "ci",
    "n_boot",
    "seed",
)
#: Fewest bootstrap resamples an interval is drawn from.
MIN_BOOT = 100
#: Derived columns of the runs' outcomes table besides the outcomes themselves.
_STARTS = ("creative_employment", "population", "creative_firms", "location_quotient")
_SPEND = re.compile(r"spend_([A-Za-z0-9_]+?)(_total|_last_year)?")


def metric_names() -> tuple[str, ...]:
    """The metrics a design's analysis can name: outcomes, flow totals and starting values.

    Each declared outcome (its value at the last month), each flow's ``<flow>_total``
    (over the run) and ``<flow>_last_year`` (over the last 12 months), and
    ``<outcome>_start`` of creative employment, population, creative firms and the
    location quotient. A lever's spend, ``spend_<lever>`` (with ``_total`` and
    ``_last_year``), is checked apart (:func:`_lever_spend`).
    """
    flows = flow_names()
    return (
        *OUTCOME_NAMES,
        *(f"{f}_{suffix}" for f in flows for suffix in ("total", "last_year")),
        *(f"{name}_start" for name in _STARTS),
    )


def check_raw(raw: Mapping[str, Any], section_kinds: tuple[str, ...]) -> None:
    """Check the fields of a design mapping (as loaded from YAML); one line on the first error."""
    allowed = (*DESIGN_KEYS, *section_kinds)
    for key in raw:  # x-...: a key of the user's own (YAML anchors to reuse)
        if key not in allowed and not str(key).startswith("x-"):
            raise ConfigError(
                f"{key} is not a design setting; settings: {', '.join(allowed)}"
                f"{did_you_mean(str(key), allowed)}"
            )
    for key in ("name", "kind", "title", "description", "baseline"):
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            raise ConfigError(f"{key} must be text, got {value!r}")
    for key, low in (("replicates", 1), ("steps", 1), ("root_seed", 0)):
        if key in raw:
            _integer(key, raw[key], low)
    if "n_jobs" in raw:
        _integer("n_jobs", raw["n_jobs"], None, "(0 or less: every core)")
    _overrides("common", raw.get("common"))
    _entries("sites", raw.get("sites"), SITE_KEYS)
    _entries("arms", raw.get("arms"), ARM_KEYS, lists_allowed=True)
    grid = raw.get("grid")
    if grid is not None:
        _keys("grid", grid, GRID_KEYS)
        for key in ("levers", "intensities"):
            if key not in grid:
                raise ConfigError(f"grid needs levers: [...] and intensities: [...]; no {key}")
            if not isinstance(grid[key], list | tuple) or not grid[key]:
                raise ConfigError(f"grid.{key} must be a non-empty list, got {grid[key]!r}")
        _overrides("grid.overrides", grid.get("overrides"))
    check_analysis(raw.get("analysis"))


def check_analysis(analysis: Any) -> None:
    """Check a design's ``analysis:`` settings (None: the defaults)."""
    if analysis is None:
        return
    _keys("analysis", analysis, ANALYSIS_KEYS)
    known = metric_names()
    for key in ("metrics", "band_metrics", "scaling_metrics"):
        if key not in analysis:
            continue
        names = analysis[key]
        if not isinstance(names, list | tuple) or not names:
            raise ConfigError(f"analysis.{key} must be a non-empty list of metrics, got {names!r}")
        if not all(isinstance(n, str) for n in names):
            raise ConfigError(f"analysis.{key} must be a non-empty list of metrics, got {names!r}")
        bands = key == "band_metrics"  # drawn from the time series: its columns only
        allowed = OUTCOME_NAMES if bands else known
        what = (
            "a recorded outcome or spend_<lever>"
            if bands
            else "an outcome, <flow>_total, <flow>_last_year, <outcome>_start or "
            "spend_<lever>[_total|_last_year]"
        )
        for name in names:
            if name not in allowed and not _lever_spend(name, bands):
                raise ConfigError(
                    f"analysis.{key} names {name!r}, which is not {what} "
                    f"(docs/experiments.md){did_you_mean(name, allowed)}"
                )
    ci = analysis.get("ci", 0.95)
    if not _number(ci) or not 0 < ci < 1:
        raise ConfigError(f"analysis.ci must be a level between 0 and 1, got {ci!r}")
    lq = analysis.get("takeoff_lq", 1.25)
    if not _number(lq) or lq <= 0:
        raise ConfigError(f"analysis.takeoff_lq must be a location quotient > 0, got {lq!r}")
    growth = analysis.get("takeoff_growth", 0.2)
    if not _number(growth) or growth <= -1:
        raise ConfigError(f"analysis.takeoff_growth must be a growth rate > -1, got {growth!r}")
    if "n_boot" in analysis:
        _integer("analysis.n_boot", analysis["n_boot"], MIN_BOOT)
    if "seed" in analysis:
        _integer("analysis.seed", analysis["seed"], 0)


def _lever_spend(name: str, bands: bool) -> bool:
    """Whether ``name`` is a lever's spend column.

    ``spend_festival`` or ``spend_festival_2`` (a numbered copy), and among the runs'
    outcomes (not the bands) their ``_total`` and ``_last_year``.
    """
    match = _SPEND.fullmatch(name)
    if match is None or (bands and match.group(2)):
        return False
    lever = match.group(1)
    base, _, suffix = lever.rpartition("_")
    levers = {p.stem for p in (config_dir() / "policy").glob("*.yaml")}
    return lever in levers or (suffix.isdigit() and base in levers)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _integer(key: str, value: Any, low: int | None, note: str = "") -> None:
    if isinstance(value, float) and value.is_integer():  # steps: 24.0
        value = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():  # replicates: "2"
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        allowed = "a whole number" if low is None else f"a whole number >= {low}"
        raise ConfigError(f"{key} must be {allowed}{' ' + note if note else ''}, got {value!r}")
    if low is not None and value < low:
        raise ConfigError(f"{key} must be >= {low}, got {value}")


def refuse_unknown(
    where: str, keys: Iterable[Any], allowed: Sequence[str], what: str = "setting"
) -> None:
    """One line for the first of ``keys`` not ``allowed``: ``<where>.<key> is not a <what>``."""
    for key in keys:
        if key not in allowed:
            raise ConfigError(
                f"{where}.{key} is not a {what}; {what}s: {', '.join(allowed)}"
                f"{did_you_mean(str(key), allowed)}"
            )


def _keys(where: str, mapping: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{where} must be a mapping ({', '.join(allowed)}), got {mapping!r}")
    refuse_unknown(where, mapping, allowed)


def _overrides(where: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of overrides ([key=value, ...]), got {value!r}")


def _entries(
    where: str, entries: Any, allowed: tuple[str, ...], *, lists_allowed: bool = False
) -> None:
    """Sites or arms: a mapping of names to settings (an arm may be a list of overrides)."""
    if entries is None:
        return
    if not isinstance(entries, Mapping):
        raise ConfigError(f"{where} must map names to settings, got {entries!r}")
    for name, spec in entries.items():
        if lists_allowed and isinstance(spec, list | tuple):
            _overrides(f"{where}.{name}", spec)
            continue
        if lists_allowed and not isinstance(spec, Mapping):
            raise ConfigError(
                f"{where}.{name} must be a list of overrides or a mapping "
                f"({', '.join(allowed)}), got {spec!r}"
            )
        _keys(f"{where}.{name}", spec, allowed)
        _overrides(f"{where}.{name}.overrides", spec.get("overrides"))
        labels = spec.get("labels")
        if labels is not None and not isinstance(labels, Mapping):
            raise ConfigError(f"{where}.{name}.labels must map columns to values, got {labels!r}")
