"""Scenario discovery: PRIM finds a known box, the report says it plainly, resume, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from clustersim.experiments.cli import main, run_experiment
from clustersim.experiments.design import Design
from clustersim.experiments.discovery import OUTPUTS, discover, settings_for, toy_runs
from clustersim.experiments.discovery_space import parse_discovery, sample
from clustersim.experiments.toy_models import BOX_TOY

pytest.importorskip("ema_workbench")


def _toy(root_seed: int = 3, **discovery) -> dict:
    return {
        "name": "box_discovery",
        "kind": "discovery",
        "title": "Where does the toy succeed?",
        "root_seed": root_seed,
        "replicates": 2,
        "discovery": {
            "model": "box_toy",
            "samples": 300,
            "outcome": "y",
            "above": 0.5,
            **discovery,
        },
    }


def _quiet(_line: str) -> None:
    pass


@pytest.mark.parametrize("root_seed", [1, 2, 3])
def test_prim_finds_the_known_box_and_ranks_its_inputs_first(root_seed):
    design = Design.from_mapping(_toy(root_seed))
    settings = settings_for(design)
    found = discover(toy_runs(design, settings), settings)
    box = found.boxes[found.boxes["box"] == 1].set_index("parameter")
    assert set(box.index) == {"x1", "x2"}  # x3 and x4 do not matter and are left free
    (x1_low, _), (_, x2_high) = BOX_TOY["x1"], BOX_TOY["x2"]
    assert abs(box.loc["x1", "low"] - x1_low) < 0.07 and box.loc["x1", "high"] == 1.0
    assert abs(box.loc["x2", "high"] - x2_high) < 0.07 and box.loc["x2", "low"] == 0.0
    assert box["density"].iloc[0] >= 0.8 and box["coverage"].iloc[0] > 0.6
    assert (box["reaches"]).all()
    assert box.loc["x1", "qp_low"] < 1e-3 and box.loc["x2", "qp_high"] < 1e-3
    scores = found.scores.set_index("parameter")["score"]
    assert min(scores["x1"], scores["x2"]) > 0.25 > max(scores["x3"], scores["x4"])
    assert scores.sum() == pytest.approx(1.0)
    chosen = found.peeling[found.peeling["chosen"]]
    assert len(chosen) == 1 and chosen["density"].iloc[0] == box["density"].iloc[0]
    # the box reported has the widest coverage among the boxes dense enough
    dense = found.peeling[found.peeling["density"] >= 0.8]
    assert chosen["coverage"].iloc[0] == dense["coverage"].max()


def test_the_latin_hypercube_covers_every_range_evenly():
    s = parse_discovery({"model": "box_toy", "samples": 50, "outcome": "y", "above": 0.5})
    x = sample(s)
    assert x.shape == (50, 4)
    strata = np.floor(x * 50).astype(int)  # one point in each fiftieth of every range
    assert all(sorted(strata[:, j]) == list(range(50)) for j in range(4))


def test_a_toy_discovery_writes_its_tables_and_a_plain_report(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(_toy()))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 0
    for name in OUTPUTS:
        assert (out / f"{name}.parquet").is_file()
    runs = pd.read_parquet(out / "discovery_runs.parquet")
    assert len(runs) == 300 * 2 and set(runs["replicate"]) == {0, 1}
    md = (out / "summary.md").read_text()
    assert "## What this means" in md and "Box 1 restricts x" in md
    assert "x1 to at least 0.5" in md and "x2 to at most 0." in md
    assert "coverage" in md and "mass" in md
    assert "Feature scores rank x" in md
    html = (out / "report.html").read_text()
    assert 'id="fig-tradeoff"' in html and 'id="fig-scores"' in html
    assert (out / "tables" / "boxes.csv").is_file()


def test_discover_rewrites_the_report_with_other_settings(tmp_path, capsys):
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(_toy()))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 0
    first = pd.read_parquet(out / "boxes.parquet")
    assert main(["discover", str(out), "--min-density", "0.95"]) == 0
    denser = pd.read_parquet(out / "boxes.parquet")
    assert denser["density"].iloc[0] >= first["density"].iloc[0]
    assert denser["mass"].iloc[0] <= first["mass"].iloc[0]
    capsys.readouterr()
    assert main(["discover", str(out), "--min-density", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "discovery.min_density" in err and "<= 1" in err


def test_no_run_of_interest_says_so_and_finds_no_box(tmp_path):
    design = Design.from_mapping(_toy(above=2.0))
    outcome = run_experiment(design, tmp_path / "out", echo=_quiet)
    assert outcome.tables["boxes"].empty
    md = outcome.summary.read_text()
    assert "0 of 600 (0%)" in md and "no box to find" in md
    assert "Take-off needs" not in md  # a toy has no take-off
    # no empty chart of scores that cannot exist: a sentence says why there are none
    assert "No feature scores" in md
    assert not (outcome.out_dir / "figures" / "scores.png").exists()


def test_every_run_of_interest_says_there_is_nothing_to_tell_apart(tmp_path):
    # it said "the box rests on few cases" about a box that cannot exist
    design = Design.from_mapping(_toy(above=-1e9))
    outcome = run_experiment(design, tmp_path / "out", echo=_quiet)
    md = outcome.summary.read_text()
    assert "600 of 600 (100%)" in md
    assert "Every run is of interest, so no box can tell them from the rest" in md
    assert "rests on few cases" not in md
    assert "No feature scores" in md


def test_discover_refuses_what_it_cannot_search(tmp_path, capsys):
    assert main(["discover", str(tmp_path / "nowhere")]) == 2
    assert "holds no experiment.yaml" in capsys.readouterr().err
    comparison = tmp_path / "comparison"
    comparison.mkdir()
    Design.named("town_vs_metropolis").save(comparison / "experiment.yaml")
    assert main(["discover", str(comparison)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is a comparison design" in err
    assert not (comparison / "report.html").exists()


def _tiny(**discovery) -> dict:
    return {
        "name": "tiny_discovery",
        "kind": "discovery",
        "title": "Tiny discovery",
        "root_seed": 7,
        "replicates": 2,
        "steps": 12,
        "n_jobs": 1,
        "sites": {
            "town": {
                "label": "Town with a festival",
                "overrides": ["city=small_town", "city.population=4000", "policy=[festival]"],
            }
        },
        "discovery": {
            "samples": 4,
            "parameters": ["policy.festival.intensity", "firm.unit_price"],
            "ranges": {"policy.festival.intensity": [0, 3]},
            "relative_range": 0.3,
            "outcome": "creative_employment",
            "above": 0,
            **discovery,
        },
    }


def test_an_interrupted_discovery_resumes_and_varies_lever_settings(tmp_path):
    design = Design.from_mapping(_tiny())
    out = tmp_path / "out"
    echoed: list[str] = []
    run_experiment(design.with_changes(replicates=1), out, echo=echoed.append)
    first = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/meta.json")}
    assert len(first) == 4
    echoed.clear()
    whole = run_experiment(design, out, echo=echoed.append)
    assert sum("] skipped " in line for line in echoed) == 4
    assert whole.ok == 8 and all(p.stat().st_mtime_ns == t for p, t in first.items())
    runs = whole.tables["discovery_runs"]
    assert len(runs) == 8 and runs["policy.festival.intensity"].between(0, 3).all()
    configs = [json.loads(p.read_text()) for p in (out / "runs").glob("*/config.json")]
    festival = sorted({c["policy"]["festival"]["intensity"] for c in configs})
    assert festival == sorted(runs["policy.festival.intensity"].unique())


def test_creative_growth_is_the_growth_of_creative_employment_since_month_0(tmp_path):
    design = Design.from_mapping(_tiny(outcome="creative_growth", above=0.0))
    outcome = run_experiment(design.with_changes(replicates=1), tmp_path / "out", echo=_quiet)
    runs = outcome.tables["discovery_runs"].set_index("arm")
    ts = pd.read_parquet(tmp_path / "out" / "timeseries.parquet")
    employment = ts.pivot_table(index="arm", columns="step", values="creative_employment")
    growth = employment[12] / employment[0] - 1
    assert np.allclose(runs["value"], growth.reindex(runs.index))
    assert (runs["interest"] == (growth.reindex(runs.index) > 0)).all()
    assert "creative employment grows by more than 0%" in outcome.summary.read_text()
    assert {"final_lq", "employment_growth"} <= set(runs.columns)
    assert np.allclose(runs["employment_growth"], runs["value"])


BAD = [
    ({"outcome": "jobs"}, ["discovery.outcome", "take_off", "'jobs'"]),
    ({"outcome": "take_off", "above": 1}, ["discovery.above and below", "take_off"]),
    ({"above": None}, ["discovery.outcome creative_employment needs one threshold"]),
    ({"min_density": 0}, ["discovery.min_density", "> 0 and <= 1", "0"]),
    ({"samples": 1}, ["discovery.samples", ">= 2", "1"]),
    ({"parameters": ["policy.broadband.intensity"], "ranges": {}}, ["broadband lever", "off"]),
    ({"peel": 0.1}, ["discovery.peel is not a setting", "peel_alpha"]),
]


@pytest.mark.parametrize(("change", "words"), BAD, ids=[str(c) for c, _ in BAD])
def test_bad_input_is_one_line_naming_the_field_and_nothing_is_written(
    tmp_path, capsys, change, words
):
    raw = _tiny()
    raw["discovery"].update(change)
    if change.get("above", 0) is None:
        del raw["discovery"]["above"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(w in err for w in words), err
    assert not out.exists()


def test_the_shipped_design_varies_four_levers_and_the_town_switches_them_on():
    design = Design.named("discovery_small_town")
    s = parse_discovery(design.discovery)
    levers = [n for n in s.names if n.startswith("policy.")]
    assert len(levers) == 4 and all(n.endswith(".intensity") for n in levers)
    assert s.outcome == "take_off" and len(design.arms) == s.samples
    site = next(iter(design.sites.values()))
    switched = next(o for o in site.overrides if o.startswith("policy="))
    assert all(n.split(".")[1] in switched for n in levers)


def test_discover_searches_the_runs_of_a_sensitivity_design_beside_its_report(tmp_path):
    raw = {
        "name": "tiny_morris",
        "kind": "sensitivity",
        "root_seed": 11,
        "replicates": 1,
        "steps": 6,
        "n_jobs": 1,
        "sites": {
            "town": {"label": "Town", "overrides": ["city=small_town", "city.population=4000"]}
        },
        "sensitivity": {
            "method": "morris",
            "samples": 3,
            "parameters": ["talent.review_rate", "firm.unit_price"],
            "relative_range": 0.5,
            "outcomes": ["creative_employment"],
        },
        "analysis": {"n_boot": 100},
    }
    out = tmp_path / "out"
    run_experiment(Design.from_mapping(raw), out, echo=_quiet)
    report = (out / "report.html").read_bytes()
    ts = pd.read_parquet(out / "timeseries.parquet")
    middle = float(ts.loc[ts["step"] == 6, "creative_employment"].median())
    argv = ["discover", str(out), "--outcome", "creative_employment", "--above", str(middle)]
    assert main(argv) == 0
    assert (out / "report.html").read_bytes() == report  # the screening's report is kept
    runs = pd.read_parquet(out / "discovery" / "discovery_runs.parquet")
    assert len(runs) == 9 and {"talent.review_rate", "firm.unit_price"} <= set(runs)
    assert 0 < runs["interest"].sum() < 9
    md = (out / "discovery" / "summary.md").read_text()
    assert "## What this means" in md and "the Morris sample of the sensitivity design" in md
    assert "Latin hypercube" not in md


def test_a_second_box_is_judged_among_the_runs_the_first_one_left():
    from clustersim.experiments.discovery_report import box_sentences

    s = parse_discovery({"model": "box_toy", "outcome": "y", "above": 0.5})
    runs = pd.DataFrame({"interest": [True] * 150 + [False] * 850})
    row = {"qp_low": 1e-6, "qp_high": np.nan, "reaches": True, "high": 1.0}
    boxes = pd.DataFrame(
        [
            {"box": 1, "n": 100, "k": 80, "density": 0.8, "coverage": 80 / 150, "mass": 0.1,
             "parameter": "x1", "low": 0.6, **row},
            {"box": 2, "n": 50, "k": 30, "density": 0.6, "coverage": 30 / 150, "mass": 0.05,
             "parameter": "x3", "low": 0.9, **row},
        ]
    )  # fmt: skip
    scores = pd.DataFrame({"parameter": ["x1", "x2", "x3", "x4"], "score": 0.25})
    tables = {"discovery_runs": runs, "boxes": boxes, "feature_scores": scores}
    text = " ".join(box_sentences(tables, s, 0.95))
    assert "against 7.8% outside it;" in text  # (150 - 80) / (1000 - 100)
    assert "against 4.7% outside it (among the runs the earlier boxes left)" in text  # 40 / 850


def test_new_runs_of_interest_on_the_command_line_replace_the_designs(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(_toy()))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 0
    assert main(["discover", str(out), "--below", "0.5"]) == 0  # the design says above: 0.5
    runs = pd.read_parquet(out / "discovery_runs.parquet")
    assert (runs["interest"] == (runs["value"] < 0.5)).all()
    md = (out / "summary.md").read_text()
    assert "y is below 0.5" in md and "below: 0.5" in md  # the configuration shown is the one used
    assert "above: 0.5" in (out / "experiment.yaml").read_text()  # the design is kept
