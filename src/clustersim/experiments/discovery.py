"""Scenario discovery: which ranges of parameters and levers lead to the runs of interest.

A discovery design (``kind: discovery``, settings in
:mod:`clustersim.experiments.discovery_space`) runs a Latin hypercube sample of
parameters and lever settings like any other design (one arm per point, every point
of a replicate with the replicate's seed). Here each run becomes one row: the values
it ran with and whether it is of interest (its creative cluster took off, or an
outcome passed a threshold). EMA Workbench's PRIM (Friedman & Fisher 1999; Bryant &
Lempert 2010) peels the input space down to boxes where runs of interest are dense,
and its extra-trees feature scores rank the inputs. The box reported is, on PRIM's
peeling trajectory, the one with the widest coverage whose density reaches
``min_density``; its restricted inputs carry quasi-p-values (a one-sided binomial
test: could the restriction be chance?).

``clustersim-experiment discover <results>`` runs the same analysis on the results of
a discovery design or of a sensitivity design (whose sample points are inputs too).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clustersim.errors import ConfigError
from clustersim.experiments.discovery_space import GROWTH, TAKE_OFF, DiscoverySettings
from clustersim.experiments.runner import replicate_seed
from clustersim.experiments.sensitivity_space import is_comparison
from clustersim.files import write_file_atomically

if TYPE_CHECKING:
    from clustersim.experiments.design import Design

__all__ = [
    "OUTPUTS",
    "Discovery",
    "PointRuns",
    "analyse_design",
    "design_runs",
    "discover",
    "ema_modules",
    "feature_scores",
    "find_boxes",
    "sample_point_runs",
    "settings_for",
    "toy_runs",
    "write_outputs",
]

OUTPUTS = ("discovery_runs", "boxes", "peeling", "feature_scores")
"""The tables a scenario discovery writes (``<name>.parquet``)."""


def ema_modules():
    """EMA Workbench's PRIM and feature scoring (the ``discovery`` extra), quietly imported.

    Raises:
        ConfigError: EMA Workbench is not installed.
    """
    try:
        with warnings.catch_warnings():  # it warns about optional parallel back-ends
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import feature_scoring, prim
            from ema_workbench.analysis.scenario_discovery_util import RuleInductionType
    except ImportError:
        raise ConfigError(
            "scenario discovery needs EMA Workbench: pip install 'clustersim[discovery]'"
        ) from None
    return prim, feature_scoring, RuleInductionType


@dataclass(frozen=True)
class Discovery:
    """What a scenario discovery found.

    Attributes:
        runs: one row per run: ``arm``, ``replicate``, the inputs, ``value`` (the
            outcome, or 1/0 for take-off) and ``interest``; for take-off and growth also
            ``final_lq`` and ``employment_growth`` (take-off's two measures).
        boxes: one row per box and restricted input: ``box``, ``step`` (on its
            peeling trajectory), ``coverage``, ``density``, ``mass``, ``n``, ``k``,
            ``parameter``, ``low``, ``high``, ``qp_low``, ``qp_high`` (quasi-p-values
            of the lower and upper restriction; NaN where that side is not restricted)
            and ``reaches`` (whether the density reaches ``min_density``).
        peeling: every box's peeling trajectory: ``box``, ``step``, ``coverage``,
            ``density``, ``mass``, ``res_dim``, ``n``, ``k``, ``chosen``.
        scores: ``parameter``, ``score`` (extra-trees feature scores, summing to 1).
    """

    runs: pd.DataFrame
    boxes: pd.DataFrame
    peeling: pd.DataFrame
    scores: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name (:data:`OUTPUTS`)."""
        return dict(zip(OUTPUTS, (self.runs, self.boxes, self.peeling, self.scores), strict=True))


def _inputs(design: Design, names: list[str]) -> pd.DataFrame:
    """The arms' parameter values, one row per arm (index: arm)."""
    rows = {name: dict(arm.values) for name, arm in design.arms.items()}
    return pd.DataFrame.from_dict(rows, orient="index").reindex(columns=names)


def design_runs(
    design: Design, settings: DiscoverySettings, timeseries: pd.DataFrame
) -> pd.DataFrame:
    """One row per finished run: its inputs, its outcome and whether it is of interest.

    Take-off is judged on the months up to ``settings.month`` (by default the last),
    with the design's ``analysis.takeoff_lq`` and ``takeoff_growth``.
    """
    from clustersim.experiments.analysis import take_off

    month = settings.month if settings.month is not None else design.steps
    ts = timeseries[timeseries["step"] <= month]
    if settings.outcome in (TAKE_OFF, GROWTH):
        runs = take_off(
            ts,
            lq_threshold=float(design.analysis["takeoff_lq"]),
            growth=float(design.analysis["takeoff_growth"]),
        )
        if settings.outcome == TAKE_OFF:
            runs = runs.assign(value=runs["took_off"].astype(float), interest=runs["took_off"])
        else:
            value = runs["employment_growth"].to_numpy(dtype=float)
            runs = runs.assign(value=value, interest=settings.of_interest(value))
    else:
        runs = ts[ts["step"] == month].copy()
        runs = runs.assign(value=runs[settings.outcome].astype(float))
        runs["interest"] = settings.of_interest(runs["value"].to_numpy())
    extra = [c for c in TAKEOFF_PARTS if c in runs]  # how near take-off each run came
    # a sensitivity design's comparison runs (sensitivity.against) are not sample points
    runs = runs[~runs["arm"].map(is_comparison).astype(bool)]
    runs = runs[["arm", "replicate", "value", "interest", *extra]].join(
        _inputs(design, settings.names), on="arm"
    )
    return _ordered(runs, settings)


@dataclass(frozen=True)
class PointRuns:
    """A design's runs that a discovery searches (its sample points'), by status.

    Attributes:
        ok: finished runs.
        failed: ``run id -> error`` of the failed or missing ones.
        stale: finished runs left out because another model version made them.
    """

    ok: int
    failed: dict[str, str]
    stale: int


def sample_point_runs(design: Design, run_dirs: list[Path], index: pd.DataFrame) -> PointRuns:
    """The runs a discovery searches, counted from the run index: the sample points'.

    A sensitivity design's comparison runs (``sensitivity.against``) are not searched,
    so they are not counted. ``run_dirs`` are the design's runs in the order of
    ``design.specs()``; ``index`` the aggregation's run index (``runs.parquet``:
    ``run_id``, ``status``, ``error``).
    """
    comparisons = {
        d.name
        for spec, d in zip(design.specs(), run_dirs, strict=True)
        if is_comparison(spec.labels["arm"])
    }
    mine = index[~index["run_id"].isin(comparisons)]
    status = mine["status"]
    failed = mine[~status.isin(["ok", "stale"])]
    return PointRuns(
        ok=int((status == "ok").sum()),
        failed={r.run_id: str(r.error) for r in failed.itertuples()},
        stale=int((status == "stale").sum()),
    )


def toy_runs(design: Design, settings: DiscoverySettings) -> pd.DataFrame:
    """The runs of a toy-model design: every sample point once per replicate seed."""
    from clustersim.experiments.discovery_space import sample
    from clustersim.experiments.sensitivity_space import point_arms
    from clustersim.experiments.toy_models import TOY_MODELS

    toy = TOY_MODELS[settings.model]
    points, _ = point_arms(settings, sample(settings))
    x = np.array([[v for _, v in values] for _, values in points], dtype=float)
    frames = []
    for r in range(design.replicates):
        value = toy.evaluate(toy.at(x, settings.names), replicate_seed(design.root_seed, r))
        value = np.asarray(value[settings.outcome], dtype=float)
        frame = pd.DataFrame(x, columns=settings.names)
        frame.insert(0, "arm", [name for name, _ in points])
        frame.insert(1, "replicate", r)
        frames.append(frame.assign(value=value, interest=settings.of_interest(value)))
    return _ordered(pd.concat(frames, ignore_index=True), settings)


TAKEOFF_PARTS = ("final_lq", "employment_growth")
"""Take-off's two measures, kept per run when take-off or growth is searched."""


def _ordered(runs: pd.DataFrame, settings: DiscoverySettings) -> pd.DataFrame:
    extra = [c for c in TAKEOFF_PARTS if c in runs]
    columns = ["arm", "replicate", *settings.names, "value", "interest", *extra]
    runs = runs[columns].sort_values(["replicate", "arm"], kind="stable")
    return runs.astype({"interest": bool}).reset_index(drop=True)


def _chosen_step(trajectory: pd.DataFrame, min_density: float) -> tuple[int, bool]:
    """The step of widest coverage whose density reaches ``min_density`` (else the densest).

    Ties in coverage go to the denser box, then to the one with fewer restrictions.
    """
    reach = trajectory[trajectory["density"] >= min_density - 1e-12]
    pool, reaches = (reach, True) if len(reach) else (trajectory, False)
    key = ["coverage", "density", "res_dim"] if reaches else ["density", "coverage", "res_dim"]
    best = pool.sort_values(key, ascending=[False, False, True], kind="stable").index[0]
    return int(best), reaches


def _box_rows(
    box, step: int, number: int, reaches: bool, full: dict[str, tuple[float, float]]
) -> list[dict]:
    """The restricted inputs of one box, with its statistics and quasi-p-values.

    A side PRIM did not restrict is given as the range sampled (``full``), not as the
    lowest or highest value drawn.
    """
    stats = box.peeling_trajectory.loc[step]
    limits, initial = box.box_lims[step], box.box_lims[0]
    qp = box.p_values[step]
    rows = []
    for name in limits.columns:
        if limits[name].tolist() == initial[name].tolist():
            continue
        low_qp, high_qp = (np.nan if v == -1 else float(v) for v in qp.get(name, (-1, -1)))
        low_cut = limits[name].iloc[0] != initial[name].iloc[0]
        high_cut = limits[name].iloc[1] != initial[name].iloc[1]
        rows.append(
            {
                "box": number,
                "step": step,
                **{k: float(stats[k]) for k in ("coverage", "density", "mass")},
                **{k: int(stats[k]) for k in ("n", "k")},
                "parameter": str(name),
                "low": float(limits[name].iloc[0]) if low_cut else full[name][0],
                "high": float(limits[name].iloc[1]) if high_cut else full[name][1],
                "qp_low": low_qp,
                "qp_high": high_qp,
                "reaches": reaches,
            }
        )
    return rows


BOX_COLUMNS = (
    "box", "step", "coverage", "density", "mass", "n", "k", "parameter", "low", "high",
    "qp_low", "qp_high", "reaches",
)  # fmt: skip


def find_boxes(
    runs: pd.DataFrame, settings: DiscoverySettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PRIM's boxes and peeling trajectories for the runs of interest.

    Up to ``settings.boxes`` boxes, each found among the runs the earlier ones left;
    a later box is kept only when its density reaches ``min_density``.

    Returns:
        ``(boxes, peeling)`` (see :class:`Discovery`); empty when no run is of interest.
    """
    prim, _, _ = ema_modules()
    x = runs[settings.names].astype(float).reset_index(drop=True)
    y = runs["interest"].to_numpy(dtype=bool)
    box_rows, peel = [], []
    if not y.any():
        return pd.DataFrame(columns=BOX_COLUMNS), pd.DataFrame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(
            x, y.astype(int), peel_alpha=settings.peel_alpha, mass_min=settings.mass_min
        )
        for number in range(1, settings.boxes + 1):
            box = finder.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory
            step, reaches = _chosen_step(trajectory, settings.min_density)
            if number > 1 and not reaches:
                break
            box.select(step)
            full = {f.name: (f.low, f.high) for f in settings.factors}
            rows = _box_rows(box, step, number, reaches, full)
            if not rows:  # the whole space: nothing to say
                break
            box_rows += rows
            frame = trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]].copy()
            peel.append(frame.assign(box=number, step=frame.index, chosen=frame.index == step))
    peeling = pd.concat(peel, ignore_index=True) if peel else pd.DataFrame()
    return pd.DataFrame(box_rows, columns=list(BOX_COLUMNS)), peeling


def feature_scores(runs: pd.DataFrame, settings: DiscoverySettings) -> pd.DataFrame:
    """Extra-trees feature scores of the inputs for telling runs of interest from the rest.

    EMA Workbench's ``get_ex_feature_scores`` (classification, seeded); the scores sum
    to 1, so an input that does not matter scores well below ``1 / inputs``.
    """
    _, scoring, rule = ema_modules()
    x = runs[settings.names].astype(float).reset_index(drop=True)
    y = runs["interest"].to_numpy(dtype=int)
    if y.min() == y.max():  # nothing to tell apart
        return pd.DataFrame({"parameter": settings.names, "score": np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, _ = scoring.get_ex_feature_scores(
            x, y, mode=rule.CLASSIFICATION, random_state=settings.seed
        )
    series = scores.iloc[:, 0]
    return pd.DataFrame({"parameter": series.index.astype(str), "score": series.to_numpy()})


def discover(runs: pd.DataFrame, settings: DiscoverySettings) -> Discovery:
    """PRIM boxes, peeling trajectories and feature scores of ``runs`` (:class:`Discovery`)."""
    missing = [n for n in settings.names if n not in runs]
    if missing:
        raise ConfigError(f"the runs have no input column {missing[0]!r}")
    boxes, peeling = find_boxes(runs, settings)
    return Discovery(runs, boxes, peeling, feature_scores(runs, settings))


def write_outputs(out: Path, found: Discovery) -> dict[str, pd.DataFrame]:
    """Write the discovery's tables as Parquet files in ``out`` (each atomically)."""
    tables = found.tables()
    for name, table in tables.items():
        write_file_atomically(
            out / f"{name}.parquet", lambda path, t=table: t.to_parquet(path, index=False)
        )
    return tables


def settings_for(design: Design, changes: dict | None = None) -> DiscoverySettings:
    """The discovery settings of a discovery design, or of a sensitivity design's sample.

    A sensitivity design's sample points are inputs as well: its runs are searched for
    take-off (or ``changes``' outcome). ``changes`` are ``discovery:`` settings given on
    the command line (``min_density``, ``boxes``, ``outcome``, ``above``, ``below``).

    Raises:
        ConfigError: the design has no sample to search, or a change is invalid.
    """
    from clustersim.experiments.discovery_space import parse_discovery

    changes = {k: v for k, v in (changes or {}).items() if v is not None}
    if design.kind == "discovery":
        return parse_discovery(_merged(design.discovery or {}, changes))
    if design.kind != "sensitivity":
        raise ConfigError(
            f"{design.name} is a {design.kind} design: scenario discovery needs the runs of a "
            "discovery or sensitivity design (their inputs are sampled)"
        )
    from dataclasses import replace

    from clustersim.experiments.sensitivity_space import parse_settings

    sens = parse_settings(design.sensitivity)
    if sens.is_toy:
        raise ConfigError(f"{design.name} evaluates a toy model: it has no runs to search")
    first = sens.factors[0]  # the settings are parsed with it; the factors are the design's
    base = parse_discovery(
        {"parameters": [first.name], "ranges": {first.name: [first.low, first.high]}, **changes}
    )
    sampling = f"the {sens.method.capitalize()} sample of the sensitivity design"
    points = [a for a in design.arms if not is_comparison(a)]
    return replace(
        base, factors=sens.factors, samples=len(points), month=sens.month, sampling=sampling
    )


def _merged(section: dict, changes: dict) -> dict:
    """A discovery section with the command's changes: new runs of interest replace old ones."""
    merged = dict(section)
    if {"outcome", "above", "below"} & set(changes):
        for key in ("outcome", "above", "below"):
            merged.pop(key, None)
    return {**merged, **changes}


def analyse_design(
    design: Design,
    out: Path,
    timeseries: pd.DataFrame | None = None,
    *,
    n_ok: int = 0,
    failed: int = 0,
    changes: dict | None = None,
) -> tuple[dict[str, pd.DataFrame], Path, Path]:
    """Run the scenario discovery of a design's runs and write its tables and report.

    A toy model is evaluated here; a clustersim design's runs come from its aggregated
    ``timeseries``.

    Returns:
        The tables by name, and the paths of ``report.html`` and ``summary.md``.
    """
    from clustersim.experiments.discovery_report import write_discovery_report

    settings = settings_for(design, changes)
    changes = {k: v for k, v in (changes or {}).items() if v is not None}
    if design.kind == "discovery" and changes:  # the report shows the settings it used
        from dataclasses import replace

        design = replace(design, section=_merged(design.discovery or {}, changes))
    if settings.is_toy:
        runs = toy_runs(design, settings)
        n_ok = len(runs)
    else:
        if timeseries is None:
            raise ConfigError(f"{design.name}: no run has finished; nothing to discover")
        runs = design_runs(design, settings, timeseries)
    tables = write_outputs(out, discover(runs, settings))
    html, md = write_discovery_report(design, out, tables, settings, n_ok=n_ok, failed=failed)
    return tables, html, md
