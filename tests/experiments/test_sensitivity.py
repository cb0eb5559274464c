"""Sensitivity designs: Ishigami through the pipeline, the shipped screening, resume, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from clustersim.errors import ConfigError
from clustersim.experiments.cli import main, run_experiment
from clustersim.experiments.design import Design, expected_run_dirs
from clustersim.experiments.runner import is_complete
from clustersim.experiments.sensitivity import COLUMNS, OUTPUTS, seed_noise
from clustersim.experiments.sensitivity_space import model_parameters, parse_settings
from clustersim.model.compose import config_dir

BIN = Path(sys.executable).parent

# Ishigami & Homma (1990), a = 7, b = 0.1: first-order and total Sobol indices
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def _toy(method: str, samples: int, **sensitivity) -> Design:
    return Design.from_mapping(
        {
            "name": f"ishigami_{method}",
            "kind": "sensitivity",
            "title": "Ishigami",
            "replicates": 2,
            "sensitivity": {
                "model": "ishigami",
                "method": method,
                "samples": samples,
                "seed": 3,
                **sensitivity,
            },
        }
    )


def _quiet(_line: str) -> None:
    pass


def test_the_pipeline_recovers_the_sobol_indices_of_ishigami(tmp_path):
    outcome = run_experiment(_toy("sobol", 2048), tmp_path / "out", echo=_quiet)
    table = pd.read_parquet(tmp_path / "out" / "sensitivity.parquet")
    assert list(table.columns) == list(COLUMNS)
    assert set(table["method"]) == {"sobol"} and set(table["outcome"]) == {"y"}
    for index, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        got = table[table["index"] == index].set_index("parameter")
        for name, value in truth.items():
            row = got.loc[name]
            assert abs(row["value"] - value) < 0.04, (index, name, row["value"])
            assert row["lower"] - 0.01 <= value <= row["upper"] + 0.01, (index, name)
    noise = pd.read_parquet(tmp_path / "out" / "seed_noise.parquet")
    assert noise.loc[0, "share"] == 0  # a deterministic function has no seed noise
    text = outcome.summary.read_text()
    assert "## What this means" in text and "Sobol indices" in text
    assert (tmp_path / "out" / "figures" / "sobol.png").is_file()
    assert all((tmp_path / "out" / name).is_file() for name in OUTPUTS)


def test_morris_on_ishigami_gives_mu_star_with_intervals_and_sigma(tmp_path):
    outcome = run_experiment(_toy("morris", 60, levels=6), tmp_path / "out", echo=_quiet)
    table = outcome.tables["sensitivity"]
    # two replicates: the mu* seed noise alone would give each parameter's steps, and the
    # sign-flip test of its steps against it
    assert set(table["index"]) == {"mu_star", "mu", "sigma", "noise_mu_star", "noise_p"}
    star = table[table["index"] == "mu_star"].set_index("parameter")
    assert (star["lower"] <= star["value"]).all() and (star["value"] <= star["upper"]).all()
    assert star["value"].min() > 0  # every input of Ishigami matters
    sigma = table[table["index"] == "sigma"].set_index("parameter")["value"]
    assert sigma["x3"] > star.loc["x3", "value"]  # x3 acts only with x1: an interaction
    assert (tmp_path / "out" / "figures" / "morris.png").is_file()
    assert "mu* against sigma" in outcome.summary.read_text()


def test_ranges_default_to_documented_bounds_and_can_be_narrowed():
    settings = parse_settings(
        {"parameters": ["talent.review_rate", "firm.unit_price", "institutions.incubator_months"]}
    )
    review, price, months = settings.factors
    assert (review.low, review.high) == (0.0, 1.0)  # >= 0 and <= 1
    assert 0 < price.low < 0.02e6 and price.high == 1e6  # > 0: kept off the open bound
    assert months.integer and (months.low, months.high) == (1, 2400)
    narrowed = parse_settings(
        {"parameters": ["talent.review_rate"], "ranges": {"talent.review_rate": [0.01, 0.05]}}
    )
    assert (narrowed.factors[0].low, narrowed.factors[0].high) == (0.01, 0.05)
    relative = parse_settings({"parameters": ["talent.review_rate"], "relative_range": 0.5})
    assert (relative.factors[0].low, relative.factors[0].high) == (0.01, 0.03)


def test_assumption_selects_the_parameters_whose_source_says_assumption():
    settings = parse_settings({"parameters": "assumption"})
    params = model_parameters()
    assert settings.names and all("assumption" in params[n][0]["source"] for n in settings.names)
    assert "talent.wage_weight" not in settings.names  # Glaeser, Kolko & Saiz 2001


def _tiny(**sensitivity) -> dict:
    return {
        "name": "tiny_morris",
        "kind": "sensitivity",
        "title": "Tiny screening",
        "root_seed": 11,
        "replicates": 2,
        "steps": 6,
        "n_jobs": 1,
        "sites": {
            "town": {"label": "Town", "overrides": ["city=small_town", "city.population=4000"]}
        },
        "sensitivity": {
            "method": "morris",
            "samples": 2,
            "parameters": ["talent.review_rate", "firm.unit_price"],
            "relative_range": 0.5,
            "outcomes": ["creative_employment", "talents"],
            **sensitivity,
        },
        "analysis": {"n_boot": 100},
    }


def _lines(echoed: list[str], status: str) -> int:
    return sum(1 for line in echoed if f"] {status} " in line)


def test_an_interrupted_sensitivity_run_resumes_without_redoing_finished_runs(tmp_path):
    design = Design.from_mapping(_tiny())
    points = len(design.arms)
    assert points == 2 * 3  # 2 trajectories of k + 1 = 3 points
    out = tmp_path / "out"
    echoed: list[str] = []
    part = run_experiment(design.with_changes(replicates=1), out, echo=echoed.append)
    assert part.ok == points and _lines(echoed, "ok") == points
    first = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/meta.json")}
    echoed.clear()
    whole = run_experiment(design, out, echo=echoed.append)
    assert _lines(echoed, "skipped") == points and _lines(echoed, "ok") == points
    assert whole.ok == 2 * points and not whole.failed
    assert all(p.stat().st_mtime_ns == t for p, t in first.items())  # not recomputed
    runs = pd.read_parquet(out / "runs.parquet")
    # common random numbers: every point of a replicate has the replicate's seed
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()
    assert runs["seed"].nunique() == 2
    noise = whole.tables["seed_noise"].set_index("outcome")
    assert (noise["replicates"] == 2).all() and noise["share"].between(0, 1).all()
    table = pd.read_parquet(out / "sensitivity.parquet")
    # parameters x outcomes x (mu_star, mu, sigma, noise_mu_star, noise_p)
    assert len(table) == 2 * 2 * 5
    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == points and set(samples["point"]) == set(design.arms)


def test_a_saved_design_draws_the_same_sample_points(tmp_path):
    design = Design.from_mapping(_tiny())
    design.save(tmp_path / "experiment.yaml")
    again = Design.load(tmp_path / "experiment.yaml")
    assert again.arms == design.arms and again.sensitivity == design.sensitivity
    spec = again.spec("town", next(iter(again.arms)), 1)
    assert [name for name, _ in spec.values] == ["talent.review_rate", "firm.unit_price"]
    assert again.with_changes(samples=3).n_runs == 3 * 3 * 2


@pytest.mark.slow
def test_the_shipped_morris_screening_runs_as_a_smoke_run(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "morris_small_town", "--samples", "2", "--replicates", "1", "--steps", "12"]
    assert main([*argv, "--n-jobs", "1", "--out", str(out)]) == 0
    design = Design.load(out / "experiment.yaml")
    assert design.sensitivity["month"] == 12  # the design's month 120 is past --steps 12
    names = parse_settings(design.sensitivity).names
    k = len(names)
    assert k > 40 and "institutions.municipality_income" not in names
    table = pd.read_parquet(out / "sensitivity.parquet")
    assert set(table["outcome"]) == {"creative_employment", "creative_share"}
    assert len(table) == k * 2 * 3 and table["value"].notna().all()
    html = (out / "report.html").read_text()
    assert "What this means" in html and 'id="fig-morris"' in html
    assert "could not be measured: one replicate" in html
    assert "smoke run" in html


@pytest.mark.slow
def test_a_sensitivity_design_runs_through_a_hydra_launcher(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(_tiny() | {"replicates": 1}))
    out = tmp_path / "out"
    cmd = [str(BIN / "clustersim-experiment"), "run", "--design", str(path), "--out", str(out)]
    res = subprocess.run(
        [*cmd, "--launcher", "basic"], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert res.returncode == 0, res.stdout + res.stderr
    design = Design.load(out / "experiment.yaml")
    assert all(is_complete(d) for d in expected_run_dirs(design, out / "runs"))
    assert (out / "sensitivity.parquet").is_file()
    metas = [json.loads(p.read_text()) for p in (out / "runs").glob("*/meta.json")]
    assert sorted(m["labels"]["arm"] for m in metas) == sorted(design.arms)
    echoed: list[str] = []
    run_experiment(design, out, echo=echoed.append)  # the local driver finds them done
    assert _lines(echoed, "skipped") == len(design.arms)


BAD = [
    (
        {"parameters": ["talent.revew_rate"]},
        ["sensitivity.parameters", "'talent.revew_rate'", "talent.review_rate"],
    ),
    (
        {"ranges": {"talent.review_rate": [0.0, 2.0]}},
        ["sensitivity.ranges.talent.review_rate", ">= 0 and <= 1", "2.0"],
    ),
    ({"method": "fast"}, ["sensitivity.method", "morris, sobol", "'fast'"]),
    ({"samples": 0}, ["sensitivity.samples", ">= 1", "0"]),
    ({"model": "os.system"}, ["sensitivity.model", "clustersim, ishigami", "'os.system'"]),
    ({"relative_range": 3}, ["sensitivity.relative_range", "<= 1", "3"]),
    ({"against": "plan=none"}, ["sensitivity.against", "non-empty list of overrides", "'plan="]),
    ({"against": []}, ["sensitivity.against", "non-empty list of overrides", "[]"]),
    ({"against": ["plan"]}, ["sensitivity.against", "KEY=VALUE", "'plan'"]),
    ({"against": ["plan=nowhere"]}, ["plan", "nowhere"]),
]


@pytest.mark.parametrize(("change", "words"), BAD, ids=[str(c) for c, _ in BAD])
def test_bad_input_is_one_line_naming_the_field_and_nothing_is_written(
    tmp_path, capsys, change, words
):
    raw = _tiny()
    raw["sensitivity"].update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(w in err for w in words), err
    assert not out.exists()


def test_samples_below_one_on_the_command_line_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "morris_small_town", "--samples", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        len(err.splitlines()) == 1 and "sensitivity.samples must be an integer >= 1, got 0" in err
    )
    assert not out.exists()
    assert main(["run", "town_vs_metropolis", "--samples", "2", "--out", str(out)]) == 2
    assert "--samples applies to sensitivity, discovery, calibration" in capsys.readouterr().err
    assert not out.exists()


def test_the_shipped_screening_varies_the_assumptions_within_their_bounds():
    raw = yaml.safe_load((config_dir() / "experiment" / "morris_small_town.yaml").read_text())
    assert raw["kind"] == "sensitivity" and raw["sensitivity"]["method"] == "morris"
    settings = parse_settings(raw["sensitivity"])
    params = model_parameters()
    for f in settings.factors:
        meta = params[f.name][0]
        assert "assumption" in meta["source"]
        assert f.low < f.high
        assert meta["ge"] is None or f.low >= meta["ge"]
        assert meta["le"] is None or f.high <= meta["le"]
        assert meta["gt"] is None or f.low > meta["gt"]
        assert meta["lt"] is None or f.high < meta["lt"]
    design = Design.from_mapping(raw)
    assert design.n_runs == raw["replicates"] * len(design.arms)
    assert np.isclose(len(design.arms), 10 * (len(settings.factors) + 1), rtol=0.05)


def _noise(values: np.ndarray, method: str = "morris") -> pd.DataFrame:
    settings = SimpleNamespace(method=method, levels=4)
    return seed_noise(SimpleNamespace(values={"y": values}, settings=settings))


def test_the_seed_noise_share_is_an_analysis_of_variance_bounded_by_one():
    rng = np.random.default_rng(0)
    for _ in range(200):  # parameters that do nothing: chance alone, two replicates
        values = rng.normal(size=(2, 6))  # rows: replicates; columns: sample points
        share = _noise(values).loc[0, "share"]
        assert 0 < share <= 1
    # replicates differ by 2, points by 1: within 2; point means (1, 2) vary by 0.5,
    # less than chance alone gives them (2 / 2 replicates): the parameters add nothing
    weak = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert _noise(weak).loc[0, "share"] == 1.0
    strong = np.array([[0.0, 10.0], [1.0, 11.0]])  # points differ by 10, replicates by 1
    got = _noise(strong).iloc[0]
    assert got["within_variance"] == pytest.approx(0.5)
    assert got["between_variance"] == pytest.approx(50 - 0.25)
    assert got["share"] == pytest.approx(0.5 / 50.25)


def test_mu_star_from_seed_noise_is_what_chance_gives_each_parameters_steps():
    # parameters with no effect of their own, pure noise of known size at every run: SALib's
    # mu* of the replicate means and the noise mu* measured step by step agree
    from clustersim.experiments.sensitivity import Sample, analyse_sample
    from clustersim.experiments.sensitivity_space import NOISE_INDEX, point_arms, sample

    settings = parse_settings(
        {
            "parameters": ["firm.unit_price", "talent.review_rate", "labour.search_rate"],
            "samples": 400,
            "levels": 20,
            "relative_range": 0.5,
        }
    )  # fmt: skip  (20 levels: few points met by two trajectories)
    x = sample(settings)
    points, rows = point_arms(settings, x)
    rng = np.random.default_rng(2)
    sd, replicates = 10.0, 3
    values = rng.normal(scale=sd, size=(replicates, len(points)))
    got = analyse_sample(
        Sample(settings, x, rows, [n for n, _ in points], 120, {"creative_employment": values})
    ).pivot(index="parameter", columns="index", values="value")
    expected = np.sqrt(2 * sd**2 / replicates) * np.sqrt(2 / np.pi) / (20 / 38)
    assert got[NOISE_INDEX].to_numpy() == pytest.approx([expected] * 3, rel=0.06)
    assert got["mu_star"].to_numpy() == pytest.approx(got[NOISE_INDEX].to_numpy(), rel=0.15)
    # the sign-flip test: chance for the three; a real effect of one of them is found
    from clustersim.experiments.sensitivity import noise_test

    sample_ = Sample(
        settings, x, rows, [n for n, _ in points], 120, {"creative_employment": values}
    )
    assert min(noise_test(sample_, "creative_employment").values()) > 0.01
    price = np.array([dict(v)["firm.unit_price"] for _, v in points])
    moved = values + 5.0 * (price - 2000.0) / 1000.0  # 10 jobs across the range, noise sd 10
    sample_ = Sample(settings, x, rows, [n for n, _ in points], 120, {"creative_employment": moved})
    p_values = noise_test(sample_, "creative_employment")
    assert p_values["firm.unit_price"] == pytest.approx(1 / 1000)
    assert p_values["talent.review_rate"] > 0.01
    # one replicate: no noise to measure, no row
    one = Sample(
        settings, x, rows, [n for n, _ in points], 120, {"creative_employment": values[:1]}
    )
    assert NOISE_INDEX not in set(analyse_sample(one)["index"])


def test_the_morris_figure_names_close_parameters_without_printing_names_over_each_other():
    from clustersim.experiments.sensitivity_report import figure_morris

    rows = []
    for i, (mu, sigma) in enumerate([(30, 40), (31, 41), (29, 39.5), (30.5, 40.2), (120, 100)]):
        for index, value in (("mu_star", mu), ("sigma", sigma), ("mu", -mu)):
            rows.append({"parameter": f"group.parameter_{i}", "outcome": "creative_employment",
                         "method": "morris", "index": index, "value": value,
                         "lower": value - 5, "upper": value + 5})  # fmt: skip
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure_morris(pd.DataFrame(rows), ["creative_employment"])
    fig.draw_without_rendering()
    renderer = FigureCanvasAgg(fig).get_renderer()
    names = [t for t in fig.axes[0].texts if t.get_text().startswith("group.")]
    assert sorted(t.get_text() for t in names) == [f"group.parameter_{i}" for i in range(5)]
    boxes = [t.get_window_extent(renderer) for t in names]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :]), names[i].get_text()


def test_first_order_indices_above_one_are_called_noise_not_one_at_a_time():
    """A smoke run's S1 summing to 1.86 was read as 'the parameters act mostly one at a time'."""
    from clustersim.experiments.sensitivity_sentences import _sobol_sentences

    def said(s1: list[float]) -> str:
        wide = pd.DataFrame(
            {"ST": 0.5, "ST_lower": 0.2, "ST_upper": 0.8, "S1": s1}, index=["a", "b", "c"]
        )
        return _sobol_sentences(wide, "creative employment")[-1]

    assert said([0.9, 0.6, 0.36]).startswith("First-order effects add up to 1.86: more than")
    assert "sample is too small" in said([0.9, 0.6, 0.36])
    assert said([0.5, 0.3, 0.1]).endswith("the parameters act mostly one at a time.")
    assert said([0.3, 0.2, 0.1]).endswith("comes from parameters acting together.")


