"""The lever registry: every lever complete (config file at its defaults, evidence, label).

Also how levers register (a module under policy/levers/ is all it takes) and
the one-line errors for invalid settings, from Python, Hydra and the command line.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import types
from pathlib import Path

import pytest
import yaml

from clustersim import ConfigError, CreativeClusterModel, load_config
from clustersim.policy import levers as lever_package
from clustersim.policy.lever import Lever, LeverSettings
from clustersim.policy.registry import LEVERS, register_module, register_package, settings_for
from conftest import run_cli, uniform_city

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs" / "policy"


def defaults_differ(name: str, data: dict) -> list[str]:
    """How a lever's config file ``data`` differs from its settings' code defaults."""
    fields = dataclasses.fields(LEVERS[name].Settings)
    defaults = dataclasses.asdict(LEVERS[name].Settings())
    problems = []
    if list(data) != [f.name for f in fields]:
        problems.append(f"settings {list(data)} != {[f.name for f in fields]} (all, in order)")
    for key, value in data.items():
        default = defaults.get(key)
        if value != default or type(value) is not type(default):
            problems.append(f"{key}: {value!r} in the file, {default!r} in the code")
    return problems


def test_every_lever_has_a_config_file_and_every_config_file_a_lever():
    files = {p.stem: p for p in CONFIGS.glob("*.yaml")}
    assert set(files) - {"none"} == set(LEVERS)
    for name, lever in LEVERS.items():
        data = yaml.safe_load(files[name].read_text())
        assert list(data) == [name]
        # every setting, at its default: overrides need no "+" and config.json records them all
        assert data[name] == dataclasses.asdict(lever.Settings()), f"{name}.yaml != defaults"
        settings_for(name, data[name])


@pytest.mark.parametrize("name", sorted(LEVERS))
def test_each_config_file_states_the_code_defaults_in_order_and_type(name):
    """The YAML files are the Hydra group users see; the code is where defaults are decided."""
    data = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())[name]
    problems = defaults_differ(name, data)
    assert not problems, f"configs/policy/{name}.yaml: " + "; ".join(problems)


def test_the_defaults_check_can_fail():
    data = dataclasses.asdict(LEVERS["festival"].Settings())
    assert defaults_differ("festival", data) == []
    changed = {**data, "visitors": 100_000.0}
    assert defaults_differ("festival", changed) == [
        "visitors: 100000.0 in the file, 200000.0 in the code"
    ]
    as_int = {**data, "visitors": 200_000}
    assert defaults_differ("festival", as_int) == [
        "visitors: 200000 in the file, 200000.0 in the code"
    ]
    missing = {k: v for k, v in data.items() if k != "legacy_per_edition"}
    assert defaults_differ("festival", missing)[0].startswith("settings ")


def test_levers_are_listed_in_their_order_main_levers_of_the_app_first_among_equals():
    seeds = [
        "creative_hub",
        "festival",
        "cultural_institution",
        "broadband",
        "transport",
        "talent_attraction",
        "temporary_use",
        "university_partnership",
        "tax_incentive",
        "cluster_management",
        "citizen_involvement",
    ]
    assert list(LEVERS)[: len(seeds)] == seeds  # levers added later come after these


@pytest.mark.parametrize("name", sorted(LEVERS))
def test_every_lever_is_one_module_named_after_it(name):
    lever = LEVERS[name]
    module = sys.modules[lever.__module__]
    assert module.__name__ == f"clustersim.policy.levers.{name}"
    assert module.LEVER is lever
    assert issubclass(lever.Settings, LeverSettings) and lever.Settings is not LeverSettings
    assert lever.Settings.__module__ == module.__name__
    # its label for the classroom app
    assert lever.label and lever.summary.endswith(".")
    assert len(lever.summary) <= 80


def test_a_new_module_in_the_levers_folder_is_registered_by_its_name(tmp_path, monkeypatch):
    (tmp_path / "probe_lever.py").write_text(
        "from clustersim.policy.lever import Lever\n\n"
        "class Probe(Lever):\n"
        '    """A lever that does nothing."""\n\n'
        '    label = "Probe"\n\n'
        "LEVER = Probe\n"
    )
    (tmp_path / "_helper.py").write_text("X = 1\n")  # not a lever: skipped
    monkeypatch.setattr(lever_package, "__path__", [*lever_package.__path__, str(tmp_path)])
    before = list(LEVERS)
    try:
        names = register_package(lever_package.__name__, lever_package.__path__)
        assert "probe_lever" in names and "_helper" not in names
        assert list(LEVERS) == [*before, "probe_lever"]  # after the others (default order)
        model = CreativeClusterModel(rng=0, city=uniform_city(5, 4000), policy={"probe_lever": {}})
        assert type(model.policies[0]).__name__ == "Probe"
    finally:
        LEVERS.pop("probe_lever", None)
        sys.modules.pop(f"{lever_package.__name__}.probe_lever", None)
    assert list(LEVERS) == before


def test_a_module_without_a_lever_is_refused():
    module = types.ModuleType("clustersim.policy.levers.empty")
    with pytest.raises(TypeError, match="must set LEVER = <its Lever subclass>"):
        register_module(module)
    module.LEVER = LeverSettings
    with pytest.raises(TypeError, match="got <class"):
        register_module(module)
    assert "empty" not in LEVERS
    assert issubclass(LEVERS["festival"], Lever)


EVIDENCE = {
    "creative_hub": ["US matched samples"],
    "festival": ["Gomes & Librero-Cano 2018", "Steiner, Frey", "200k visitors"],
    "cultural_institution": ["Gomes & Librero-Cano 2018", "Glaeser, Kolko & Saiz 2001"],
    "broadband": ["Czernich et al. 2011"],
    "transport": ["Qin 2017", "Diao 2018"],
    "talent_attraction": ["Paducah", "$2,500"],
    "temporary_use": ["TUTUR"],
    "university_partnership": ["Valero & Van Reenen 2019"],
    "tax_incentive": ["dependence on subsidies"],
    "cluster_management": ["Falck, Heblich & Kipar 2010"],
    "citizen_involvement": ["Boschma &", "Fritsch 2009"],
}


@pytest.mark.parametrize("name", sorted(LEVERS))
def test_every_lever_docstring_cites_its_evidence(name):
    doc = " ".join((LEVERS[name].__doc__ or "").split())
    if name not in EVIDENCE:  # a lever added later: a study with its year, or "assumption"
        assert re.search(r"\b(19|20)\d\d\b|assumption", doc), f"{name} cites no evidence"
        return
    missing = [cite for cite in EVIDENCE[name] if cite not in doc]
    assert not missing, f"{LEVERS[name].__name__} docstring does not cite {missing}"


def test_cost_scaling_outside_zero_to_one_is_refused():
    with pytest.raises(ConfigError, match=r"policy.transport.cost_scaling must be >= 0 and <= 1"):
        settings_for("transport", {"cost_scaling": 1.5})


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            {"creative_hub": {"cost_once": -5}},
            "policy.creative_hub.cost_once must be >= 0 and <= 1e+10, got -5",
        ),
        ({"festival": {"cost_monthly": -1.0}}, "policy.festival.cost_monthly must be >= 0"),
        (
            {"creative_hub": {"target": ["Nowhere"]}},
            "policy.creative_hub.target: unknown node or rule 'Nowhere'",
        ),
        ({"creative_hub": {"start": 500}}, "policy.creative_hub.start must be <= steps (120)"),
        ({"teleporter": {}}, "policy.teleporter is not a known lever; allowed: creative_hub"),
        ({"festival_x": {}}, "policy.festival_x is not a known lever"),
        ({"festival": {"colour": "red"}}, "policy.festival.colour is not a setting of this lever"),
        (
            {"festival": {"visitors": "many"}},
            "policy.festival.visitors must be a number, got 'many'",
        ),
        ({"festival": {"start": 1.5}}, "policy.festival.start must be an integer, got 1.5"),
        (
            {"festival": {"month_of_year": 13}},
            "policy.festival.month_of_year must be >= 1 and <= 12",
        ),
        ({"creative_hub": {"duration": 0}}, "policy.creative_hub.duration must be >= 1"),
        ({"creative_hub": {"intensity": -1}}, "policy.creative_hub.intensity must be >= 0"),
        ({"creative_hub": {"target": {"a": 1}}}, "policy.creative_hub.target must be a node name"),
        ({"creative_hub": {"target": []}}, "policy.creative_hub.target must name nodes"),
        ({"transport": {"target": ["Testville 0"]}}, "policy.transport.target: no edges"),
    ],
)
def test_invalid_lever_settings_raise_one_line_errors_naming_lever_and_field(policy, message):
    with pytest.raises(ConfigError) as error:
        CreativeClusterModel(rng=0, city=uniform_city(5, 4000), policy=policy)
    text = str(error.value)
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("policy", "overrides", "message"),
    [
        ("[creative_hub]", ["policy.creative_hub.cost_once=-5"], "policy.creative_hub.cost_once"),
        ("[festival]", ["policy.festival.start=30"], "policy.festival.start must be <= steps (24)"),
        ("[festival]", ["policy.festival.visitors=many"], "policy.festival.visitors must be a"),
        ("[teleporter]", [], "policy must be one of"),
        ("[festival]", ["policy.festival=3"], "policy.festival must be a mapping of settings"),
        ("[festival]", ["policy.festival.colour=red"], "policy.festival.colour is not a"),
    ],
)
def test_invalid_settings_through_hydra_are_config_errors(policy, overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config("small_town", policy, steps=24, overrides=overrides)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["policy=[creative_hub]", "policy.creative_hub.target=[Nowhere]"],
            "policy.creative_hub.target: unknown node or rule 'Nowhere'",
        ),
    ],
)
def test_cli_rejects_bad_lever_settings_in_one_line_without_output(tmp_path, args, message):
    proc = run_cli(args, tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert list(tmp_path.iterdir()) == []
