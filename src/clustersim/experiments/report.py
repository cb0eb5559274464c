"""Experiment reports: one self-contained HTML file (figures inlined) and a Markdown summary.

The report opens with "What this means", the results in plain sentences with their
uncertainty (:mod:`clustersim.experiments.conclusions`), warnings for plans that ran
out of budget and for too few replicates, then the plans as they ran (levers,
intensities, budget), time series, effects, side effects, take-off, cost per job,
maps of the cities, the definitions and the configuration (design and resolved
model configs), so it can be mailed or archived on its own. The Markdown summary
holds the same text and tables and links the figures saved under ``figures/``.

A plain Hydra sweep gets the same report (:mod:`clustersim.experiments.sweep_study`):
its settings in place of plans, its command line in place of the design, and no
plans or cost sections when no setting has levers or spends.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from clustersim.experiments import conclusions
from clustersim.experiments.document import Report, markdown_table
from clustersim.experiments.figures import (
    figure_city,
    figure_cost_effectiveness,
    figure_effects,
    figure_scaling,
    figure_takeoff,
    figure_timeseries,
)
from clustersim.experiments.numbers import fmt_money, fmt_number, fmt_percent
from clustersim.experiments.plan_runs import budget_stops, plan_contents
from clustersim.experiments.provenance import fingerprint_text, git_commit, reported_fingerprint
from clustersim.experiments.readable import (
    Names,
    cost_table,
    effects_table,
    in_order,
    plans_table,
    scaling_sentence,
    scaling_table,
    takeoff_table,
)
from clustersim.files import write_file_atomically, write_text_atomically
from clustersim.model.outcomes import label
from clustersim.version import __version__

if TYPE_CHECKING:
    from clustersim.experiments.design import Design
    from clustersim.experiments.sweep_study import SweepStudy

__all__ = ["Report", "markdown_table", "write_report"]


def _run_config(runs: pd.DataFrame, site: str, arm: str) -> tuple[dict, Path] | None:
    sel = runs[(runs.get("site") == site) & (runs.get("arm") == arm) & (runs["status"] == "ok")]
    if sel.empty:
        return None
    sel = sel.sort_values("replicate") if "replicate" in sel else sel
    run_dir = Path(sel.iloc[0]["run_dir"])
    return json.loads((run_dir / "config.json").read_text()), run_dir


def _city_figure(
    runs: pd.DataFrame, site: str, arms: list[str], steps: int, names: Names
) -> Figure | None:
    """Rebuild the site's city (deterministic from config and seed) and draw each arm's firms."""
    from omegaconf import OmegaConf

    from clustersim.model.config import from_dictconfig
    from clustersim.model.core import CreativeClusterModel

    found = [(arm, _run_config(runs, site, arm)) for arm in arms]
    found = [(arm, f) for arm, f in found if f is not None]
    if not found:
        return None
    config = found[0][1][0]
    model = CreativeClusterModel.from_config(from_dictconfig(OmegaConf.create(config)))
    focus = model.place_names[model.focus_place]
    nodes = [n for n, d in model.graph.nodes(data=True) if d.get("place") == focus]
    panels = [
        (
            pd.read_parquet(run_dir / "firms.parquet"),
            f"{names.site(site)}: {names.arm(arm)}, month {steps}",
        )
        for arm, (_cfg, run_dir) in found
    ]
    return figure_city(model.graph, panels, nodes=nodes)


DEFINITIONS = (
    "Effects are mean paired differences {arm} - baseline at the last month (for flows such as "
    "displaced residents: totals over the run) over replicates that share a seed (common random "
    "numbers), with {ci:.0%} percentile bootstrap intervals. An effect is clear when its "
    "interval excludes 0 and a paired t-test at the 5% level also tells it from chance; "
    "tentative when only the interval excludes 0 (bootstrap intervals are too narrow with few "
    "replicates); no clear effect when the interval includes 0. The detectable effect is the "
    "smallest true effect the design finds with 80% probability (paired t-test, 5% level). "
    "A cluster takes off when, at the last month, the focus place's creative location quotient "
    "is at least {lq:g} and its creative employment is at least {growth:.0%} above month 0; the "
    "month of take-off is the first month from which both hold until the end. Chances of "
    "take-off carry Wilson intervals. Cost per creative job = policy spend per run / creative "
    "jobs created against the baseline; it is left blank when the job gain's interval includes "
    "0. Relative changes are shown only against baselines large enough for them to mean "
    "something (at least 10 people, jobs or firms)."
)


def _provenance(design: Design, runs: pd.DataFrame, sweep: SweepStudy | None) -> str:
    ok = int((runs["status"] == "ok").sum()) if len(runs) else 0
    stale = int((runs["status"] == "stale").sum()) if len(runs) else 0
    failed = len(runs) - ok - stale
    commit = git_commit()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"clustersim {__version__}"
        + (f", commit {commit[:10]}" if commit else "")
        + f", {fingerprint_text()}"
        + f"; {ok} runs ok, {failed} failed"
        + (f", {stale} stale (another model version) left out" if stale else "")
        + "; "
        + (
            sweep.seeds_text
            if sweep is not None
            else f"{design.replicates} replicates, {design.steps} months, "
            f"root seed {design.root_seed}"
        )
        + f"; written {when}"
    )


def _definitions(report: Report, design: Design, names: Names) -> None:
    a = design.analysis
    report.heading("Definitions")
    report.text(
        DEFINITIONS.format(
            arm=names.arm_word,
            ci=float(a["ci"]),
            lq=float(a["takeoff_lq"]),
            growth=float(a["takeoff_growth"]),
        )
    )
    sites = list(design.sites)
    if len(sites) == 1 and not design.sites[sites[0]].overrides:
        return  # a sweep's one site: nothing to tell apart
    report.table(
        pd.DataFrame(
            {
                "site": [names.site(s) for s in sites],
                "code": sites,
                "description": [design.sites[s].label for s in sites],
            }
        ),
        "Sites",
    )


def _config_blocks(
    report: Report, design: Design, runs: pd.DataFrame, sweep: SweepStudy | None
) -> None:
    report.heading("Configuration")
    if sweep is None:
        report.code(design.to_yaml(), "Experiment design (experiment.yaml)")
    else:
        compared = "\n".join(f"  {a}" for a in design.arms)
        report.code(
            f"{sweep.command or '(no multirun.yaml)'}\n\nsettings compared (baseline first):"
            f"\n{compared}\nshared by every run: {' '.join(design.common)}",
            "The sweep (multirun.yaml)",
        )
    for site in design.sites:
        found = _run_config(
            runs,
            site,
            design.baseline if design.baseline in design.arms else next(iter(design.arms)),
        )
        if found:
            report.code(
                json.dumps(found[0], indent=2, default=str),
                f"Resolved model config: {site if sweep is None else design.sites[site].label} "
                "(baseline, replicate 0)",
            )


def _left_out(report: Report, runs: pd.DataFrame, what: str) -> None:
    """Notes and a table on the runs that failed or were made by another model version."""
    left_out = runs[runs["status"] != "ok"] if len(runs) else runs
    if not len(left_out):
        return
    n_stale = int((left_out["status"] == "stale").sum())
    n_failed = len(left_out) - n_stale
    if n_failed:
        report.text(f"{n_failed} run(s) failed and are left out; see runs.parquet.", note=True)
    if n_stale:
        chosen = reported_fingerprint()
        report.text(
            f"{n_stale} run(s) were made by a different model version (another model "
            f"fingerprint) and are left out; run the {what} again to recompute them."
            if chosen is None
            else f"{n_stale} run(s) were made by model versions other than the one reported "
            f"({chosen}) and are left out.",
            note=True,
        )
    cols = [c for c in ("site", "arm", "replicate", "run_id", "status", "error") if c in left_out]
    report.table(left_out[cols].head(20), "Runs left out" if n_stale else "Failed runs")


def write_report(
    design: Design,
    out_dir: Path,
    timeseries: pd.DataFrame,
    tables: dict[str, Any],
    *,
    runs: pd.DataFrame,
    sweep: SweepStudy | None = None,
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``summary.md`` (with ``figures/``) for an experiment.

    Also writes each analysis table as ``tables/<name>.csv``, with the report's own
    tables: ``side_effects``, ``plans`` (levers and budgets as run) and
    ``budget_stops`` (levers that ran out of money).

    Args:
        design: the experiment (for a sweep: ``sweep.design``).
        out_dir: where to write.
        timeseries: the aggregated time series (with ``site`` and ``arm``).
        tables: the analysis tables (:func:`clustersim.experiments.cli.analyse`).
        runs: the run index.
        sweep: a plain Hydra sweep's study: its names, words and command line.

    Returns:
        The paths of the HTML report and the Markdown summary.
    """
    out_dir = Path(out_dir)
    names = sweep.names if sweep is not None else Names.of(design)
    report = Report(design.title)
    if design.description:
        report.text(design.description)
    _left_out(report, runs, "experiment" if sweep is None else "sweep")
    own: dict[str, pd.DataFrame] = {}
    if design.kind == "scaling":
        _scaling_sections(report, design, tables, names)
    else:
        own = _comparison_sections(report, design, timeseries, tables, runs, names)
    _definitions(report, design, names)
    _config_blocks(report, design, runs, sweep)
    meta = _provenance(design, runs, sweep)
    for name, table in {**tables, **own}.items():
        if isinstance(table, pd.DataFrame) and name != "outcomes":
            write_file_atomically(out_dir / "tables" / f"{name}.csv", _csv_writer(table))
    report.save_figures(out_dir / "figures")
    html_path = write_text_atomically(out_dir / "report.html", report.to_html(meta))
    md_path = write_text_atomically(out_dir / "summary.md", report.to_markdown(meta=meta))
    return html_path, md_path


