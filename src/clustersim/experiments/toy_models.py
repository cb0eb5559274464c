"""Toy models with known sensitivity indices, run by the sensitivity pipeline to check it.

A sensitivity design with ``sensitivity.model: <toy name>`` evaluates a registered
toy function at the sample points instead of running clustersim; sampling, analysis,
tables and report are the same code as for clustersim runs
(:mod:`clustersim.experiments.sensitivity`). Only the functions registered here can
be named, so a design file cannot call arbitrary code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["ISHIGAMI_A", "ISHIGAMI_B", "TOY_MODELS", "ToyModel", "ishigami"]

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
    )
}
"""The toy models a sensitivity design may name, by name."""
