"""The stock-flow ledger: every euro has a source and a use, in every city and with every lever.

The residual (sources - uses - change in stock) is checked per account and per
place against the stocks read from the model's state, so money that appears or
vanishes without a booking anywhere in the model fails these tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clustersim import CreativeClusterModel
from clustersim.model.config import CityConfig
from clustersim.model.ledger import ACCOUNTS, DOMESTIC, FLOWS, Ledger, flow
from clustersim.policy.registry import LEVERS

SPIN = {"months": 24}  # short spin-ups: the identity holds from any state


def _check_books(model: CreativeClusterModel) -> pd.DataFrame:
    """Assert every per-account, per-place residual is zero relative to the month's flows."""
    table = model.ledger_table()
    flows = table[[f.name for f in FLOWS]].abs().sum(axis=1).to_numpy()
    stocks = table[[f"{a}_stock" for a in DOMESTIC]].abs().sum(axis=1).to_numpy()
    scale = np.maximum(flows + stocks, 1.0)
    for month, residuals in enumerate(model.ledger.place_residuals):
        worst = np.abs(residuals).max()
        assert worst <= 1e-9 * scale[month], (month, residuals)
    assert (table["residual"].abs() <= 1e-9 * scale).all()
    return table


@pytest.mark.parametrize(
    ("city", "population"),
    [("small_town", 6000), ("medium_city", 60000), ("metropolis", 400000), ("obidos", None)],
)
def test_money_is_conserved_in_every_city_kind(city, population):
    model = CreativeClusterModel(rng=3, city=city, population=population, spin_up=SPIN)
    model.run_for(36)
    table = _check_books(model)
    assert len(table) == 37 and list(table["step"]) == list(range(37))
    # the economy is alive: wages, sales, transfers and rents all flow every month
    for name in ("creative_wages", "other_wages", "creative_purchases", "external_sales"):
        assert (table[name].iloc[1:] > 0).all(), name


def test_money_is_conserved_across_places_of_a_region():
    model = CreativeClusterModel(rng=5, city=CityConfig(kind="region"), spin_up=SPIN)
    model.run_for(24)
    _check_books(model)
    assert len(model.place_names) == 2


@pytest.mark.parametrize("lever", sorted(LEVERS))
def test_money_is_conserved_with_every_lever(lever):
    policy = {lever: {"start": 2, "intensity": 2.0}}
    model = CreativeClusterModel(
        rng=1,
        city=CityConfig(kind="region", population=8000, city_population=60000),
        policy=policy,
        spin_up=SPIN,
        institutions={"municipality_budget": 5e7},
    )
    model.run_for(30)
    table = _check_books(model)
    spent = sum(p.spent for p in model.policies)
    assert spent > 0, "the lever spent nothing: the test would not exercise its payments"
    policy_flows = [
        f.name for f in FLOWS if f.source == "municipality" and f.name != "public_services"
    ]
    assert table[policy_flows].to_numpy().sum() == pytest.approx(spent, rel=1e-9)


def test_policy_money_goes_where_it_is_spent():
    town = CityConfig(kind="region", population=8000, city_population=60000)
    runs = {}
    for lever in ("festival", "tax_incentive", "talent_attraction", "broadband"):
        model = CreativeClusterModel(
            rng=2, city=town, policy={lever: {"start": 1, "intensity": 2.0}}, spin_up=SPIN
        )
        model.run_for(24)
        runs[lever] = model.ledger_table().sum()
    assert runs["festival"]["policy_purchases"] > 0
    assert runs["tax_incentive"]["subsidies"] > 0
    assert runs["talent_attraction"]["policy_grants"] > 0
    assert runs["broadband"]["policy_abroad"] > 0
    assert runs["festival"]["visitor_spending"] > 0


def test_local_creative_demand_follows_local_income():
    """Households spend a share of their income on creative goods: richer towns buy more."""
    base = CreativeClusterModel(rng=4, city="small_town", population=8000, spin_up=SPIN)
    richer = CreativeClusterModel(
        rng=4,
        city="small_town",
        population=8000,
        spin_up=SPIN,
        households={"transfer": 1200.0},
    )
    for m in (base, richer):
        m.run_for(12)
    tables = [m.ledger_table().iloc[1:] for m in (base, richer)]
    budget = [t["creative_purchases"].sum() + t["creative_imports"].sum() for t in tables]
    assert budget[1] > 1.15 * budget[0]  # households spend a share of what they earn
    # local firms sell more too, though much of the extra goes outside: small-town
    # firms sell at the local price cap (docs/model.md, section 9)
    assert tables[1]["creative_purchases"].sum() > tables[0]["creative_purchases"].sum()


def test_declared_flows_name_known_accounts_once():
    names = [f.name for f in FLOWS]
    assert len(names) == len(set(names))
    assert all(f.source in ACCOUNTS and f.use in ACCOUNTS and f.source != f.use for f in FLOWS)
    assert flow("dividends").use == "households"
    with pytest.raises(KeyError, match="not a declared flow"):
        flow("nothing")


def test_a_change_of_stock_without_booking_shows_as_residual():
    ledger = Ledger(2, ["a", "b"])
    ledger.open({"households": np.array([100.0, 0.0])})
    ledger.book("creative_wages", np.array([10.0, 0.0]), np.array([0.0, 10.0]))
    row = ledger.close(1, {"households": np.array([100.0, 15.0]), "creative_firms": np.zeros(2)})
    assert row["residual_households"] == pytest.approx(-5.0)
    assert row["residual_creative_firms"] == pytest.approx(-10.0)
