"""The location choice's incomes, commutes and utilities, compiled.

See ``mechanisms.talent_location_utilities``, which defines them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from clustersim.model.kernels import _compiled


def _location_income_py(
    nodes: np.ndarray,
    dense: bool,
    sector: np.ndarray,
    skill: np.ndarray,
    employer_node: np.ndarray,
    wage: np.ndarray,
    max_commute: float,
    node_income: np.ndarray,
    travel_time: np.ndarray,
    expected: np.ndarray,
    commute: np.ndarray,
) -> None:
    """Income and commuting hours at each node a chooser weighs (``mechanisms._alternatives``).

    Writes ``expected`` and ``commute`` (choosers x columns). Column ``j`` is node ``j``
    when ``dense``, else ``nodes[i, j]``. Income is ``node_income[node, sector] * skill``,
    or the own wage where the employer is within ``max_commute`` minutes (then the
    commute is ``minutes / 60``), at least 1 (NaN stays NaN, as ``np.maximum``).
    """
    for i in range(expected.shape[0]):
        s = sector[i]
        skill_i = skill[i]
        employer = employer_node[i]
        for j in range(expected.shape[1]):
            node = j if dense else nodes[i, j]
            x = node_income[node, s] * skill_i
            hours = 0.0
            if employer >= 0:
                minutes = travel_time[node, employer]
                if minutes <= max_commute:
                    x = wage[i]
                    hours = minutes / 60.0
            if x < 1.0:
                x = 1.0
            expected[i, j] = x
            commute[i, j] = hours


def _location_utilities_py(
    utilities: np.ndarray,
    expected: np.ndarray,
    commute: np.ndarray,
    nodes: np.ndarray,
    dense: bool,
    sector: np.ndarray,
    taste: np.ndarray,
    home: np.ndarray,
    retention: np.ndarray,
    amenity: np.ndarray,
    openness: np.ndarray,
    rent: np.ndarray,
    ties: np.ndarray,
    log_size: np.ndarray,
    place: np.ndarray,
    weights: np.ndarray,
    sampled: bool,
    employer: np.ndarray,
    fixed: int,
    is_always: np.ndarray,
    node_correction: np.ndarray,
) -> None:
    """The location utilities of ``mechanisms.talent_location_utilities``, term by term.

    ``utilities[:, :columns]`` holds ``log(expected)`` on entry (numpy's logarithm) and
    the utilities on return; each term is added in the reference's order with the same
    operations. ``weights``: wage, openness, rent, commute and ties weights, move cost,
    place change cost; ``log_size`` is empty when there is no size term. With
    ``sampled``, the sampling corrections of ``draws.ChoiceSets`` are added last
    (``fixed`` columns home, employer and the always-weighed nodes, then the draws).
    """
    wage_w, open_w, rent_w, commute_w, ties_w, move_cost, change_cost = (
        weights[0], weights[1], weights[2], weights[3], weights[4], weights[5], weights[6]
    )  # fmt: skip
    has_size = len(log_size) > 0
    inf = np.inf
    for i in range(expected.shape[0]):
        s = sector[i]
        h = home[i]
        home_place = place[h] if h >= 0 else -1
        taste_i = taste[i]
        retention_i = retention[i]
        e = employer[i] if sampled else -1
        for j in range(expected.shape[1]):
            node = j if dense else nodes[i, j]
            u = utilities[i, j] * wage_w
            u = u + taste_i * amenity[node]
            u = u + open_w * openness[node]
            u = u - rent_w * rent[node] / expected[i, j]
            u = u - commute_w * commute[i, j]
            u = u + ties_w * ties[node, s]
            if has_size:
                u = u + log_size[node]
            same = place[node] == home_place
            u = u - move_cost * (1.0 if node != h else 0.0)
            u = u - change_cost * (0.0 if same else 1.0)
            u = u + retention_i * (1.0 if same else 0.0)
            if sampled:
                if j == 0:
                    c = -inf if h < 0 else 0.0
                elif j == 1:
                    c = -inf if (e < 0 or e == h) else 0.0
                elif j < fixed:
                    c = -inf if (node == h or node == e) else 0.0
                else:
                    c = node_correction[node]
                    if node == h or node == e or is_always[node]:
                        c = -inf
                u = u + c
            utilities[i, j] = u


@functools.cache
def _location_kernels() -> tuple[Callable, Callable] | None:
    income, utilities = _compiled(_location_income_py), _compiled(_location_utilities_py)
    return None if income is None else (income, utilities)


def location_income(*args: Any) -> None:
    """The compiled ``_location_income_py`` (kernels must be enabled)."""
    _location_kernels()[0](*args)


def location_utilities(*args: Any) -> None:
    """The compiled ``_location_utilities_py`` (kernels must be enabled)."""
    _location_kernels()[1](*args)
