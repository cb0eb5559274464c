"""The logit choice's Gumbel-max pick, compiled (see ``draws.logit_choice``, which defines it).

Its kernel takes logarithms, so it runs only where numba's ``log`` gives numpy's bits
(:func:`clustersim.model.kernels.logs_match`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from clustersim.model.kernels import _compiled

#: ``ln 2 / 2**52``: a draw's bits times this, minus :data:`_OFFSET`, bound ``log`` of it below.
_SCALE = math.log(2.0) / 2.0**52
#: ``1023 ln 2`` (the exponent's bias) plus a margin of 1e-3 for the roundings of the bound.
_OFFSET = 1023.0 * math.log(2.0) + 1e-3
#: Draws below this are never skipped (the bound's rounding margin holds from here on).
_SMALLEST = 1e-12


def _logit_pick_py(utilities: np.ndarray, u: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Per row, ``argmin(log(-log(1 - u)) - utilities)``: ``draws.logit_choice``'s pick.

    ``u`` are the uniform draws (one per entry), ``bits`` the same array viewed as
    uint64. Each row starts from its highest utility, whose value ``best`` the
    reference's own operations give; an entry is then skipped, without a logarithm,
    when a lower bound of its value already exceeds ``best``, so it can be neither the
    minimum nor a tie. The bound: for a draw ``x >= 1e-12`` the reference's noise
    ``log(-log(1 - x))``, with its roundings, is at least ``log x - 2e-4``, and ``log x``
    is at least ``ln 2 * (bits(x) / 2**52 - 1023)`` (the exponent plus the mantissa's
    chord under ``log2``, which is concave); subtracting a utility rounds monotonically,
    so a bound above ``best`` stays above it. Entries kept take the reference's
    operations, and the first minimum (or the first NaN) wins, as numpy's ``argmin``.
    With a Gumbel noise and utilities of a realistic spread about 95 % of entries are
    skipped.
    """
    n, m = utilities.shape
    choice = np.empty(n, dtype=np.int64)
    for i in range(n):
        k, top = 0, utilities[i, 0]
        for j in range(1, m):
            if utilities[i, j] > top:
                k, top = j, utilities[i, j]
        # every entry computed (no bound) where the first utility is NaN, no option is
        # available, the top's draw is too small for the bound or its value is NaN
        exact = not top > -np.inf or u[i, k] < _SMALLEST
        best, pick = np.inf, 0
        if not exact:
            best, pick = np.log(-np.log(1.0 - u[i, k])) - top, k
            exact = best != best
        if exact:
            best, pick = np.inf, 0
        for j in range(m):
            x, utility = u[i, j], utilities[i, j]
            if not exact and (
                j == k or (x >= _SMALLEST and bits[i, j] * _SCALE - _OFFSET - utility > best)
            ):
                continue
            v = np.log(-np.log(1.0 - x)) - utility
            if v != v:  # numpy's argmin returns the first NaN
                pick = j
                break
            if v < best or (v == best and j < pick):
                best, pick = v, j
        choice[i] = pick
    return choice


@functools.cache
def _logit_kernel() -> Callable | None:
    return _compiled(_logit_pick_py)


def logit_pick(utilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The compiled ``_logit_pick_py`` (kernels must be enabled, logarithms matching)."""
    return _logit_kernel()(utilities, u, u.view(np.uint64))
