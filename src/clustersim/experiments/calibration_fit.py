"""The statistics of a simulated-method-of-moments calibration (pure functions).

The model's moments ``m(theta)`` at a parameter vector are their means over
replicate runs that share their seeds across parameter values (common random
numbers). The distance to the targets ``t`` with uncertainties ``sd`` is

    J(theta) = sum_i ((m_i(theta) - t_i) / sd_i)^2

over the fitted moments (a diagonal weight matrix ``W = diag(1 / sd^2)``). Around
a point, a local linear model of the moments fitted by least squares to the runs of a
central-difference design and its neighbours (:func:`local_linear`) gives the
Jacobian ``G = dm / dtheta``: the Gauss-Newton step toward the minimum, the
identification check (the singular values of ``G`` scaled to moment uncertainties per
parameter range) and the estimator's covariance by the sandwich formula of the method
of moments (Gourieroux & Monfort 1996; for agent-based models, Franke & Westerhoff
2012):

    V = (G'WG)^-1 G'W Omega W G (G'WG)^-1,   Omega = T + Sigma_sim / R

where ``T`` is the covariance of the targets' errors (``diag(sd^2)`` for published
figures; the covariance of the observed means in a recovery), ``Sigma_sim`` the
covariance of the moments between replicates at the estimate and ``R`` the replicates
behind each evaluation: the targets' uncertainty and the simulation noise both widen
the intervals.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "IDENTIFIED_TOLERANCE",
    "covariance",
    "distance",
    "gauss_newton",
    "jacobian_points",
    "local_linear",
    "moment_interval",
    "scaled_jacobian",
    "singular_values",
]

IDENTIFIED_TOLERANCE = 1e-3
"""Singular values of the scaled Jacobian below this share of the largest count as zero."""

SINGULAR_CONDITION = 1e12
"""Condition number of ``G'WG`` beyond which no covariance is computed (not identified)."""


