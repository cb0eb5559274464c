"""A plain Hydra sweep read as a comparison for its report: design, names and labelled tables.

``clustersim-experiment report <sweep dir>`` on a folder made by ``clustersim -m``
(no ``experiment.yaml``) reads the sweep as a comparison
(:func:`clustersim.experiments.sweeps.compare`): the settings of the swept columns
the baseline names are the arms ("settings"), the other swept columns are the sites,
and runs that share a seed are paired. :func:`sweep_study` checks the baseline
against the runs' labels (``meta.json``) before anything is written, and gives the
report a :class:`~clustersim.experiments.design.Design` that describes the sweep (it
is never run or saved) and the names and words the report uses for it.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clustersim.errors import ConfigError
from clustersim.experiments.design import DEFAULT_ANALYSIS, Arm, Design, Site
from clustersim.experiments.readable import Names
from clustersim.experiments.runner import read_meta
from clustersim.experiments.sweeps import (
    REPLICATE_COLUMNS,
    arm_name,
    compare,
    label_columns,
    level_name,
    level_order,
    swept_columns,
)

__all__ = ["ALL", "SweepStudy", "sweep_study"]

ALL = "all"
"""The one site of a sweep whose swept columns all make the arms."""

POLICY_KEYS = frozenset({"plan", "policy"})
"""Swept keys whose settings are policy plans (the report then speaks of plans)."""


@dataclass(frozen=True)
class SweepStudy:
    """A plain Hydra sweep as the report reads it.

    Attributes:
        design: the sweep as a comparison (sites: settings of the swept columns compared
            separately; arms: settings of the compared ones); never run or saved.
        names: how the report calls sites and settings, and its words for them.
        keys: the swept columns that make the arms.
        groups: the swept columns compared separately (the sites).
        pairs: seed -> replicate number; runs sharing a seed are paired.
        command: the sweep's command line (from ``multirun.yaml``; "" when unknown).
        chosen: whether the baseline was named, or is the first setting.
    """

    design: Design
    names: Names
    keys: tuple[str, ...]
    groups: tuple[str, ...]
    pairs: dict[int, int] = field(default_factory=dict)
    command: str = ""
    chosen: bool = True

    def labelled(self, table: pd.DataFrame) -> pd.DataFrame:
        """``table`` (time series or run index) with the report's ``site``, ``arm``, ``replicate``.

        Swept columns become level names (``null`` for a missing value); ``replicate``
        numbers the seeds, so runs sharing a seed pair up.
        """
        out = table.copy()
        for column in (*self.keys, *self.groups):
            out[column] = out[column].astype(object).map(level_name)
        out["arm"] = _settings(out, self.keys)
        out["site"] = _settings(out, self.groups) if self.groups else ALL
        if "seed" in out:
            out["replicate"] = out["seed"].map(self.pairs)
        return out

    @property
    def seeds_text(self) -> str:
        """``2 seeds per setting, 12 months`` for the report's provenance line."""
        n = len(self.pairs)
        word = self.names.arm_word
        return f"{n} seed{'s' if n != 1 else ''} per {word}, {self.design.steps} months"


