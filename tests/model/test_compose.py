"""Composing configs: every override form checked, names kept in their folders, typos named."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from clustersim.errors import ConfigError
from clustersim.model.compose import (
    MODEL_GROUPS,
    Composer,
    config_dir,
    did_you_mean,
    load_config,
)


def _error(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config("small_town", overrides=overrides)
    text = str(info.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            ["++talent.revew_rate=0.5"],
            "talent.revew_rate is not a known parameter of talent (++ overrides a key, it "
            "cannot add one); did you mean 'talent.review_rate'?",
        ),
        (["+steps=12"], "steps is already in the config: write steps=12 (without +)"),
        (
            ["+talent.new_rate=1"],
            "+ adds keys to Hydra's open settings and copies policy.<lever>_2 only",
        ),
        (["+policy.festivl_2={start: 1}"], "did you mean 'policy.festival'?"),
        (
            ["policy=[festival]", "+policy.festival_2={start: 1, month_of_yer: 12}"],
            "policy.festival_2.month_of_yer is not a setting of this lever",
        ),
        (["~talent.revew_rate"], "did you mean 'talent.review_rate'?"),
        (
            ["~talent.review_rate"],
            "~talent.review_rate: ~ removes levers, a lever's setting or the plan only "
            "(~policy.<lever>, ~policy.<lever>.<setting>, ~policy, ~plan); talent.review_rate "
            "is set instead (talent.review_rate=...)",
        ),
        (["~steps"], "~steps: ~ removes levers, a lever's setting or the plan only"),
        (["~seed=5"], "~seed: ~ removes levers"),
        (["~city"], "city is set instead (city=...)"),
        (["~hydra.job.name"], "~hydra.job.name: ~ removes levers"),
        (["talent=null"], "talent is a group of parameters, set one at a time"),
        (["city.family=null"], "city.family is a group of parameters, set one at a time"),
        (["city.name=null"], "city.name cannot be null: give it a value"),
        (["talent.revew_rate=0.1"], "did you mean 'talent.review_rate'?"),
        (["hydra_junk=1"], "hydra_junk is not a known parameter; see them all with clustersim"),
        (["plan=obidoss"], "got 'obidoss'; did you mean 'obidos'?"),
        (["plna=obidos"], "plna is not a known parameter; did you mean 'plan'?"),
        (["policy=[festval]"], "policy must be one of broadband,"),
        (["policy.festival.intensity=2"], "switch it on with policy=[festival]"),
        (
            ["plan=obidos", "policy.transport.intensity=2"],
            "switch it on with policy=[broadband,festival,creative_hub,transport]",
        ),
        (["policy=[festival]", "policy.festival.intensty=2"], "'policy.festival.intensity'"),
        (["policy.festval.intensity=2"], "did you mean 'policy.festival.intensity'?"),
        (["hydra.job.nme=x"], "did you mean 'hydra.job.name'?"),
        (["hydra/launcher=slurm", "hydra.launcher.partiton=cpu"], "'hydra.launcher.partition'"),
        (["hydra/launchr=slurm"], "hydra/launchr is not a config group; did you mean"),
        (["steps=abc"], "steps must be an integer, got 'abc'"),
        (["talent.review_rate=null"], "talent.review_rate must be >= 0 and <= 1, got null"),
        (
            ["talent=5"],
            "talent is a group of parameters, set one at a time (talent.<parameter>=...); "
            "got talent=5",
        ),
        (["seed=1,2"], "seed=1,2 is a sweep"),
    ],
)
def test_every_override_form_is_checked_with_a_suggestion(overrides, expected):
    assert expected in _error(overrides)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["city=../../x"], "city takes a name from configs/city/, not a path: got '../../x'"),
        (["plan=../../../../tmp/x/evil_plan"], "plan takes a name from configs/plan/, not a path"),
        (["plan=/tmp/x/evil_plan"], "not a path: got '/tmp/x/evil_plan'"),
        (["policy=[../x]"], "policy takes a name from configs/policy/, not a path: got '../x'"),
        (["policy=[festival,..]"], "not a path: got '..'"),
        (["hydra/launcher=../x"], "hydra/launcher takes a name from Hydra's hydra/launcher group"),
    ],
)
def test_group_choices_resolve_only_inside_their_folder(overrides, expected):
    assert expected in _error(overrides)


def test_a_plan_outside_the_config_folder_is_never_read(tmp_path):
    evil = tmp_path / "evil_plan.yaml"
    evil.write_text("steps: 7\n")
    relative = "../" * len(config_dir().joinpath("plan").parts) + str(evil.with_suffix(""))
    assert "not a path" in _error([f"plan={relative}"])
    with pytest.raises(ConfigError, match=r"city\.graphml"):
        load_config("small_town", overrides=["city=graphml"])  # a GraphML file: an explicit path


def test_checked_composition_equals_hydras_own():
    from hydra import compose, initialize_config_dir

    cases = [
        [],
        ["city=region", "plan=obidos", "steps=24", "seed=3"],
        ["policy=[festival,creative_hub]", "policy.festival.intensity=2", "++steps=12"],
        ["city=metropolis", "firm.agglomeration_cap=null", "~policy"],
        ["plan=talent_first", "policy.talent_attraction.start=3", "talent.review_rate=0.04"],
    ]
    for overrides in cases:
        _, ours = load_config("small_town", overrides=overrides)
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            theirs = compose("config", overrides=["city=small_town", *overrides])
        assert OmegaConf.to_container(ours) == OmegaConf.to_container(theirs), overrides


def test_the_composer_composes_each_choice_of_groups_once():
    composer = Composer()
    first = composer.compose(["city=small_town", "seed=1", "hydra.sweep.dir=/tmp/x"])
    second = composer.compose(["city=small_town", "seed=2"])
    assert (first.seed, second.seed) == (1, 2)
    assert len(composer._bases) == 1
    assert first.hydra.sweep.dir == "/tmp/x"
    assert composer.compose(["+hydra.job.env_set.X=1"]).hydra.job.env_set.X == "1"
    composer.apply(second, ["seed=5"])
    assert second.seed == 5
    with pytest.raises(ConfigError, match="only key=value overrides apply here"):
        composer.apply(second, ["city=metropolis"])


def test_did_you_mean_matches_whole_keys_and_their_last_part():
    assert did_you_mean("obidoss", ["obidos", "mizil"]) == "; did you mean 'obidos'?"
    assert did_you_mean("revew_rate", ["talent.review_rate", "firm.unit_price"]) == (
        "; did you mean 'talent.review_rate'?"
    )
    assert did_you_mean("xyzzy", ["obidos", "mizil"]) == ""
    assert did_you_mean("hydra.launcher.partition", ["hydra.launcher._target_"]) == ""


def test_the_model_groups_are_the_groups_of_the_main_config():
    defaults = OmegaConf.load(config_dir() / "config.yaml").defaults
    groups = {next(iter(d)) for d in defaults if not isinstance(d, str)}
    assert groups == set(MODEL_GROUPS)


def test_a_numbered_copy_of_a_lever_is_added_with_plus():
    """docs/policies.md: +policy.festival_2={...} adds a December festival to the July one."""
    cfg, _ = load_config(
        "obidos",
        "festival",
        steps=12,
        overrides=["+policy.festival_2={start: 1, month_of_year: 12}"],
    )
    assert cfg.policy["festival"]["month_of_year"] == 7
    assert cfg.policy["festival_2"] == {"start": 1, "month_of_year": 12}


def test_tilde_removes_a_lever_and_nothing_else():
    """~steps or ~city used to be ignored without a word (the run went ahead)."""
    cfg, _ = load_config("obidos", overrides=["plan=obidos", "~policy.festival"])
    assert sorted(cfg.policy) == ["broadband", "creative_hub"]
    cfg, _ = load_config("obidos", "festival", overrides=["~policy"])
    assert cfg.policy == {}
    # a lever's setting back to its default, and a plan removed, work as before
    cfg, _ = load_config("small_town", "festival", overrides=["~policy.festival.intensity"])
    assert "intensity" not in cfg.policy["festival"]  # the lever's own default applies
    cfg, _ = load_config("small_town", overrides=["plan=creative_city", "~plan"])
    assert cfg.policy == {}
    # a plan's levers are removed one at a time: ~policy beside a plan says so in words
    with pytest.raises(ConfigError, match=r"^~policy cannot remove the levers plan=obidos"):
        load_config("obidos", overrides=["plan=obidos", "~policy"])
    with pytest.raises(ConfigError, match=r"^~policy cannot remove levers chosen in the same"):
        load_config("obidos", overrides=["policy=[creative_hub]", "~policy"])
