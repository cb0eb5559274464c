"""Read a sweep directory back into tidy Parquet datasets, one run at a time.

A sweep directory holds ``runs/<hash>-s<seed>/`` run directories (see
:mod:`clustersim.experiments.runner`), whoever wrote them: ``clustersim-experiment``, or
``clustersim --multirun`` with any launcher. :func:`aggregate` writes

* ``timeseries.parquet``: one row per run and month, the run's labels (experiment,
  site, arm, replicate, swept parameters) and ``seed``, ``config_hash``,
  ``run_id`` as columns, then the model's time series;
* ``places.parquet``: the same for the per-place table (one row per run, month, place);
* ``runs.parquet``: one row per run directory with its status (``ok``, ``stale``,
  ``failed``, ``broken``, ``missing``), error, seed, hash, model fingerprint, wall
  time and labels: runs left out are listed, not lost.

Runs made by different model versions are never mixed: only runs whose ``meta.json``
records the current :func:`~clustersim.experiments.provenance.model_fingerprint` (or the one asked
for with ``fingerprint=``) go into the tables; the others are *stale*, listed in
``runs.parquet`` and counted in :class:`AggregateResult`.

It streams: the schemas are read first (Parquet footers only), then each run's
table is read, labelled and appended to a :class:`pyarrow.parquet.ParquetWriter`,
so memory holds one run at a time whatever the sweep's size.

Several processes may aggregate into one folder at once: each table is written to
a temporary file and moved into place in one step (a reader never sees a partial
table), and the folder's lock (``<out>/.aggregate.lock``, :data:`LOCK`) is held while
the tables are written, so one process's set of tables is written whole before the
next one's begins; the others wait for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clustersim.errors import ConfigError
from clustersim.experiments.provenance import model_fingerprint
from clustersim.experiments.runner import read_meta, run_status
from clustersim.files import hold_lock, remove_temporaries, write_file_atomically

__all__ = [
    "LOCK",
    "OUTPUTS",
    "AggregateResult",
    "aggregate",
    "find_runs",
    "label_schema",
    "run_index",
]

LOCK = ".aggregate.lock"
"""The lock file in an output folder, held while its tables (and report) are written."""

OUTPUTS = ("runs.parquet", "timeseries.parquet", "places.parquet")
"""The files :func:`aggregate` writes."""

ID_COLUMNS = ("seed", "config_hash", "run_id")
"""Columns identifying a run, after its labels and before its data."""

LABEL_ORDER = ("experiment", "site", "arm", "replicate")

RUN_FIELDS = (
    "run_id",
    "status",
    "error",
    "seed",
    "config_hash",
    "model_fingerprint",
    "wall_time_s",
    "finished_at",
    "clustersim_version",
    "git_commit",
    "host",
    "run_dir",
)
"""Columns of the run index after the labels."""


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
        stale: number of finished runs left out because another model version made them.
        fingerprint: the model fingerprint of the aggregated runs.
        stale_fingerprints: ``fingerprint -> number of stale runs`` made by it
            (``"none"`` for runs that recorded no fingerprint).
    """

    directory: Path
    timeseries: Path | None
    places: Path | None
    runs: Path
    ok: int
    failed: int
    errors: dict[str, str]
    stale: int
    fingerprint: str
    stale_fingerprints: dict[str, int]


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


