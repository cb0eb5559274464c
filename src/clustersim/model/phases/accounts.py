"""Accounts phase: households earn, spend and save; other firms and landlords pass money on.

Every payment is booked in the ledger (:mod:`clustersim.model.ledger`).

Households of each place spend at the start of a month out of last month's
disposable income and their savings (Godley & Lavoie 2007): a share on creative
goods (the local creative demand that firms sell to), a share at local
non-creative firms, the rest outside. At the end of the month they receive
wages, transfers, benefits, dividends and rents, pay local taxes and housing
rent, and save what is left. The non-creative sector of a place is one
aggregate firm: it sells to households, creative firms, the municipality and
outside, pays ``households.other_labour_share`` of its revenue as wages to the
place's other workers (so the wage of other work moves with the local economy)
and the rest outside. Landlords pass rents to local owners and outside owners.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from clustersim.model.ledger import Ledger
from clustersim.model.phases.aggregates import Census, employed_rows, per_place, unemployed_rows
from clustersim.model.phases.rents import dwellings, place_rent_index

__all__ = [
    "open_books",
    "pay_dividends",
    "plan_spending",
    "settle",
    "setup_accounts",
    "spread_over_nodes",
    "stocks",
    "to_households",
]


def stocks(model: Model) -> dict[str, np.ndarray]:
    """Money stocks by domestic account and place, read from the model's state."""
    n_places = len(model.place_names)
    f = model.firms
    alive = f.live
    firm_cash = np.bincount(model.place[f.node[alive]], weights=f.cash[alive], minlength=n_places)
    budget = np.zeros(n_places)
    budget[model.focus_place] = model.municipality.budget
    return {
        "households": model.deposits.copy(),
        "creative_firms": firm_cash,
        "municipality": budget,
    }


def _housing_rent(model: Model, people_at: np.ndarray) -> np.ndarray:
    """Rent households pay per node: one dwelling rent per household."""
    return people_at / model.params.households.size * model.rent


def _known_income(model: Model, census: Census) -> dict[str, np.ndarray]:
    """Transfers and benefits households receive this month, by place."""
    hp, tp = model.params.households, model.params.talent
    t = model.talents
    unemployed = np.bincount(
        model.place[t.home[unemployed_rows(model)]], minlength=len(model.place_names)
    )
    inactive = np.maximum(model.residents - model.other_workers, 0.0)
    return {
        "transfers": per_place(model, inactive) * hp.transfer,
        "benefits": unemployed * tp.unemployment_income,
    }


def setup_accounts(model: Model, census: Census) -> None:
    """Households' savings, last month's income, the other sector's exports, at month 0.

    The initial state is solved from the balance conditions: exports of the
    non-creative sector are whatever keeps the wage of other work at
    ``households.other_wage`` given local demand, and savings are at their
    steady-state ratio to disposable income. Creative wages are the initial
    wage bill of the firms, dividends start at zero.
    """
    hp = model.params.households
    n_places = len(model.place_names)
    participation = hp.participation * model.population0
    model.other_workers = np.clip(participation - census.talents_at, 0.0, model.residents)
    model.other_wage = np.full(n_places, hp.other_wage)
    model.policy_purchases = np.zeros(model.n_nodes)
    model.policy_services = np.zeros(n_places)
    creative_wages = _initial_creative_wages(model)
    known = _known_income(model, census)
    workers = per_place(model, model.other_workers)
    other_wages = workers * hp.other_wage
    rents = per_place(model, _housing_rent(model, model.residents + census.talents_at))
    workspace = per_place(model, model.rent * model.rent_factor * census.jobs_at) * (
        model.params.firm.workspace_rent_share
    )
    income = (
        other_wages
        + creative_wages
        + known["transfers"]
        + known["benefits"]
        + hp.local_owner_share * (rents + workspace)
    )
    disposable = (1.0 - hp.tax_rate) * income - rents
    model.disposable_prev = np.maximum(disposable, 0.0)
    model.deposits = (
        (1.0 - hp.consumption_propensity) * model.disposable_prev / hp.wealth_propensity
    )
    consumption = model.disposable_prev  # steady state: households spend what they earn
    running = (
        np.bincount(model.place[model.firms.node[model.firms.live]], minlength=n_places)
        * model.params.firm.fixed_cost
    )
    local = hp.local_share * (1.0 - hp.creative_spend_share) * consumption
    needed = other_wages / hp.other_labour_share
    model.other_exports = np.maximum(needed - local - running - hp.tax_rate * income, 0.0)
    model.creative_budget = spread_over_nodes(model, hp.creative_spend_share * consumption)


def open_books(model: Model) -> None:
    """A new ledger whose opening stocks are the model's stocks now (month 0)."""
    model.ledger = Ledger(len(model.place_names), model.place_names)
    model.ledger.open(stocks(model))


def _initial_creative_wages(model: Model) -> np.ndarray:
    """Creative wages by home place at the initial wages (for the month-0 income)."""
    t = model.talents
    emp = employed_rows(model)
    income = model.talent_income(emp)
    return np.bincount(model.place[t.home[emp]], weights=income, minlength=len(model.place_names))


