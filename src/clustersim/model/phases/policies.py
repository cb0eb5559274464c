"""Policies phase: the municipality's month begins, the levers act, incubators take in firms.

Levers act first in the month: they change what the mechanisms of the later
phases read (amenity and demand bonuses, rent factors, subsidies, ...).
"""

from __future__ import annotations

from mesa import Model

from clustersim.model.phases import accounts

__all__ = ["act"]


def act(model: Model) -> None:
    """Households plan their spending, grants arrive, each policy steps, then each incubator."""
    accounts.plan_spending(model)
    model.municipality.step()
    for policy in list(model.policies):
        policy.step()
    for hub in model.incubators:
        hub.step()