def _csv_writer(table: pd.DataFrame):
    return lambda path: table.to_csv(path, index=False)


def _comparison_sections(
    report: Report,
    design: Design,
    ts: pd.DataFrame,
    tables: dict[str, Any],
    runs: pd.DataFrame,
    names: Names,
) -> dict[str, pd.DataFrame]:
    """Every section of a comparison or policy sweep; returns the report's own tables."""
    a = design.analysis
    opts = {"ci": float(a["ci"]), "n_boot": int(a["n_boot"]), "seed": int(a["seed"])}
    side = conclusions.side_effects(tables["outcomes"], ts, baseline=design.baseline, **opts)
    side = in_order(
        side, {"metric": list(conclusions.SIDE_EFFECTS), "site": names.sites, "arm": names.arms}
    )
    plans, stops = plan_contents(runs), budget_stops(runs)
    effects = tables["effects"]
    one_arm = design.kind == "comparison" and set(design.arms) == {design.baseline}
    if one_arm or effects.empty:  # nothing to compare: one arm, or no pair of runs finished
        report.heading("What this means")
        report.text(_nothing_to_compare(design, runs, names, one_arm))
        if not one_arm:
            _plans_section(report, plans, stops, names)
        _month0_section(report, design, ts, names)
        _timeseries_section(report, design, ts, names)
        if not one_arm and not tables["takeoff"].empty:
            _takeoff_section(report, tables["takeoff"], names)
        return {"side_effects": side, "plans": plans, "budget_stops": stops}
    report.heading("What this means")
    report.extend(
        conclusions.what_this_means(
            effects, tables["takeoff"], tables["cost"], side, stops, plans, names
        )
    )
    _plans_section(report, plans, stops, names)
    _month0_section(report, design, ts, names)
    if design.kind == "policy_sweep":
        _cost_effectiveness_section(report, tables["cost"], runs, names)
    else:
        _timeseries_section(report, design, ts, names)
    report.heading("Effects against the baseline")
    report.figure(
        figure_effects(effects, arm_labels=names.arm_names, site_labels=names.site_names),
        "effects",
        "Effects with intervals: each site on its own scale, and relative to its baseline",
    )
    report.table(
        effects_table(effects, names, horizon=False),
        f"Effects per measure, at month {names.horizon} (whole run: totals over the run)",
    )
    _side_effects_section(report, side, names)
    _takeoff_section(report, tables["takeoff"], names)
    if design.kind == "comparison":
        if (tables["cost"]["total_spend"] > 0).any():
            report.heading("Cost per creative job")
            report.table(cost_table(tables["cost"], names), "Policy spend per creative job created")
        _city_sections(report, design, effects, runs, names)
    return {"side_effects": side, "plans": plans, "budget_stops": stops}


