"""Human number formats for reports: significant digits, thousands separators, money, shares.

Reports never show scientific notation: a number keeps about three significant
digits, large numbers get thousands separators, money is written ``EUR 58,000``
(or ``EUR 1.5 million``), shares and probabilities as percentages, and changes of a
share in percentage points. A value and its interval are written with the same
number of decimals so that they read together. Units come from the outcomes table
(:mod:`clustersim.model.outcomes`), also for the analysis's derived columns.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from clustersim.model.outcomes import OUTCOME_NAMES, outcome

__all__ = [
    "COUNT_UNITS",
    "fmt_interval",
    "fmt_money",
    "fmt_number",
    "fmt_percent",
    "fmt_range",
    "fmt_value",
    "is_missing",
    "relative_is_meaningful",
    "unit_of",
]

COUNT_UNITS = frozenset({"people", "jobs", "firms", "innovations", "ties", "months"})
"""Units of counted things: relative changes are shown only against baselines of 10 or more."""

DERIVED_SUFFIXES = ("_total", "_last_year", "_peak", "_run_mean", "_start")
"""Suffixes of the analysis's derived columns (their unit is the base outcome's)."""


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing values.

    Examples:
        >>> is_missing(float("nan")), is_missing(0.0)
        (True, False)
    """
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array is not one missing value
        return False


def _decimals(magnitude: float, digits: int) -> int:
    """Decimals that give ``digits`` significant digits to a number of this magnitude."""
    if magnitude <= 0 or not math.isfinite(magnitude):
        return 0
    return int(min(8, max(0, digits - 1 - math.floor(math.log10(magnitude)))))


def _plain(value: float, decimals: int, *, signed: bool = False) -> str:
    """``value`` with ``decimals`` decimals, thousands separators, trailing zeros dropped."""
    text = f"{value:{'+' if signed else ''},.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "+0"):
        return "0"
    return text


def fmt_number(value: Any, *, digits: int = 3, signed: bool = False) -> str:
    """A number for people: about ``digits`` significant digits, never scientific notation.

    Integers and numbers of 1,000 or more keep every digit before the point (with
    thousands separators); missing values are blank; booleans are yes/no.

    Examples:
        >>> fmt_number(-8.08e-03), fmt_number(1234567), fmt_number(48.0), fmt_number(0.6153)
        ('-0.00808', '1,234,567', '48', '0.615')
        >>> fmt_number(5.0, signed=True), fmt_number(float("nan"))
        ('+5', '')
    """
    if is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):{'+' if signed else ''},}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return "infinite" if v > 0 else "-infinite"
        return _plain(v, _decimals(abs(v), digits), signed=signed)
    return str(value)


def fmt_range(
    low: float, high: float, *, digits: int = 3, sep: str = " to ", unit: str = ""
) -> str:
    """Two numbers with the same decimals: ``3 to 7``, ``-0.0709 to 0.0535``.

    Counted things (``unit`` in :data:`COUNT_UNITS`) get at most one decimal.

    Examples:
        >>> fmt_range(-0.0709, 0.0535), fmt_range(-2.667, 6.667, unit="jobs")
        ('-0.0709 to 0.0535', '-2.7 to 6.7')
    """
    if is_missing(low) or is_missing(high):
        return ""
    dec = _decimals(max(abs(float(low)), abs(float(high))), digits)
    if unit in COUNT_UNITS:
        dec = min(dec, 1)
    return f"{_plain(float(low), dec)}{sep}{_plain(float(high), dec)}"


def fmt_interval(value: float, low: float, high: float, *, unit: str = "") -> str:
    """A value and its interval for a table cell, in the unit's format.

    Examples:
        >>> fmt_interval(-8.08e-03, -0.0709, 0.0535)
        '-0.0081 [-0.0709, 0.0535]'
        >>> fmt_interval(5.0, 3.0, 7.0, unit="jobs"), fmt_interval(1.68, 1.17, 2.18, unit="people")
        ('5 [3, 7]', '1.7 [1.2, 2.2]')
        >>> fmt_interval(0.012, -0.004, 0.03, unit="share")
        '+1.2 [-0.4, +3] pp'
    """
    if any(is_missing(v) for v in (value, low, high)):
        return ""
    v, lo, hi = float(value), float(low), float(high)
    if unit == "share":
        v, lo, hi = 100 * v, 100 * lo, 100 * hi
    if unit == "EUR":
        return f"{fmt_money(v)} [{fmt_money(lo, prefix='')}, {fmt_money(hi, prefix='')}]"
    finite = [abs(x) for x in (v, lo, hi) if math.isfinite(x)]
    dec = _decimals(max(finite, default=0.0), 3)
    if unit in COUNT_UNITS:
        dec = min(dec, 1)  # a tenth of a person is the finest a reader can use
    signed = unit == "share"
    parts = [_plain(x, dec, signed=signed) if math.isfinite(x) else "infinite" for x in (v, lo, hi)]
    text = f"{parts[0]} [{parts[1]}, {parts[2]}]"
    return f"{text} pp" if unit == "share" else text


