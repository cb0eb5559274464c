"""Local action plans (configs/plan/): each composes with its town and a small town, runs, spends.

A plan with a university partnership runs in a small town next to a city (a small town on
its own has no university to partner with, and refuses it).

Also runs ``clustersim policy=[creative_hub,festival]`` for real and reads the
spend per lever back from timeseries.parquet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clustersim import ConfigError, load_config, simulate
from clustersim.model.city import PRESETS
from clustersim.model.simulate import run_config
from clustersim.policy.registry import LEVERS
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
PLAN_DIR = ROOT / "configs" / "plan"
PLANS = sorted(p.stem for p in PLAN_DIR.glob("*.yaml"))


def declared_levers(plan: str) -> list[str]:
    """The levers a plan file chooses in its defaults list."""
    data = yaml.safe_load((PLAN_DIR / f"{plan}.yaml").read_text()) or {}
    for entry in data.get("defaults", []):
        if isinstance(entry, dict) and "override /policy" in entry:
            return list(entry["override /policy"])
    return []


def _small_town(plan: str) -> str:
    return "region" if "university_partnership" in declared_levers(plan) else "small_town"


CASES = [(plan, city) for plan in PLANS for city in dict.fromkeys([plan, _small_town(plan)])]
CASES = [(plan, city) for plan, city in CASES if city in ("small_town", "region", *PRESETS)]
#: the region's large city kept small: the test is about the plan, not the city
REGION = ["city.population=12000", "city.city_population=60000"]


def test_every_partner_town_has_a_plan_and_every_plan_is_an_override_file():
    assert set(PRESETS) <= set(PLANS)
    for plan in PLANS:
        text = (PLAN_DIR / f"{plan}.yaml").read_text()
        assert text.startswith("# @package _global_\n"), plan
        assert set(declared_levers(plan)) <= set(LEVERS), plan


@pytest.mark.parametrize(("plan", "city"), CASES)
def test_plan_composes_with_the_town_runs_24_months_and_spends(plan, city):
    overrides = [f"plan={plan}", *(REGION if city == "region" else [])]
    cfg, _ = load_config(city, steps=24, seed=0, overrides=overrides)
    levers = declared_levers(plan)
    assert list(cfg.policy) == levers
    result = run_config(cfg)
    t = result.timeseries
    assert list(t["step"]) == list(range(25))
    spend = [f"spend_{lever}" for lever in levers]
    assert [c for c in t if c.startswith("spend_")] == spend
    np.testing.assert_allclose(t[spend].sum(axis=1), t["policy_spend"])
    assert (t["municipal_budget"] >= 0).all()
    policies = result.policies.set_index("policy")
    assert list(policies.index) == levers
    if levers:
        assert t["policy_spend"].sum() > 0
        # every lever of the plan starts within two years and pays for itself
        assert (policies["spent"] > 0).all(), policies
        np.testing.assert_allclose(t[spend].sum().to_numpy(), policies["spent"].to_numpy())
    else:
        assert t["policy_spend"].sum() == 0


def test_a_plan_with_a_university_partnership_is_refused_in_a_town_without_one():
    plans = [plan for plan in PLANS if _small_town(plan) == "region"]
    assert "talent_first" in plans
    cfg, _ = load_config("small_town", steps=24, overrides=["plan=talent_first"])
    with pytest.raises(ConfigError, match=r"^policy\.university_partnership: this region has no"):
        run_config(cfg)


def test_plan_settings_override_the_lever_defaults():
    cfg, _ = load_config("obidos", steps=24, overrides=["plan=obidos"])
    assert cfg.policy["festival"]["start"] == 1
    assert cfg.policy["festival"]["cost_per_edition"] == 250_000
    assert cfg.institutions.municipality_budget == 6_000_000
    cfg, _ = load_config(
        "obidos", steps=24, overrides=["plan=obidos", "policy.festival.cost_per_edition=500000"]
    )
    assert cfg.policy["festival"]["cost_per_edition"] == 500_000


def test_clustersim_runs_levers_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    args = [
        "policy=[creative_hub,festival]",
        "steps=24",
        "seed=1",
        "city.population=5000",
        f"hydra.run.dir={out}",
    ]
    proc = run_cli(args, tmp_path)
    assert proc.returncode == 0, proc.stderr
    t = pd.read_parquet(out / "timeseries.parquet")
    assert {"spend_creative_hub", "spend_festival"} <= set(t.columns)
    # both start in month 12 (their config default); the festival's July edition is month 19
    assert t.loc[t["step"] < 12, ["spend_creative_hub", "spend_festival"]].eq(0).all().all()
    assert t.loc[t["step"] == 12, "spend_creative_hub"].item() == 600_000 + 15_000
    assert t.loc[t["step"] == 19, "spend_festival"].item() == 250_000
    np.testing.assert_allclose(t["spend_creative_hub"] + t["spend_festival"], t["policy_spend"])
    policies = pd.read_parquet(out / "policies.parquet")
    assert policies["policy"].tolist() == ["creative_hub", "festival"]
    firms = pd.read_parquet(out / "firms.parquet")
    assert firms["ever_incubated"].any()


def test_spend_per_lever_sums_to_policy_spend_and_to_the_budget_drawn():
    result = simulate("obidos", steps=24, seed=0, overrides=["plan=obidos", "city.population=6000"])
    t = result.timeseries
    spend = t[[c for c in t if c.startswith("spend_")]]
    assert list(spend) == ["spend_broadband", "spend_festival", "spend_creative_hub"]
    np.testing.assert_allclose(spend.sum(axis=1), t["policy_spend"])
    np.testing.assert_allclose(-t["municipal_budget"].diff().iloc[1:], t["policy_spend"].iloc[1:])
    assert (spend.sum() > 0).all()
    np.testing.assert_allclose(spend.sum().to_numpy(), result.policies["spent"].to_numpy())