def _nothing_to_compare(design: Design, runs: pd.DataFrame, names: Names, one_arm: bool) -> str:
    """Why a comparison report shows no effects: one arm, or no pair of runs finished."""
    baseline = names.arm(design.baseline)
    if one_arm:
        return (
            f"Every run of this design is the baseline ({baseline}): there is no plan to "
            "compare it with. The time series below show how the runs vary from replicate "
            "to replicate; add an arm to measure a plan's effects."
        )
    left_out = len(runs) and (runs["status"] != "ok").any()
    return (
        f"No {names.arm_word} can be compared with the baseline ({baseline}): no site has "
        f"finished runs of the baseline and of another {names.arm_word} with the same "
        "replicate seed"
        + (" (the runs left out are listed above)" if left_out else "")
        + ". What finished is shown below."
    )


def _stops_table(stops: pd.DataFrame, names: Names) -> pd.DataFrame:
    """Levers that ran out of money; sites where the same happened share a row."""
    rows: dict[tuple, list[str]] = {}
    for r in stops.itertuples(index=False):
        months = (
            str(r.first_month)
            if r.first_month == r.last_month
            else f"{r.first_month} to {r.last_month}"
        )
        key = (
            names.arm(r.arm),
            r.lever,
            f"{r.stopped} of {r.runs} runs",
            months,
            fmt_money(r.spent),
            str(r.reason).removeprefix("budget exhausted: "),
        )
        rows.setdefault(key, []).append(names.site(getattr(r, "site", "")))
    columns = ["plan", "lever", "out of money in", "month", "spent per run", "why"]
    table = pd.DataFrame(list(rows), columns=columns)
    if "site" in stops:
        table.insert(1, "sites", [", ".join(sites) for sites in rows.values()])
    return table


