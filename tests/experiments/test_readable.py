"""Readable names: long plan and site names get short ones in the report's tables and figures."""

from __future__ import annotations

import pandas as pd

from clustersim.experiments.design import Design
from clustersim.experiments.figures import figure_effects, figure_takeoff
from clustersim.experiments.readable import (
    SHORT,
    Names,
    effects_table,
    scaling_sentence,
    short_name,
)

A, B = (f"festival_hub_broadband_regional_budget_{year}" for year in (2026, 2027))
LONG = "Festival, creative hub and broadband with a large regional budget from {}"


def _design() -> Design:
    return Design.from_mapping(
        {
            "name": "long_names",
            "baseline": "none",
            "sites": {
                "town": {"label": "Small town of 12,000, 60 minutes from a city of 300,000"},
                "a_very_long_site_code_for_a_city_region_2026": {"overrides": []},
            },
            "arms": {
                "none": {"label": "No policy", "overrides": ["plan=none"]},
                A: {"label": LONG.format(2026), "overrides": []},
                B: {"label": LONG.format(2027), "overrides": []},
            },
        }
    )


def test_names_longer_than_32_characters_get_readable_short_names():
    names = Names.of(_design())
    shown = [names.arm(a) for a in ("none", A, B)]
    assert shown[0] == "No policy"
    assert all(len(n) <= SHORT for n in shown) and len(set(shown)) == 3, shown
    # long labels (of long codes) keep their first and last words: which plan, which year
    assert shown[1].startswith("Festival, creative …") and shown[1].endswith("from 2026")
    assert shown[2].endswith("from 2027")
    assert names.site("town") == "Small town of 12,000"  # a long label's first phrase
    assert names.site("a_very_long_site_code_for_a_city_region_2026") == (
        "a very long site code … 2026"
    )
    # a sweep's settings keep their value and what they set
    assert short_name("x", "policy.cluster_management.intensity = 1.5") == (
        "cluster_managem….intensity = 1.5"
    )
    assert short_name("x", "firm.agglomeration_cap = null") == "firm.agglomeration_cap = null"


def _effects(arms: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"metric": "creative_employment", "site": "town", "arm": arm, "n_pairs": 8,
             "baseline_mean": 100.0, "arm_mean": 100.0 + i, "effect": float(i),
             "ci_low": i - 1.0, "ci_high": i + 1.0, "relative_effect": i / 100, "significant": True,
             "mde": 2.0}
            for i, arm in enumerate(arms, start=1)
        ]
    )  # fmt: skip


def test_tables_and_figures_show_the_short_names():
    names = Names.of(_design())
    effects = _effects([A, B])
    table = effects_table(effects, names)
    assert table["plan"].tolist() == [names.arm(A), names.arm(B)]
    fig = figure_effects(effects, arm_labels=names.arm_names, site_labels=names.site_names)
    ticks = {t.get_text() for ax in fig.axes for t in ax.get_yticklabels()} - {""}
    assert ticks == {names.arm(A), names.arm(B)}
    summary = pd.DataFrame(
        {"site": "town", "arm": [A, B], "runs": 8, "took_off": [1, 2],
         "probability": [1 / 8, 2 / 8], "probability_low": 0.0, "probability_high": 0.5}
    )  # fmt: skip
    fig = figure_takeoff(summary, arm_labels=names.arm_names)
    labels = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_xticklabels()]
    assert labels == [names.arm(A), names.arm(B)]


def test_a_scaling_fit_of_one_city_size_is_said_not_fitted():
    # it read "scaling exponent beta =  (95% interval ; 1 = proportional), R2 = "
    from types import SimpleNamespace

    nan = float("nan")
    fit = SimpleNamespace(
        metric="creative_employment", exponent=nan, ci_low=nan, ci_high=nan, r2=nan, n_runs=2
    )
    assert scaling_sentence(fit) == (
        "Creative employment (jobs): not fitted: a scaling exponent needs runs at two or more "
        "city "
        "sizes (2 run(s) finished)."
    )
    fitted = SimpleNamespace(
        metric="creative_employment", exponent=1.2, ci_low=1.1, ci_high=1.3, r2=0.9, n_runs=8
    )
    assert "grows faster than population (superlinear)" in scaling_sentence(fitted)


def test_a_scaling_exponent_near_zero_is_not_said_to_grow():
    # a wage's exponent of 0.05 [-0.02, 0.12] read "grows more slowly than population",
    # which a reader takes for growth; its interval says it may not grow at all
    from types import SimpleNamespace

    def sentence(low: float, high: float) -> str:
        fit = SimpleNamespace(
            metric="creative_employment",
            exponent=(low + high) / 2,
            ci_low=low,
            ci_high=high,
            r2=0.5,
            n_runs=12,
        )
        return scaling_sentence(fit)

    flat = sentence(-0.02, 0.12)
    assert "cannot be told from staying the same at every city size" in flat
    assert "grows" not in flat.split(";")[0]
    assert "grows more slowly than population (sublinear)" in sentence(0.2, 0.8)
    assert "falls as population grows" in sentence(-0.5, -0.1)
    wide = sentence(-0.3, 1.4)
    assert "staying the same" in wide and "proportion to population" in wide
    assert "cannot be told from growth in proportion" in sentence(0.7, 1.3)


def test_a_sweeps_intensities_are_named_one_way_when_some_labels_are_too_long():
    sweep = Design.named("policy_sweep")
    names = Names.of(sweep)
    assert names.arm("cultural_institution_200") == "cultural institution x2"
    assert names.arm("university_partnership_50") == "university partnership x0.5"
    assert names.arm("festival_100") == "festival x1"  # short enough, but named as the rest
    assert names.arm("none") == "No policy"
    graded = [names.arm(a) for a in sweep.arms if a != "none"]
    assert all(len(n) <= SHORT and " x" in n and "intensity" not in n for n in graded)
    # when every such label fits, they keep it
    few = sweep.with_changes(arms=["festival_50", "festival_200"])
    assert [Names.of(few).arm(a) for a in ("festival_50", "festival_200")] == [
        "festival at intensity 0.5",
        "festival at intensity 2",
    ]


def test_the_shipped_designs_plans_are_called_by_their_labels_not_their_codes():
    import yaml

    from clustersim.experiments.design import available
    from clustersim.model.compose import config_dir

    for name in available():
        raw = yaml.safe_load((config_dir() / "experiment" / f"{name}.yaml").read_text())
        if raw.get("kind", "comparison") not in ("comparison", "policy_sweep"):
            continue  # sampled designs' points are numbered, not labelled (and slow to draw)
        design = Design.named(name)
        names = Names.of(design)
        for code, arm in design.arms.items():
            assert names.arm(code) != code.replace("_", " "), (name, code, arm.label)
