"""Plain Hydra sweeps as comparisons: the swept columns, their values as named levels, the baseline.

A sweep made with ``clustersim -m key=a,b ...`` and aggregated with
``clustersim-experiment aggregate`` has no ``arm`` column: its runs differ in the
*swept columns*, the labels (the columns before ``seed`` and ``config_hash``, see
:mod:`clustersim.experiments.aggregate`) whose values vary across runs, seeds and
replicates left aside. :func:`compare` turns such a table into a comparison:

* every value becomes a *level* named as on Hydra's command line
  (:func:`level_name`): ``null`` stays a level called ``null`` (not NaN), ``20.0``
  is ``20``, ``True`` is ``true``;
* the baseline is chosen by value, ``"firm.agglomeration_cap=null"`` (or just
  ``"null"`` when one column is swept); the columns it names make the *arms*
  (``arm`` = ``"firm.agglomeration_cap=20"``), the other swept columns are compared
  separately (like a design's sites);
* runs are paired on their ``seed``: runs sharing a seed share their random numbers.

Tables that have an ``arm`` column (designs run by ``clustersim-experiment run``) are
left as they are.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clustersim.errors import ConfigError

__all__ = [
    "NULL",
    "REPLICATE_COLUMNS",
    "Comparison",
    "arm_name",
    "compare",
    "label_columns",
    "level_name",
    "level_order",
    "swept_columns",
]

NULL = "null"
"""The level name of a missing value (Hydra's ``key=null``)."""

REPLICATE_COLUMNS = frozenset({"seed", "replicate", "root_seed"})
"""Labels that tell replicates apart: paired on, never compared."""

ENDS_LABELS = ("config_hash", "run_id", "status", "step")
"""Columns that follow the labels in the aggregated tables (and the run index)."""


def level_name(value: Any) -> str:
    """A label value as Hydra's command line writes it.

    Examples:
        >>> level_name(None), level_name(float("nan")), level_name(20.0), level_name(0.05)
        ('null', 'null', '20', '0.05')
        >>> level_name(True), level_name("small_town"), level_name(np.int64(3))
        ('true', 'small_town', '3')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return NULL
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        return str(int(v)) if v.is_integer() else repr(v)
    return str(value)


def level_order(name: str) -> tuple[int, float, str]:
    """Sort key of level names: ``null`` first, then numbers ascending, then text.

    Examples:
        >>> sorted(["40", "b", "null", "20", "a"], key=level_order)
        ['null', '20', '40', 'a', 'b']
    """
    if name == NULL:
        return (0, 0.0, "")
    try:
        return (1, float(name), "")
    except ValueError:
        return (2, 0.0, name)


def label_columns(table: pd.DataFrame) -> list[str]:
    """The label columns of an aggregated table: those before ``config_hash`` (or ``run_id``).

    Works on the aggregated time series, :func:`~clustersim.experiments.analysis.run_outcomes`,
    :func:`~clustersim.experiments.analysis.take_off` and the run index (``runs.parquet``).

    Raises:
        ConfigError: the table has neither ``seed`` nor ``config_hash`` (it was not
            made by ``clustersim-experiment aggregate``).
    """
    if "seed" not in table and "config_hash" not in table:
        raise ConfigError(
            "the table has no arm column and no seed or config_hash column: not an aggregated "
            "sweep (clustersim-experiment aggregate writes one; a design's tables have arm)"
        )
    columns = list(table.columns)
    if columns and columns[0] == "run_id":
        columns = columns[1:]
    labels = []
    for column in columns:
        if column in ENDS_LABELS:
            break
        if column != "seed":  # the run's own seed: after the labels, or among them
            labels.append(column)
    return labels


def _levels(series: pd.Series) -> pd.Series:
    return series.astype(object).map(level_name)


def swept_columns(table: pd.DataFrame) -> list[str]:
    """Label columns whose values vary across runs, seeds and replicates left aside."""
    runs = table.drop_duplicates("run_id") if "run_id" in table else table
    return [
        c
        for c in label_columns(table)
        if c not in REPLICATE_COLUMNS and _levels(runs[c]).nunique() > 1
    ]


@dataclass(frozen=True)
class Comparison:
    """A table ready for paired comparisons: arms, baseline, pairs and groups.

    Attributes:
        table: the rows, with the arm column (for a sweep: swept columns as level names,
            rows in level order, baseline first).
        arm_col: the column naming each row's arm.
        baseline: the baseline arm.
        pair_col: runs sharing it are paired (``replicate`` in designs, ``seed`` in sweeps).
        group_cols: columns compared separately (sites; a sweep's other swept columns).
        keys: the swept columns that make the arms (empty for a design's table).
        levels: each swept column's level names in order (empty for a design's table).
    """

    table: pd.DataFrame
    arm_col: str
    baseline: str
    pair_col: str
    group_cols: list[str]
    keys: tuple[str, ...] = ()
    levels: dict[str, list[str]] | None = None

    @property
    def arms(self) -> list[str]:
        """The arms in order, the baseline first."""
        found = list(dict.fromkeys(self.table[self.arm_col].astype(str)))
        return sorted(found, key=lambda a: a != self.baseline)


def arm_name(setting: dict[str, str]) -> str:
    """The arm of a setting of swept columns: ``"key=value"``, several joined by ``", "``.

    Examples:
        >>> arm_name({"city": "small_town", "firm.agglomeration_cap": "null"})
        'city=small_town, firm.agglomeration_cap=null'
    """
    return ", ".join(f"{k}={v}" for k, v in setting.items())


def compare(
    table: pd.DataFrame,
    baseline: str | Sequence[str] | None,
    *,
    arm_col: str = "arm",
    pair_col: str | None = None,
    group_cols: Sequence[str] = ("site",),
    field: str = "baseline",
) -> Comparison:
    """The table as a comparison against ``baseline`` (see the module docstring).

    Args:
        table: an aggregated table (time series, run outcomes, take-offs, run index),
            or a design's table with an ``arm_col`` column (returned as it is).
        baseline: a design's baseline arm; for a sweep ``"key=value"`` (several:
            a list, or joined by ``", "``), or a bare value when one column is swept;
            None: every swept column makes the arms and the first setting is the baseline.
        arm_col: the arm column (made for a sweep).
        pair_col: the pairing column (default ``replicate`` for designs, ``seed`` for sweeps).
        group_cols: columns compared separately, where present.
        field: how messages name the baseline (``--baseline`` on the command line).

    Raises:
        ConfigError: one line naming the field, the value and what is allowed, when no
            column is swept or the baseline names no swept column or value.
    """
    if arm_col in table:
        groups = [c for c in group_cols if c in table]
        if baseline is not None and not isinstance(baseline, str):
            baseline = ", ".join(baseline)
        base = (baseline or "").removeprefix(f"{arm_col}=")
        return Comparison(table, arm_col, base, pair_col or "replicate", groups)
    swept = swept_columns(table)
    if not swept:
        raise ConfigError(
            f"{field}: no parameter varies across these runs (only seeds): nothing to compare; "
            "sweep one with clustersim -m key=a,b"
        )
    named = {c: _levels(table[c]) for c in swept}
    levels = {c: sorted(set(named[c]), key=level_order) for c in swept}
    chosen = _baseline_setting(baseline, swept, levels, label_columns(table), field)
    out = table.assign(**named)
    out[arm_col] = [
        arm_name(dict(zip(chosen, row, strict=True))) for row in out[list(chosen)].values
    ]
    groups = [c for c in group_cols if c in table] + [c for c in swept if c not in chosen]
    rank = {
        c: out[c].map({v: i for i, v in enumerate(levels[c])})
        if c in levels
        else pd.Series(pd.factorize(out[c])[0], index=out.index)
        for c in [*groups, *chosen]
    }
    base = arm_name(chosen)
    rank["_base"] = out[arm_col] != base
    order = pd.DataFrame(rank).sort_values([*groups, "_base", *chosen], kind="stable").index
    return Comparison(
        out.loc[order].reset_index(drop=True),
        arm_col,
        base,
        pair_col or ("seed" if "seed" in table else "replicate"),
        groups,
        tuple(chosen),
        levels,
    )


def _split(spec: str | Sequence[str], labels: list[str]) -> list[str]:
    """The ``key=value`` parts of a baseline (a list, or parts joined by commas)."""
    if not isinstance(spec, str):
        return [str(s).strip() for s in spec]
    keys = "|".join(re.escape(k) for k in sorted(labels, key=len, reverse=True))
    return [p.strip() for p in re.split(rf"\s*,\s*(?=(?:{keys})=)", spec)] if keys else [spec]


def _baseline_setting(
    spec: str | Sequence[str] | None,
    swept: list[str],
    levels: dict[str, list[str]],
    labels: list[str],
    field: str,
) -> dict[str, str]:
    """Swept column -> baseline level, from the baseline's ``key=value`` parts."""
    if spec is None:
        return {c: levels[c][0] for c in swept}
    chosen: dict[str, str] = {}
    for part in _split(spec, labels):
        key, sep, value = part.partition("=")
        key = key.strip().lstrip("+")
        if not sep:
            if len(swept) > 1:
                raise ConfigError(
                    f"{field} {part}: name the parameter as KEY=VALUE, e.g. "
                    f"{swept[-1]}={levels[swept[-1]][0]} (the runs vary {', '.join(swept)})"
                )
            key, value = swept[0], part
        _check_key(key, part, swept, labels, field)
        name = _value_name(value.strip())
        if name not in levels[key]:
            raise ConfigError(
                f"{field} {part}: {key} must be one of {', '.join(levels[key])} (its values "
                f"in these runs); got {value.strip()}"
            )
        chosen[key] = name
    return {c: chosen[c] for c in swept if c in chosen}


def _check_key(key: str, part: str, swept: list[str], labels: list[str], field: str) -> None:
    if key in swept:
        return
    allowed = f"swept: {', '.join(swept)}"
    if key in REPLICATE_COLUMNS:
        why = "seeds and replicates are paired, not compared"
    elif key in labels:
        why = "it has one value in every finished run"
    else:
        near = difflib.get_close_matches(key, swept, n=1, cutoff=0.75)
        why = "not a swept parameter" + (f"; did you mean '{near[0]}'?" if near else "")
    raise ConfigError(f"{field} {part}: {key} is not compared ({why}); {allowed}")


def _value_name(value: str) -> str:
    """The level name of a value as typed: ``20.0`` -> ``20``, ``null`` -> ``null``."""
    import yaml

    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return level_name(parsed) if isinstance(parsed, str | int | float | bool | None) else value
