"""Toy models with known answers, run by the analysis pipelines to check them.

A sensitivity design with ``sensitivity.model: <toy name>`` evaluates a registered
toy function at the sample points instead of running clustersim; sampling, analysis,
tables and report are the same code as for clustersim runs
(:mod:`clustersim.experiments.sensitivity`); a calibration design with
``calibration.model: <toy name>`` does the same with the calibration
(:mod:`clustersim.experiments.calibration`), the toy's outcomes being its moments;
scenario discovery (:mod:`clustersim.experiments.discovery`) and policy optimisation
(:mod:`clustersim.experiments.optimisation`) likewise.
Only the functions registered here can be named, so a design file cannot call
arbitrary code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOX_TOY",
    "BOX_TOY_INSIDE",
    "BOX_TOY_OUTSIDE",
    "BUDGET_TOY_UNIT",
    "ISHIGAMI_A",
    "ISHIGAMI_B",
    "TOY_CORRELATION",
    "TOY_MODELS",
    "TOY_NOISE",
    "ToyModel",
    "box_toy",
    "budget_toy",
    "ishigami",
    "moments_toy",
    "moments_toy_correlated",
]

ISHIGAMI_A = 7.0
"""The Ishigami function's ``a`` (the usual benchmark value)."""

ISHIGAMI_B = 0.1
"""The Ishigami function's ``b`` (the usual benchmark value)."""


@dataclass(frozen=True)
class ToyModel:
    """A registered toy model: its parameters with their ranges, its outcomes and its function.

    Attributes:
        name: the name a design gives as ``sensitivity.model``.
        description: one sentence for the report.
        parameters: parameter name -> (lowest, highest) allowed value.
        outcomes: names of the outcomes ``evaluate`` returns.
        evaluate: ``evaluate(X, seed)`` -> outcome name -> one value per row of ``X``
            (rows are sample points, columns the parameters in declared order).
    """

    name: str
    description: str
    parameters: dict[str, tuple[float, float]]
    outcomes: tuple[str, ...]
    evaluate: Callable[[np.ndarray, int], dict[str, np.ndarray]]

    def at(self, points: np.ndarray, names: list[str]) -> np.ndarray:
        """Points given for the parameters ``names`` as rows of every parameter, in order.

        A design may list the toy's parameters in any order, or leave some out: those
        are held at the middle of their range.

        Examples:
            >>> TOY_MODELS["moments_toy"].at(np.array([[2.0, 1.0]]), ["b", "a"])
            array([[1., 2., 1.]])
        """
        points = np.asarray(points, dtype=float)
        full = np.tile([(lo + hi) / 2 for lo, hi in self.parameters.values()], (len(points), 1))
        for column, name in enumerate(names):
            full[:, list(self.parameters).index(name)] = points[:, column]
        return full


