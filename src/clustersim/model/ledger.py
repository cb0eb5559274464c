"""The stock-flow ledger: who pays whom each month, per place, and whether it adds up.

Every euro that moves in the model is booked once as a :class:`Flow` from one
account to another (the accounts of :data:`ACCOUNTS`; the outside world is one of
them). At the end of a month the ledger reads each domestic account's stock from
the model's state (households' deposits, creative firms' cash, the municipality's
policy budget; the other accounts pass money through and hold none) and checks,
account by account and place by place, that sources - uses = change in stock.
The check is independent of the bookings: a state change without a booking (cash
appearing from nowhere) shows up as a residual. This is the discipline of
stock-flow consistent models (Godley & Lavoie 2007, *Monetary Economics*).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["ACCOUNTS", "DOMESTIC", "FLOWS", "Flow", "Ledger", "flow"]

Account = Literal[
    "households", "creative_firms", "other_firms", "landlords", "municipality", "world"
]

#: The accounts, in table order. ``world`` is the outside world (markets, national
#: government, outside owners and creditors); it has no stock in the model.
ACCOUNTS: tuple[Account, ...] = (
    "households",
    "creative_firms",
    "other_firms",
    "landlords",
    "municipality",
    "world",
)
#: Accounts whose stock lives in the model (all but the outside world).
DOMESTIC: tuple[Account, ...] = ACCOUNTS[:-1]


@dataclass(frozen=True)
class Flow:
    """One kind of payment: from ``source`` to ``use``, in EUR per month.

    Attributes:
        name: column of the ledger table.
        source: the account that pays.
        use: the account that receives.
        description: what the payment is.
    """

    name: str
    source: Account
    use: Account
    description: str


def _f(name: str, source: Account, use: Account, description: str) -> Flow:
    return Flow(name, source, use, description)


#: Every flow of the model, said once (the columns of ``ledger.parquet``).
FLOWS: tuple[Flow, ...] = (
    # households' income
    _f("creative_wages", "creative_firms", "households",
       "Wages of creative workers, paid by the firm, received where the worker lives."),
    _f("other_wages", "other_firms", "households",
       "Wages of workers in other (non-creative) work."),
    _f("benefits", "world", "households",
       "Unemployment income of creative workers without a job (national insurance)."),
    _f("transfers", "world", "households",
       "Pensions and other national transfers to residents outside the labour force."),
    _f("dividends", "creative_firms", "households",
       "Profits paid out by creative firms to their owners in the firm's place."),
    _f("liquidations", "creative_firms", "households",
       "Cash left in exiting creative firms, returned to their owners."),
    _f("rent_income", "landlords", "households",
       "Rent received by local owners of dwellings and space."),
    _f("policy_grants", "municipality", "households",
       "Policy grants paid to people (relocation grants)."),
    # households' spending
    _f("local_taxes", "households", "municipality", "Local taxes on household income."),
    _f("housing_rent", "households", "landlords", "Rent of dwellings."),
    _f("creative_purchases", "households", "creative_firms",
       "Household spending on creative goods and services of firms within reach."),
    _f("creative_imports", "households", "world",
       "Household creative spending that finds no local supplier (bought outside)."),
    _f("other_purchases", "households", "other_firms",
       "Household spending at local non-creative firms."),
    _f("imports", "households", "world", "Household spending on goods and services from outside."),
    _f("startup_capital", "households", "creative_firms", "Founders' savings put into new firms."),
    # creative firms
    _f("external_sales", "world", "creative_firms", "Creative firms' sales outside the region."),
    _f("visitor_spending", "world", "creative_firms",
       "Visitors' spending at creative firms (festivals)."),
    _f("subsidies", "municipality", "creative_firms", "Policy subsidies to creative firms."),
    _f("policy_purchases", "municipality", "creative_firms",
       "Policy purchases from local creative firms (festival programme)."),
    _f("policy_purchases_abroad", "municipality", "world",
       "Policy purchases that find no local creative supplier."),
    _f("workspace_rent", "creative_firms", "landlords", "Rent of creative firms' workspace."),
    _f("running_costs", "creative_firms", "other_firms",
       "Creative firms' fixed running costs, bought from local non-creative firms."),
    _f("debt_write_off", "world", "creative_firms",
       "Debts of creative firms that exit with negative cash, written off by outside creditors."),
    # other firms
    _f("other_exports", "world", "other_firms",
       "Sales of the non-creative sector outside the region."),
    _f("other_inputs", "other_firms", "world",
       "Non-wage costs of the non-creative sector: inputs, outside owners' profits."),
    # landlords
    _f("rent_to_outside_owners", "landlords", "world", "Rent paid to owners outside the region."),
    # municipality
    _f("grants", "world", "municipality", "External grants to the policy budget (national, EU)."),
    _f("public_services", "municipality", "other_firms",
       "Municipal services (staff, works) paid with local taxes."),
    _f("policy_services", "municipality", "other_firms",
       "Policy spending on local staff, buildings and works."),
    _f("policy_abroad", "municipality", "world", "Policy spending on outside contractors."),
)  # fmt: skip

_INDEX = {f.name: i for i, f in enumerate(FLOWS)}
_FLOW_NAMES = tuple(f.name for f in FLOWS)
_RESIDUAL_NAMES = tuple(f"residual_{account}" for account in DOMESTIC)
#: Rows of FLOWS each account receives (uses) and pays (sources), in FLOWS order.
_USES = {a: [i for i, f in enumerate(FLOWS) if f.use == a] for a in ACCOUNTS}
_SOURCES = {a: [i for i, f in enumerate(FLOWS) if f.source == a] for a in ACCOUNTS}


def flow(name: str) -> Flow:
    """The declared flow called ``name`` (KeyError naming the known ones otherwise)."""
    try:
        return FLOWS[_INDEX[name]]
    except KeyError:
        raise KeyError(f"{name!r} is not a declared flow; known: {', '.join(_INDEX)}") from None


class Ledger:
    """This month's bookings by flow and place, and the monthly table of flows and stocks.

    Args:
        n_places: places of the region (flows are booked per place).
        place_names: their names (for :meth:`place_rows`).

    Examples:
        >>> ledger = Ledger(1, ["town"])
        >>> ledger.open({"households": np.array([100.0])})
        >>> ledger.book("transfers", np.array([50.0]))
        >>> row = ledger.close(0, {"households": np.array([150.0])})
        >>> row["transfers"], row["residual"]
        (50.0, 0.0)
    """

    def __init__(self, n_places: int, place_names: list[str]) -> None:
        self.n_places = n_places
        self.place_names = list(place_names)
        self.rows: list[dict[str, float]] = []
        self.place_residuals: list[np.ndarray] = []
        self._paid = np.zeros((len(FLOWS), n_places))
        self._received = np.zeros((len(FLOWS), n_places))
        self._opening: dict[str, np.ndarray] = {}

    def open(self, stocks: dict[str, np.ndarray]) -> None:
        """Start a month: remember the opening stocks and clear the bookings."""
        self._opening = {k: np.asarray(v, float).copy() for k, v in stocks.items()}
        self.clear()

    def clear(self) -> None:
        """Start a month without closing the last: clear the bookings, keep no row.

        For months whose accounts no one reads (the spin-up's, thrown away at month 0,
        where :func:`~clustersim.model.phases.accounts.open_books` opens a new ledger).
        """
        self._paid[:] = 0.0
        self._received[:] = 0.0

    def book(self, name: str, paid: np.ndarray | float, received: np.ndarray | None = None) -> None:
        """Book flow ``name``: ``paid`` by place of the payer, ``received`` by place of the payee.

        ``received`` defaults to ``paid`` (payer and payee in the same place). A
        scalar ``paid`` is booked in the first place (for one-place bookings).
        """
        i = _INDEX[name]
        paid_by = self._by_place(paid)
        np.add(self._paid[i], paid_by, out=self._paid[i])
        received_by = paid_by if received is None else self._by_place(received)
        np.add(self._received[i], received_by, out=self._received[i])

    def _by_place(self, amount: np.ndarray | float) -> np.ndarray:
        if isinstance(amount, np.ndarray) and amount.ndim:
            return amount if amount.dtype == np.float64 else amount.astype(float)
        if np.ndim(amount) == 0:
            out = np.zeros(self.n_places)
            out[0] = float(amount)
            return out
        return np.asarray(amount, float)

    def received(self, account: str) -> np.ndarray:
        """What ``account`` received so far this month, by place."""
        return self._received[_USES[account]].sum(axis=0)

    def paid(self, account: str) -> np.ndarray:
        """What ``account`` paid so far this month, by place."""
        return self._paid[_SOURCES[account]].sum(axis=0)

    def residuals(self, stocks: dict[str, np.ndarray]) -> np.ndarray:
        """Sources - uses - change in stock, by domestic account (rows) and place (columns)."""
        out = np.zeros((len(DOMESTIC), self.n_places))
        for a, account in enumerate(DOMESTIC):
            closing = np.asarray(stocks.get(account, np.zeros(self.n_places)), float)
            opening = self._opening.get(account, np.zeros(self.n_places))
            sources = self.received(account)
            uses = self.paid(account)
            out[a] = sources - uses - (closing - opening)
        return out

    def close(self, step: int, stocks: dict[str, np.ndarray]) -> dict[str, float]:
        """End the month: append and return its row (flows, stocks, residuals) for the region."""
        res = self.residuals(stocks)
        row: dict[str, float] = {"step": float(step)}
        # a row's sum along the last axis is that row's own sum, bit for bit
        row.update(zip(_FLOW_NAMES, self._paid.sum(axis=1).tolist(), strict=True))
        for account in DOMESTIC:
            row[f"{account}_stock"] = float(np.sum(stocks.get(account, 0.0)))
        row.update(zip(_RESIDUAL_NAMES, res.sum(axis=1).tolist(), strict=True))
        row["residual"] = float(res.sum())
        self.rows.append(row)
        self.place_residuals.append(res)
        self.open(stocks)
        return row
