"""Human number formats: no scientific notation, money, shares, intervals that read together."""

from __future__ import annotations

import math

import pytest

from clustersim.experiments.numbers import (
    fmt_interval,
    fmt_money,
    fmt_number,
    fmt_percent,
    fmt_range,
    fmt_value,
    relative_is_meaningful,
    unit_of,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-8.08e-03, "-0.00808"),
        (1e-7, "0.0000001"),
        (0.6153, "0.615"),
        (48.0, "48"),
        (528.5, "528"),
        (12345.6, "12,346"),
        (1_234_567, "1,234,567"),
        (float("nan"), ""),
        (None, ""),
        (True, "yes"),
        (math.inf, "infinite"),
    ],
)
def test_numbers_have_three_significant_digits_and_never_an_exponent(value, text):
    assert fmt_number(value) == text


def test_the_report_example_reads_as_one_interval():
    """The issue's `-8.08e-03 [-0.0709, 0.0535]`, written for people."""
    assert fmt_interval(-8.08e-03, -0.0709, 0.0535) == "-0.0081 [-0.0709, 0.0535]"
    assert fmt_range(-0.0709, 0.0535) == "-0.0709 to 0.0535"


def test_units_choose_the_format():
    assert fmt_interval(5.0, 3.0, 7.0, unit="jobs") == "5 [3, 7]"
    assert fmt_interval(1.68, 1.17, 2.18, unit="people") == "1.7 [1.2, 2.2]"
    assert fmt_interval(0.012, -0.004, 0.03, unit="share") == "+1.2 [-0.4, +3] pp"
    assert fmt_interval(58_000.0, 41_429.0, 96_667.0, unit="EUR") == "EUR 58,000 [41,400, 96,700]"
    assert fmt_value(0.0523, "share") == "5.2%"
    assert fmt_money(6_000_000) == "EUR 6 million" and fmt_money(1_500_000) == "EUR 1.5 million"
    assert fmt_percent(0.342) == "34%" and fmt_percent(0.104, signed=True) == "+10%"


def test_units_of_derived_columns_come_from_the_outcomes_table():
    assert unit_of("creative_employment") == "jobs"
    assert unit_of("displaced_total") == "people"
    assert unit_of("mean_rent_peak") == unit_of("mean_rent_run_mean") == "EUR/month"
    assert unit_of("unemployment_rate") == "share"
    assert unit_of("spend_festival") == "EUR"
    assert unit_of("no_such_column") == ""


def test_relative_changes_only_against_baselines_that_can_carry_them():
    assert relative_is_meaningful(48.0, 5.0, "jobs")
    assert not relative_is_meaningful(2.0, 28.0, "people")  # "+1,400%" of 2 people
    assert not relative_is_meaningful(0.0, 1.0, "EUR/month")
    assert not relative_is_meaningful(float("nan"), 1.0, "jobs")
    assert not relative_is_meaningful(0.5, 30.0, "ratio")  # 60 times the baseline
    assert relative_is_meaningful(0.6, 0.06, "ratio")