def ishigami(x: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """The Ishigami function ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` (a = 7, b = 0.1).

    Deterministic: ``seed`` is accepted (every model run has one) and not used. Its
    Sobol indices are known exactly (Ishigami & Homma 1990): S1 = 0.314, 0.442, 0 and
    ST = 0.558, 0.442, 0.244.

    Examples:
        >>> float(ishigami(np.array([[0.0, math.pi / 2, 1.0]]))["y"][0])
        7.0
    """
    x = np.asarray(x, dtype=float)
    x1, x2, x3 = x[:, 0], x[:, 1], x[:, 2]
    y = np.sin(x1) + ISHIGAMI_A * np.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * np.sin(x1)
    return {"y": y}


TOY_NOISE = 0.05
"""Standard deviation of the seed noise of each of :func:`moments_toy`'s moments."""


def moments_toy(x: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Four noisy moments of parameters ``a`` and ``b``, to check a calibration.

    ``m1 = a + b``, ``m2 = a b``, ``m3 = exp(-a) + 0.3 b`` and ``m4 = a - b``, each plus a
    normal noise of standard deviation ``TOY_NOISE`` drawn from ``seed``. A third
    parameter, ``c``, enters no moment: no calibration can identify it, and the
    identification check must say so. The noise
    of a seed is the same at every point (common random numbers, as in clustersim
    runs that share a replicate's seed), so differences between points are exact.

    Examples:
        >>> y = moments_toy(np.array([[1.0, 0.5, 0.0], [1.0, 1.0, 0.0]]), seed=3)
        >>> round(float(y["m1"][1] - y["m1"][0]), 12)
        0.5
    """
    x = np.asarray(x, dtype=float)
    a, b = x[:, 0], x[:, 1]
    noise = np.random.default_rng(seed).normal(0.0, TOY_NOISE, size=4)
    return {
        "m1": a + b + noise[0],
        "m2": a * b + noise[1],
        "m3": np.exp(-a) + 0.3 * b + noise[2],
        "m4": a - b + noise[3],
    }


TOY_CORRELATION = 0.8
"""Correlation between the seed noises of :func:`moments_toy_correlated`'s moments."""


def moments_toy_correlated(x: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """:func:`moments_toy` with seed noises correlated at ``TOY_CORRELATION``.

    The moments of one agent-based run share its history, so their noises are
    correlated; a calibration whose intervals assume independent moments would be
    too wide or too narrow here.

    Examples:
        >>> y = moments_toy_correlated(np.array([[1.0, 1.0, 0.0]]), seed=3)
        >>> sorted(y)
        ['m1', 'm2', 'm3', 'm4']
    """
    x = np.asarray(x, dtype=float)
    a, b = x[:, 0], x[:, 1]
    corr = np.full((4, 4), TOY_CORRELATION)
    np.fill_diagonal(corr, 1.0)
    noise = np.linalg.cholesky(corr) @ np.random.default_rng(seed).normal(0.0, TOY_NOISE, 4)
    return {
        "m1": a + b + noise[0],
        "m2": a * b + noise[1],
        "m3": np.exp(-a) + 0.3 * b + noise[2],
        "m4": a - b + noise[3],
    }


BOX_TOY = {"x1": (0.6, 1.0), "x2": (0.0, 0.3)}
"""The box of :func:`box_toy`: where success is likely (x3 and x4 do not matter)."""

BOX_TOY_INSIDE = 0.9
"""Chance of success of a :func:`box_toy` run inside :data:`BOX_TOY`."""

BOX_TOY_OUTSIDE = 0.05
"""Chance of success of a :func:`box_toy` run outside :data:`BOX_TOY`."""


def box_toy(x: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Success (1) or not (0) of runs at points ``x`` (columns x1..x4), with a known box.

    A run succeeds with chance :data:`BOX_TOY_INSIDE` inside :data:`BOX_TOY` (x1 >= 0.6
    and x2 <= 0.3) and :data:`BOX_TOY_OUTSIDE` outside, drawn from ``seed``: a scenario
    discovery must find that box and score x3 and x4 as unimportant.

    Examples:
        >>> y = box_toy(np.array([[0.9, 0.1, 0.5, 0.5], [0.1, 0.9, 0.5, 0.5]] * 200), seed=1)
        >>> float(y["y"][0::2].mean()) > 0.8 > 0.2 > float(y["y"][1::2].mean())
        True
    """
    x = np.asarray(x, dtype=float)
    (lo1, hi1), (lo2, hi2) = BOX_TOY["x1"], BOX_TOY["x2"]
    inside = (x[:, 0] >= lo1) & (x[:, 0] <= hi1) & (x[:, 1] >= lo2) & (x[:, 1] <= hi2)
    chance = np.where(inside, BOX_TOY_INSIDE, BOX_TOY_OUTSIDE)
    draws = np.random.default_rng(seed).uniform(size=len(x))
    return {"y": (draws < chance).astype(float)}


BUDGET_TOY_UNIT = 1_000_000.0
"""What one unit of a :func:`budget_toy` lever costs (EUR)."""


def budget_toy(x: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Jobs, spend and displacement of two levers ``a`` and ``b`` in [0, 1], with a known optimum.

    ``creative_jobs = 10 sqrt(a) + 6 sqrt(b)`` plus seed noise (standard deviation
    ``TOY_NOISE``, the same at every point: common random numbers), ``spend =
    BUDGET_TOY_UNIT (a + b)`` and ``displacement = 2 a``; ``c`` does nothing. Under a
    budget of one unit the most jobs come from ``a = 25/34``, ``b = 9/34``
    (``68 / sqrt(34)`` = 11.66 jobs), and the best jobs for a spend of ``t`` units are
    ``sqrt(136 t)``: the Pareto front of jobs against spend.

    Examples:
        >>> y = budget_toy(np.array([[25 / 34, 9 / 34, 0.0]]), seed=0)
        >>> round(float(y["spend"][0]))
        1000000
    """
    x = np.asarray(x, dtype=float)
    a, b = x[:, 0], x[:, 1]
    noise = np.random.default_rng(seed).normal(0.0, TOY_NOISE)
    return {
        "creative_jobs": 10 * np.sqrt(a) + 6 * np.sqrt(b) + noise,
        "spend": BUDGET_TOY_UNIT * (a + b),
        "displacement": 2 * a,
    }


TOY_MODELS: dict[str, ToyModel] = {
    "ishigami": ToyModel(
        name="ishigami",
        description=(
            "The Ishigami function y = sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1, with x1, x2 and "
            "x3 uniform on [-pi, pi]: a benchmark whose Sobol indices are known exactly."
        ),
        parameters={name: (-math.pi, math.pi) for name in ("x1", "x2", "x3")},
        outcomes=("y",),
        evaluate=ishigami,
    ),
    "moments_toy": ToyModel(
        name="moments_toy",
        description=(
            "Four noisy moments of parameters a and b in [0, 2]: m1 = a + b, m2 = a b, "
            "m3 = exp(-a) + 0.3 b, m4 = a - b, each with seed noise of standard deviation "
            "0.05; a third parameter c in [0, 2] enters none of them."
        ),
        parameters={"a": (0.0, 2.0), "b": (0.0, 2.0), "c": (0.0, 2.0)},
        outcomes=("m1", "m2", "m3", "m4"),
        evaluate=moments_toy,
    ),
    "moments_toy_correlated": ToyModel(
        name="moments_toy_correlated",
        description=(
            "The moments of moments_toy with seed noises correlated at 0.8, as the "
            "moments of one agent-based run are."
        ),
        parameters={"a": (0.0, 2.0), "b": (0.0, 2.0), "c": (0.0, 2.0)},
        outcomes=("m1", "m2", "m3", "m4"),
        evaluate=moments_toy_correlated,
    ),
    "box_toy": ToyModel(
        name="box_toy",
        description=(
            "Runs succeed (y = 1) with chance 0.9 where x1 >= 0.6 and x2 <= 0.3 and with chance "
            "0.05 elsewhere, x1 to x4 uniform on [0, 1]: a scenario discovery must find that box."
        ),
        parameters={name: (0.0, 1.0) for name in ("x1", "x2", "x3", "x4")},
        outcomes=("y",),
        evaluate=box_toy,
    ),
    "budget_toy": ToyModel(
        name="budget_toy",
        description=(
            "Two levers a and b in [0, 1] costing EUR 1m per unit: jobs 10 sqrt(a) + 6 sqrt(b) "
            "(with seed noise), displacement 2 a; a third input c does nothing. Under a budget "
            "of EUR 1m the most jobs (11.66) come from a = 25/34, b = 9/34."
        ),
        parameters={"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)},
        outcomes=("creative_jobs", "spend", "displacement"),
        evaluate=budget_toy,
    ),
}
"""The toy models a design may name, by name."""
