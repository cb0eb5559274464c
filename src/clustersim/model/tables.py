"""Result tables of a model: one row per firm, per talent, per policy, and the ledger (pandas)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
from mesa import Model

from clustersim.model.compaction import archive_of
from clustersim.model.phases.aggregates import talent_income
from clustersim.model.sectors import SECTOR_NAMES
from clustersim.model.state import FirmOrigin, TalentOrigin

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["firm_table", "ledger_table", "policy_table", "talent_table"]


def firm_table(model: Model) -> pd.DataFrame:
    """One row per firm ever created (archived rows included), by firm id."""
    import pandas as pd

    f = SimpleNamespace(**archive_of(model).rows_of("firms", model.firms))
    return pd.DataFrame(
        {
            "firm_id": f.id,
            "sector": pd.Categorical.from_codes(f.sector.astype(int), SECTOR_NAMES),
            "node": f.node.astype(np.int64),
            "place": _place_names(model)[model.place[f.node]],
            "founded_step": f.founded.astype(np.int64),
            "exit_step": _nullable(f.exit_step),
            "employees": f.employees.astype(np.int64),
            "peak_employees": f.peak_employees.astype(np.int64),
            "origin": pd.Categorical.from_codes(f.origin.astype(int), FirmOrigin.labels()),
            "parent_id": _nullable(f.parent),
            "productivity": f.productivity * np.exp(f.edge),
            "cash": f.cash.copy(),
            "innovations": f.innovations.astype(np.int64),
            "ever_incubated": f.ever_incubated.astype(bool),
            "subsidy_received": f.subsidy_received.copy(),
        }
    )


def talent_table(model: Model) -> pd.DataFrame:
    """One row per talent who ever lived in the region (archived rows included), by talent id."""
    import pandas as pd

    now = model.talents
    income = np.where(now.alive, talent_income(model), np.nan)
    t = SimpleNamespace(
        **archive_of(model).rows_of("talents", now, extra={"income": (income, np.nan)})
    )
    return pd.DataFrame(
        {
            "talent_id": t.id,
            "sector": pd.Categorical.from_codes(t.sector.astype(int), SECTOR_NAMES),
            "skill": t.skill.copy(),
            "home": t.home.astype(np.int64),
            "place": _place_names(model)[model.place[t.home]],
            "employer": _nullable(t.employer),
            "income": t.income,
            "origin": pd.Categorical.from_codes(t.origin.astype(int), TalentOrigin.labels()),
            "arrived_step": t.arrived.astype(np.int64),
            "left_step": _nullable(t.left),
            "left_region": t.left_region.copy(),
            "to_other_work": t.to_other_work.copy(),
            "grant": t.grant.copy(),
        }
    )


def ledger_table(model: Model) -> pd.DataFrame:
    """One row per month: flows and stocks of money in EUR, and the residuals.

    The columns are ``step``, one per flow of :data:`clustersim.model.ledger.FLOWS`,
    ``<account>_stock`` per domestic account, ``residual_<account>`` and ``residual``.
    """
    import pandas as pd

    table = pd.DataFrame(model.ledger.rows)
    if len(table):
        table["step"] = table["step"].astype(np.int64)
    return table


def policy_table(model: Model) -> pd.DataFrame:
    """One row per policy: lever, timing, status, why it stopped, and what it spent."""
    import pandas as pd

    policies = model.policies
    return pd.DataFrame(
        {
            "policy": [p.name for p in policies],
            "lever": [type(p).__name__ for p in policies],
            "start": [p.start for p in policies],
            "duration": pd.array([p.duration for p in policies], dtype="Int64"),
            "status": [p.status for p in policies],
            "stop_step": pd.array([p.stop_step for p in policies], dtype="Int64"),
            "stop_reason": [p.stop_reason for p in policies],
            "spent": [float(p.spent) for p in policies],
        }
    )


def _place_names(model: Model) -> np.ndarray:
    """The places' names as an array (indexed by place: one gather, not a Python loop)."""
    return np.array(model.place_names, dtype=object)


def _nullable(values: np.ndarray) -> pd.Series:
    """Integer column with -1 shown as missing (pandas Int64)."""
    import pandas as pd

    return pd.Series(values, dtype="Int64").mask(values < 0)