def distance(means: np.ndarray, targets: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``J`` of each row of ``means`` (points x fitted moments); inf where a moment is NaN.

    Examples:
        >>> distance(np.array([[1.0, 2.0], [1.0, np.nan]]), np.array([0.0, 2.0]), np.ones(2))
        array([ 1., inf])
    """
    z = (np.asarray(means, dtype=float) - targets) / sd
    j = np.sum(z**2, axis=-1)
    return np.where(np.isfinite(j), j, np.inf)


def jacobian_points(
    theta: np.ndarray, low: np.ndarray, high: np.ndarray, step: float, integer: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The points of a central-difference Jacobian: ``theta -/+ h`` per parameter.

    ``h`` is ``step`` times the parameter's range (at least 1 for whole numbers); a
    point that would leave the range is put on its bound, so the difference becomes
    one-sided there.

    Returns:
        ``points`` (2k x k: minus then plus, parameter by parameter) and the width
        ``plus - minus`` of each parameter's difference.
    """
    k = len(theta)
    h = np.where(integer, np.maximum(1.0, np.round(step * (high - low))), step * (high - low))
    points = np.repeat(np.asarray(theta, dtype=float)[None, :], 2 * k, axis=0)
    for j in range(k):
        points[2 * j, j] = max(low[j], theta[j] - h[j])
        points[2 * j + 1, j] = min(high[j], theta[j] + h[j])
    points = np.where(integer, np.round(points), points)
    diag = np.arange(k)
    width = points[1::2][diag, diag] - points[0::2][diag, diag]
    return points, width


def local_linear(
    points: np.ndarray,
    means: np.ndarray,
    centre: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    radius: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """A local linear model of the moments around ``centre``, by least squares.

    Every evaluated point within ``radius`` (a share of each parameter's range, in the
    largest coordinate) of the centre enters: ``m_i = a_i + G_i (theta - centre)``.
    With common random numbers an agent-based model's moments are still rough in
    its parameters (a small change sends a run down another path), so a fit over
    several points gives a Jacobian and a value at the centre with less noise than
    one difference or one point.

    Returns:
        ``a`` (the moments at the centre, moments), ``G`` (moments x parameters) and the
        number of points used; NaN for a moment measured at fewer than k + 1 of them.

    Examples:
        >>> pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [9.0, 9.0]])
        >>> m = np.column_stack([1 + 2 * pts[:, 0] - pts[:, 1]])
        >>> a, g, n = local_linear(pts, m, np.zeros(2), np.zeros(2), np.full(2, 10.0), 0.2)
        >>> np.round(a, 6), np.round(g, 6), n
        (array([1.]), array([[ 2., -1.]]), 3)
    """
    points, means = np.asarray(points, dtype=float), np.asarray(means, dtype=float)
    ranges = high - low
    near = np.max(np.abs(points - centre) / ranges, axis=1) <= radius * (1 + 1e-9)
    x = np.column_stack([np.ones(near.sum()), points[near] - centre])
    k = len(centre)
    a, g = np.full(means.shape[1], np.nan), np.full((means.shape[1], k), np.nan)
    for i in range(means.shape[1]):
        y = means[near, i]
        ok = np.isfinite(y)
        if ok.sum() >= k + 1 and np.linalg.matrix_rank(x[ok]) == k + 1:
            coef = np.linalg.lstsq(x[ok], y[ok], rcond=None)[0]
            a[i], g[i] = coef[0], coef[1:]
    return a, g, int(near.sum())


def scaled_jacobian(g: np.ndarray, sd: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """``G`` in target uncertainties per whole parameter range: ``G_ij range_j / sd_i``."""
    return g * ranges[None, :] / sd[:, None]


def singular_values(scaled: np.ndarray) -> tuple[np.ndarray, int]:
    """The singular values of a scaled Jacobian and its numerical rank.

    The rank counts singular values above ``IDENTIFIED_TOLERANCE`` times the largest:
    a rank below the number of parameters means some combination of them leaves the
    fitted moments unchanged (not identified by these moments).
    """
    if not np.isfinite(scaled).all():
        return np.full(min(scaled.shape), np.nan), 0
    s = np.linalg.svd(scaled, compute_uv=False)
    rank = int(np.sum(s > IDENTIFIED_TOLERANCE * s.max())) if s.size and s.max() > 0 else 0
    return s, rank


def gauss_newton(
    theta: np.ndarray,
    g: np.ndarray,
    residual: np.ndarray,
    sd: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    *,
    damping: float = 1e-3,
    trust: float = 0.25,
) -> np.ndarray:
    """A damped Gauss-Newton step toward the minimum of ``J``, kept within the ranges.

    Solves ``(A'A + damping diag(A'A)) d = -A'r`` with ``A = G / sd`` and
    ``r = (m - t) / sd`` in the parameters' unit ranges (Levenberg-Marquardt's
    scaling), so parameters of different units step alike. A step longer than
    ``trust`` of a range in any parameter is shortened to it (a trust region: the
    linear model holds only near where it was fitted).

    Examples:
        >>> g, sd, low, high = np.eye(2), np.ones(2), np.zeros(2), np.full(2, 10.0)
        >>> step = gauss_newton(np.array([5.0, 5.0]), g, np.array([1.0, -2.0]), sd, low, high)
        >>> np.round(step, 2)
        array([4., 7.])
    """
    ranges = high - low
    a = g * ranges[None, :] / sd[:, None]
    r = residual / sd
    ata = a.T @ a
    lhs = ata + damping * np.diag(np.diag(ata))
    d = np.linalg.lstsq(lhs, -a.T @ r, rcond=None)[0]
    longest = float(np.max(np.abs(d))) if d.size else 0.0
    if longest > trust:
        d = d * (trust / longest)
    return np.clip(theta + d * ranges, low, high)


def covariance(
    g: np.ndarray,
    sd: np.ndarray,
    sim_cov: np.ndarray,
    replicates: int,
    *,
    ranges: np.ndarray | None = None,
    target_cov: np.ndarray | None = None,
) -> np.ndarray:
    """The estimator's covariance by the sandwich formula (module docstring); NaN if singular.

    Computed in the parameters' unit ranges (``ranges``), so that parameters of very
    different units do not make a well-posed problem look singular.

    Args:
        g: the Jacobian of the fitted moments (moments x parameters).
        sd: the fitted moments' target uncertainties (the weights).
        sim_cov: the covariance of the fitted moments between replicates at the estimate.
        replicates: replicates behind each evaluation of the distance.
        ranges: each parameter's range searched (default: 1).
        target_cov: the covariance of the targets' errors (default: ``diag(sd^2)``).

    Examples:
        >>> g = np.array([[1e-6, 0.0], [0.0, 40.0], [1e-6, 40.0]])
        >>> v = covariance(g, np.ones(3), np.zeros((3, 3)), 4, ranges=np.array([1e6, 0.05]))
        >>> bool(np.isfinite(v).all())
        True
    """
    k = g.shape[1]
    scale = np.ones(k) if ranges is None else np.asarray(ranges, dtype=float)
    gs = g * scale[None, :]
    w = np.diag(1.0 / sd**2)
    bread = gs.T @ w @ gs
    if not np.isfinite(bread).all() or np.linalg.cond(bread) > SINGULAR_CONDITION:
        return np.full((k, k), np.nan)
    errors = np.diag(sd**2) if target_cov is None else np.asarray(target_cov, dtype=float)
    omega = errors + np.asarray(sim_cov, dtype=float) / replicates
    inv = np.linalg.inv(bread)
    scaled = inv @ gs.T @ w @ omega @ w @ gs @ inv
    return scaled * np.outer(scale, scale)


def moment_interval(
    values: np.ndarray, g_row: np.ndarray, cov: np.ndarray, ci: float
) -> tuple[float, float, float]:
    """A moment at the estimate: its mean over replicates and an interval.

    The interval's variance is the parameters' uncertainty carried through the
    Jacobian (``g' V g``) plus the seed noise of the mean (``var / n``).

    Returns:
        ``(mean, lower, upper)``; NaN when the moment was not measured.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    seed_var = float(values.var(ddof=1)) / values.size if values.size > 1 else 0.0
    param_var = float(g_row @ cov @ g_row) if np.isfinite(cov).all() else float("nan")
    half = stats.norm.ppf(0.5 + ci / 2) * np.sqrt(seed_var + param_var)
    return mean, mean - half, mean + half