def _plans_section(report: Report, plans: pd.DataFrame, stops: pd.DataFrame, names: Names) -> None:
    """The plans as they ran: levers with intensities, budgets, and the levers that ran dry."""
    if plans.empty or not (plans["policy"] != "").any():
        return  # no levers anywhere (a parameter sweep)
    report.heading("The plans")
    report.table(
        plans_table(plans, names),
        "Levers (intensity 1 = the documented default), when they start, for how long, and "
        "the municipality's budget at the start",
    )
    if len(stops):
        report.table(
            _stops_table(stops, names),
            f"Levers that ran out of budget before month {names.horizon}",
        )


#: What the sites-at-month-0 table shows: (time-series column, how a value is written).
MONTH0_COLUMNS = (
    ("population", lambda v: fmt_number(round(v))),
    ("creative_employment", lambda v: fmt_number(round(v))),
    ("creative_share", lambda v: fmt_percent(v, digits=3)),
    ("creative_firms", lambda v: fmt_number(round(v))),
    ("mean_rent", lambda v: fmt_money(v, prefix="")),  # the label names the currency
)


def month0_table(ts: pd.DataFrame, design: Design, names: Names) -> pd.DataFrame:
    """Each site at month 0, the state its spin-up left: means over runs.

    With plans (policies), month 0 is the same for every plan of a site and seed
    (levers act from month 1): the baseline's runs where it ran, else every run of
    the site. With settings (a parameter sweep), each setting has a spin-up of its
    own: one row per site and setting. A site's population at month 0 is what its
    spin-up settled on, which can differ from the population its config asked for
    (a town next to a city loses people to it).
    """
    first = ts[ts["step"] == 0]
    per_setting = names.arm_word != "plan"
    rows = []
    for site in names.sites:
        here = first[first["site"] == site]
        if per_setting:
            groups = [(arm, here[here["arm"] == arm]) for arm in names.arms]
        elif design.baseline in set(here["arm"]):
            groups = [(None, here[here["arm"] == design.baseline])]
        else:
            groups = [(None, here)]
        for arm, runs in groups:
            if not len(runs):
                continue
            row = {"site": names.site(site)}
            if arm is not None:
                row[names.arm_word] = names.arm(arm)
            for column, write in MONTH0_COLUMNS:
                if column in runs:
                    row[label(column)] = write(float(runs[column].mean()))
            row["runs"] = len(runs)
            rows.append(row)
    return pd.DataFrame(rows)


