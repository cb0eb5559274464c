"""Policy optimisation: the known optimum of a toy under a budget, resume, clustersim plans."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clustersim.errors import ConfigError
from clustersim.experiments.cli import main, run_experiment
from clustersim.experiments.design import Design
from clustersim.experiments.optimisation import (
    JOURNAL,
    OUTCOMES,
    _known_results,
    _tell,
    optimise,
    pareto_mask,
    same_runs,
    toy_evaluator,
    validate,
)
from clustersim.experiments.optimisation_space import parse_optimisation

pytest.importorskip("optuna")

BIN = Path(sys.executable).parent

BEST_A, BEST_B = 25 / 34, 9 / 34  # most jobs of budget_toy for one unit of spend
BEST_JOBS = 68 / math.sqrt(34)


def _toy(**optimisation) -> dict:
    return {
        "name": "toy_plans",
        "kind": "optimisation",
        "title": "Toy plans under a budget",
        "root_seed": 3,
        "replicates": 2,
        "optimisation": {
            "model": "budget_toy",
            "parameters": ["a", "b"],
            "objectives": ["creative_jobs"],
            "budget": 1_000_000,
            "trials": 300,
            "population": 20,
            **optimisation,
        },
    }


def _quiet(_line: str) -> None:
    pass


def test_the_search_finds_the_known_optimum_within_the_budget(tmp_path):
    design = Design.from_mapping(_toy())
    outcome = run_experiment(design, tmp_path / "out", echo=_quiet)
    trials = outcome.tables["trials"]
    assert (trials["feasible"] == (trials["spend"] <= 1_000_000)).all()
    best = trials[trials["feasible"]].sort_values("creative_jobs").iloc[-1]
    noise = best["creative_jobs"] - (10 * math.sqrt(best["a"]) + 6 * math.sqrt(best["b"]))
    true_jobs = best["creative_jobs"] - noise  # the toy's noise is the same at every plan
    assert true_jobs > 0.98 * BEST_JOBS
    assert abs(best["a"] - BEST_A) < 0.12 and abs(best["b"] - BEST_B) < 0.12
    assert best["a"] + best["b"] <= 1.0
    # plans over the budget did better on jobs: the constraint is what held the search back
    assert trials.loc[~trials["feasible"], "creative_jobs"].max() > best["creative_jobs"]


def test_the_pareto_set_of_jobs_and_spend_lies_on_the_known_front(tmp_path):
    design = Design.from_mapping(_toy(objectives=["creative_jobs", "spend"], trials=200))
    outcome = run_experiment(design, tmp_path / "out", echo=_quiet)
    pareto = pd.read_parquet(tmp_path / "out" / "pareto.parquet")
    assert len(pareto) >= 10 and (pareto["spend"] <= 1_000_000).all()
    truth = 10 * np.sqrt(pareto["a"]) + 6 * np.sqrt(pareto["b"])
    front = np.sqrt(136 * (pareto["a"] + pareto["b"]))  # best jobs for that spend
    assert (truth <= front + 1e-9).all() and np.median(truth / front) > 0.97
    trials = outcome.tables["trials"]
    values = trials.loc[trials["feasible"], ["creative_jobs", "spend"]].to_numpy()
    assert pareto_mask(values, ["maximize", "minimize"]).sum() >= len(pareto)
    # the toy's seed noise is small, so jobs at the validation seeds are close to the search's
    assert np.allclose(pareto["validated_creative_jobs"], pareto["creative_jobs"], atol=0.3)
    assert (pareto["validated_replicates"] == 8).all()
    md = outcome.summary.read_text()
    assert "## What this means" in md and "Most creative jobs within the budget" in md
    assert "run again at 8 seeds of their own" in md
    assert "Pareto set" in md and 'id="fig-pareto"' in outcome.report.read_text()


class _Interrupt(Exception):
    pass


def test_an_interrupted_search_resumes_to_the_same_plans(tmp_path):
    s = parse_optimisation(_toy(trials=80)["optimisation"])
    evaluate = toy_evaluator(s)
    whole = optimise(s, evaluate, tmp_path / "a" / JOURNAL, replicates=2, root_seed=3)
    calls = []

    def breaks_in_generation_3(plans, batch, replicates, root):
        calls.append(batch)
        if batch == "g002" and calls.count("g002") == 1:
            raise _Interrupt  # the plans of generation 3 were asked, not evaluated
        return evaluate(plans, batch, replicates, root)

    journal = tmp_path / "b" / JOURNAL
    with pytest.raises(_Interrupt):
        optimise(s, breaks_in_generation_3, journal, replicates=2, root_seed=3)
    again = optimise(s, breaks_in_generation_3, journal, replicates=2, root_seed=3)
    assert calls == ["g000", "g001", "g002", "g002", "g003"]  # nothing evaluated twice
    columns = ["trial", "generation", "a", "b", "creative_jobs", "spend", "feasible"]
    pd.testing.assert_frame_equal(again[columns], whole[columns])


def test_the_first_generation_tries_the_start_plans_as_they_are(tmp_path):
    # the corners a random first generation misses: each decision alone, here at 0 and 1
    starts = [{"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}, {"b": 0.25}]
    s = parse_optimisation(_toy(trials=40, start_plans=starts)["optimisation"])
    assert s.start_plans[2] == (("b", 0.25),)
    trials = optimise(s, toy_evaluator(s), tmp_path / JOURNAL, replicates=2, root_seed=3)
    first = trials[trials["generation"] == 0].reset_index(drop=True)
    assert len(first) == 20
    assert first.loc[:1, ["a", "b"]].to_numpy().tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert first.loc[2, "b"] == 0.25 and 0 <= first.loc[2, "a"] <= 1  # "a" drawn
    assert not ((first["a"].isin([0.0, 1.0])) & (first["b"].isin([0.0, 1.0]))).iloc[3:].any()
    # a search without them draws another first generation; resuming with other start
    # plans is refused (the plans tried would not be those of the design)
    plain = parse_optimisation(_toy(trials=40)["optimisation"])
    journal = tmp_path / "b" / JOURNAL
    other = optimise(plain, toy_evaluator(plain), journal, replicates=2, root_seed=3)
    assert other.loc[other["generation"] == 0, "a"].tolist() != first["a"].tolist()
    fewer = parse_optimisation(_toy(trials=40, start_plans=starts[:1])["optimisation"])
    with pytest.raises(ConfigError, match="start plans"):
        optimise(fewer, toy_evaluator(fewer), tmp_path / JOURNAL, replicates=2, root_seed=3)


def test_an_interrupted_first_generation_still_tries_every_start_plan_once(tmp_path):
    starts = [{"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}]
    s = parse_optimisation(_toy(trials=40, start_plans=starts)["optimisation"])
    evaluate = toy_evaluator(s)
    calls = []

    def breaks_first(plans, batch, replicates, root):
        calls.append(batch)
        if len(calls) == 1:
            raise _Interrupt  # generation 1 was asked, not evaluated
        return evaluate(plans, batch, replicates, root)

    journal = tmp_path / JOURNAL
    with pytest.raises(_Interrupt):
        optimise(s, breaks_first, journal, replicates=2, root_seed=3)
    trials = optimise(s, breaks_first, journal, replicates=2, root_seed=3)
    first = trials[trials["generation"] == 0]
    for plan in starts:
        assert ((first["a"] == plan["a"]) & (first["b"] == plan["b"])).sum() == 1
    assert len(trials) == 40


def test_a_search_cut_short_while_asking_its_start_plans_asks_each_once(tmp_path, monkeypatch):
    import optuna

    starts = [{"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}, {"a": 0.5, "b": 0.5}]
    s = parse_optimisation(_toy(trials=40, start_plans=starts)["optimisation"])
    ask, asked = optuna.study.Study.ask, []

    def cut_after_one(self, *args, **kwargs):
        if len(asked) == 1:
            raise _Interrupt  # one start plan asked, two still queued
        asked.append(1)
        return ask(self, *args, **kwargs)

    journal = tmp_path / JOURNAL
    monkeypatch.setattr(optuna.study.Study, "ask", cut_after_one)
    with pytest.raises(_Interrupt):
        optimise(s, toy_evaluator(s), journal, replicates=2, root_seed=3)
    monkeypatch.setattr(optuna.study.Study, "ask", ask)
    trials = optimise(s, toy_evaluator(s), journal, replicates=2, root_seed=3)
    first = trials[trials["generation"] == 0]
    assert len(first) == 20 and len(trials) == 40
    for plan in starts:
        assert ((first["a"] == plan["a"]) & (first["b"] == plan["b"])).sum() == 1


@pytest.mark.parametrize(
    ("start_plans", "words"),
    [
        ({"a": 1.0}, "start_plans must be a list of plans"),
        ([{"a": 2.0}], r"start_plans\[0\]\.a must be a number from 0 to 1 \(its range\), got 2\.0"),
        ([{"c": 0.5}], r"start_plans\[0\]: c is not a decision of this search; its decisions"),
        ([{}], r"start_plans\[0\] must map decisions to values"),
        ([{"a": 0.5}, {"a": 0.5}], r"start_plans\[1\] repeats an earlier plan"),
        ([{"a": 0.1}] * 1 + [{"a": i / 100} for i in range(2, 22)], "at most 20"),
    ],
)
def test_bad_start_plans_are_refused_in_one_line(start_plans, words):
    with pytest.raises(ConfigError, match=words) as refused:
        parse_optimisation(_toy(start_plans=start_plans)["optimisation"])
    assert "\n" not in str(refused.value)


def _lever_runs(evaluated: list[list]):
    """A stand-in for clustersim's runs of the shipped design's plans (records every batch).

    Jobs grow with each lever's intensity; the hub's start month counts only when it is on,
    as in the model, where a lever at 0 never starts.
    """

    def evaluate(plans, batch, replicates, root):
        evaluated.append(list(plans))
        out = np.zeros((replicates, len(plans), 3))
        for j, plan in enumerate(plans):
            v = dict(plan)
            hub = v["policy.creative_hub.intensity"]
            levers = [v[f"policy.{n}.intensity"] for n in ("festival", "broadband")]
            ta = v["policy.talent_attraction.intensity"]
            jobs = 8 * ta + 2 * sum(levers) + (hub * (49 - v["policy.creative_hub.start"]) / 12)
            spend = 300_000 * (ta + hub + sum(levers))
            out[:, j] = [[jobs + r, spend, 0.0] for r in range(replicates)]
        return out

    return evaluate


def test_plans_that_differ_only_in_an_off_levers_settings_are_run_once_and_told_alike(tmp_path):
    design = Design.named("optimisation_small_town").optimisation
    s = parse_optimisation({**design, "trials": 64, "validation_replicates": 2})
    evaluated: list[list] = []
    trials = optimise(s, _lever_runs(evaluated), tmp_path / JOURNAL, replicates=2, root_seed=3)

    def runs_of(plan) -> tuple:  # a hub at 0 never opens: its start and target do not count
        v = dict(plan)
        hub_off = v["policy.creative_hub.intensity"] == 0
        return tuple((n, None if hub_off and "creative_hub." in n and "intensity" not in n else x)
                     for n, x in plan)  # fmt: skip

    keys = [runs_of(plan) for batch in evaluated for plan in batch]
    assert len(keys) == len(set(keys))  # no runs made twice, within or across generations
    assert {same_runs(plan) for batch in evaluated for plan in batch} == set(keys)
    off = trials[trials["policy.creative_hub.intensity"] == 0]
    assert len(off) > len({runs_of(tuple((n, r[n]) for n in s.names)) for _, r in off.iterrows()})
    by_rest = off.groupby([n for n in s.names if not n.startswith("policy.creative_hub.")])
    assert (by_rest["creative_jobs"].nunique() == 1).all()  # start and target do not count
    pareto = off.head(4).assign(**{"policy.creative_hub.start": [5, 9, 13, 17]})
    pareto = pareto.assign(
        **{c: pareto[c].iloc[0] for c in s.names if "creative_hub.start" not in c}
    )
    evaluated.clear()
    checked = validate(pareto, s, _lever_runs(evaluated), root_seed=3)
    assert [len(batch) for batch in evaluated] == [1]  # four plans, the same runs
    assert checked["validated_creative_jobs"].nunique() == 1
    assert (checked["validated_replicates"] == 2).all()


def test_a_longer_search_goes_on_from_a_shorter_one(tmp_path):
    out = tmp_path / "out"
    short = run_experiment(Design.from_mapping(_toy(trials=40)), out, echo=_quiet)
    echoed: list[str] = []
    longer = run_experiment(Design.from_mapping(_toy(trials=80)), out, echo=echoed.append)
    assert len(short.tables["trials"]) == 40 and len(longer.tables["trials"]) == 80
    assert not any("generation 1/" in line or "generation 2/" in line for line in echoed)
    kept = longer.tables["trials"].head(40).reset_index(drop=True)
    pd.testing.assert_frame_equal(kept[["a", "b"]], short.tables["trials"][["a", "b"]])


def test_a_search_with_other_objectives_is_refused_in_the_same_folder(tmp_path, capsys):
    out = tmp_path / "out"
    run_experiment(Design.from_mapping(_toy(trials=20)), out, echo=_quiet)
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(_toy(trials=20, objectives=["creative_jobs", "spend"])))
    assert main(["run", "--design", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "made with other objectives" in err


def _tiny(**optimisation) -> dict:
    return {
        "name": "tiny_plans",
        "kind": "optimisation",
        "title": "Tiny plans",
        "root_seed": 7,
        "replicates": 2,
        "steps": 12,
        "n_jobs": 1,
        "sites": {
            "town": {
                "label": "Town with a creative hub",
                "overrides": ["city=small_town", "city.population=4000", "policy=[creative_hub]"],
            }
        },
        "optimisation": {
            "parameters": ["policy.creative_hub.intensity", "policy.creative_hub.start"],
            "ranges": {
                "policy.creative_hub.intensity": [0, 2],
                "policy.creative_hub.start": [1, 6],
            },
            "choices": {"policy.creative_hub.target": ["centre", "most_vacant"]},
            "objectives": ["creative_jobs", "spend", "displacement"],
            "budget": 800_000,
            "trials": 6,
            "population": 3,
            "validation_replicates": 2,
            **optimisation,
        },
    }


def test_clustersim_plans_are_paired_with_the_town_without_levers_and_resume(tmp_path):
    design = Design.from_mapping(_tiny())
    out = tmp_path / "out"
    outcome = run_experiment(design, out, echo=_quiet)
    trials = outcome.tables["trials"]
    assert len(trials) == 6 and trials["complete"].all()
    assert trials["policy.creative_hub.start"].between(1, 6).all()
    assert set(trials["policy.creative_hub.target"]) <= {"centre", "most_vacant"}
    # the baseline: the town without the hub, at the search's two replicate seeds (and at
    # the two seeds of the validation runs)
    base = sorted((out / "batches" / "baseline" / "runs").glob("*/config.json"))
    assert len(base) == 4 and all(json.loads(p.read_text())["policy"] == {} for p in base)
    base_seeds = {json.loads(p.read_text())["seed"] for p in base}
    seeds = {
        json.loads(p.read_text())["seed"] for p in (out / "batches").glob("g*/runs/*/config.json")
    }
    assert len(seeds) == 2 and seeds < base_seeds
    # a hub costs money when it runs; spend grows with its intensity
    assert (trials["spend"] > 0).all()
    assert trials["feasible"].eq(trials["spend"] <= 800_000).all()
    assert (out / JOURNAL).is_file() and (out / "pareto.parquet").is_file()
    # the Pareto plans run again at seeds of their own, against the town without the hub there
    pareto = pd.read_parquet(out / "pareto.parquet")
    assert len(pareto) >= 1 and (pareto["validated_replicates"] == 2).all()
    checked = {
        json.loads(p.read_text())["seed"]
        for p in (out / "batches" / "validation").glob("runs/*/config.json")
    }
    assert checked == base_seeds - seeds
    assert pareto["validated_spend"].gt(0).all()
    echoed: list[str] = []
    again = run_experiment(design, out, echo=echoed.append)
    assert not any("] ok " in line for line in echoed)  # every run reused
    pd.testing.assert_frame_equal(again.tables["trials"], trials)
    # longer runs would give other numbers: the journal refuses them
    with pytest.raises(ConfigError, match="made with other months"):
        run_experiment(design.with_changes(steps=18), out, echo=_quiet)


BAD = [
    ({"objectives": ["jobs"]}, ["optimisation.objectives", "creative_jobs", "'jobs'"]),
    ({"budget": None}, ["optimisation.budget", "EUR > 0"]),
    ({"budget": -5}, ["optimisation.budget", "-5"]),
    ({"population": 1}, ["optimisation.population", ">= 2"]),
    ({"choices": {"policy.creative_hub.target": "centre"}}, ["choices", "at least two options"]),
    ({"choices": {"city.population": [1, 2]}}, ["optimisation.choices.city.population"]),
    (
        {"parameters": ["policy.festival.intensity"], "ranges": {}},
        ["festival lever", "off", "policy=[creative_hub,festival]"],
    ),
]


@pytest.mark.parametrize(("change", "words"), BAD, ids=[str(c) for c, _ in BAD])
def test_bad_input_is_one_line_naming_the_field_and_nothing_is_written(
    tmp_path, capsys, change, words
):
    raw = _tiny()
    raw["optimisation"].update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(w in err for w in words), err
    assert not out.exists()


def test_the_pareto_table_of_the_shipped_design_names_its_currency_once_in_the_headers():
    # twelve columns: the currency goes in the headers so the table fits a laptop's screen
    from clustersim.experiments.optimisation_report import pareto_table

    s = parse_optimisation(Design.named("optimisation_small_town").optimisation)
    row = {name: 1.0 for name in s.names} | {name: opts[0] for name, opts in s.choices}
    outcomes = {"creative_jobs": 13.2, "spend": 2_790_000.0, "cost_per_job": 211_000.0}
    outcomes |= {"displacement": 0.1, "creative_jobs_low": 4.35, "creative_jobs_high": 22.0}
    pareto = pd.DataFrame([{"trial": 163, **row, **outcomes}])
    table = pareto_table(pareto, s)
    assert len(table.columns) == 1 + len(s.names) + 4  # plan, decisions, jobs ... displaced
    assert table.loc[0, "spend (EUR)"] == "2.79 million"
    assert table.loc[0, "cost per job (EUR)"] == "211,000"
    assert not any("EUR" in str(value) for value in table.iloc[0])


def test_pareto_plans_that_differ_only_in_an_off_levers_settings_share_a_row():
    # a hub at intensity 0 never opens: where and when it would have opened is not a plan
    from clustersim.experiments.optimisation_report import pareto_table

    s = parse_optimisation(Design.named("optimisation_small_town").optimisation)
    base = {name: 1.0 for name in s.names} | {"policy.creative_hub.target": "centre"}
    outcomes = {"creative_jobs": 8.0, "spend": 500_000.0, "cost_per_job": 62_500.0}
    outcomes |= {"displacement": 0.0, "creative_jobs_low": 1.0, "creative_jobs_high": 15.0}
    off = base | {"policy.creative_hub.intensity": 0.0}
    rows = [
        {"trial": 3, **off, "policy.creative_hub.start": 5, **outcomes},
        {"trial": 9, **off, "policy.creative_hub.start": 40, **outcomes},
        {"trial": 4, **base, "policy.creative_hub.start": 5, **outcomes},
    ]
    table = pareto_table(pd.DataFrame(rows), s)
    assert table["plan"].tolist() == ["3, 9", "4"]
    assert table.loc[0, "creative hub start"] == "-" and table.loc[0, "creative hub target"] == "-"
    assert table.loc[1, "creative hub start"] == "5" and table.loc[1, "creative hub"] == "1"
    from clustersim.experiments.optimisation_report import plan_sentences

    pareto = pd.DataFrame(rows).assign(generation=0, within_budget=True, complete=True)
    told = " ".join(plan_sentences(pareto, pareto, s, 120))
    assert "3 plan(s) form the Pareto set" in told and "; 2 different ones" in told


def test_a_plan_that_sets_a_lever_to_intensity_0_is_told_with_that_lever_off():
    # a lever at intensity 0 never starts nor pays: its start month and target mean nothing
    from clustersim.experiments.optimisation_report import plan_sentences

    s = parse_optimisation(Design.named("optimisation_small_town").optimisation)
    row = {name: 1.0 for name in s.names} | {name: opts[0] for name, opts in s.choices}
    row |= {"policy.creative_hub.intensity": 0.0, "policy.creative_hub.start": 23}
    outcomes = {"creative_jobs": 13.2, "spend": 2_790_000.0, "cost_per_job": 211_000.0}
    outcomes |= {"displacement": 0.1, "creative_jobs_low": 4.35, "creative_jobs_high": 22.0}
    plan = {"trial": 7, "generation": 0, "within_budget": True, "complete": True}
    pareto = pd.DataFrame([{**plan, **row, **outcomes}])
    best = next(t for t in plan_sentences(pareto, pareto, s, 120) if t.startswith("Most"))
    assert "creative hub off;" in best, best
    assert "from month 23" not in best and "target" not in best, best
    assert "festival at intensity 1;" in best, best


def test_the_progress_figure_says_which_generations_had_no_plan_within_the_budget():
    from clustersim.experiments.optimisation_report import figure_progress

    trials = pd.DataFrame(
        {
            "generation": [0, 0, 1, 1, 2, 2],
            "creative_jobs": [30.0, 20.0, 5.0, 8.0, 12.0, 3.0],
            "within_budget": [False, False, False, True, True, False],
        }
    )
    ax = figure_progress(trials).axes[0]
    assert [t.get_text() for t in ax.texts] == ["generation 1:\nno plan within the budget"]
    assert ax.get_xlim()[0] < 1  # generation 1 is on the axis, empty
    assert list(ax.lines[0].get_ydata()[1:]) == [8.0, 12.0]  # the best so far, within budget
    trials["within_budget"] = True
    assert len(figure_progress(trials).axes[0].texts) == 0


def test_the_shipped_design_optimises_levers_of_a_small_town_under_its_budget():
    design = Design.named("optimisation_small_town")
    s = parse_optimisation(design.optimisation)
    assert all(n.startswith("policy.") for n in s.names)
    assert {"creative_jobs", "spend"} <= set(s.objectives) and s.budget > 0
    site = next(iter(design.sites.values()))
    assert any(o.startswith("institutions.municipality_budget=") for o in site.overrides)


@pytest.mark.slow
def test_an_optimisation_runs_through_a_hydra_launcher_with_the_same_plans(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(_tiny(trials=3, validation_replicates=1) | {"replicates": 1}))
    results = {}
    for launcher in ("local", "basic"):
        out = tmp_path / launcher
        cmd = [str(BIN / "clustersim-experiment"), "run", "--design", str(path), "--out", str(out)]
        res = subprocess.run(
            [*cmd, "--launcher", launcher], capture_output=True, text=True, timeout=900,
            cwd=tmp_path,
        )  # fmt: skip
        assert res.returncode == 0, res.stdout + res.stderr
        results[launcher] = pd.read_parquet(out / "pareto.parquet")
    pd.testing.assert_frame_equal(results["local"], results["basic"])
    assert list((tmp_path / "basic" / "batches").glob("g000/jobs/*"))  # Hydra's job dirs


def test_a_plan_whose_runs_failed_is_ranked_last_and_the_search_goes_on(tmp_path):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    s = parse_optimisation(_toy(trials=60)["optimisation"])
    evaluate = toy_evaluator(s)

    def one_fails(plans, batch, replicates, root):
        out = evaluate(plans, batch, replicates, root)
        if batch == "g000":
            out[0, 0, :] = np.nan  # one replicate of the first plan did not finish
        return out

    journal = tmp_path / JOURNAL
    trials = optimise(s, one_fails, journal, replicates=2, root_seed=3)
    assert len(trials) == 60 and (~trials["complete"]).sum() == 1
    failed = trials[~trials["complete"]].iloc[0]
    assert not failed["feasible"] and not failed["pareto"] and not failed["within_budget"]
    study = optuna.load_study(
        study_name="optimisation", storage=JournalStorage(JournalFileBackend(str(journal)))
    )
    nsga = {t.number: t.system_attrs.get("NSGAIISampler:generation") for t in study.trials}
    # NSGA-II counts the failed plan in its generation: the next one breeds from parents
    assert [nsga[n] for n in trials.loc[trials["generation"] == 1, "trial"]] == [1] * 20


def test_a_plan_proposed_again_gets_its_stored_result_also_when_it_created_no_job(tmp_path):
    # NSGA-II may propose a plan it ran before: its result is read back from the journal,
    # where a value it lacks (the cost per job of a plan that created no job) is null
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    s = parse_optimisation(_toy(trials=20)["optimisation"])
    evaluate = toy_evaluator(s)

    def no_jobs(plans, batch, replicates, root):
        out = evaluate(plans, batch, replicates, root)
        out[:, :, OUTCOMES.index("creative_jobs")] = -1.0
        return out

    journal = tmp_path / JOURNAL
    optimise(s, no_jobs, journal, replicates=2, root_seed=3)
    study = optuna.load_study(
        study_name="optimisation", storage=JournalStorage(JournalFileBackend(str(journal)))
    )
    known = _known_results(study.trials, s)
    plan, result = next(iter(known.items()))
    assert result["cost_per_job"] is None
    study.enqueue_trial(dict(plan))
    again = study.ask()
    _tell(study, again, result)
    told = study.trials[again.number]
    assert told.state == optuna.trial.TrialState.COMPLETE
    assert told.values == result["values"] and told.user_attrs["result"]["cost_per_job"] is None


def test_choices_and_budgets_that_cannot_work_are_refused():
    base = _tiny()["optimisation"]
    for change, words in (
        ({"choices": {"policy.creative_hub.target": [["a", "b"], "centre"]}}, "one name"),
        ({"choices": {"policy.creative_hub.start": [6, 6]}}, "lists an option twice"),
        (
            {"choices": {"policy.creative_hub.start": [6, 12]}},
            "both in parameters (a range) and in choices",
        ),
        ({"budget": float("inf")}, "optimisation.budget"),
    ):
        with pytest.raises(ConfigError, match=re.escape(words)):
            parse_optimisation({**base, **change})


def test_every_end_of_every_decision_is_composed_before_anything_is_written(tmp_path, capsys):
    path = tmp_path / "d.yaml"
    raw = _tiny(choices={"policy.creative_hub.target": ["centre", "most_vacnt"]})
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "most_vacnt" in err
    ranges = {"policy.creative_hub.intensity": [0, 2], "policy.creative_hub.start": [1, 40]}
    path.write_text(yaml.safe_dump(_tiny(ranges=ranges)))
    assert main(["run", "--design", str(path), "--out", str(out), "--steps", "24"]) == 2
    err = capsys.readouterr().err.strip()  # the middle of the range (20) would compose
    assert len(err.splitlines()) == 1
    assert "policy.creative_hub.start must be <= steps (24), got 40" in err
    assert not out.exists()


def test_a_numeric_choice_keeps_its_type_through_the_validation_runs(tmp_path):
    raw = _tiny(
        parameters=["policy.creative_hub.intensity"],
        ranges={"policy.creative_hub.intensity": [0, 2]},
        choices={"policy.creative_hub.start": [2, 4]},
        trials=3,
        validation_replicates=1,
    )
    outcome = run_experiment(Design.from_mapping(raw | {"replicates": 1}), tmp_path, echo=_quiet)
    pareto = outcome.tables["pareto"]
    assert len(pareto) >= 1 and (pareto["validated_replicates"] == 1).all()
    assert set(pareto["policy.creative_hub.start"]) <= {2, 4}


@pytest.mark.parametrize(
    ("change", "argv", "words"),
    [
        ({"analysis": {"ci": "x"}}, [], "analysis.ci must be a level between 0 and 1, got 'x'"),
        ({"analysis": {"ci": 1.5}}, [], "analysis.ci must be a level between 0 and 1, got 1.5"),
        ({"optimisation": "foo"}, [], "optimisation: must be a mapping of settings"),
        ({}, ["--force"], "--force does not apply to optimisation designs"),
    ],
)
def test_more_bad_input_is_one_line_and_nothing_is_written(tmp_path, capsys, change, argv, words):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_tiny() | change))
    out = tmp_path / "out"
    assert main(["run", "--design", str(path), "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert not out.exists()


def test_a_start_month_decision_may_lie_before_the_levers_default_start():
    from clustersim.experiments.optimisation_runs import check_site

    design = Design.from_mapping(_tiny() | {"steps": 6})  # the hub's default start is 12
    check_site(design)  # starts 1 to 6 are composed as the plans set them


def test_a_generation_whose_asking_was_cut_short_is_asked_again_whole(tmp_path, monkeypatch):
    import optuna

    s = parse_optimisation(_toy(trials=80)["optimisation"])
    evaluate = toy_evaluator(s)
    whole = optimise(s, evaluate, tmp_path / "a" / JOURNAL, replicates=2, root_seed=3)
    real_ask = optuna.study.Study.ask
    asked = {"n": 0, "stop_at": [47, 50]}  # inside generation 3 (trials 40-59), twice

    def ask(self, *args, **kwargs):
        if asked["stop_at"] and asked["n"] == asked["stop_at"][0]:
            asked["stop_at"].pop(0)
            raise _Interrupt
        asked["n"] += 1
        return real_ask(self, *args, **kwargs)

    monkeypatch.setattr(optuna.study.Study, "ask", ask)
    journal = tmp_path / "b" / JOURNAL
    for _ in range(2):
        with pytest.raises(_Interrupt):
            optimise(s, evaluate, journal, replicates=2, root_seed=3)
    again = optimise(s, evaluate, journal, replicates=2, root_seed=3)
    columns = ["generation", "a", "b", "creative_jobs", "spend", "feasible"]
    assert len(again) == 80  # the abandoned asks are left out
    pd.testing.assert_frame_equal(
        again[columns].reset_index(drop=True), whole[columns].reset_index(drop=True)
    )