def plan_spending(model: Model) -> None:
    """Households decide this month's consumption; book local and imported purchases.

    Sets ``model.creative_budget`` (EUR by node, split by population) for the
    creative firms' local market; what part of it finds a local supplier is
    booked by the production phase.
    """
    hp = model.params.households
    wealth = np.maximum(model.deposits, 0.0)
    consumption = hp.consumption_propensity * model.disposable_prev + hp.wealth_propensity * wealth
    creative = hp.creative_spend_share * consumption
    other = consumption - creative
    local = hp.local_share * other
    model.deposits = model.deposits - consumption
    model.ledger.book("other_purchases", local)
    model.ledger.book("imports", other - local)
    model.creative_budget = spread_over_nodes(model, creative)


def spread_over_nodes(model: Model, by_place: np.ndarray) -> np.ndarray:
    """An amount per place spread over its nodes in proportion to their population."""
    people = model.residents + _talents_at(model)
    share = people / np.maximum(per_place(model, people)[model.place], 1e-9)
    return by_place[model.place] * share


def _talents_at(model: Model) -> np.ndarray:
    t = model.talents
    return np.bincount(t.home[t.live], minlength=model.n_nodes).astype(float)


def pay_dividends(model: Model) -> None:
    """Firms pay out part of the cash above their buffer to owners in the firm's place."""
    fp = model.params.firm
    f = model.firms
    alive = f.live
    costs = np.maximum(f.revenue[alive] - f.profit[alive], 0.0)
    surplus = f.cash[alive] - fp.cash_buffer_months * costs
    payout = fp.payout_rate * np.maximum(surplus, 0.0)
    f.cash[alive] -= payout
    by_place = np.bincount(
        model.place[f.node[alive]], weights=payout, minlength=len(model.place_names)
    )
    to_households(model, "dividends", by_place)


def _migrate(model: Model, census: Census) -> None:
    """Households of other workers move where other work pays more, net of rent, than elsewhere.

    They move in where the wage of other work, less the rise of their place's
    rents since setup weighted by the share of income then spent on housing, is
    above ``households.other_wage`` and out where it is below (a log gap;
    ``households.migration_response``; Roback 1982): a share of each node's other
    households moves, workers and dependants alike, so the node's mix of
    workers, dependants and low-income residents stays what it was. Households
    move into homes that exist: no more than a node's vacant dwellings (homes
    less residents and talents) move in. Without that bound a town whose wages
    and rents kept rising together filled without limit (docs/model.md, migration
    of other workers).
    """
    hp = model.params.households
    rents = np.maximum(place_rent_index(model), 1e-9)
    wage = np.maximum(model.other_wage, 1.0) / hp.other_wage
    gap = np.log(wage) - model.housing_share0 * np.log(rents)
    rate = np.clip(hp.migration_response * gap, -0.02, 0.02)[model.place]
    wanted = rate * model.residents
    vacant = np.maximum(dwellings(model) - model.residents - census.talents_at, 0.0)
    people = np.minimum(wanted, vacant)
    # where the homes suffice, the share that moves is the rate itself (to the bit)
    bound = people < wanted  # only where households move in, so residents > 0
    moved = np.where(bound, people / np.where(bound, model.residents, 1.0), rate)
    model.other_workers = model.other_workers * (1.0 + moved)
    model.residents = model.residents + people
    model.low_income = model.low_income * (1.0 + moved)
    model.other_migration_by_node += people


def to_households(
    model: Model, name: str, paid: np.ndarray, received: np.ndarray | None = None
) -> None:
    """Book flow ``name`` into households and add it to their deposits (by place)."""
    model.ledger.book(name, paid, received)
    model.deposits = model.deposits + (paid if received is None else received)


def settle(model: Model, census: Census) -> None:
    """End of the month: transfers, rents, the other sector's wages, taxes, savings.

    Creative wages, dividends, liquidations and policy grants were paid where
    they happened; here the rest of the month's income arrives. Taxes are a
    share of all household income and pay for municipal services bought from
    the non-creative sector, whose wages are household income: the wage bill
    solves ``W = s (A + tax (W + Z))`` for the sector's other revenue ``A`` and
    the households' other income ``Z``. Sets the wage of other work and the
    disposable income households spend from next month.
    """
    hp = model.params.households
    ledger = model.ledger
    known = _known_income(model, census)
    to_households(model, "transfers", known["transfers"])
    to_households(model, "benefits", known["benefits"])
    housing = per_place(model, _housing_rent(model, model.residents + census.talents_at))
    ledger.book("housing_rent", housing)
    model.deposits = model.deposits - housing
    rents = ledger.received("landlords")
    to_households(model, "rent_income", hp.local_owner_share * rents)
    ledger.book("rent_to_outside_owners", (1.0 - hp.local_owner_share) * rents)
    ledger.book("other_exports", model.other_exports)
    other = ledger.received("other_firms")
    income = ledger.received("households")
    share, tax = hp.other_labour_share, hp.tax_rate
    wages = share * (other + tax * income) / (1.0 - share * tax)
    to_households(model, "other_wages", wages)
    taxes = tax * (income + wages)
    ledger.book("local_taxes", taxes)
    model.deposits = model.deposits - taxes
    ledger.book("public_services", taxes)
    ledger.book("other_inputs", other + taxes - wages)
    workers = per_place(model, model.other_workers)
    model.other_wage = np.where(workers > 0, wages / np.maximum(workers, 1e-9), model.other_wage)
    model.disposable_prev = np.maximum(income + wages - taxes - housing, 0.0)
    _migrate(model, census)
    model.policy_services = np.zeros(len(model.place_names))
    model.policy_purchases = np.zeros(model.n_nodes)
