"""A design file's fields are checked before anything runs: one line naming field and value."""

from __future__ import annotations

import pytest
import yaml

from clustersim.errors import ConfigError
from clustersim.experiments.cli import main
from clustersim.experiments.design import Design, available
from clustersim.experiments.design_checks import metric_names
from conftest import write_design

BASE = {
    "name": "t",
    "sites": {"town": {"overrides": ["city=small_town"]}},
    "arms": {"none": ["plan=none"]},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"replicates": "two"}, "replicates must be a whole number >= 1, got 'two'"),
        ({"replicates": 2.5}, "replicates must be a whole number >= 1, got 2.5"),
        ({"steps": "abc"}, "steps must be a whole number >= 1, got 'abc'"),
        ({"root_seed": -1}, "root_seed must be >= 0, got -1"),
        ({"n_jobs": "all"}, "n_jobs must be a whole number (0 or less: every core), got 'all'"),
        ({"title": ["a"]}, "title must be text, got ['a']"),
        (
            {"replicats": 2},
            "replicats is not a design setting; settings: name, kind, title, description, "
            "root_seed, replicates, steps, baseline, n_jobs, common, sites, arms, grid, "
            "analysis, sensitivity, discovery, calibration, optimisation; "
            "did you mean 'replicates'?",
        ),
        (
            {"common": "spin_up.months=0"},
            "common must be a list of overrides ([key=value, ...]), got 'spin_up.months=0'",
        ),
        (
            {"arms": {"none": "plan=none"}},
            "arms.none must be a list of overrides or a mapping (label, overrides, labels, "
            "values), got 'plan=none'",
        ),
        (
            {"sites": {"town": {"lable": "Town", "overrides": ["city=small_town"]}}},
            "sites.town.lable is not a setting; settings: label, overrides, labels; "
            "did you mean 'label'?",
        ),
        (
            {"sites": {"town": {"overrides": "city=small_town"}}},
            "sites.town.overrides must be a list of overrides ([key=value, ...]), "
            "got 'city=small_town'",
        ),
        ({"grid": {"levers": "festival"}}, "grid.levers must be a non-empty list, got 'festival'"),
        ({"analysis": {"ci": 5}}, "analysis.ci must be a level between 0 and 1, got 5"),
        ({"analysis": {"n_boot": 0}}, "analysis.n_boot must be >= 100, got 0"),
        (
            {"analysis": {"takeoff_lq": "abc"}},
            "analysis.takeoff_lq must be a location quotient > 0, got 'abc'",
        ),
        (
            {"analysis": {"takeoff_growth": -1}},
            "analysis.takeoff_growth must be a growth rate > -1, got -1",
        ),
        (
            {"analysis": {"metrics": "creative_employment"}},
            "analysis.metrics must be a non-empty list of metrics, got 'creative_employment'",
        ),
        (
            {"analysis": {"n_bot": 10}},
            "analysis.n_bot is not a setting; settings: metrics, band_metrics, "
            "scaling_metrics, takeoff_lq, takeoff_growth, ci, n_boot, seed; "
            "did you mean 'n_boot'?",
        ),
    ],
)
def test_a_wrong_field_is_refused_in_one_line_naming_it(change, message):
    with pytest.raises(ConfigError) as refused:
        Design.from_mapping({**BASE, **change})
    assert str(refused.value) == message


def test_a_misspelt_metric_is_refused_not_dropped():
    """A typo in analysis.metrics used to vanish from the effects table without a word."""
    with pytest.raises(
        ConfigError, match=r"'creative_employmnt'.*did you mean 'creative_employment'"
    ):
        Design.from_mapping({**BASE, "analysis": {"metrics": ["creative_employmnt", "talents"]}})
    # the bands are drawn from the time series: a whole-run total is not a column there
    with pytest.raises(ConfigError, match="band_metrics names 'innovation_total'"):
        Design.from_mapping({**BASE, "analysis": {"band_metrics": ["innovation_total"]}})


def test_what_was_accepted_before_still_is():
    """Whole numbers written as floats or text, numbers as titles, tuples, x- keys."""
    design = Design.from_mapping(
        {
            **BASE,
            "steps": 24.0,
            "replicates": "2",
            "title": 2.5,
            "x-common": {"anchor": 1},
            "common": ("spin_up.months=0",),
            "arms": {"none": ("plan=none",)},
        }
    )
    assert (design.steps, design.replicates, design.title) == (24, 2, "2.5")
    assert design.common == ("spin_up.months=0",)
    with pytest.raises(ConfigError, match=r"^grid needs levers: \[\.\.\.\] and intensities"):
        Design.from_mapping({**BASE, "grid": {}})


def test_a_levers_spend_is_a_metric_and_a_misspelt_one_is_not():
    """spend_<lever> is a column of the time series; a typo in the lever is refused."""
    names = ["spend_festival", "spend_festival_total", "spend_festival_2_last_year"]
    design = Design.from_mapping(
        {**BASE, "analysis": {"metrics": names, "band_metrics": ["spend_festival"]}}
    )
    assert design.analysis["metrics"] == names
    with pytest.raises(ConfigError, match="names 'spend_festivl_total'"):
        Design.from_mapping({**BASE, "analysis": {"metrics": ["spend_festivl_total"]}})
    with pytest.raises(ConfigError, match="band_metrics names 'spend_festival_total'"):
        Design.from_mapping({**BASE, "analysis": {"band_metrics": ["spend_festival_total"]}})


def test_every_kind_of_metric_the_analysis_computes_is_accepted():
    names = ["innovation_total", "innovation_last_year", "creative_employment_start"]
    design = Design.from_mapping(
        {**BASE, "analysis": {"metrics": [*names, "spend_festival_total"], "n_boot": 100}}
    )
    assert design.analysis["metrics"] == [*names, "spend_festival_total"]
    assert {"creative_employment", "talents", "policy_spend_total"} <= set(metric_names())


def test_shipped_and_saved_designs_pass_the_checks(tmp_path):
    for name in available():
        design = Design.named(name)
        assert Design.load(design.save(tmp_path / f"{name}.yaml")).to_mapping() == (
            design.to_mapping()
        )


def test_the_command_refuses_a_bad_design_before_anything_is_written(tmp_path, capsys):
    path = write_design(tmp_path, analysis={"ci": 5})
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "clustersim-experiment: error: analysis.ci must be a level between 0 and 1, got 5"
    ]
    assert not out.exists()
    good = write_design(tmp_path)
    assert main(["run", "--design", str(good), "--out", str(out), "--root-seed", "-1"]) == 2
    assert "root_seed must be >= 0, got -1" in capsys.readouterr().err
    assert not out.exists()


def test_a_design_file_with_an_unknown_key_names_it(tmp_path):
    raw = yaml.safe_load(write_design(tmp_path).read_text())
    raw["sites"]["town"]["lable"] = "x"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"^sites\.town\.lable is not a setting"):
        Design.load(bad)
