"""Same-seed runs with and without a lever, on controlled cities (helpers for tests/policy/).

Every comparison runs the same seed with and without the lever on a controlled
city (identical nodes from ``conftest.uniform_city``, or a town joined to a
larger city), so differences come from the lever, not from luck.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clustersim import CreativeClusterModel
from clustersim.model.city import region
from conftest import uniform_city

__all__ = [
    "SEEDS",
    "owners_earnings",
    "pair",
    "path_city",
    "stepper",
    "talents_at",
    "town_and_city",
    "ts",
]

SEEDS = (0, 1, 2)


def town_and_city(
    *,
    town_pop: int = 3000,
    city_pop: int = 30000,
    travel_time: float = 60.0,
    university=False,
    city_university=False,
):
    """A controlled region: 4 identical town nodes linked to 4 identical, larger city nodes."""
    town = uniform_city(4, town_pop, place="Smalltown")
    if university:
        town.nodes[0]["university"] = 1
    big = uniform_city(4, city_pop, place="Bigcity")
    if city_university:
        big.nodes[0]["university"] = 1
    return region(town, big, travel_time=travel_time)


def pair(policy, *, months, seed=0, city=None, **groups):
    """(baseline, with the lever): same seed and city, run for ``months``."""
    city = city or (lambda: uniform_city(5, 4000))
    models = []
    for p in (None, policy):
        model = CreativeClusterModel(rng=seed, city=city(), policy=p, **groups)
        model.run_for(months)
        models.append(model)
    return models[0], models[1]


def stepper(policy, *, seed=0, city=None, **groups):
    """(baseline, with the lever), not yet run: to compare month by month."""
    city = city or (lambda: uniform_city(5, 4000))
    return tuple(
        CreativeClusterModel(rng=seed, city=city(), policy=p, **groups) for p in (None, policy)
    )


def ts(model) -> pd.DataFrame:
    return pd.DataFrame(model.records)


def talents_at(model) -> np.ndarray:
    t = model.talents
    return np.bincount(t.home[t.alive], minlength=model.n_nodes)


def path_city():
    return uniform_city(5, 4000, complete=False, travel_time=15)


def owners_earnings(model, firms) -> np.ndarray:
    """Profit of ``firms`` plus, for one-person firms, what their owner draws as pay.

    The owner of a one-person firm takes what is left after costs as pay (up to
    the going wage), so a saving shows in the owner's pay before it shows in profit.
    """
    t, f = model.talents, model.firms
    earnings = f.profit[firms].copy()
    solo = f.employees[firms] == 1
    staff = np.flatnonzero(t.alive & (t.employer >= 0))
    pay = np.bincount(t.employer[staff], weights=model.talent_income(staff), minlength=f.n)
    earnings[solo] += pay[firms[solo]]
    return earnings
