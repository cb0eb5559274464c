"""Read a sweep directory back into tidy Parquet datasets, one run at a time.

A sweep directory holds ``runs/<hash>-s<seed>/`` run directories (see
:mod:`clustersim.runner`), whoever wrote them: ``clustersim-experiment``, or
``clustersim --multirun`` with any launcher. :func:`aggregate` writes

* ``timeseries.parquet``: one row per run and month, the run's labels (experiment,
  site, arm, replicate, swept parameters) and ``seed``, ``config_hash``,
  ``run_id`` as columns, then the model's time series;
* ``places.parquet``: the same for the per-place table (one row per run, month, place);
* ``runs.parquet``: one row per run directory with its status (``ok``/``failed``),
  error, seed, hash, wall time and labels: failed runs are listed, not lost.

It streams: the schemas are read first (Parquet footers only), then each run's
table is read, labelled and appended to a :class:`pyarrow.parquet.ParquetWriter`,
so memory holds one run at a time whatever the sweep's size.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clustersim.runner import is_complete, read_meta

__all__ = ["AggregateResult", "aggregate", "find_runs", "label_schema", "run_index"]

ID_COLUMNS = ("seed", "config_hash", "run_id")
"""Columns identifying a run, after its labels and before its data."""

LABEL_ORDER = ("experiment", "site", "arm", "replicate")


@dataclass(frozen=True)
class AggregateResult:
    """Where the aggregated datasets are and what went into them.

    Attributes:
        directory: where the files were written.
        timeseries: path of the tidy time series (None when no run completed).
        places: path of the tidy per-place table (None when no run completed).
        runs: path of the run index.
        ok: number of complete runs aggregated.
        failed: number of runs recorded as failed (or incomplete).
        errors: ``run_id -> error`` of the failed runs.
    """

    directory: Path
    timeseries: Path | None
    places: Path | None
    runs: Path
    ok: int
    failed: int
    errors: dict[str, str]


def find_runs(sweep_dir: str | os.PathLike) -> list[Path]:
    """Run directories under ``<sweep_dir>/runs`` (those holding a ``meta.json``), sorted."""
    runs = Path(sweep_dir) / "runs"
    if not runs.is_dir():
        return []
    return sorted(
        p
        for p in runs.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "meta.json").is_file()
    )


def _arrow_type(values: list[Any]) -> pa.DataType:
    present = [v for v in values if v is not None]
    if not present:
        return pa.string()
    if all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


def _coerce(value: Any, kind: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else json.dumps(value, default=str)
    if pa.types.is_floating(kind):
        return float(value)
    return value


def label_schema(metas: Iterable[dict[str, Any]]) -> pa.Schema:
    """Arrow schema of the label columns: every label key of every run, typed consistently.

    Ints stay ints, mixed ints and floats become floats, anything else becomes text.
    """
    values: dict[str, list[Any]] = {}
    for meta in metas:
        for key, value in (meta.get("labels") or {}).items():
            if key not in ID_COLUMNS:
                values.setdefault(key, []).append(value)
    keys = [k for k in LABEL_ORDER if k in values] + sorted(
        k for k in values if k not in LABEL_ORDER
    )
    return pa.schema([(k, _arrow_type(values[k])) for k in keys])


def run_index(run_dirs: Iterable[Path]) -> pd.DataFrame:
    """One row per run directory: labels, status, error, seed, hash, timings, provenance."""
    rows = []
    for run_dir in run_dirs:
        meta = read_meta(run_dir)
        if meta is None:
            status, error, meta = "missing", "not run (no readable meta.json)", {}
        elif is_complete(run_dir, meta.get("config_hash"), meta.get("seed")):
            status, error = "ok", None
        elif meta.get("status") == "ok":
            status, error = "broken", "result files missing"
        else:
            status, error = "failed", meta.get("error")
        row = dict(meta.get("labels") or {})
        row.update(
            run_id=run_dir.name,
            status=status,
            error=error,
            seed=meta.get("seed"),
            config_hash=meta.get("config_hash"),
            wall_time_s=meta.get("wall_time_s"),
            finished_at=meta.get("finished_at"),
            clustersim_version=meta.get("clustersim_version"),
            git_commit=meta.get("git_commit"),
            host=meta.get("host"),
            run_dir=str(run_dir),
        )
        rows.append(row)
    index = pd.DataFrame(rows)
    for col in index.columns:  # labels of mixed types (1, 2.5, "high") are stored as text
        kind = _arrow_type([None if _missing(v) else v for v in index[col]])
        if pa.types.is_string(kind) and index[col].dtype == object:
            index[col] = [None if _missing(v) else _coerce(v, kind) for v in index[col]]
    return index


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _write_table(
    name: str,
    run_dirs: list[Path],
    metas: list[dict[str, Any]],
    labels: pa.Schema,
    target: Path,
    progress: bool,
) -> Path | None:
    files = [d / f"{name}.parquet" for d in run_dirs]
    schemas = [pq.read_schema(f) for f in files if f.is_file()]
    if not schemas:
        return None
    data = pa.unify_schemas(schemas, promote_options="permissive")
    data = pa.schema([f for f in data if f.name not in ID_COLUMNS])
    # a label named like a data column (e.g. a swept "population") becomes label_<name>
    renamed = {f.name: f"label_{f.name}" if f.name in data.names else f.name for f in labels}
    labels = pa.schema([(renamed[f.name], f.type) for f in labels])
    source = dict(zip(labels.names, renamed, strict=True))
    ids = pa.schema([("seed", pa.int64()), ("config_hash", pa.string()), ("run_id", pa.string())])
    schema = pa.schema([*labels, *ids, *data])
    tmp = target.with_name(f".{target.name}.tmp")
    iterator: Iterable = zip(files, metas, strict=True)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(list(iterator), desc=f"aggregate {name}", unit="run", leave=False)
    with pq.ParquetWriter(tmp, schema) as writer:
        for path, meta in iterator:
            table = pq.read_table(path)
            n = table.num_rows
            columns = []
            run_labels = meta.get("labels") or {}
            for f in labels:
                value = _coerce(run_labels.get(source[f.name]), f.type)
                columns.append(pa.array([value] * n, type=f.type))
            columns += [
                pa.array([meta.get("seed")] * n, type=pa.int64()),
                pa.array([meta.get("config_hash")] * n, type=pa.string()),
                pa.array([path.parent.name] * n, type=pa.string()),
            ]
            for f in data:
                if f.name in table.column_names:
                    columns.append(table.column(f.name).cast(f.type))
                else:
                    columns.append(pa.nulls(n, type=f.type))
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
    os.replace(tmp, target)
    return target


def aggregate(
    sweep_dir: str | os.PathLike,
    *,
    run_dirs: Iterable[str | os.PathLike] | None = None,
    out_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> AggregateResult:
    """Aggregate the runs of a sweep into tidy Parquet files (see the module docstring).

    Args:
        sweep_dir: the sweep directory (holding ``runs/``).
        run_dirs: only these run directories (default: every run under ``runs/``).
        out_dir: where to write (default: ``sweep_dir``).
        progress: show a progress bar.

    Returns:
        Paths and counts; failed or broken runs are listed in ``runs.parquet``.
    """
    sweep_dir = Path(sweep_dir)
    out = Path(out_dir) if out_dir is not None else sweep_dir
    out.mkdir(parents=True, exist_ok=True)
    dirs = [Path(d) for d in run_dirs] if run_dirs is not None else find_runs(sweep_dir)
    index = run_index(dirs)
    runs_path = out / "runs.parquet"
    tmp = runs_path.with_name(".runs.parquet.tmp")
    index.to_parquet(tmp, index=False)
    os.replace(tmp, runs_path)
    ok_dirs = [d for d, s in zip(dirs, index.get("status", []), strict=True) if s == "ok"]
    metas = [read_meta(d) or {} for d in ok_dirs]
    labels = label_schema(metas)
    written = {
        name: _write_table(name, ok_dirs, metas, labels, out / f"{name}.parquet", progress)
        for name in ("timeseries", "places")
    }
    failed = index[index["status"] != "ok"] if len(index) else index
    errors = {r.run_id: str(r.error) for r in failed.itertuples()} if len(failed) else {}
    return AggregateResult(
        directory=out,
        timeseries=written["timeseries"],
        places=written["places"],
        runs=runs_path,
        ok=len(ok_dirs),
        failed=len(dirs) - len(ok_dirs),
        errors=errors,
    )
