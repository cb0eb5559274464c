"""Reports: self-contained HTML that opens in headless Chromium and shows its figures."""

from __future__ import annotations

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
        "| 2 | 1.23e-03 | no |",
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
            "steps": 12,
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
            "arms": {"none": ["plan=none"], "creative_city": ["plan=creative_city"]},
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
    assert "# Tiny town vs city" in md and "| creative_employment |" in md
    for link in re.findall(r"\]\((figures/[^)]+)\)", md):
        assert (tiny_report.out_dir / link).is_file(), link


def test_report_states_the_noise_floor_of_the_design(tiny_report):
    """With 2 replicates the report says how large an effect must be to be told from chance."""
    md = tiny_report.summary.read_text()
    assert "detectable from" in md
    floors = re.findall(
        r"(\w+): with 2 replicates, effects on creative employment smaller than about "
        r"([\d,.e+-]+) jobs cannot be told from chance",
        md,
    )
    assert {site for site, _ in floors} == {"town", "city"}
    effects = tiny_report.tables["effects"]
    town = effects[(effects.metric == "creative_employment") & (effects.site == "town")]
    assert float(town["mde"].max()) > 0
