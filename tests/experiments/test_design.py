"""Experiment designs: shipped designs, seeds shared by arms, errors, saving."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim.errors import ConfigError
from clustersim.experiments.calibration import bounds
from clustersim.experiments.calibration_runs import batch_design, point_values, site_defaults
from clustersim.experiments.calibration_space import parse_calibration
from clustersim.experiments.design import DEFAULT_ANALYSIS, Design, available, expected_run_dirs
from clustersim.experiments.optimisation_space import parse_optimisation
from clustersim.experiments.runner import replicate_seed
from clustersim.model.compose import config_dir
from conftest import write_design as _design


def test_shipped_designs_share_replicate_seeds_across_sites_and_arms():
    assert {"town_vs_metropolis", "scaling", "policy_sweep"} <= set(available())
    for name in available():
        design = Design.named(name)
        if design.kind == "calibration":  # its runs come in batches: check one
            settings = parse_calibration(design.calibration)
            point = np.clip(site_defaults(design), *bounds(settings)[:2])
            rows = [point_values(settings.factors, point)]
            design = batch_design(design, rows, "check", design.replicates, design.root_seed)
        if design.kind == "optimisation":  # its plans come in generations: check a plan
            settings = parse_optimisation(design.optimisation)
            rows = [tuple((f.name, f.low) for f in settings.factors)]
            design = batch_design(design, rows, "check", design.replicates, design.root_seed)
        specs = design.specs()
        assert len(specs) == design.n_runs
        by_replicate: dict[int, set[int]] = {}
        for spec in specs:
            by_replicate.setdefault(spec.labels["replicate"], set()).add(spec.seed)
            assert spec.labels["experiment"] == design.name and spec.steps == design.steps
        assert all(len(seeds) == 1 for seeds in by_replicate.values())  # common random numbers
        assert [next(iter(by_replicate[r])) for r in sorted(by_replicate)] == [
            replicate_seed(design.root_seed, r) for r in range(design.replicates)
        ]


def test_flagship_compares_real_plans_in_a_small_town_and_a_metropolis():
    design = Design.named("town_vs_metropolis")
    assert design.kind == "comparison" and design.baseline == "none"
    assert set(design.sites) == {"small_town", "metropolis"}
    assert "city=region" in design.sites["small_town"].overrides
    assert "city=metropolis" in design.sites["metropolis"].overrides
    plans = [
        o.split("=", 1)[1]
        for a in design.arms.values()
        for o in a.overrides
        if o.startswith("plan=")
    ]
    assert len(plans) == len(design.arms) >= 3
    for plan in plans:
        assert (config_dir() / "plan" / f"{plan}.yaml").is_file(), plan
    sweep = Design.named("policy_sweep")
    levers = {a.labels.get("lever") for a in sweep.arms.values()} - {"none"}
    assert levers == {p.stem for p in (config_dir() / "policy").glob("*.yaml")} - {"none"}


def test_scaling_spans_one_shape_of_the_family_from_5000_to_2_million():
    """Issue 10: nothing but population changes along the fit (no generator switch)."""
    design = Design.named("scaling")
    kinds, sizes = set(), []
    for site in design.sites.values():
        city = dict(o.split("=", 1) for o in site.overrides)
        kinds.add(city["city"])
        sizes.append(int(city["city.population"]))
    assert len(kinds) == 1
    assert min(sizes) == 5_000 and max(sizes) == 2_000_000
    metrics = set(design.analysis["scaling_metrics"])
    assert {"creative_employment", "employment", "wage", "mean_rent"} <= metrics


@pytest.mark.slow
def test_every_shipped_design_composes_into_distinct_runs(tmp_path):
    for name in available():
        design = Design.named(name).with_changes(replicates=1)
        if name == "policy_sweep":  # every lever once (intensity only changes one number)
            design = design.with_changes(arms=[a for a in design.arms if a.endswith("_100")])
        dirs = expected_run_dirs(design, tmp_path)
        assert len(set(dirs)) == design.n_runs, name


def test_design_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="baseline must be one of the arms"):
        Design.load(_design(tmp_path, baseline="nothing"))
    with pytest.raises(ConfigError, match="experiment must be one of"):
        Design.named("no_such_experiment")
    design = Design.load(_design(tmp_path))
    with pytest.raises(ConfigError, match="unknown site"):
        design.with_changes(sites=["mars"])
    assert set(design.with_changes(arms=["talent"]).arms) == {"none", "talent"}
    twin = Design.load(
        _design(tmp_path, name="twin", arms={"none": ["plan=none"], "same": ["plan=none"]})
    )
    with pytest.raises(ConfigError, match="resolve to the same model config"):
        expected_run_dirs(twin, tmp_path)


def test_a_saved_design_loads_back_the_same(tmp_path):
    design = Design.load(_design(tmp_path)).with_changes(replicates=2, overrides=["steps=6"])
    path = design.save(tmp_path / "out" / "experiment.yaml")
    assert Design.load(path) == design
    assert [p.name for p in path.parent.iterdir()] == ["experiment.yaml"]  # no temporary left


def test_default_metrics_are_declared_outcomes():
    from clustersim.model.outcomes import OUTCOME_NAMES, flow_names

    for key in ("metrics", "band_metrics", "scaling_metrics"):
        for metric in DEFAULT_ANALYSIS[key]:
            base = metric.removesuffix("_total").removesuffix("_last_year")
            assert metric in OUTCOME_NAMES or base in flow_names(), metric


@pytest.mark.parametrize("name", ["../../../x/evil_design", "/tmp/evil", "sub/design", "a.yaml"])
def test_a_named_design_is_looked_up_only_in_the_experiment_folder(tmp_path, name):
    with pytest.raises(ConfigError, match="not paths") as info:
        Design.named(name)
    assert "--design FILE" in str(info.value)
    with pytest.raises(ConfigError, match=r"did you mean 'town_vs_metropolis'\?"):
        Design.named("town_vs_metropoliss")


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "a/b", "a.b", "..", "-", " x"])
def test_a_design_name_is_a_slug(tmp_path, name):
    with pytest.raises(ConfigError) as info:
        Design.load(_named(tmp_path, name))
    assert str(info.value).startswith("name must hold only letters, digits, _ and -")
    assert repr(name) in str(info.value)


def _named(tmp_path, name):
    """A design file whose ``name:`` is ``name`` (the file itself has a plain name)."""
    import yaml

    path = _design(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["name"] = name
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_broken_design_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: ok\narms:\n  festival: [policy=[festival]]\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml is not valid YAML: .* at line 3"):
        Design.load(bad)
    with pytest.raises(ConfigError, match="no design file at"):
        Design.load(tmp_path / "missing.yaml")
    bad.write_text("kind: comparison\n")
    with pytest.raises(ConfigError, match="a design needs a name"):
        Design.load(bad)
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="a design is a mapping"):
        Design.load(bad)
    bad.write_text("name: x\nreplicates: many\n")
    with pytest.raises(ConfigError, match=r"^replicates must be a whole number >= 1, got 'many'$"):
        Design.load(bad)


def test_an_arm_choosing_a_plan_by_path_is_refused_naming_the_arm(tmp_path):
    design = Design.load(
        _design(tmp_path, arms={"none": ["plan=none"], "evil": ["plan=../../../../tmp/x/evil"]})
    )
    with pytest.raises(ConfigError, match=r"^town/evil: plan takes a name from configs/plan/"):
        expected_run_dirs(design, tmp_path)


def test_arm_values_survive_saving_and_loading_a_design(tmp_path):
    raw = {
        "name": "values",
        "sites": {"town": {"overrides": ["city=small_town"]}},
        "arms": {
            "none": {"overrides": ["plan=none"]},
            "low": {"overrides": ["plan=none"], "values": {"firm.young_exit_hazard": 0.01}},
        },
    }
    design = Design.from_mapping(raw)
    assert design.arms["low"].values == (("firm.young_exit_hazard", 0.01),)
    again = Design.load(design.save(tmp_path / "experiment.yaml"))
    assert again.arms == design.arms
    assert again.spec("town", "low", 0).values == (("firm.young_exit_hazard", 0.01),)
    with pytest.raises(ConfigError, match=r"arms\.low\.values must map parameters to values"):
        Design.from_mapping(raw | {"arms": {"low": {"values": [1, 2]}}})