def _month0_section(report: Report, design: Design, ts: pd.DataFrame, names: Names) -> None:
    table = month0_table(ts, design, names)
    if not len(table):
        return
    report.heading("The sites at month 0")
    if names.arm_word == "plan":
        start = (
            "Month 0 is the end of each run's spin-up without policy: the long-run state of "
            "the site, from which every plan starts (its levers act from month 1)."
        )
        first = ts[ts["step"] == 0]
        base_everywhere = all(
            design.baseline in set(first.loc[first["site"] == site, "arm"]) for site in names.sites
        )
        over = (
            "the baseline's runs"
            if base_everywhere
            else "the baseline's runs where they finished, else every plan's: the same state"
        )
        caption = f"Each site at month 0 (means over {over})"
    else:
        start = (
            f"Month 0 is the end of each run's spin-up, under its own {names.arm_word}: the "
            f"long-run state that {names.arm_word} leads to, from which the months analysed start."
        )
        caption = f"Each site and {names.arm_word} at month 0 (means over runs)"
    if _spun_up(design):
        report.text(
            f"{start} A site's population at month 0 is the one its spin-up settled on, which "
            "can differ from the population its config asked for."
        )
    else:
        report.text(
            "Month 0 is the drawn initial state: these runs had no spin-up (spin_up.months=0), "
            "so month 0 is not the long-run state of the site, and the first months show the "
            "way toward it as well as what each run does."
        )
    report.table(table, caption)


def _spun_up(design: Design) -> bool:
    """Whether some run of the design starts from a spin-up (``spin_up.months`` above 0)."""
    from clustersim.model.schema_spinup import SpinUpParams

    for site in design.sites.values():
        for arm in design.arms.values():
            months = SpinUpParams().months
            for override in (*design.common, *site.overrides, *arm.overrides):
                key, _, value = override.lstrip("+").partition("=")
                if key == "spin_up.months" and value.strip().isdigit():
                    months = int(value)
            if months > 0:
                return True
    return False


def _timeseries_section(report: Report, design: Design, ts: pd.DataFrame, names: Names) -> None:
    a = design.analysis
    report.heading("Time series")
    report.figure(
        figure_timeseries(
            ts,
            list(a["band_metrics"]),
            sites=names.sites,
            arms=[x for x in names.arms if x in set(ts["arm"])],
            site_labels=names.site_names,
            arm_labels=names.arm_names,
            ci=float(a["ci"]),
            seed=int(a["seed"]),
        ),
        "timeseries",
        f"Mean over replicates per {names.arm_word} with {float(a['ci']):.0%} bootstrap bands; "
        "each site on its own scale",
    )


