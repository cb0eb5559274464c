"""Policy optimisation under a budget: NSGA-II over lever settings, with common random numbers.

An optimisation design (``kind: optimisation``, settings in
:mod:`clustersim.experiments.optimisation_space`) searches lever settings (intensities,
start months, targets) for plans that create the most creative jobs, at the least
spend and cost per job, with the least displacement. Optuna's NSGA-II (Deb et al.
2002) proposes one generation of ``population`` plans at a time; each generation is a
batch of runs (every plan at every replicate seed, the seeds shared by all plans and
by the site's runs without the levers, so jobs and displacement are paired
differences); the plan's mean spend over the horizon minus the budget is a constraint
(NSGA-II ranks plans that break it behind every plan that keeps it). The study lives in
an Optuna journal file inside the output directory (``optuna.journal``): running the
design again loads it, re-reads the runs of a generation that was interrupted (the
runner reuses finished runs) and goes on; every generation's plans come from a sampler
seeded for that generation, so an interrupted search asks for the same plans as one
that was not.

Outputs: ``trials.parquet`` (every plan: decisions, objectives with intervals,
constraint, feasibility, Pareto membership) and ``pareto.parquet`` (the feasible
plans no other feasible plan beats on every objective).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from clustersim.errors import ConfigError
from clustersim.experiments.calibration import optuna_module, validation_root
from clustersim.experiments.calibration_runs import Values
from clustersim.experiments.optimisation_space import (
    OBJECTIVES,
    OptimisationSettings,
    off_decisions,
)
from clustersim.experiments.runner import replicate_seed
from clustersim.experiments.toy_models import TOY_MODELS
from clustersim.files import write_file_atomically

__all__ = [
    "JOURNAL",
    "OUTCOMES",
    "OUTPUTS",
    "Evaluate",
    "objective_table",
    "optimise",
    "pareto_mask",
    "pareto_plans",
    "toy_evaluator",
    "validate",
    "write_outputs",
]

FAILED = 1e12
"""The constraint violation a plan whose runs failed is told with (ranked behind all)."""

JOURNAL = "optuna.journal"
"""The Optuna study's journal file in the output directory (what makes a search resumable)."""

OUTCOMES = ("creative_jobs", "spend", "displacement")
"""What an evaluation gives for each plan and replicate (jobs and displacement against
the runs without the levers)."""

OUTPUTS = ("trials", "pareto")
"""The tables an optimisation writes (``<name>.parquet``)."""

Evaluate = Callable[[list[Values], str, int, int], np.ndarray]
"""``evaluate(plans, batch, replicates, root)`` -> array (replicates, plans, OUTCOMES)."""


def toy_evaluator(settings: OptimisationSettings) -> Evaluate:
    """Evaluate a registered toy model in this process, one seed per replicate."""
    model = TOY_MODELS[settings.model]

    def evaluate(plans: list[Values], batch: str, replicates: int, root: int) -> np.ndarray:
        x = np.array([[v for _, v in plan] for plan in plans], dtype=float)
        out = np.empty((replicates, len(plans), len(OUTCOMES)))
        for r in range(replicates):
            ys = model.evaluate(model.at(x, settings.names), replicate_seed(root, r))
            out[r] = np.column_stack([np.asarray(ys[o], dtype=float) for o in OUTCOMES])
        return out

    return evaluate


