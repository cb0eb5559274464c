"""Plain Hydra sweeps: effects and reports on a real `clustersim -m` sweep with a `null` level.

The sweep is what a researcher types: a small town of 3,000, 12 months, two seeds
(`+replicate`), and `firm.agglomeration_cap=null,1.05,2` (null: uncapped). It is
aggregated with `clustersim-experiment aggregate`, then analysed with
`analysis.effects` and reported with `clustersim-experiment report`, the baseline
named by value (`firm.agglomeration_cap=null`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clustersim.errors import ConfigError
from clustersim.experiments import analysis as an
from clustersim.experiments.cli import main
from clustersim.experiments.numbers import fmt_value
from clustersim.experiments.sweep_study import sweep_study
from clustersim.experiments.sweeps import compare, level_name
from conftest import run_cli

CAP = "firm.agglomeration_cap"
SWEEP = [
    "-m",
    "city.population=3000",
    "steps=12",
    "spin_up.months=0",
    "seed=7",
    "+replicate=range(0,2)",
    f"{CAP}=null,1.05,2",
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """The sweep folder, made by `clustersim -m` and aggregated by `clustersim-experiment`."""
    tmp = tmp_path_factory.mktemp("sweep")
    folder = tmp / "cap_sweep"
    proc = run_cli([*SWEEP, f"hydra.sweep.dir={folder}"], tmp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert main(["aggregate", str(folder)]) == 0
    return folder


def _tree(folder) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def test_effects_on_a_plain_sweep_keep_null_as_a_level_and_take_the_baseline_by_value(sweep):
    ts = pd.read_parquet(sweep / "timeseries.parquet")
    assert "arm" not in ts and ts[CAP].isna().any()  # aggregated as stored: null is missing
    outcomes = an.run_outcomes(ts)
    metrics = ["creative_employment", "talents"]
    effects = an.effects(outcomes, metrics, baseline=f"{CAP}=null", n_boot=200)
    assert effects["arm"].tolist() == [f"{CAP}=1.05", f"{CAP}=2"] * 2
    assert (effects["n_pairs"] == 2).all() and effects["effect"].notna().all()
    # against the uncapped runs, paired on their seed (common random numbers)
    final = outcomes.set_index(["seed", outcomes[CAP].map(level_name)])["creative_employment"]
    by_hand = (final.xs("2", level=1) - final.xs("null", level=1)).mean()
    row = effects[(effects.metric == "creative_employment") & (effects.arm == f"{CAP}=2")]
    assert row["effect"].item() == pytest.approx(by_hand)
    assert row["baseline_mean"].item() == pytest.approx(final.xs("null", level=1).mean())
    # a bare value names the one swept key; null is an arm like any other against another baseline
    bare = an.effects(outcomes, metrics, baseline="null", n_boot=200)
    pd.testing.assert_frame_equal(bare, effects)
    other = an.effects(outcomes, metrics, baseline=f"{CAP}=2.0", n_boot=200)
    assert set(other["arm"]) == {f"{CAP}=null", f"{CAP}=1.05"}
    # the rest of the analysis reads the same arms
    takeoff = an.takeoff_summary(an.take_off(ts), baseline=f"{CAP}=null", n_boot=200)
    assert takeoff["arm"].tolist() == [f"{CAP}=null", f"{CAP}=1.05", f"{CAP}=2"]
    cost = an.cost_per_job(outcomes, baseline=f"{CAP}=null", n_boot=200)
    assert set(cost["arm"]) == {f"{CAP}=1.05", f"{CAP}=2"} and (cost["total_spend"] == 0).all()
    bands = an.mean_bands(ts, "creative_employment", n_boot=100)
    assert set(bands["arm"]) == {f"{CAP}=null", f"{CAP}=1.05", f"{CAP}=2"}


def test_report_of_a_plain_sweep_speaks_of_settings_against_a_parameter_baseline(sweep):
    before = _tree(sweep / "runs")
    assert main(["report", str(sweep), "--baseline", f"{CAP}=null"]) == 0
    assert _tree(sweep / "runs") == before  # nothing re-run
    md = (sweep / "summary.md").read_text()
    html = (sweep / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<title>Sweep of firm.agglomeration_cap<" in html
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings[0] == "What this means"
    assert "The plans" not in headings and "Cost per creative job" not in headings
    body = md.split("## Configuration")[0]
    first = body.split("## What this means")[1].split("\n## ")[0]
    assert "Under the baseline (firm.agglomeration_cap = null), there are" in first
    said = r"\*\*firm\.agglomeration_cap = (?:1\.05|2)\*\* (?:raises|lowers|may|has no)"
    assert len(re.findall(said, first)) == 2  # one paragraph per setting
    assert "Only 2 replicates per setting:" in first and "Run the sweep again" in first
    for wrong in ("without policy", "no policy", "plan"):
        assert wrong not in body.lower(), wrong
    # the smallest detectable effect per measure, and per setting where it differs
    effects = pd.read_csv(sweep / "tables" / "effects.csv")
    floor = next(p for p in first.split("\n\n") if p.startswith("Smallest detectable effect"))
    jobs = effects[effects.metric == "creative_employment"]
    for row in jobs.itertuples():
        assert f"{fmt_value(row.mde, 'jobs')} jobs" in floor
    if len({fmt_value(v, "jobs") for v in jobs["mde"]}) > 1:
        assert (
            "(firm.agglomeration_cap = 1.05)" in floor and "(firm.agglomeration_cap = 2)" in floor
        )
    # every other measure: its smallest detectable effect, or (when each replicate gives
    # the same difference, as two short runs can) said to stand out however small
    paragraphs = first.split("\n\n")
    others = next(p for p in paragraphs if p.startswith("On the other measures"))
    same = " ".join(p for p in paragraphs if p.startswith(("Every replicate gives", "No setting")))
    names = {"creative_firms": "creative firms", "mean_rent": "mean rent"}
    names["innovation_total"] = "innovations (whole run)"
    for metric, measure in names.items():
        flat = (effects.loc[effects.metric == metric, "mde"] == 0).all()
        assert (measure in same) if flat else (f"{measure} about " in others), measure
    assert set(effects["arm"]) == {f"{CAP}=1.05", f"{CAP}=2"}
    # one row per setting; the sweep ran without a spin-up (spin_up.months=0), which the
    # report says instead of calling month 0 the end of one
    month0 = md.split("## The sites at month 0")[1].split("\n## ")[0]
    assert "Month 0 is the drawn initial state: these runs had no spin-up" in month0
    assert "Each site and setting at month 0" in month0
    rows = [line for line in month0.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 3  # the header, then null, 1.05 and 2
    assert all(f"{CAP} = {value}" in month0 for value in ("null", "1.05", "2"))
    config = md.split("## Configuration")[1]
    assert "clustersim -m city.population=3000" in config and f"{CAP}=null,1.05,2" in config
    for figure in ("timeseries", "effects", "takeoff"):
        assert (sweep / "figures" / f"{figure}.png").is_file()


def test_report_without_a_baseline_takes_the_first_value_and_says_so(sweep):
    assert main(["report", str(sweep)]) == 0
    md = (sweep / "summary.md").read_text()
    assert "against the baseline firm.agglomeration_cap = null (the first value; name another" in md


def test_bad_report_input_is_one_line_exit_2_and_writes_nothing(sweep, tmp_path, capsys):
    before = _tree(sweep)
    cases = [
        (
            [str(sweep), "--baseline", f"{CAP}=30"],
            f"--baseline {CAP}=30: {CAP} must be one of null, 1.05, 2 (its values in these "
            "runs); got 30",
        ),
        (
            [str(sweep), "--baseline", "firm.agglomeration_capp=2"],
            f"not a swept parameter; did you mean '{CAP}'?); swept: {CAP}",
        ),
        (
            [str(sweep), "--baseline", "city.population=3000"],
            "it has one value in every finished run",
        ),
        ([str(sweep), "--baseline", "seed=7"], "seeds and replicates are paired, not compared"),
        ([str(tmp_path / "nowhere")], "does not exist: not an experiment or sweep folder"),
        (
            [str(tmp_path)],
            "holds no experiment.yaml and no runs/ folder: not an experiment or sweep folder",
        ),
    ]
    for argv, says in cases:
        assert main(["report", *argv]) == 2, argv
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1, lines
        assert lines[0].startswith("clustersim-experiment: error: ") and says in lines[0], lines
    assert _tree(sweep) == before
    assert list(tmp_path.iterdir()) == []


def _index(**columns) -> pd.DataFrame:
    """A run index as `runs.parquet` lays it out: labels, then run_id, status, seed."""
    n = len(next(iter(columns.values())))
    table = pd.DataFrame(columns)
    table["run_id"] = [f"r{i}" for i in range(n)]
    table["status"] = "ok"
    table["seed"] = table.pop("replicate") + 100 if "replicate" in table else 100
    return table


def test_several_swept_keys_need_a_baseline_naming_the_compared_ones():
    runs = _index(
        city=["small_town", "small_town", "metropolis", "metropolis"] * 2,
        cap=[None, 20.0] * 4,
        replicate=[0] * 4 + [1] * 4,
    )
    with pytest.raises(ConfigError) as error:
        sweep_study("sweep", runs)
    assert str(error.value) == (
        "--baseline: the runs vary city, cap; name the ones to compare and their baseline, "
        "e.g. --baseline cap=null"
    )
    c = compare(runs, "cap=null")
    assert c.baseline == "cap=null" and c.group_cols == ["city"] and c.pair_col == "seed"
    assert c.arms == ["cap=null", "cap=20"]
    assert c.table["city"].tolist()[:2] == ["metropolis", "metropolis"]  # text in order
    both = compare(runs, ["city=small_town", "cap=null"])
    assert both.baseline == "city=small_town, cap=null" and both.group_cols == []
    assert compare(runs, "city=small_town, cap=null").baseline == both.baseline
    with pytest.raises(ConfigError, match="name the parameter as KEY=VALUE"):
        compare(runs, "null")
    single = _index(cap=[np.nan, 20.0], replicate=[0, 0])
    with pytest.raises(ConfigError, match="no parameter varies"):
        compare(single.assign(cap=20.0), "cap=20")


def test_a_sweep_whose_other_settings_all_failed_says_so():
    # it said "no parameter varies across these runs (only seeds)" of a sweep of cap
    runs = _index(cap=[None, 20.0, None, 20.0], replicate=[0, 0, 1, 1])
    runs.loc[runs["cap"] == 20.0, "status"] = "failed"
    with pytest.raises(ConfigError) as error:
        sweep_study("sweep", runs)
    assert str(error.value) == (
        "sweep/runs: the runs vary cap, but only those with cap=null finished (2 failed; "
        "clustersim-experiment aggregate lists them): nothing to compare"
    )
