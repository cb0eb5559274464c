"""Plans as they ran: each arm's levers, intensities and budget, and levers that ran out of money.

Read from the run directories listed in ``runs.parquet`` (column ``run_dir``): a
run's ``config.json`` holds its levers (``policy``) and budget
(``institutions.municipality_budget``), its ``policies.parquet`` one row per lever
with ``status``, ``stop_step`` and ``stop_reason`` (``"budget exhausted: ..."`` when
the municipality could not pay). Lever names come from the lever registry
(:data:`clustersim.policy.registry.LEVERS`, each lever's ``label``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from clustersim.policy.registry import LEVERS

__all__ = ["BUDGET_EXHAUSTED", "budget_stops", "lever_label", "plan_contents"]

BUDGET_EXHAUSTED = "budget exhausted"
"""How a lever's ``stop_reason`` starts when the money ran out."""

PLAN_COLUMNS = ["policy", "lever", "intensity", "start", "duration", "budget", "income"]
STOP_COLUMNS = [
    "policy",
    "lever",
    "runs",
    "stopped",
    "first_month",
    "last_month",
    "spent",
    "reason",
]


def lever_label(key: str) -> str:
    """Readable name of a policy key: ``festival`` -> "Festival", ``festival_2`` -> "Festival 2".

    Examples:
        >>> lever_label("creative_hub"), lever_label("festival_2"), lever_label("mystery")
        ('Creative hub', 'Festival 2', 'mystery')
    """
    if key in LEVERS:
        return LEVERS[key].label or key.replace("_", " ")
    base, _, suffix = key.rpartition("_")
    if base in LEVERS and suffix.isdigit():
        return f"{LEVERS[base].label or base.replace('_', ' ')} {suffix}"
    return key.replace("_", " ")


def _ok_runs(runs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    keys = [c for c in ("site", "arm") if c in runs]
    if runs.empty or "run_dir" not in runs:
        return runs.iloc[0:0], keys
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    return (ok.sort_values("replicate") if "replicate" in ok else ok), keys


def _read_config(run_dir: Any) -> dict[str, Any] | None:
    try:
        return json.loads((Path(run_dir) / "config.json").read_text())
    except (OSError, ValueError):
        return None


def plan_contents(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per site, arm and lever as configured in the arm's first finished run.

    Columns: the run index's ``site`` and ``arm``, ``policy`` (the config key),
    ``lever`` (its readable name), ``intensity``, ``start`` and ``duration``
    (months; NaN: to the end), ``budget`` (EUR at the start) and ``income`` (EUR
    added per month). An arm without levers has one row with an empty ``policy``.
    """
    ok, keys = _ok_runs(runs)
    rows: list[dict[str, Any]] = []
    for key, group in ok.groupby(keys, sort=False) if keys else []:
        key = key if isinstance(key, tuple) else (key,)
        config = _read_config(group.iloc[0]["run_dir"])
        if config is None:
            continue
        institutions = config.get("institutions", {}) or {}
        common = dict(zip(keys, key, strict=True))
        common.update(
            budget=float(institutions.get("municipality_budget", float("nan"))),
            income=float(institutions.get("municipality_income", 0.0) or 0.0),
        )
        levers = config.get("policy", {}) or {}
        for name, settings in levers.items():
            settings = settings or {}
            duration = settings.get("duration")
            rows.append(
                {
                    **common,
                    "policy": name,
                    "lever": lever_label(name),
                    "intensity": float(settings.get("intensity", 1.0)),
                    "start": int(settings.get("start", 0)),
                    "duration": float("nan") if duration is None else float(duration),
                }
            )
        if not levers:
            rows.append({**common, "policy": "", "lever": "", "intensity": float("nan")})
    return pd.DataFrame(rows, columns=[*keys, *PLAN_COLUMNS])


def _read_policies(run_dir: Any) -> pd.DataFrame | None:
    """A run's lever table, or None when it has no lever or cannot be read.

    A run without levers is told by the file's footer (0.2 ms) without reading the
    table into pandas (2 ms): a sweep's arms without policy hold most runs.
    """
    import pyarrow.parquet as pq

    path = Path(run_dir) / "policies.parquet"
    try:
        if pq.read_metadata(path).num_rows == 0:
            return None
        return pd.read_parquet(path)
    except (OSError, ValueError):
        return None


def budget_stops(runs: pd.DataFrame) -> pd.DataFrame:
    """Levers that stopped because the budget ran out, per site and arm, over the finished runs.

    One row per site, arm and lever that ran out of money in at least one run:
    ``runs`` (finished runs of the arm), ``stopped`` (in how many the money ran
    out), ``first_month`` and ``last_month`` (earliest and latest month it
    stopped), ``spent`` (mean EUR the lever spent per run) and ``reason`` (the
    first run's stop reason, e.g. "budget exhausted: one-off cost of 600,000 EUR,
    300,000 EUR left").
    """
    ok, keys = _ok_runs(runs)
    rows: list[dict[str, Any]] = []
    for key, group in ok.groupby(keys, sort=False) if keys else []:
        key = key if isinstance(key, tuple) else (key,)
        tables = [t for t in map(_read_policies, group["run_dir"]) if t is not None and len(t)]
        if not tables:
            continue
        levers = pd.concat(tables, ignore_index=True)
        reasons = levers["stop_reason"].fillna("").astype(str)
        out = levers[(levers["status"] == "stopped") & reasons.str.startswith(BUDGET_EXHAUSTED)]
        for name, stops in out.groupby("policy", sort=False):
            spent = levers.loc[levers["policy"] == name, "spent"]
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "policy": name,
                    "lever": lever_label(str(name)),
                    "runs": len(tables),
                    "stopped": len(stops),
                    "first_month": int(stops["stop_step"].min()),
                    "last_month": int(stops["stop_step"].max()),
                    "spent": float(spent.sum()) / len(tables),
                    "reason": str(stops["stop_reason"].iloc[0]),
                }
            )
    return pd.DataFrame(rows, columns=[*keys, *STOP_COLUMNS])