def _interval(values: np.ndarray, ci: float) -> tuple[float, float, float]:
    """Mean over replicates with its t interval (NaN ends with one replicate)."""
    values = values[np.isfinite(values)]
    if not len(values):
        return (np.nan, np.nan, np.nan)
    mean = float(values.mean())
    if len(values) < 2:
        return (mean, np.nan, np.nan)
    half = stats.t.ppf(0.5 + ci / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return (mean, mean - float(half), mean + float(half))


def objective_table(outcomes: np.ndarray, settings: OptimisationSettings, ci: float) -> list[dict]:
    """Each plan's objectives (means over replicates, with intervals) and its constraints.

    Args:
        outcomes: (replicates, plans, :data:`OUTCOMES`) from an evaluation.
        settings: the optimisation's settings (objectives, budget).
        ci: level of the intervals.

    Returns:
        One mapping per plan: ``<outcome>``, ``<outcome>_low``, ``<outcome>_high`` for
        jobs, spend and displacement, ``cost_per_job`` (spend / jobs; NaN when the plan
        creates no job), ``budget_excess`` ((mean spend - budget) / budget, feasible
        at <= 0), ``constraints`` (Optuna's, all feasible at <= 0), ``failed`` (a
        replicate is missing) and ``values`` (the objectives in order).
    """
    rows = []
    for p in range(outcomes.shape[1]):
        row: dict[str, Any] = {}
        for k, name in enumerate(OUTCOMES):
            row[name], row[f"{name}_low"], row[f"{name}_high"] = _interval(outcomes[:, p, k], ci)
        jobs, spend = row["creative_jobs"], row["spend"]
        row["cost_per_job"] = spend / jobs if jobs > 0 else np.nan
        row["budget_excess"] = (spend - settings.budget) / settings.budget
        constraints = [row["budget_excess"]]
        if "cost_per_job" in settings.objectives:  # only plans that create jobs qualify
            constraints.append(1.0 - jobs if np.isfinite(jobs) else 1.0)
        row["constraints"] = constraints
        # cost per job has no value without jobs; such a plan breaks a constraint, so
        # NSGA-II ranks it by that, never by this stand-in
        values = [
            spend if o == "cost_per_job" and not jobs > 0 else row[o] for o in settings.objectives
        ]
        row["failed"] = not (np.isfinite(outcomes[:, p, :]).all() and np.isfinite(values).all())
        if row["failed"]:  # told as a plan breaking every constraint: NSGA-II counts only
            values = [0.0] * len(values)  # complete trials in a generation
            row["constraints"] = [FAILED] * len(constraints)
        row["values"] = values
        rows.append(row)
    return rows


def _distributions(settings: OptimisationSettings) -> dict[str, Any]:
    optuna = optuna_module()
    dist: dict[str, Any] = {}
    for f in settings.factors:
        if f.integer:
            dist[f.name] = optuna.distributions.IntDistribution(int(f.low), int(f.high))
        else:
            dist[f.name] = optuna.distributions.FloatDistribution(f.low, f.high)
    for name, options in settings.choices:
        dist[name] = optuna.distributions.CategoricalDistribution(options)
    return dist


def _fingerprint(
    settings: OptimisationSettings, replicates: int, root: int, context: dict[str, Any]
) -> dict[str, Any]:
    """What a study was made for: resuming it for anything else is refused.

    ``context`` holds what else determines the results (the site, the months, the
    model version), given by the caller.
    """
    starts = [dict(p) for p in settings.start_plans]
    return {
        "decisions": [[f.name, f.low, f.high, f.integer] for f in settings.factors],
        "choices": [[n, list(o)] for n, o in settings.choices],
        "objectives": list(settings.objectives),
        "budget": settings.budget,
        "population": settings.population,
        "seed": settings.seed,
        "replicates": replicates,
        "root seed": root,
        "month": settings.month,
        **({"start plans": starts} if starts else {}),
        **context,
    }


def _study(
    settings: OptimisationSettings,
    journal: Path,
    replicates: int,
    root: int,
    context: dict[str, Any],
):
    """The study in the journal file (created, or loaded and checked)."""
    optuna = optuna_module()
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    journal.parent.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.create_study(
        study_name="optimisation",
        storage=storage,
        directions=settings.directions,
        load_if_exists=True,
    )
    made_for = json.loads(json.dumps(_fingerprint(settings, replicates, root, context)))
    found = study.user_attrs.get("made_for")
    if found is None:
        study.set_user_attr("made_for", made_for)
    elif found != made_for:
        differ = [k for k in made_for if found.get(k) != made_for[k]] or list(found)
        raise ConfigError(
            f"{journal} holds a search made with other {', '.join(differ)} (the search's "
            "results would not hold); give a new --out (or delete that folder) to start "
            "another search"
        )
    return study


def _sampler(settings: OptimisationSettings, generation: int):
    optuna = optuna_module()
    seed = int(np.random.SeedSequence([settings.seed, generation]).generate_state(1)[0])
    return optuna.samplers.NSGAIISampler(population_size=settings.population, seed=seed)


def optimise(
    settings: OptimisationSettings,
    evaluate: Evaluate,
    journal: Path,
    *,
    replicates: int,
    root_seed: int,
    ci: float = 0.95,
    context: dict[str, Any] | None = None,
    echo: Callable[[str], None] = lambda _m: None,
) -> pd.DataFrame:
    """Run (or resume) the NSGA-II search; one row per plan evaluated (see module docstring).

    ``context``: what else determines the results (site, months, model version); a
    journal made for another context is refused.
    """
    optuna = optuna_module()
    study = _study(settings, journal, replicates, root_seed, context or {})
    dist = _distributions(settings)
    for generation in range(settings.generations):
        trials = [
            t
            for t in study.get_trials(deepcopy=False)
            if t.user_attrs.get("generation") == generation and not t.user_attrs.get("abandoned")
        ]
        study.sampler = _sampler(settings, generation)
        left = min(settings.population, settings.trials - generation * settings.population)
        if len(trials) < left and trials:  # interrupted while its plans were being asked:
            _abandon(study, trials)  # ask them all again, as an uninterrupted search would
            trials = []
        if generation == 0 and not trials:
            _enqueue_start_plans(study, settings)
        new = []
        for _ in range(left - len(trials)):
            trial = study.ask(dist)
            trial.set_user_attr("generation", generation)
            new.append(trial.number)
        running = {t.number for t in trials if t.state == optuna.trial.TrialState.RUNNING}
        todo = sorted(running | set(new))
        if not todo:
            continue
        by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
        plans = {k: tuple((n, by_number[k].params[n]) for n in settings.names) for k in todo}
        known = _known_results(by_number.values(), settings)
        fresh: dict[Values, Values] = {}  # the plans to run, one per set of identical runs
        for plan in plans.values():
            if same_runs(plan) not in known:
                fresh.setdefault(same_runs(plan), plan)
        echo(
            f"generation {generation + 1}/{settings.generations}: {len(todo)} plans, "
            f"{len(fresh)} new"
        )
        if fresh:
            outcomes = evaluate(list(fresh.values()), f"g{generation:03d}", replicates, root_seed)
            rows = objective_table(outcomes, settings, ci)
            known.update(zip(fresh, rows, strict=True))
        for number in todo:
            _tell(study, by_number[number], known[same_runs(plans[number])])
    return _trials_table(study, settings)


def _enqueue_start_plans(study, settings: OptimisationSettings) -> None:
    """Queue the design's start plans, so the first asks of generation 0 return them.

    A plan still queued from an interrupted start is not queued twice.
    """
    waiting = study.get_trials(deepcopy=False, states=(optuna_module().trial.TrialState.WAITING,))
    queued = [t.system_attrs.get("fixed_params", {}) for t in waiting]
    for plan in settings.start_plans:
        if dict(plan) not in queued:
            study.enqueue_trial(dict(plan))


def _abandon(study, trials) -> None:
    """Drop plans asked before an interruption cut the asking short (FAIL, marked abandoned).

    NSGA-II ignores failed trials, and the trials table leaves abandoned ones out.
    """
    optuna = optuna_module()
    for t in trials:
        if t.state == optuna.trial.TrialState.RUNNING:
            optuna.trial.Trial(study, t._trial_id).set_user_attr("abandoned", True)
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)


