"""Reports: self-contained HTML that opens in headless Chromium and shows its figures.

The report of a small design whose plan runs out of budget (a town and a city, a
creative-city plan with EUR 300,000, 2 replicates, 30 months) is read as a policy
team would: its first section says what the results mean, warns that the money ran
out and that 2 replicates are too few, names plans and measures readably, and prints
to clean PDF pages.
"""

from __future__ import annotations

import itertools
import re

import pandas as pd
import pytest
from matplotlib.figure import Figure

from clustersim.experiments.cli import run_experiment
from clustersim.experiments.design import Design
from clustersim.experiments.report import Report, markdown_table
from conftest import CHROMIUM_ARGS, chromium_path

pytestmark = [
    pytest.mark.filterwarnings(  # pytest-playwright's base_url fixture
        "ignore:Session-scoped fixtures defined as instance methods:pytest.PytestDeprecationWarning"
    ),
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": CHROMIUM_ARGS}


def test_report_builder_html_is_self_contained_and_markdown_links_figures(tmp_path):
    report = Report("A & B")
    report.heading("Numbers")
    report.text("x < y")
    report.table(pd.DataFrame({"arm": ["hub"], "effect": [0.5]}), "Effects")
    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    report.figure(fig, "line", "A line")
    report.code("key: value", "Config")
    page = report.to_html("meta line")
    assert page.startswith("<!DOCTYPE html>") and "<title>A &amp; B</title>" in page
    assert "x &lt; y" in page and "<details><summary>Config</summary>" in page
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)) == 1
    assert "http://" not in page and "https://" not in page
    md = report.to_markdown()
    assert "![A line](figures/line.png)" in md and "| hub | 0.5 |" in md
    report.save_figures(tmp_path)
    assert (tmp_path / "line.png").read_bytes()[:4] == b"\x89PNG"


def test_markdown_table_formats_numbers_and_blanks():
    table = pd.DataFrame({"a": [1_234_567, 2], "b": [float("nan"), 0.001234], "c": [True, False]})
    assert markdown_table(table).splitlines()[2:] == [
        "| 1,234,567 |  | yes |",
        "| 2 | 0.00123 | no |",
    ]


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    design = Design.from_mapping(
        {
            "name": "tiny_report",
            "kind": "comparison",
            "title": "Tiny town vs city",
            "description": "A report smoke test.",
            "root_seed": 1,
            "replicates": 2,
            "steps": 30,
            "baseline": "none",
            "n_jobs": 1,
            "sites": {
                "town": {
                    "overrides": [
                        "city=region",
                        "city.population=5000",
                        "city.city_population=20000",
                    ]
                },
                "city": {"overrides": ["city=medium_city", "city.population=20000"]},
            },
            "arms": {
                "none": ["plan=none"],
                "creative_city": {
                    "label": "Creative city plan: hub, festival, broadband, cluster management",
                    # EUR 300,000: the hub and broadband cannot be paid at all, the festival
                    # runs dry in month 19 and cluster management in month 24
                    "overrides": ["plan=creative_city", "institutions.municipality_budget=300000"],
                },
            },
            "analysis": {"n_boot": 200},
        }
    )
    return run_experiment(design, tmp, echo=lambda _m: None)


def test_report_opens_in_chromium_without_errors_and_shows_its_figures(tiny_report, page, tmp_path):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(tiny_report.report.as_uri())
    assert page.title() == "Tiny town vs city"
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(images) >= 5  # time series, effects, take-off, two city maps
    assert all(done and w > 200 and h > 100 for done, w, h in images), images
    for fig_id in ("fig-timeseries", "fig-effects", "fig-takeoff", "fig-city_town"):
        box = page.locator(f"#{fig_id} img").bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150, fig_id
    assert page.locator("table").count() >= 4
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    assert errors == []


def test_summary_markdown_has_the_tables_and_figure_files(tiny_report):
    md = tiny_report.summary.read_text()
    assert "# Tiny town vs city" in md and "| creative employment (jobs) |" in md
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (tiny_report.out_dir / link).is_file(), link