def run_index(run_dirs: Iterable[Path], *, fingerprint: str | None = None) -> pd.DataFrame:
    """One row per run directory: labels, status, error, seed, hash, timings, provenance.

    The labels of every run come first, then :data:`RUN_FIELDS`.

    Args:
        run_dirs: the run directories.
        fingerprint: the model fingerprint of ``ok`` runs (None: the current model's);
            finished runs recording another one get the status ``stale``.
    """
    expected = model_fingerprint() if fingerprint is None else fingerprint
    rows = []
    for run_dir in run_dirs:
        status = run_status(run_dir, fingerprint=expected)
        meta = read_meta(run_dir) or {}
        if status == "missing":
            error = "not run (no readable meta.json)"
        elif status == "stale":
            error = (
                "made by a different model version (model fingerprint "
                f"{meta.get('model_fingerprint') or 'not recorded'}, not {expected})"
            )
        elif status == "broken":
            error = "result files missing or cut short"
        else:
            error = meta.get("error")
        row = dict(meta.get("labels") or {})
        row.update(
            run_id=run_dir.name,
            status=status,
            error=error,
            seed=meta.get("seed"),
            config_hash=meta.get("config_hash"),
            model_fingerprint=meta.get("model_fingerprint"),
            wall_time_s=meta.get("wall_time_s"),
            finished_at=meta.get("finished_at"),
            clustersim_version=meta.get("clustersim_version"),
            git_commit=meta.get("git_commit"),
            host=meta.get("host"),
            run_dir=str(run_dir),
        )
        rows.append(row)
    index = pd.DataFrame(rows)
    # every run's labels first (a label only later runs have would otherwise follow run_id)
    fields = [c for c in RUN_FIELDS if c in index.columns]
    index = index[[c for c in index.columns if c not in fields] + fields]
    for col in index.columns:  # labels of mixed types (1, 2.5, "high") are stored as text
        kind = _arrow_type([None if _missing(v) else v for v in index[col]])
        if pa.types.is_string(kind) and index[col].dtype == object:
            index[col] = [None if _missing(v) else _coerce(v, kind) for v in index[col]]
    return index


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _columns(name: str, run_dirs: list[Path]) -> pa.Schema | None:
    """The columns of the runs' ``name`` tables together (None: no run has one).

    Raises:
        ConfigError: a run's file is not readable Parquet, or two runs' columns cannot
            be combined (a file written by another program or edited by hand).
    """
    schemas = []
    for run_dir in run_dirs:
        path = run_dir / f"{name}.parquet"
        if not path.is_file():
            continue
        try:
            schemas.append(pq.read_schema(path))
        except (pa.ArrowException, OSError) as e:
            raise ConfigError(
                f"{path}: not a readable Parquet file ({_first_line(e)}); delete the folder "
                f"{run_dir} and run the sweep again to recompute that run"
            ) from None
    if not schemas:
        return None
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except pa.ArrowException as e:
        raise ConfigError(
            f"the runs' {name}.parquet files have columns that cannot be combined "
            f"({_first_line(e)}); a run's file was written by another program or edited"
        ) from None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _write_table(
    name: str,
    run_dirs: list[Path],
    metas: list[dict[str, Any]],
    labels: pa.Schema,
    columns: pa.Schema | None,
    out: Path,
    progress: bool,
) -> Path | None:
    files = [d / f"{name}.parquet" for d in run_dirs]
    target = out / f"{name}.parquet"
    if columns is None:  # no run has one: a table of earlier runs would contradict runs.parquet
        target.unlink(missing_ok=True)
        return None
    data = pa.schema([f for f in columns if f.name not in ID_COLUMNS])
    # a label named like a data column (e.g. a swept "population") becomes label_<name>
    renamed = {f.name: f"label_{f.name}" if f.name in data.names else f.name for f in labels}
    labels = pa.schema([(renamed[f.name], f.type) for f in labels])
    source = dict(zip(labels.names, renamed, strict=True))
    ids = pa.schema([("seed", pa.int64()), ("config_hash", pa.string()), ("run_id", pa.string())])
    schema = pa.schema([*labels, *ids, *data])
    iterator: Iterable = zip(files, metas, strict=True)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(list(iterator), desc=f"aggregate {name}", unit="run", leave=False)

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, schema) as writer:
            for path, meta in iterator:
                try:
                    table = pq.read_table(path)
                except (pa.ArrowException, OSError) as e:  # a footer intact, its data not
                    raise ConfigError(
                        f"{path}: not a readable Parquet file ({_first_line(e)}); delete the "
                        f"folder {path.parent} and run the sweep again to recompute that run"
                    ) from None
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

    write_file_atomically(target, write)
    return target


def aggregate(
    sweep_dir: str | os.PathLike,
    *,
    run_dirs: Iterable[str | os.PathLike] | None = None,
    out_dir: str | os.PathLike | None = None,
    progress: bool = False,
    fingerprint: str | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> AggregateResult:
    """Aggregate the runs of a sweep into tidy Parquet files (see the module docstring).

    Only runs of one model version are aggregated, so tables never mix results of
    different model code: those made by the current model, or by the one whose
    fingerprint is given (to read a sweep made by another version of clustersim).

    Args:
        sweep_dir: the sweep directory (holding ``runs/``).
        run_dirs: only these run directories (default: every run under ``runs/``).
        out_dir: where to write (default: ``sweep_dir``).
        progress: show a progress bar.
        fingerprint: aggregate the runs made by this model fingerprint (default: the
            current model's, :func:`~clustersim.experiments.provenance.model_fingerprint`).
        on_wait: told in one line whom this process waits for, when another one holds
            the output folder's lock (:data:`LOCK`).

    Returns:
        Paths and counts; failed, broken and stale runs are listed in ``runs.parquet``.
    """
    sweep_dir = Path(sweep_dir)
    out = Path(out_dir) if out_dir is not None else sweep_dir
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = model_fingerprint() if fingerprint is None else fingerprint
    with hold_lock(out / LOCK, on_wait=on_wait):
        for name in OUTPUTS:  # what an aggregation killed part-way left
            remove_temporaries(out / name)
        dirs = [Path(d) for d in run_dirs] if run_dirs is not None else find_runs(sweep_dir)
        return _aggregate(dirs, out, fingerprint, progress)


def _aggregate(dirs: list[Path], out: Path, fingerprint: str, progress: bool) -> AggregateResult:
    """Write the run index and the tables (the output folder's lock is held)."""
    index = run_index(dirs, fingerprint=fingerprint)
    ok_dirs = [d for d, s in zip(dirs, index.get("status", []), strict=True) if s == "ok"]
    # the runs' files are read and checked before anything is written
    columns = {name: _columns(name, ok_dirs) for name in ("timeseries", "places")}
    runs_path = out / "runs.parquet"
    write_file_atomically(runs_path, lambda path: index.to_parquet(path, index=False))
    metas = [read_meta(d) or {} for d in ok_dirs]
    labels = label_schema(metas)
    written = {
        name: _write_table(name, ok_dirs, metas, labels, columns[name], out, progress)
        for name in columns
    }
    statuses = index["status"] if len(index) else pd.Series([], dtype=object)
    failed = index[~statuses.isin(["ok", "stale"])] if len(index) else index
    errors = {r.run_id: str(r.error) for r in failed.itertuples()} if len(failed) else {}
    stale = index[statuses == "stale"] if len(index) else index
    stale_fingerprints = (
        stale["model_fingerprint"].fillna("none").value_counts().to_dict() if len(stale) else {}
    )
    return AggregateResult(
        directory=out,
        timeseries=written["timeseries"],
        places=written["places"],
        runs=runs_path,
        ok=len(ok_dirs),
        failed=len(failed),
        errors=errors,
        stale=len(stale),
        fingerprint=fingerprint,
        stale_fingerprints={str(k): int(v) for k, v in stale_fingerprints.items()},
    )
