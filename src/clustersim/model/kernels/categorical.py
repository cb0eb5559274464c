"""Categorical draws, compiled (see ``draws.categories``)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from clustersim.model.kernels import _compiled


def _categories_py(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``Generator.choice(len(cdf), size, p=p)`` given numpy's ``cdf`` of ``p`` and its draws ``u``.

    Each pick is the number of entries of the non-decreasing ``cdf`` at or below its
    draw (``cdf.searchsorted(u, "right")``), counted without branching.
    """
    out = np.empty(len(u), dtype=np.int64)
    for i in range(len(u)):
        k = 0
        for j in range(len(cdf)):
            k += cdf[j] <= u[i]
        out[i] = k
    return out


@functools.cache
def _categories_kernel() -> Callable | None:
    return _compiled(_categories_py)


def categories(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The compiled ``_categories_py`` (kernels must be enabled)."""
    return _categories_kernel()(cdf, u)