def _known_results(trials, settings: OptimisationSettings) -> dict[Values, dict]:
    """Results of plans already evaluated, by plan: a plan asked again is not run again.

    The runs of a plan are determined by its settings and the replicate seeds, so a
    plan NSGA-II proposes twice gives the same numbers; they are read from the study.
    """
    complete = optuna_module().trial.TrialState.COMPLETE
    known = {}
    for t in trials:
        result = t.user_attrs.get("result")
        if (
            t.state != complete
            or result is None
            or result.get("failed")
            or any(n not in t.params for n in settings.names)
        ):
            continue  # a failed plan proposed again is run again (its runs may now finish)
        plan = tuple((n, t.params[n]) for n in settings.names)
        known[same_runs(plan)] = {**result, "values": t.values}
    return known


def same_runs(plan: Values) -> Values:
    """The plan's key for its runs: an off lever's other decisions (``None``) do not count.

    Plans that differ only in an off lever's settings (:func:`off_decisions`) make the
    same runs: they are run once and told alike.
    """
    off = off_decisions(dict(plan))
    return tuple((name, None if name in off else value) for name, value in plan)


def _tell(study, frozen, row: dict) -> None:
    """Store a plan's result in its trial and tell the study."""
    optuna = optuna_module()
    trial = optuna.trial.Trial(study, frozen._trial_id)
    result = {k: _plain(v) for k, v in row.items() if k != "values"}
    trial.set_user_attr("result", result)  # one journal write (each is fsynced)
    for i, value in enumerate(row["constraints"]):  # NSGA-II: feasible at <= 0
        value = np.inf if value is None else value
        trial.set_constraint(f"c{i}", float(value) if np.isfinite(value) else FAILED)
    study.tell(frozen.number, [float(v) for v in row["values"]])


