"""Recording phase: one row of the declared outcomes per month, and one row per place.

The focus place's row holds exactly the columns of
:data:`clustersim.model.outcomes.OUTCOME_NAMES`, in that order, then
``spend_<policy>`` per lever: a value computed here but not declared there (or
declared but not computed) stops the run. The month's flows (births, exits,
moves, ...) are counted by the phases into counters that :func:`start_month`
sets to zero.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from mesa import DataCollector, Model

from clustersim.model import metrics
from clustersim.model.outcomes import OUTCOME_NAMES
from clustersim.model.phases import accounts
from clustersim.model.phases.aggregates import Census, living_income, unemployed_rows

__all__ = ["datacollector", "outcome_row", "place_rows", "record", "start_month"]


def start_month(model: Model) -> None:
    """Set the month's flow counters to zero (per node or per place)."""
    n, n_places = model.n_nodes, len(model.place_names)
    model.births_by_node = np.zeros(n, dtype=np.int64)
    model.exits_by_node = np.zeros(n, dtype=np.int64)
    model.innovations_by_node = np.zeros(n, dtype=np.int64)
    model.moves_in = np.zeros(n_places, dtype=np.int64)
    model.moves_out = np.zeros(n_places, dtype=np.int64)
    model.left_region = np.zeros(n_places, dtype=np.int64)
    model.graduates_by_place = np.zeros(n_places, dtype=np.int64)
    model.displaced_by_node = np.zeros(n)
    model.took_up_by_node = np.zeros(n)
    model.other_migration_by_node = np.zeros(n)
    model.fell_back_by_node = np.zeros(n)


def datacollector() -> DataCollector:
    """A Mesa DataCollector whose model reporters read the declared outcomes just recorded.

    It lets Mesa's tools work on the model as on any Mesa model: ``mesa.batch_run``
    and Mesa's plotting components read ``model.datacollector``. Its reporters only
    copy this month's row of ``model.records`` (no second computation), one
    reporter per declared outcome except ``step``.
    """
    return _RowCollector(
        model_reporters={
            name: functools.partial(_latest, name=name) for name in OUTCOME_NAMES if name != "step"
        }
    )


def _latest(model: Model, *, name: str) -> Any:
    return model.records[-1][name]


class _RowCollector(DataCollector):
    """Mesa's DataCollector, collecting the month's recorded row in one pass.

    Mesa's ``collect`` calls each reporter and deep-copies its value (about 0.05 ms a
    month for the ~30 outcomes, 1 % of a 10k city's month); the values are this month's
    row of ``model.records``, numbers, so while its model reporters are the ones
    :func:`datacollector` made (each reads its own column of the row), this copies the
    row's values into ``model_vars`` directly, with the month in ``_collection_steps``
    as Mesa does (``mesa.batch_run`` reads it). Once a reporter is added or replaced, or
    agent or agent-type reporters are added, Mesa collects.
    """

    def __init__(self, **reporters: Any) -> None:
        super().__init__(**reporters)
        ours = bool(self.model_reporters) and all(
            isinstance(r, functools.partial) and r.func is _latest and r.keywords == {"name": k}
            for k, r in self.model_reporters.items()
        )
        self._row_reporters = dict(self.model_reporters) if ours else None

    def collect(self, model: Model) -> None:
        """Collect the month's row (see the class)."""
        if (
            self._row_reporters is None
            or self.agent_reporters
            or self.agenttype_reporters
            or self.model_reporters != self._row_reporters
        ):
            super().collect(model)
            return
        row = model.records[-1]
        self._collection_steps.append(model.time)
        for name, values in self.model_vars.items():
            values.append(row[name])


def record(model: Model, census: Census) -> None:
    """Append this month's row to ``model.records`` and its rows to ``model.place_records``.

    Then the model's Mesa DataCollector collects the same row and the ledger closes
    the month's accounts. During the spin-up (``model.recording_rows`` false) the
    ledger's bookings are only cleared and nothing is written: the spin-up's rows
    and accounts are thrown away when month 0 begins, and no state is read from them.
    """
    if not getattr(model, "recording_rows", True):
        model.ledger.clear()
        return
    row = outcome_row(model, census)
    spent = model.municipality.spent_this_step
    for policy in model.policies:
        row[f"spend_{policy.name}"] = float(spent.get(policy.name, 0.0))
    model.records.append(row)
    model.place_records.extend(place_rows(model, census))
    model.ledger.close(model.steps, accounts.stocks(model))
    model.datacollector.collect(model)