def fmt_money(value: float, *, prefix: str = "EUR ") -> str:
    """An amount of money rounded to three significant digits.

    Examples:
        >>> fmt_money(41_429.0), fmt_money(1_500_000.0), fmt_money(96_667, prefix="")
        ('EUR 41,400', 'EUR 1.5 million', '96,700')
    """
    if is_missing(value):
        return ""
    v = float(value)
    if not math.isfinite(v):
        return "unbounded"
    if abs(v) >= 1_000_000:
        return f"{prefix}{_plain(v / 1e6, _decimals(abs(v) / 1e6, 3))} million"
    rounded = float(f"{v:.3g}") if v else 0.0
    return f"{prefix}{_plain(rounded, 0 if abs(rounded) >= 100 else _decimals(abs(v), 3))}"


def fmt_percent(share: float, *, digits: int = 2, signed: bool = False) -> str:
    """A share or probability as a percentage.

    Examples:
        >>> fmt_percent(0.342), fmt_percent(1.0), fmt_percent(0.104, signed=True)
        ('34%', '100%', '+10%')
    """
    if is_missing(share):
        return ""
    pct = 100 * float(share)
    dec = 0 if abs(pct) >= 10 or pct == 0 else _decimals(abs(pct), digits)
    return f"{_plain(pct, dec, signed=signed)}%"


def fmt_value(value: float, unit: str, *, signed: bool = False) -> str:
    """One value in its unit's format: shares as %, EUR as money, others as numbers.

    Examples:
        >>> fmt_value(0.0523, "share"), fmt_value(58_000.0, "EUR"), fmt_value(0.00425, "people")
        ('5.2%', 'EUR 58,000', '0')
    """
    if unit == "share":
        return fmt_percent(value, digits=2, signed=signed)
    if unit == "EUR":
        money = fmt_money(abs(value)) if signed else fmt_money(value)
        return ("-" if value < 0 else "+") + money if signed and money else money
    if unit in COUNT_UNITS and not is_missing(value) and isinstance(value, float | np.floating):
        return _plain(float(value), min(1, _decimals(abs(float(value)), 3)), signed=signed)
    return fmt_number(value, signed=signed)


def unit_of(column: str) -> str:
    """The unit of a time-series column or a derived analysis column ('' when unknown).

    Examples:
        >>> unit_of("displaced_total"), unit_of("mean_rent_peak"), unit_of("spend_festival")
        ('people', 'EUR/month', 'EUR')
    """
    if column.startswith("spend_"):
        return "EUR"
    base = column
    for suffix in DERIVED_SUFFIXES:
        if column.endswith(suffix) and column.removesuffix(suffix) in OUTCOME_NAMES:
            base = column.removesuffix(suffix)
            break
    if base not in OUTCOME_NAMES:
        return ""
    unit = outcome(base).unit
    return "share" if unit == "share" else unit


def relative_is_meaningful(baseline: float, effect: float, unit: str) -> bool:
    """Whether a relative change (effect / baseline) says something a reader can use.

    Not against a missing or zero baseline, nor against fewer than 10 counted things
    (2 displaced residents becoming 30 is "+1,400%", which tells nothing), nor when the
    change is more than ten times the baseline.

    Examples:
        >>> relative_is_meaningful(48.0, 5.0, "jobs"), relative_is_meaningful(2.0, 28.0, "people")
        (True, False)
    """
    if is_missing(baseline) or is_missing(effect) or baseline == 0:
        return False
    if unit in COUNT_UNITS and abs(baseline) < 10:
        return False
    return abs(effect) <= 10 * abs(baseline)