def _plain(value: Any) -> Any:
    """A value Optuna's journal can store (JSON): NaN and numpy numbers made plain."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None:  # a missing value read back from the journal
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    value = float(value)
    return None if not np.isfinite(value) else value


def pareto_mask(values: np.ndarray, directions: list[str]) -> np.ndarray:
    """Which rows no other row beats on every objective (and strictly on one).

    Examples:
        >>> pareto_mask(np.array([[1.0, 1.0], [2.0, 2.0], [2.0, 1.5]]), ["maximize", "minimize"])
        array([ True, False,  True])
    """
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    v = np.asarray(values, dtype=float) * sign  # all to minimise
    if not len(v):
        return np.zeros(0, dtype=bool)
    no_worse = (v[:, None, :] <= v[None, :, :]).all(axis=2)
    better = (v[:, None, :] < v[None, :, :]).any(axis=2)
    dominated = (no_worse & better).any(axis=0)
    return ~dominated


def _trials_table(study, settings: OptimisationSettings) -> pd.DataFrame:
    optuna = optuna_module()
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state != optuna.trial.TrialState.COMPLETE or t.user_attrs.get("abandoned"):
            continue
        row = {"trial": t.number, "generation": t.user_attrs.get("generation")}
        row.update({n: t.params.get(n) for n in settings.names})
        result = t.user_attrs.get("result", {})
        for key in (*OUTCOMES, "cost_per_job", "budget_excess"):
            for suffix in ("", "_low", "_high") if key in OUTCOMES else ("",):
                value = result.get(f"{key}{suffix}")
                row[f"{key}{suffix}"] = np.nan if value is None else value
        row["complete"] = not result.get("failed", True)
        constraints = [np.inf if c is None else c for c in result.get("constraints", [])]
        row["within_budget"] = bool(row["complete"] and row["budget_excess"] <= 0)
        row["feasible"] = bool(row["complete"] and constraints and max(constraints) <= 0)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["pareto"] = False
    feasible = table.index[table["feasible"]]
    if len(feasible):
        values = table.loc[feasible, list(settings.objectives)].to_numpy(dtype=float)
        table.loc[feasible, "pareto"] = pareto_mask(values, settings.directions)
    return table


def pareto_plans(trials: pd.DataFrame, settings: OptimisationSettings) -> pd.DataFrame:
    """The Pareto set's plans, each once (a plan asked twice is listed once), most jobs first."""
    pareto = trials[trials["pareto"]].drop_duplicates(subset=settings.names)
    order = "creative_jobs" if "creative_jobs" in settings.objectives else settings.objectives[0]
    ascending = OBJECTIVES[order][0] == "minimize"
    return pareto.sort_values(order, ascending=ascending, kind="stable").reset_index(drop=True)


VALIDATED = "validated_"
"""Prefix of the Pareto table's columns measured again at the validation seeds."""


def validate(
    pareto: pd.DataFrame,
    settings: OptimisationSettings,
    evaluate: Evaluate,
    *,
    root_seed: int,
    ci: float = 0.95,
    echo: Callable[[str], None] = lambda _m: None,
) -> pd.DataFrame:
    """The Pareto plans run again at ``validation_replicates`` seeds of their own.

    The search keeps the plans whose runs happened to go well, so its own numbers
    flatter the Pareto set (the winner's curse); runs at new seeds do not. Adds
    ``validated_<outcome>`` (with ``_low``, ``_high``), ``validated_cost_per_job``
    and ``validated_replicates``.
    """
    n = settings.validation_replicates
    if not n or pareto.empty:
        return pareto
    integer = {f.name for f in settings.factors if f.integer}
    plans = [  # records keep each column's type (iterrows would make a choice 6 a 6.0)
        tuple((name, int(row[name]) if name in integer else row[name]) for name in settings.names)
        for row in pareto.to_dict("records")
    ]
    runs: dict[Values, Values] = {}  # one plan per set of identical runs (an off lever)
    for plan in plans:
        runs.setdefault(same_runs(plan), plan)
    echo(
        f"validation: the {len(plans)} plan(s) of the Pareto set ({len(runs)} different) at "
        f"{n} new seeds"
    )
    outcomes = evaluate(list(runs.values()), "validation", n, validation_root(root_seed))
    at = [list(runs).index(same_runs(plan)) for plan in plans]
    rows = pd.DataFrame(objective_table(outcomes, settings, ci)).iloc[at]
    keep = [f"{o}{end}" for o in OUTCOMES for end in ("", "_low", "_high")] + ["cost_per_job"]
    validated = rows[keep].add_prefix(VALIDATED).reset_index(drop=True)
    validated[f"{VALIDATED}replicates"] = np.isfinite(outcomes[:, :, 0]).sum(axis=0)[at]
    return pd.concat([pareto.reset_index(drop=True), validated], axis=1)


def write_outputs(out: Path, trials: pd.DataFrame, pareto: pd.DataFrame) -> dict:
    """Write ``trials.parquet`` and ``pareto.parquet`` (each atomically); the tables by name."""
    tables = {"trials": trials, "pareto": pareto}
    for name, table in tables.items():
        write_file_atomically(
            out / f"{name}.parquet", lambda path, t=table: t.to_parquet(path, index=False)
        )
    return tables