def outcome_row(model: Model, census: Census) -> dict[str, Any]:
    """The focus place's declared outcomes now, in the order of the outcomes table.

    Raises:
        AssertionError: the values computed and the outcomes declared differ.
    """
    values = {**_stocks(model, census), **_flows(model), **_region(model, census)}
    if set(values) != set(OUTCOME_NAMES):
        undeclared = sorted(set(values) - set(OUTCOME_NAMES))
        missing = sorted(set(OUTCOME_NAMES) - set(values))
        raise AssertionError(
            f"recorded columns differ from model.outcomes: undeclared {undeclared}, "
            f"not computed {missing}"
        )
    return {name: values[name] for name in OUTCOME_NAMES}


def _stocks(model: Model, census: Census) -> dict[str, Any]:
    """Levels of the focus place: people, jobs, firms, rents, clustering, incomes."""
    mp = model.params.metrics
    t, focus, fp_ = model.talents, model.focus_nodes, model.focus_place
    talents_at, jobs_at = census.talents_at, census.jobs_at
    population = model.residents + talents_at
    employment_at = model.other_workers + jobs_at
    share_at = np.divide(
        jobs_at, employment_at, out=np.zeros(model.n_nodes), where=employment_at > 0
    )
    creative_employment = float(jobs_at[focus].sum())
    employment = float(employment_at[focus].sum())
    share = metrics.creative_share(creative_employment, employment)
    unemployed = np.bincount(t.home[unemployed_rows(model)], minlength=model.n_nodes)
    income = _focus_incomes(model)
    return {
        "step": model.steps,
        "population": float(population[focus].sum()),
        "talents": int(talents_at[focus].sum()),
        "creative_employment": creative_employment,
        "employment": employment,
        "creative_firms": int(census.firms_at[focus].sum()),
        "mean_rent": metrics.weighted_mean(model.rent[focus], population[focus]),
        "creative_share": share,
        "location_quotient": metrics.location_quotient(share, mp.reference_creative_share),
        "spatial_gini": metrics.spatial_gini(jobs_at[focus]),
        "largest_cluster": metrics.largest_cluster(
            model.graph_edges,
            census.firms_at,
            share_at / mp.reference_creative_share,
            lq_threshold=mp.cluster_lq,
            nodes=focus,
        ),
        "unemployment_rate": float(unemployed[focus].sum() / max(talents_at[focus].sum(), 1)),
        "mean_income": float(income.mean()) if len(income) else 0.0,
        "wage": float(model.wage[fp_]),
        "other_wage": float(model.other_wage[fp_]),
        "mean_amenity": metrics.weighted_mean(model.amenity[focus], population[focus]),
    }


def _focus_incomes(model: Model) -> np.ndarray:
    """Monthly income of the living talents of the focus place, in row order."""
    t, place, fp_ = model.talents, model.place, model.focus_place
    live = t.live
    income = living_income(model)
    if (place == fp_).all():  # the focus place is the whole region
        return income
    return income[place[t.home[live]] == fp_]


def _flows(model: Model) -> dict[str, Any]:
    """This month's flows in the focus place, from the phases' counters."""
    focus, fp_ = model.focus_nodes, model.focus_place
    return {
        "firm_births": int(model.births_by_node[focus].sum()),
        "firm_exits": int(model.exits_by_node[focus].sum()),
        "net_migration": int(model.moves_in[fp_] - model.moves_out[fp_] - model.left_region[fp_]),
        "innovation": int(model.innovations_by_node[focus].sum()),
        "policy_spend": float(sum(model.municipality.spent_this_step.values())),
        "graduates": int(model.graduates_by_place[fp_]),
        "brain_drain": int(model.left_region[fp_]),
        "displaced": float(model.displaced_by_node[focus].sum()),
    }


def _region(model: Model, census: Census) -> dict[str, Any]:
    """Levels of the whole region, and what is left of the municipal budget."""
    return {
        "collaboration_ties": len(model.ties),
        "region_talents": len(model.talents.live),
        "region_creative_firms": len(model.firms.live),
        "region_creative_employment": float(census.jobs_at.sum()),
        "municipal_budget": float(model.municipality.budget),
    }


def place_rows(model: Model, census: Census) -> list[dict[str, Any]]:
    """One row per place: population, talents, creative jobs and firms, rent, wage."""
    population = model.residents + census.talents_at
    rows = []
    for p, name in enumerate(model.place_names):
        nodes = np.flatnonzero(model.place == p)
        rows.append(
            {
                "step": model.steps,
                "place": name,
                "population": float(population[nodes].sum()),
                "talents": int(census.talents_at[nodes].sum()),
                "creative_employment": float(census.jobs_at[nodes].sum()),
                "creative_firms": int(census.firms_at[nodes].sum()),
                "mean_rent": metrics.weighted_mean(model.rent[nodes], population[nodes]),
                "wage": float(model.wage[p]),
                "other_wage": float(model.other_wage[p]),
            }
        )
    return rows