def _settings(table: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    return [arm_name(dict(zip(columns, row, strict=True))) for row in table[list(columns)].values]


def _readable(setting: str) -> str:
    """``firm.agglomeration_cap=20`` -> ``firm.agglomeration_cap = 20`` (several: comma-joined)."""
    return re.sub(r"(^|, )([^=,]+)=", r"\1\2 = ", setting)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "sweep"


def _command(sweep_dir: Path) -> str:
    """``clustersim -m ...`` as the sweep was launched (``multirun.yaml``), or ""."""
    import yaml

    try:
        raw = yaml.safe_load((sweep_dir / "multirun.yaml").read_text())
        task = raw["hydra"]["overrides"]["task"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return ""
    return "clustersim -m " + " ".join(shlex.quote(str(o)) for o in task)


def _pairs(ok: pd.DataFrame) -> dict[int, int]:
    """Seed -> replicate number, in the order of the runs' replicates, then seeds."""
    order = ok.assign(_r=ok["replicate"] if "replicate" in ok else 0).sort_values(["_r", "seed"])
    return {int(s): i for i, s in enumerate(dict.fromkeys(order["seed"]))}


def _constant(ok: pd.DataFrame, swept: list[str]) -> list[str]:
    """The overrides every run shares (not the seeds)."""
    first = ok.iloc[0]
    return [
        f"{c}={level_name(first[c])}"
        for c in label_columns(ok)
        if c not in swept and c not in REPLICATE_COLUMNS
    ]


def _only_one_setting_finished(sweep_dir: Path, runs: pd.DataFrame, ok: pd.DataFrame) -> None:
    """Refuse in one line a sweep whose other settings have no finished run.

    Without it the refusal said that no parameter varies, of a sweep that varies one.
    """
    lost = swept_columns(runs)
    if not lost:
        return
    setting = ", ".join(f"{c}={level_name(ok[c].iloc[0])}" for c in lost)
    others = runs[runs["status"] != "ok"]["status"].value_counts().to_dict()
    raise ConfigError(
        f"{sweep_dir}/runs: the runs vary {', '.join(lost)}, but only those with {setting} "
        "finished ("
        + ", ".join(f"{n} {status}" for status, n in others.items())
        + "; clustersim-experiment aggregate lists them): nothing to compare"
    )


def sweep_study(
    sweep_dir: str | Path,
    runs: pd.DataFrame,
    baseline: str | Sequence[str] | None = None,
    *,
    field: str = "--baseline",
) -> SweepStudy:
    """The sweep of ``sweep_dir`` as a comparison against ``baseline``.

    Args:
        sweep_dir: the sweep folder (its ``multirun.yaml`` gives the command line).
        runs: its run index (:func:`~clustersim.experiments.aggregate.run_index`); the
            ``ok`` runs are read.
        baseline: ``KEY=VALUE`` parts (see :func:`~clustersim.experiments.sweeps.compare`);
            None: the first value of the one swept column.
        field: how messages name the baseline.

    Raises:
        ConfigError: one line, when no run finished, no column is swept, or the baseline
            is missing (several swept columns) or names no swept column or value.
    """
    sweep_dir = Path(sweep_dir)
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    if ok.empty:
        found = runs["status"].value_counts().to_dict() if "status" in runs else {}
        raise ConfigError(
            f"{sweep_dir}/runs holds no finished run of the installed model ("
            + ", ".join(f"{n} {status}" for status, n in found.items())
            + "; clustersim-experiment aggregate lists them): nothing to report"
        )
    swept = swept_columns(ok)
    if not swept:
        _only_one_setting_finished(sweep_dir, runs, ok)
    if baseline is None and len(swept) > 1:
        raise ConfigError(
            f"{field}: the runs vary {', '.join(swept)}; name the ones to compare and their "
            f"baseline, e.g. {field} {swept[-1]}={_first_level(ok[swept[-1]])}"
        )
    c = compare(ok, baseline, field=field)
    keys, groups = c.keys, tuple(g for g in c.group_cols if g in swept)
    pairs = _pairs(ok)
    steps = max(int((read_meta(Path(d)) or {}).get("steps") or 0) for d in ok["run_dir"])
    table = c.table.assign(_site=_settings(c.table, groups) if groups else ALL)
    arm_word = "plan" if set(keys) <= POLICY_KEYS else "setting"
    design = Design(
        name=_slug(sweep_dir.name),
        kind="comparison",
        title=f"Sweep of {' and '.join(keys)}",
        description=_description(c.baseline, keys, groups, baseline is not None, sweep_dir),
        root_seed=0,
        replicates=len(pairs),
        steps=steps,
        baseline=c.baseline,
        sites={
            s: Site(s, _site_label(s, table[table["_site"] == s]), _overrides(s, groups))
            for s in dict.fromkeys(table["_site"])
        },
        arms={a: Arm(a, _readable(a), tuple(a.split(", "))) for a in c.arms},
        common=tuple(_constant(ok, swept)),
        n_jobs=1,
        analysis=dict(DEFAULT_ANALYSIS),
    )
    names = Names.of(
        design,
        arm_word=arm_word,
        more_replicates="Run the sweep again with more seeds (e.g. one seed= and "
        "'+replicate=range(0,20)'; finished runs are reused)",
    )
    return SweepStudy(
        design, names, keys, groups, pairs, _command(sweep_dir), chosen=baseline is not None
    )


def _first_level(values: pd.Series) -> str:
    return sorted(set(values.astype(object).map(level_name)), key=level_order)[0]


def _overrides(site: str, groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(site.split(", ")) if groups else ()


def _site_label(site: str, runs: pd.DataFrame) -> str:
    """A site's name: the town's (``Small town``) when only the city tells sites apart."""
    if site != ALL and not re.fullmatch(r"city=[^,]*", site):
        return _readable(site)
    try:
        config = json.loads((Path(runs["run_dir"].iloc[0]) / "config.json").read_text())
        return str(config["city"]["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return _readable(site) if site != ALL else "the town"


def _description(
    base: str, keys: tuple[str, ...], groups: tuple[str, ...], chosen: bool, where: Any
) -> str:
    how = "" if chosen else " (the first value; name another with --baseline KEY=VALUE)"
    apart = f", separately for each {' and '.join(groups)}" if groups else ""
    return (
        f"A plain Hydra sweep (clustersim -m) in {where}, read as a comparison: each setting "
        f"of {' and '.join(keys)} against the baseline {_readable(base)}{how}{apart}. Runs "
        "that share a seed are paired (common random numbers)."
    )
