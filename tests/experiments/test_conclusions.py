"""The report's plain language, from small hand-made tables: claims that the intervals allow.

A small town where a plan's effect on creative jobs is within chance and a metropolis
where it is clear; a plan whose levers run out of money in month 80 of 120.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from clustersim.experiments.analysis import wilson_interval
from clustersim.experiments.conclusions import (
    _employment_sentence,
    _takeoff_findings,
    budget_warnings,
    noise_floor,
    replicate_warnings,
    what_this_means,
)
from clustersim.experiments.design import Design
from clustersim.experiments.readable import Names, effects_table, plans_table, short_name

NAMES = Names(
    sites=["town", "metro"],
    arms=["none", "hub"],
    baseline="none",
    horizon=120,
    site_names={"town": "small town", "metro": "metropolis"},
    arm_names={"none": "No policy", "hub": "Creative hub plan"},
)


def _effect(metric, site, effect, low, high, mde, base, n=8):
    return {
        "metric": metric,
        "site": site,
        "arm": "hub",
        "n_pairs": n,
        "baseline_mean": base,
        "arm_mean": base + effect,
        "effect": effect,
        "ci_low": low,
        "ci_high": high,
        "relative_effect": effect / base if base else float("nan"),
        "significant": low > 0 or high < 0,
        "mde": mde,
    }


def _takeoff(site, arm, k, n=8):
    low, high = wilson_interval(k, n)
    return {
        "site": site,
        "arm": arm,
        "runs": n,
        "took_off": k,
        "probability": k / n,
        "probability_low": low,
        "probability_high": high,
        "mean_takeoff_step": float("nan"),
        "takeoff_step_low": float("nan"),
        "takeoff_step_high": float("nan"),
    }


@pytest.fixture
def tables():
    effects = pd.DataFrame(
        [
            _effect("creative_employment", "town", 2.0, -1.0, 5.0, 6.0, 60.0),
            _effect("creative_employment", "metro", 40.0, 30.0, 50.0, 10.0, 9000.0),
        ]
    )
    side = pd.DataFrame(
        [
            _effect("displaced_total", "town", 5.0, 2.0, 8.0, 3.0, 3.0),
            _effect("mean_rent_peak", "metro", 12.0, 8.0, 16.0, 5.0, 800.0),
            _effect("mean_rent", "metro", 1.0, -2.0, 4.0, 5.0, 790.0),
        ]
    )
    takeoff = pd.DataFrame(
        [_takeoff("town", a, 0) for a in ("none", "hub")]
        + [_takeoff("metro", a, 8) for a in ("none", "hub")]
    )
    cost = pd.DataFrame(
        [
            {"site": "town", "arm": "hub", "n_pairs": 8, "total_spend": 6e6, "jobs_created": 2.0,
             "jobs_low": -1.0, "jobs_high": 5.0, "cost_per_job": float("nan"),
             "cost_low": float("nan"), "cost_high": float("nan"), "note": "no job gain"},
            {"site": "metro", "arm": "hub", "n_pairs": 8, "total_spend": 6e6, "jobs_created": 40.0,
             "jobs_low": 30.0, "jobs_high": 50.0, "cost_per_job": 150_000.0,
             "cost_low": 120_000.0, "cost_high": 200_000.0, "note": ""},
        ]
    )  # fmt: skip
    plans = pd.DataFrame(
        [
            {"site": s, "arm": "hub", "policy": p, "lever": lever, "intensity": i, "start": 12,
             "duration": float("nan"), "budget": 6e6, "income": 0.0}
            for s in ("town", "metro")
            for p, lever, i in (("creative_hub", "Creative hub", 1.0),
                                ("festival", "Festival", 2.0))
        ]
        + [{"site": s, "arm": "none", "policy": "", "lever": "", "intensity": float("nan"),
            "budget": 6e6, "income": 0.0} for s in ("town", "metro")]
    )  # fmt: skip
    stop = {"runs": 8, "stopped": 8, "spent": 3e6, "reason": "budget exhausted: ..."}
    stops = pd.DataFrame(
        [
            {"site": "town", "arm": "hub", "policy": "creative_hub", "lever": "Creative hub",
             "first_month": 80, "last_month": 80, **stop},
            {"site": "town", "arm": "hub", "policy": "festival", "lever": "Festival",
             "first_month": 79, "last_month": 80, **stop},
            {"site": "metro", "arm": "hub", "policy": "festival", "lever": "Festival",
             "first_month": 79, "last_month": 81, **stop},
        ]
    )  # fmt: skip
    return {"effects": effects, "side": side, "takeoff": takeoff, "cost": cost,
            "plans": plans, "stops": stops}  # fmt: skip


def _text(items) -> str:
    return "\n".join(str(payload) for _kind, payload in items)


def test_what_this_means_says_what_each_plan_does_where_within_its_intervals(tables):
    items = what_this_means(
        tables["effects"], tables["takeoff"], tables["cost"], tables["side"], tables["stops"],
        tables["plans"], NAMES,
    )  # fmt: skip
    text = _text(items)
    assert ("h3", "Small town") in items and ("h3", "Metropolis") in items
    # the town: the interval includes 0 -> no clear effect, with the noise floor
    assert (
        "**Creative hub plan** has no clear effect on creative employment: +2 jobs at month 120 "
        "(95% interval -1 to 5; +3.3% on the 60 jobs of the baseline), within what chance alone "
        "gives; with 8 replicates, effects smaller than about 6 jobs cannot be told from chance."
    ) in text
    assert "without creating creative jobs with confidence, so there is no cost per job" in text
    # the metropolis: a clear effect, relative to the baseline, and its cost per job
    assert (
        "**Creative hub plan** raises creative employment by 40 jobs at month 120 (95% interval "
        "30 to 50; +0.44% on the 9,000 jobs of the baseline)."
    ) in text
    assert "It costs about EUR 150,000 per job created (interval EUR 120,000 to EUR 200,000" in text
    # the key contrasts, in words
    assert (
        "**Creative hub plan** costs about EUR 150,000 per creative job in metropolis (95% "
        "interval EUR 120,000 to EUR 200,000); in small town it creates no creative jobs with "
        "confidence."
    ) in text
    assert "No plan makes the creative cluster of small town take off: none of the 8 runs" in text
    assert "a chance of up to 32%" in text
    assert (
        "The creative cluster of metropolis takes off in all 8 runs even under the baseline" in text
    )
    assert (
        "takes off in 8 of 8 runs (100%, 95% interval 68% to 100%), as under the baseline" in text
    )


def test_side_effects_are_told_with_units_and_relative_only_against_large_baselines(tables):
    items = what_this_means(
        tables["effects"], tables["takeoff"], tables["cost"], tables["side"], tables["stops"],
        tables["plans"], NAMES,
    )  # fmt: skip
    text = _text(items)
    # 3 displaced residents at baseline: the change in people, no percentage
    assert "Side effects: displaced residents over the run +5 people (95% interval 2 to 8)." in text
    # rent: the peak rose clearly; the last month's change is within chance and not listed
    assert "rent in its peak month +12 EUR/month, +1.5% (95% interval 8 to 16)" in text
    assert "rent at month 120" not in text


def test_budget_warning_names_the_months_and_the_time_to_the_horizon(tables):
    warnings = budget_warnings(tables["stops"], tables["plans"], NAMES)
    town = next(w for w in warnings if "small town" in w)
    assert town.startswith(
        "**Creative hub plan** in small town ran out of budget (EUR 6 million) before month 120: "
        "Festival stopped in months 79 to 80; Creative hub stopped in month 80."
    )
    assert town.endswith(
        "Effects are measured at month 120, 40 months after its last lever stopped."
    )
    metro = next(w for w in warnings if "metropolis" in w)
    assert "Festival stopped in months 79 to 81" in metro
    assert "Creative hub kept running" in metro
    # a lever that stops at the horizon is no warning
    late = tables["stops"].assign(first_month=120, last_month=120)
    assert budget_warnings(late, tables["plans"], NAMES) == []


def test_replicate_warnings_say_how_many_replicates_an_effect_needs(tables):
    head = tables["effects"]
    notes = replicate_warnings(head, NAMES)
    assert len(notes) == 1  # 8 replicates: no general warning, one unclear effect
    assert notes[0].startswith(
        "Too few replicates (8) to tell these effects on creative employment"
    )
    assert "Creative hub plan in small town (+2 jobs): about " in notes[0]
    few = replicate_warnings(head.assign(n_pairs=2), NAMES)
    assert few[0].startswith("Only 2 replicates per plan and site")


def test_readable_tables_label_measures_and_plans(tables):
    table = effects_table(tables["side"], NAMES)
    assert table["measure"].tolist() == [
        "displaced residents (whole run)",
        "mean rent (EUR/month), peak month",
        "mean rent (EUR/month), month 120",
    ]
    assert table["plan"].unique().tolist() == ["Creative hub plan"]
    assert table["relative"].tolist() == ["n/a", "+1.5%", "+0.13%"]
    assert table["verdict"].tolist() == ["clear", "clear", "no clear effect"]
    plans = plans_table(tables["plans"], NAMES)
    hub = plans[plans["code"] == "hub"].iloc[0]
    assert hub["levers"] == "Creative hub, Festival"
    assert hub["intensity"] == "Creative hub: 1; Festival: 2"
    assert hub["budget"] == "EUR 6 million" and hub["for months"] == "to the end"
    assert plans[plans["code"] == "none"].iloc[0]["levers"] == "no levers"


def test_short_names_come_from_the_design_labels():
    assert (
        short_name("talent_first", "Talent first: attraction, university (EUR 3m)")
        == "Talent first"
    )
    assert short_name("metropolis", "Metropolis of 300,000") == "Metropolis of 300,000"
    town = "Small town of 12,000, 60 minutes from a city of 300,000"
    arm = {"arms": {"none": {"overrides": ["plan=none"]}}}
    assert short_name("small_town", town) == "small town"
    # a place is called by its label's first phrase when that tells the sites apart
    near = town.replace("60", "20")
    design = Design.from_mapping(
        {"name": "x", "sites": {"small_town": {"label": town}, "near": {"label": near}}, **arm}
    )
    assert Names.of(design).site_names == {"small_town": "small town", "near": "near"}
    design = Design.from_mapping({"name": "x", "sites": {"small_town": {"label": town}}, **arm})
    assert Names.of(design).site_names == {"small_town": "Small town of 12,000"}


def test_a_loss_of_jobs_is_claimed_only_when_clear(tables):
    def paragraph(effect, low, high, mde):
        effects = pd.DataFrame(
            [_effect("creative_employment", "metro", effect, low, high, mde, 9e3)]
        )
        items = what_this_means(
            effects, tables["takeoff"], tables["cost"].assign(cost_per_job=float("nan")),
            tables["side"].iloc[0:0], tables["stops"].iloc[0:0], tables["plans"], NAMES,
        )  # fmt: skip
        return next(p for k, p in items if k == "p" and p.startswith("**Creative hub plan**"))

    clear = paragraph(-40.0, -50.0, -30.0, 10.0)
    assert "lowers creative employment by 40 jobs" in clear
    assert "costs creative jobs rather than creating them" in clear
    tentative = paragraph(-40.0, -50.0, -30.0, 80.0)  # the t-test cannot tell it from chance
    assert "may lower creative employment by 40 jobs" in tentative
    assert "costs creative jobs" not in tentative
    assert "without creating creative jobs with confidence" in tentative


def test_noise_floor_gives_each_measure_and_each_plan_where_it_differs():
    names = Names(
        sites=["metro"],
        arms=["none", "hub", "fest"],
        baseline="none",
        horizon=120,
        site_names={"metro": "metropolis"},
        arm_names={"none": "No policy", "hub": "Creative hub plan", "fest": "Festival plan"},
    )
    rows = [
        {**_effect(metric, "metro", 1.0, -1.0, 3.0, mde, 500.0), "arm": arm}
        for metric, by_arm in (
            ("creative_employment", {"hub": 10.0, "fest": 30.0}),
            ("talents", {"hub": 5.0, "fest": 5.0}),
            ("mean_rent", {"hub": 2.0, "fest": 4.0}),
        )
        for arm, mde in by_arm.items()
    ]
    floor = noise_floor(pd.DataFrame(rows), names)
    assert floor[0].startswith(
        "Smallest detectable effect in metropolis: with 8 replicates, effects on creative "
        "employment smaller than about 10 jobs (Creative hub plan) and 30 jobs (Festival plan) "
        "cannot be told from chance"
    )
    assert floor[1] == (
        "On the other measures, effects smaller than these cannot be told from chance (for "
        "Creative hub plan and Festival plan, in that order, where they differ): creative "
        "workers living there about 5 people; mean rent about 2 and 4 EUR/month."
    )
    # a measure no plan changes in any replicate, and one every replicate changes alike
    flat = [
        {**_effect("displaced_total", "metro", 0.0, 0.0, 0.0, 0.0, 0.0), "arm": arm}
        for arm in ("hub", "fest")
    ]
    flat += [{**_effect("graduates", "metro", 2.0, 2.0, 2.0, 0.0, 10.0), "arm": "hub"}]
    said = noise_floor(pd.DataFrame(rows + flat), names)
    assert said[2] == (
        "No plan changes displaced residents (whole run) in any replicate: every paired "
        "difference is 0."
    )
    assert said[3].startswith("Every replicate gives the same difference in new graduates")
    # many plans: the smallest and the largest
    many = dataclasses.replace(names, arms=["none", *"abcd"])
    mdes = {"a": 8.0, "b": 12.0, "c": 20.0, "d": 16.0}
    wide = pd.DataFrame([{**rows[0], "arm": arm, "mde": mde} for arm, mde in mdes.items()])
    assert (
        "smaller than about 8 to 20 jobs, depending on the plan, cannot be told"
        in (noise_floor(wide, many)[0])
    )


def test_one_finished_pair_is_said_to_tell_nothing_without_blank_numbers():
    # "with 1 replicates, effects smaller than about  jobs cannot be told from chance"
    row = pd.DataFrame(
        [_effect("creative_employment", "town", 7.0, 7.0, 7.0, float("nan"), 60.0, n=1)]
    )
    text = _employment_sentence(next(row.itertuples()), NAMES)
    assert text.startswith("**Creative hub plan** has no clear effect on creative employment: +7")
    assert "in the one replicate that finished for it and the baseline" in text
    assert "one pair of runs gives no interval and cannot tell any effect from chance" in text
    assert "about  " not in text and "nan" not in text.lower()


def test_no_take_off_counts_the_runs_each_plan_had():
    # "none of the 1 runs of any plan" when the plans had 1 and 2
    uneven = pd.DataFrame([_takeoff("town", "none", 0, n=2), _takeoff("town", "hub", 0, n=1)])
    [line] = _takeoff_findings(uneven, dataclasses.replace(NAMES, sites=["town"]))
    assert "none of the 1 to 2 runs of any plan does" in line
    even = pd.DataFrame([_takeoff("town", "none", 0, n=1), _takeoff("town", "hub", 0, n=1)])
    [line] = _takeoff_findings(even, dataclasses.replace(NAMES, sites=["town"]))
    assert "none of the 1 run of any plan does" in line


def test_a_site_without_a_finished_pair_says_so_under_its_heading(tables):
    # the site's heading stood alone: nothing said why it had no paragraph
    effects = tables["effects"][tables["effects"]["site"] == "metro"]
    items = what_this_means(
        effects, tables["takeoff"], tables["cost"].iloc[1:], tables["side"], tables["stops"],
        tables["plans"], NAMES,
    )  # fmt: skip
    at = items.index(("h3", "Small town"))
    kind, text = items[at + 1]
    assert kind == "p" and text == (
        "No plan can be compared with the baseline (No policy) here: no replicate finished "
        "both the baseline and another plan at this site."
    )
    metro = items[items.index(("h3", "Metropolis")) + 1][1]
    assert metro.startswith("Under the baseline (No policy), there are 9,000 creative jobs")