def test_report_says_what_each_site_is_at_month_0_after_its_spin_up(tiny_report):
    # the town of 5,000 next to a city of 20,000 is what its spin-up left, not what the
    # config asked: the report shows that state, from which every lever starts
    md = tiny_report.summary.read_text()
    assert "## The sites at month 0" in md
    section = md.split("## The sites at month 0")[1].split("\n## ")[0]
    ts = pd.read_parquet(tiny_report.out_dir / "timeseries.parquet")
    start = ts[(ts["step"] == 0) & (ts["arm"] == "none")]
    for site in ("town", "city"):
        here = start[start["site"] == site]
        row = next(line for line in section.splitlines() if line.startswith(f"| {site} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == f"{round(here['population'].mean()):,}"
        assert cells[2] == f"{round(here['creative_employment'].mean()):,}"
        assert cells[-1] == "2"  # runs: the baseline's two replicates
    # every arm starts from the same month 0 (levers act from month 1)
    for _, same in ts[ts["step"] == 0].groupby(["site", "replicate"]):
        assert same["population"].nunique() == 1


def test_report_states_the_noise_floor_of_the_design(tiny_report):
    """With 2 replicates the report says how large an effect must be to be told from chance."""
    md = tiny_report.summary.read_text()
    assert "detectable from" in md
    floors = re.findall(
        r"(\w+): with 2 replicates, effects on creative employment smaller than about "
        r"([\d,.e+-]+) jobs cannot be told from chance",
        md,
    )
    # a site whose replicates all give the same difference has no noise floor, and says so
    same = re.findall(
        r"In (\w+) each of the 2 replicates gives the same difference in creative employment",
        md,
    )
    with_floor = {site for site, _ in floors}
    assert with_floor | set(same) == {"town", "city"} and not with_floor & set(same)
    effects = tiny_report.tables["effects"]
    jobs = effects[effects.metric == "creative_employment"].set_index("site")
    for site in with_floor:
        assert float(jobs.loc[site, "mde"]) > 0
    for site in same:
        assert float(jobs.loc[site, "mde"]) == 0


def _body(md: str) -> str:
    """The summary up to its configuration (which quotes the design's raw settings)."""
    return md.split("## Configuration")[0]


def test_report_opens_with_what_this_means_in_plain_sentences(tiny_report):
    md = tiny_report.summary.read_text()
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings[0] == "What this means"
    first = md.split("## What this means")[1].split("\n## ")[0]
    # which plan does what where, relative to the baseline, with its interval
    assert re.search(
        r"\*\*Creative city plan\*\* (raises|lowers|may raise|may lower|has no clear effect on) "
        r"creative employment",
        first,
    )
    assert "95% interval" in first
    assert "jobs of the baseline" in first or "the baseline has" in first
    # odds of take-off with their Wilson interval, and side effects
    assert re.search(r"takes off in \d of 2 runs \(\d+%, 95% interval \d+% to \d+%\)", first)
    assert "side effect" in first.lower()
    # 2 replicates: the warning and the replicates needed
    assert "Only 2 replicates per plan and site" in first
    assert "replicates needed to detect each at its observed size" in first
    # never more than the intervals allow: an interval including 0 is no clear effect
    effects = tiny_report.tables["effects"]
    head = effects[effects.metric == "creative_employment"]
    for row in head.itertuples():
        if row.ci_low <= 0 <= row.ci_high:
            assert "has no clear effect on creative employment" in first


def test_report_warns_that_the_plan_ran_out_of_budget_with_the_months(tiny_report):
    md = tiny_report.summary.read_text()
    warning = next(line for line in md.splitlines() if "ran out of budget" in line)
    assert warning.startswith("> **Warning:** **Creative city plan** in town and city")
    assert "(EUR 300,000) before month 30" in warning
    assert "Creative hub stopped in month 12 before spending anything" in warning
    assert "Festival stopped in month 19" in warning
    assert "Cluster management stopped in month 24" in warning
    assert "Effects are measured at month 30, 6 months after its last lever stopped." in warning
    stops = tiny_report.out_dir / "tables" / "budget_stops.csv"
    assert stops.is_file() and "budget exhausted" in stops.read_text()


def test_report_shows_the_plans_with_lever_names_intensities_and_budgets(tiny_report):
    md = tiny_report.summary.read_text()
    plans = md.split("## The plans")[1].split("\n## ")[0]
    assert "| Creative city plan | creative_city | Creative hub, Festival, Broadband, " in plans
    assert "Cluster management | 1 | 12 | to the end | EUR 300,000 |" in plans
    assert "| No policy | none | no levers |" in plans or "| none | none | no levers |" in plans
    assert "Levers that ran out of budget before month 30" in plans


def test_side_effects_section_has_readable_labels_and_careful_relatives(tiny_report):
    md = tiny_report.summary.read_text()
    side = md.split("## Side effects")[1].split("\n## ")[0]
    for measure in (
        "displaced residents (whole run)",
        "mean rent (EUR/month)",
        "mean rent (EUR/month), peak month",
        "mean rent (EUR/month), mean over the run",
        "unemployment among creative workers (share)",
    ):
        assert f"| {measure} |" in side, measure
    table = tiny_report.out_dir / "tables" / "side_effects.csv"
    side_effects = pd.read_csv(table)
    tiny = side_effects[side_effects.baseline_mean.abs() < 10]
    tiny = tiny[tiny.metric.isin(["displaced_total", "brain_drain_total"])]
    rows = [line for line in side.splitlines() if line.startswith("| displaced residents")]
    if len(tiny):  # against fewer than 10 people, no percentage is shown
        assert any("| n/a |" in line for line in rows)


def test_report_numbers_are_human_and_names_readable(tiny_report):
    body = _body(tiny_report.summary.read_text())
    assert not re.search(r"\d\.?\d*e[-+]\d", body), "scientific notation"
    for raw in ("displaced_total", "creative_employment", "mean_rent", "innovation_total"):
        assert raw not in body, raw
    assert re.search(r"EUR \d{3},\d{3}", body)  # money with thousands separators
    assert re.search(r"\| \d+(\.\d)?% \|", body)  # shares as percentages


def test_summary_has_no_empty_heading(tiny_report):
    lines = [line for line in tiny_report.summary.read_text().splitlines() if line.strip()]
    assert not lines[-1].startswith("#")
    for here, after in itertools.pairwise(lines):
        if here.startswith("## "):
            assert not after.startswith("## "), here
    config = tiny_report.summary.read_text().split("## Configuration")[1]
    assert "<summary>Experiment design (experiment.yaml)</summary>" in config
    assert "kind: comparison" in config


def test_report_prints_to_clean_pdf_pages(tiny_report, page, tmp_path):
    """Print media: figures and table rows are never cut, configs are left to the HTML file."""
    page.goto(tiny_report.report.as_uri())
    page.emulate_media(media="print")
    style = page.evaluate(
        "() => { const f = getComputedStyle(document.querySelector('figure'));"
        " const p = getComputedStyle(document.querySelector('details pre'));"
        " return [f.breakInside, p.display]; }"
    )
    assert style == ["avoid", "none"]
    widths = page.evaluate("Array.from(document.images).map(i => i.getBoundingClientRect().right)")
    body = page.evaluate("document.body.getBoundingClientRect().right")
    assert max(widths) <= body + 1
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    data = pdf.read_bytes()
    assert (
        data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 3
    )


def test_a_design_of_the_baseline_alone_reports_its_runs_without_effects(tmp_path):
    """Replicates of one arm (no plan to compare) give a report, not a traceback."""
    design = Design.from_mapping(
        {
            "name": "baseline_only",
            "kind": "comparison",
            "title": "Replicates of a town",
            "root_seed": 3,
            "replicates": 2,
            "steps": 6,
            "baseline": "none",
            "n_jobs": 1,
            "sites": {"town": {"overrides": ["city=small_town", "city.population=5000"]}},
            "arms": {"none": ["plan=none"]},
        }
    )
    outcome = run_experiment(design, tmp_path, echo=lambda _m: None)
    html = outcome.report.read_text()
    assert "there is no plan to compare it with" in html
    assert "Effects against the baseline" not in html


def test_the_month_0_text_says_whether_the_runs_had_a_spin_up():
    """With spin_up.months=0 the report used to call month 0 the end of a spin-up."""
    from clustersim.experiments.report import _spun_up

    raw = {
        "name": "spin",
        "sites": {"town": {"overrides": ["city=small_town"]}},
        "arms": {"none": ["plan=none"], "hub": ["policy=[creative_hub]"]},
        "common": ["spin_up.months=0"],
    }
    assert not _spun_up(Design.from_mapping(raw))
    raw["arms"]["hub"].append("spin_up.months=24")  # one arm's runs are spun up
    assert _spun_up(Design.from_mapping(raw))
    raw["common"] = ["spin_up.months=36"]
    raw["arms"]["hub"].pop()
    assert _spun_up(Design.from_mapping(raw))


def test_month_0_says_over_which_runs_when_the_baseline_did_not_finish_everywhere():
    # the caption said "means over the baseline's runs" when a site's baseline had failed
    # and the table averaged the other plan's runs there
    from clustersim.experiments.readable import Names
    from clustersim.experiments.report import _month0_section

    design = Design.named("town_vs_metropolis")
    names = Names.of(design)
    other = next(a for a in names.arms if a != design.baseline)
    rows = [
        {"site": site, "arm": arm, "step": 0, "creative_employment": 100.0, "population": 1e4}
        for site in names.sites
        for arm in (design.baseline, other)
    ]

    def caption(ts: pd.DataFrame) -> str:
        report = Report("r")
        _month0_section(report, design, ts, names)
        return next(payload[1] for kind, payload in report.sections if kind == "table")

    assert caption(pd.DataFrame(rows)).endswith("(means over the baseline's runs)")
    failed = [r for r in rows if not (r["site"] == names.sites[0] and r["arm"] == design.baseline)]
    assert "where they finished, else every plan's" in caption(pd.DataFrame(failed))