def _hub_effect(**sensitivity) -> dict:
    """A town with the creative-city plan (levers from month 12); comparisons without policy."""
    settings = {
        "parameters": ["firm.unit_price", "policy.creative_hub.boost"],
        "outcomes": ["creative_employment"],
        "against": ["plan=none"],
    }
    raw = _tiny(**{**settings, **sensitivity})
    raw["sites"]["town"]["overrides"] += ["plan=creative_city"]
    raw["steps"] = 18
    raw["common"] = ["spin_up.months=0"]
    return raw


def test_against_makes_the_outcomes_the_plans_effect_at_each_point(tmp_path):
    design = Design.from_mapping(_hub_effect())
    points = [a for a in design.arms if not a.endswith("_against")]
    others = [a for a in design.arms if a.endswith("_against")]
    assert len(points) == 2 * 3
    # the comparison runs take the points' model parameters, not the lever's settings: a
    # Morris step along the hub's boost needs no comparison run of its own
    prices = {dict(design.arms[p].values)["firm.unit_price"] for p in points}
    assert len(others) == len(prices) < len(points)
    for name in others:
        assert design.arms[name].overrides == ("plan=none",)
        assert list(dict(design.arms[name].values)) == ["firm.unit_price"]
    from clustersim.experiments.runner import compose_config

    spec = design.spec("town", others[0], 0)
    assert compose_config(spec.overrides, seed=0, values=spec.values).policy == {}
    out = tmp_path / "out"
    echoed: list[str] = []
    outcome = run_experiment(design, out, echo=echoed.append)
    assert outcome.ok == 2 * len(design.arms) and not outcome.failed
    shape = f"(1 site x (6 sample points + {len(others)} comparisons) x 2 replicates)"
    assert shape in echoed[0], echoed[0]
    ts = pd.read_parquet(out / "timeseries.parquet")
    at = ts[ts["step"] == design.steps].set_index(["replicate", "arm"])["creative_employment"]
    price = {dict(design.arms[a].values)["firm.unit_price"]: a for a in others}

    def against(p: str) -> str:
        return price[dict(design.arms[p].values)["firm.unit_price"]]

    effects = {
        p: float(np.mean([at[(r, p)] - at[(r, against(p))] for r in range(2)])) for p in points
    }
    samples = pd.read_parquet(out / "samples.parquet").drop_duplicates("point")
    got = dict(zip(samples["point"], samples["creative_employment"], strict=True))
    assert got == pytest.approx(effects)
    assert any(v != 0 for v in effects.values())  # the plan changed something in 6 months
    md = outcome.summary.read_text()
    assert "the plan's effect on creative employment" in md
    assert "less a run with plan=none at the same parameters and seed" in md
    assert "Effect on creative employment (jobs): indices" in md
    # scenario discovery on the same runs searches the sample points, not their comparisons
    assert main(["discover", str(out)]) in (0, 1)
    runs = pd.read_parquet(out / "discovery" / "discovery_runs.parquet")
    assert set(runs["arm"]) == set(points)