def _side_effects_section(report: Report, side: pd.DataFrame, names: Names) -> None:
    """Displacement, rent (last month, peak, mean over the run) and other harms, readable."""
    report.heading("Side effects")
    report.text(
        f"What the {names.arm_word}s may cost residents: people displaced by rising rents "
        "(counted over the whole run), rent at the last month, in its peak month and on "
        "average over the run (a festival's rent spike is gone by the last month, but "
        "residents paid it), creative workers leaving the region and unemployment among "
        "creative workers. Changes are absolute; relative changes are given only against "
        "baselines large enough for them to mean something."
    )
    if side.empty:
        report.text("No side effects were recorded for these runs.")
        return
    report.table(
        effects_table(side, names, horizon=False),
        f"Side effects per site and {names.arm_word}, at month {names.horizon} unless stated",
    )


def _takeoff_section(report: Report, takeoff: pd.DataFrame, names: Names) -> None:
    report.heading("Take-off")
    report.figure(
        figure_takeoff(takeoff, arm_labels=names.arm_names, site_labels=names.site_names),
        "takeoff",
        "Chance that the focus cluster takes off, with Wilson intervals",
    )
    report.table(takeoff_table(takeoff, names), f"Take-off per site and {names.arm_word}")


def _cost_effectiveness_section(
    report: Report, cost: pd.DataFrame, runs: pd.DataFrame, names: Names
) -> None:
    """A policy sweep's cost per job by lever and intensity, cheapest first."""
    if {"lever", "intensity"} <= set(runs.columns):
        cost = cost.merge(
            runs.drop_duplicates("arm")[["arm", "lever", "intensity"]], on="arm", how="left"
        )
    report.heading("Cost-effectiveness")
    if {"lever", "intensity"} <= set(cost.columns):
        report.figure(
            figure_cost_effectiveness(cost),
            "cost_effectiveness",
            "Creative jobs created vs the baseline (left) and EUR per job "
            "(right) by lever and intensity, with intervals",
        )
        cost = cost.sort_values(
            ["cost_per_job", "jobs_created"], ascending=[True, False], na_position="last"
        )
    report.table(cost_table(cost, names), "Cost per creative job created, cheapest first")


def _city_sections(
    report: Report, design: Design, effects: pd.DataFrame, runs: pd.DataFrame, names: Names
) -> None:
    """Each site's firms at the last month: the baseline and the arm with the largest effect."""
    report.heading("The cities")
    best = effects[effects["metric"] == "creative_employment"]
    for site in names.sites:
        top = best[best["site"] == site].sort_values("effect", ascending=False)
        shown = [design.baseline, *([str(top.iloc[0]["arm"])] if len(top) else [])]
        fig = _city_figure(runs, site, shown, design.steps, names)
        if fig is not None:
            report.figure(
                fig,
                f"city_{re.sub(r'[^A-Za-z0-9_-]+', '_', str(site))}",
                f"{design.sites[site].label}: firms at the last month of replicate 0, "
                f"{' vs '.join(names.arm(a) for a in shown)} (the {names.arm_word} with the "
                "largest effect on creative employment)",
            )


def _scaling_sections(report: Report, design: Design, tables: dict[str, Any], names: Names) -> None:
    outcomes, fits = tables["outcomes"], tables["scaling"]
    report.heading("What this means")
    for fit in fits.itertuples():
        report.text(scaling_sentence(fit))
    report.heading("Scaling with population")
    report.figure(
        figure_scaling(outcomes, fits),
        "scaling",
        "Metrics against population on log-log axes with fitted power laws",
    )
    report.table(
        scaling_table(fits), "Scaling exponents (log-log least squares, bootstrap intervals)"
    )
    cols = ["site", "population", *[m for m in fits["metric"] if m in outcomes]]
    per_site = outcomes[cols].groupby("site", sort=False).mean().reset_index()
    per_site = per_site.sort_values("population").rename(columns={m: label(m) for m in cols[2:]})
    per_site["site"] = [names.site(s) for s in per_site["site"]]
    report.table(per_site, "Means per city size (last month)")
    _takeoff_section(report, tables["takeoff"], names)