def test_discover_on_comparisons_counts_only_the_sample_points_runs(tmp_path, capsys):
    design = Design.from_mapping(_hub_effect())
    out = tmp_path / "out"
    run_experiment(design, out, echo=lambda _: None)
    points = [a for a in design.arms if not a.endswith("_against")]
    summary = out / "discovery" / "summary.md"
    dirs = list(zip(design.specs(), expected_run_dirs(design, out / "runs"), strict=True))
    # a comparison run gone is none of the discovery's runs: not counted, not missing
    shutil.rmtree(next(d for spec, d in dirs if spec.labels["arm"] not in points))
    assert main(["discover", str(out)]) == 0
    assert f"; {2 * len(points)} runs ok;" in summary.read_text()
    assert "failed or are missing" not in summary.read_text()
    # a sample point's run gone is one of them
    shutil.rmtree(next(d for spec, d in dirs if spec.labels["arm"] in points))
    assert main(["discover", str(out)]) == 1
    assert f"; {2 * len(points) - 1} runs ok;" in summary.read_text()
    assert (
        "1 run(s) failed or are missing (see runs.parquet of the design) and are left out; "
        "run the design again to finish them (clustersim-experiment run), then discover again."
    ) in summary.read_text()
    # only comparison runs left: nothing to search, said in one line
    for spec, d in dirs:
        if spec.labels["arm"] in points and d.exists():
            shutil.rmtree(d)
    capsys.readouterr()
    assert main(["discover", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no sample point's run has finished; run the design first" in err
    assert "Traceback" not in err


def test_against_needs_clustersim():
    with pytest.raises(ConfigError, match=r"sensitivity\.against compares runs of clustersim"):
        parse_settings({"model": "ishigami", "against": ["plan=none"]})


def test_assumption_in_a_list_stands_for_the_assumptions_beside_the_names_listed():
    alone = parse_settings({"parameters": "assumption"}).names
    listed = parse_settings(
        {"parameters": ["rent.income_elasticity", "assumption", "policy.creative_hub.boost"]}
    ).names
    assert listed == ["rent.income_elasticity", *alone, "policy.creative_hub.boost"]
    with pytest.raises(ConfigError, match="must name the toy model's parameters"):
        parse_settings({"model": "ishigami", "parameters": ["assumption"]})


def test_the_shipped_plan_screening_compares_each_point_with_no_policy():
    design = Design.named("morris_creative_city")
    settings = parse_settings(design.sensitivity)
    assert settings.against == ("plan=none",)
    names = settings.names
    assert "rent.income_elasticity" in names and "policy.creative_hub.boost" in names
    levers = [n for n in names if n.startswith("policy.")]
    plan = {"creative_hub", "festival", "broadband", "cluster_management"}
    assert {n.split(".")[1] for n in levers} == plan
    points = [a for a in design.arms if not a.endswith("_against")]
    others = [a for a in design.arms if a.endswith("_against")]
    assert len(points) == settings.samples * (len(names) + 1)
    # a Morris step along a lever setting shares its comparison run: one fewer per setting
    assert len(others) == settings.samples * (len(names) + 1 - len(levers))
    # every run of the first point and its comparison composes (the levers are on at the
    # site, and off in the comparison)
    from clustersim.experiments.runner import compose_config

    first = design.spec("small_town", points[0], 0)
    assert set(compose_config(first.overrides, seed=0, values=first.values).policy) == plan
    other = design.spec("small_town", others[0], 0)
    assert compose_config(other.overrides, seed=0, values=other.values).policy == {}


def _refused(raw: dict, tmp_path, capsys) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert not out.exists()
    return err


def test_against_that_does_not_remove_what_the_site_does_is_refused(tmp_path, capsys):
    # a review found the comparison runs keeping the hub on (at its default boost) when the
    # site switched it on with policy=[...], which plan=none does not undo
    raw = _hub_effect()
    raw["sites"]["town"]["overrides"][-1] = "policy=[creative_hub]"
    err = _refused(raw, tmp_path, capsys)
    assert "sensitivity.against [plan=none] leaves the lever(s) creative_hub on" in err
    assert "switch the site's levers on with a plan (plan=...)" in err
    # a lever's setting among the site's overrides: the comparison runs cannot take it
    raw["sites"]["town"]["overrides"][-1:] = ["plan=creative_city", "policy.creative_hub.start=1"]
    err = _refused(raw, tmp_path, capsys)
    assert "the comparison runs take the site's overrides too, and do not compose" in err
    assert "policy.creative_hub.start is a setting of the creative_hub lever, which is off" in err
    # a site without a plan: the comparison changes nothing
    raw = _hub_effect(parameters=["firm.unit_price", "talent.review_rate"])
    raw["sites"]["town"]["overrides"].remove("plan=creative_city")
    err = _refused(raw, tmp_path, capsys)
    assert "sensitivity.against [plan=none] changes nothing at site town" in err
    # an override of a parameter the sample varies would do nothing
    raw = _hub_effect(against=["plan=none", "firm.unit_price=2000"])
    err = _refused(raw, tmp_path, capsys)
    assert "'firm.unit_price=2000' sets firm.unit_price, which the sample varies" in err


def test_a_missing_comparison_run_is_counted_once_and_its_points_have_no_effect():
    # a review found one failed comparison run counted as a missing run per point sharing it
    from clustersim.experiments.sensitivity import missing_points, outcomes_from_runs

    design = Design.from_mapping(_hub_effect())
    rows = [
        {"arm": arm, "replicate": r, "step": design.steps, "creative_employment": 10.0}
        for arm in design.arms
        for r in range(design.replicates)
    ]
    shared = next(
        a
        for a in design.arms
        if a.endswith("_against")
        and sum(
            1
            for p in design.arms
            if not p.endswith("_against")
            and dict(design.arms[p].values)["firm.unit_price"]
            == dict(design.arms[a].values)["firm.unit_price"]
        )
        > 1
    )
    gone = [r for r in rows if not (r["arm"] == shared and r["replicate"] == 0)]
    assert missing_points(outcomes_from_runs(design, pd.DataFrame(gone))) == {
        "runs": 1,
        "points": 0,
    }
    gone = [r for r in rows if r["arm"] != shared]
    found = missing_points(outcomes_from_runs(design, pd.DataFrame(gone)))
    assert found["runs"] == 2 and found["points"] >= 2


def test_one_trajectory_gives_no_empty_morris_figure(tmp_path):
    # the smoke run of the docs (--samples 1) drew axes with a dashed line and no point:
    # sigma needs two trajectories
    outcome = run_experiment(_toy("morris", 1), tmp_path / "out", echo=_quiet)
    md = outcome.summary.read_text()
    assert "No figure: sigma, the spread of a parameter's elementary effects, needs two" in md
    assert not (tmp_path / "out" / "figures" / "morris.png").exists()


def test_morris_rankings_within_seed_noise_are_said_to_measure_chance():
    # the screening of a plan's effect ranked 81 parameters as "driving" it while seed
    # noise alone gave their steps a mu* of up to 21 jobs, against the largest 23
    from clustersim.experiments.sensitivity_sentences import outcome_sentences

    def table(lower_a: float) -> pd.DataFrame:
        rows = []
        for p, star, low, floor, p_value in (
            ("a", 23.0, lower_a, 17.0, 0.04),
            ("b", 20.0, 12.0, 15.0, 0.3),
        ):
            rows += [
                (p, "creative_employment", "morris", "mu_star", star, low, 35.0),
                (p, "creative_employment", "morris", "mu", 1.0, np.nan, np.nan),
                (p, "creative_employment", "morris", "sigma", 30.0, np.nan, np.nan),
                (p, "creative_employment", "morris", "noise_mu_star", floor, np.nan, np.nan),
                (p, "creative_employment", "morris", "noise_p", p_value, np.nan, np.nan),
            ]
        return pd.DataFrame(rows, columns=list(COLUMNS))

    noise = pd.DataFrame(
        [{"outcome": "creative_employment", "replicates": 2, "points": 100, "share": 0.8}]
    )
    settings = parse_settings({"parameters": ["firm.unit_price"]})
    lead = outcome_sentences(table(14.0), noise, settings)[0]
    assert "no parameter stands clear of chance" in lead
    assert "a mu* of 15.1 jobs to 16.9 jobs (5th to 95th percentile)" in lead
    assert "no mu* interval lies wholly above 16.9 jobs" in lead
    assert "finds 1 of 2 below 5%, where chance alone gives about 0.1" in lead
    assert "a (23 jobs), b (20 jobs)" in lead
    lead = outcome_sentences(table(18.0), noise, settings)[0]
    assert lead == "**Creative employment** is driven most by a."


def test_no_chance_sentence_where_chance_is_not_why_no_parameter_drives():
    # a review found the chance sentence for a deterministic model (equal replicates gave
    # a noise of 1e-16 with three of them) and where the 10%-of-the-largest rule, not the
    # noise, left no driver
    from clustersim.experiments.sensitivity import Sample, analyse_sample
    from clustersim.experiments.sensitivity_sentences import outcome_sentences
    from clustersim.experiments.sensitivity_space import NOISE_INDEX, point_arms, sample

    settings = parse_settings({"parameters": ["firm.unit_price", "talent.review_rate"]})
    x = sample(settings)
    points, rows = point_arms(settings, x)
    same = np.tile(np.linspace(0.1, 0.9, len(points)) / 3, (3, 1))  # 3 equal replicates
    table = analyse_sample(
        Sample(settings, x, rows, [n for n, _ in points], 120, {"creative_employment": same})
    )
    assert (table.loc[table["index"] == NOISE_INDEX, "value"] == 0).all()
    noise = pd.DataFrame([{"outcome": "creative_employment", "replicates": 3, "share": 0.0}])

    def rows_of(p: str, star: float, low: float, floor: float, p_value: float) -> list:
        return [
            (p, "creative_employment", "morris", "mu_star", star, low, star * 2),
            (p, "creative_employment", "morris", "mu", star, np.nan, np.nan),
            (p, "creative_employment", "morris", "sigma", 1.0, np.nan, np.nan),
            (p, "creative_employment", "morris", "noise_mu_star", floor, np.nan, np.nan),
            (p, "creative_employment", "morris", "noise_p", p_value, np.nan, np.nan),
        ]

    wide_interval = pd.DataFrame(
        rows_of("a", 100.0, 5.0, 1.0, 0.001) + rows_of("b", 4.0, 3.0, 0.8, 0.001),
        columns=list(COLUMNS),
    )
    lead = outcome_sentences(wide_interval, noise, settings)[0]
    assert "no parameter stands clear of the others" in lead
    assert "chance" not in lead
