"""The classroom page in Chromium: it renders, Step and Play redraw it, controls work, layouts.

The browser tests serve the real app (pytest-ipywidgets' ``solara_app``) and drive
Debian's Chromium through Playwright (never ``playwright install``). CI installs
chromium (scripts/bootstrap.sh); without it these tests fail and say so.

Run ``PYTHONPATH=tests .venv/bin/python tests/app/screenshots.py`` to retake the
screenshots in docs/img/.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import thread as futures_thread
from pathlib import Path

import pytest
from app_server import free_port, wait_for_server
from browser_session import LOAD_TIMEOUT_MS, Session, wait_for_redraw

from clustersim.app.readout import baseline_gap
from clustersim.app.scenarios import SCENARIOS, ClassroomTown
from conftest import CHROMIUM_ARGS, chromium_path, users_spin_up

pytestmark = [
    # third-party noise when the suite runs with -W error
    pytest.mark.filterwarnings("ignore::DeprecationWarning:websockets.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:uvicorn.*"),
    pytest.mark.filterwarnings(  # pytest-playwright's base_url fixture
        "ignore:Session-scoped fixtures defined as instance methods:pytest.PytestDeprecationWarning"
    ),
]


# ------------------------------------------------------------------ the page in Chromium


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session")
def solara_server():
    """pytest-ipywidgets' server, on a free port (the plugin's fixed port clashes between runs)."""
    from solara.server.starlette import ServerStarlette

    server = ServerStarlette(free_port(), "localhost")
    try:
        server.serve_threaded()
        server.wait_until_serving()
        yield server
    finally:
        server.stop_serving()


@pytest.fixture
def app_url(solara_server, solara_app):
    with solara_app("clustersim.app.page"):
        yield solara_server.base_url


def test_page_shows_the_town_and_step_and_play_redraw_it(
    app_url, page_session, record_property
) -> None:
    app = Session(page_session, app_url)
    images = app.images()
    assert len(images) == 2, "expected the city map and the plots"
    widths = [
        app.page.locator(f"img.clustersim-{name}").evaluate("i => i.naturalWidth")
        for name in ("map", "plots")
    ]
    assert min(widths) > 300, f"figures not drawn (image widths {widths})"
    assert "Small town, month 0" in app.summary()
    for name in ("Rent", "Creative density", "Amenity", "Market access"):
        assert app.page.get_by_role("button", name=name).count() == 1
    # Step, Play and Reset sit above the map, on screen without opening the side panel
    step = app.box("button:has-text('Step')")
    assert step["y"] + step["height"] < app.box("img.clustersim-plots")["y"]
    assert step["y"] + step["height"] < 1000
    assert not app.page.locator(".clustersim-panel").is_visible()

    start = time.monotonic()
    app.step(1)
    wait_for_redraw(app, images)
    seconds = time.monotonic() - start
    record_property("browser_step_redraw_seconds", seconds)
    print(f"Step click to redrawn map and plots in Chromium: {seconds:.2f} s")
    app.wait_summary("Small town, month 1")

    images = app.images()
    app.page.get_by_role("button", name="Creative density").click()
    wait_for_redraw(app, images, figures=(0,))

    app.page.get_by_role("button", name="▶").click()
    try:
        app.wait_month_at_least(3, timeout=60_000)
    finally:
        app.page.get_by_role("button", name="❚❚").click()
    app.assert_healthy()


def test_the_page_says_so_while_it_prepares_a_town(app_url, tab, tmp_path, monkeypatch) -> None:
    # as users get it: the town's 100 years without policy run (no cache yet) before month 0
    monkeypatch.setenv("CLUSTERSIM_CACHE_DIR", str(tmp_path))
    with users_spin_up():
        page = tab(1920, 1080)
        page.goto(app_url)
        notice = page.locator(".clustersim-preparing")
        notice.wait_for(timeout=LOAD_TIMEOUT_MS)
        assert "Preparing the town (100 years without policy)..." in notice.inner_text()
        page.locator(".clustersim-month", has_text="Month 0").wait_for(timeout=LOAD_TIMEOUT_MS)
        # the notice went before the town came: a town drawn under it would jump up when it
        # goes (and a slow machine's screenshot caught the map pushed below the screen)
        assert notice.count() == 0
        town = ClassroomTown(settings=SCENARIOS["small_town"].settings)  # from the cache now
    assert town.spin_up_source == "cache"
    jobs = f"{town.records[0]['creative_employment']:,.0f} creative jobs"
    page.locator("div", has_text=re.compile(f"Small town, month 0 · {jobs}")).last.wait_for()
    page.locator("img.clustersim-map").wait_for()


def test_controls_and_scenarios_change_the_model(app_url, page_session) -> None:
    app = Session(page_session, app_url)
    app.open_panel()
    app.choose("Lesson scenario", "2. The same town")
    app.wait_summary("Creative hub x1, Festival x1")
    assert "grey dashed lines" in app.page.inner_text("body")

    app.toggle("Broadband")
    app.wait_summary("Festival x1, Broadband x1")
    assert "You changed this scenario" in app.page.inner_text("body")

    app.choose("City", "Medium city")
    app.page.locator("b", has_text="Medium city").wait_for()
    app.toggle("Clustering benefits stop at a cap")  # uncapped by default: now capped
    app.page.get_by_text(re.compile("agglomeration cap 200 jobs")).wait_for()
    app.step(1)
    app.step(2)
    # Reset rebuilds the town from what the controls show now
    app.page.get_by_role("button", name="Reset").click()
    app.wait_month(0)
    app.wait_summary("Medium city, month 0")
    assert "Broadband x1" in app.summary()

    app.choose("Lesson scenario", "1. A small town")
    app.wait_summary("Small town, month 0")
    assert "no policy levers" in app.summary()
    app.assert_healthy()


def test_a_lever_that_cannot_act_in_the_town_is_switched_off_and_says_why(
    app_url, page_session
) -> None:
    app = Session(page_session, app_url)
    app.open_panel()
    app.wait_summary("Small town, month 0")  # on its own: no university in its region
    app.page.get_by_text("More levers").click()
    box = app.page.get_by_role("checkbox", name="University partnership")
    box.wait_for(state="attached")
    assert box.is_disabled()
    app.page.get_by_text("Not here: this region has no university to partner with.").wait_for()
    app.choose("City", "Medium city")
    app.page.locator("b", has_text="Medium city").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert app.page.get_by_role("checkbox", name="University partnership").is_enabled()
    assert app.page.locator(".clustersim-lever-refused").count() == 0
    app.assert_healthy()


def test_two_sessions_have_their_own_towns(app_url, page_session, browser) -> None:
    first = Session(page_session, app_url)
    first.open_panel()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        second = Session(context.new_page(), app_url)
        second_images = second.images()
        first.step(1)
        first.step(2)
        first.choose("City", "Medium city")
        first.page.locator("b", has_text="Medium city").wait_for()
        first.step(1)
        second.page.wait_for_timeout(500)
        second.wait_month(0)
        assert "Small town, month 0" in second.summary()
        assert second.images() == second_images, "another session's clicks redrew this town"
        second.step(1)
        second.wait_summary("Small town, month 1")
        first.wait_summary("Medium city, month 1")
        first.wait_month(1)
        first.assert_healthy()
        second.assert_healthy()
    finally:
        context.close()


def _stepping_threads() -> list[threading.Thread]:
    """Non-daemon threads besides the main one: what would keep the server from exiting.

    Idle workers of thread pools (asyncio's default executor, started by earlier tests
    in the same process, e.g. Playwright's) are left out: the interpreter joins them at
    exit, so they do not keep a server running.
    """
    return [
        t
        for t in threading.enumerate()
        if not t.daemon
        and t is not threading.main_thread()
        and getattr(t, "_target", None) is not futures_thread._worker
    ]


def test_closing_the_tab_while_playing_ends_the_play_thread(app_url, context) -> None:
    # Mesa's controller plays in a non-daemon thread; if it outlived the tab, Ctrl+C could not
    # stop the server (and a test run could not end).
    page = context.new_page()
    app = Session(page, app_url)
    app.page.get_by_role("button", name="▶").click()
    app.wait_month_at_least(2, timeout=60_000)
    assert _stepping_threads(), "Play should step the town in a server thread"
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 30
    while _stepping_threads() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _stepping_threads() == [], "the Play thread kept stepping after the tab closed"


def test_ctrl_c_stops_the_app_while_a_tab_plays(browser) -> None:
    # a teacher stopping clustersim-app with Ctrl+C while a student's town plays
    exe = Path(sys.executable).with_name("clustersim-app")
    port = free_port()
    server = subprocess.Popen([str(exe), "--port", str(port)], stdout=subprocess.DEVNULL)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        wait_for_server(port, server)
        app = Session(page, f"http://127.0.0.1:{port}/")
        app.page.get_by_role("button", name="▶").click()
        app.wait_month_at_least(2, timeout=60_000)
        server.send_signal(signal.SIGINT)  # the tab stays open and playing
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("clustersim-app still running 30 s after Ctrl+C while a town played")
    finally:
        page.close()
        if server.poll() is None:
            server.kill()
            server.wait(timeout=20)


# ------------------------------------------------------------------ layouts, leftovers, downloads


@pytest.fixture
def tab(browser):
    """A new tab of the given size (``tab(1920, 1080)``), closed after the test."""
    contexts = []

    def open_tab(width: int, height: int):
        contexts.append(browser.new_context(viewport={"width": width, "height": height}))
        return contexts[-1].new_page()

    yield open_tab
    for context in contexts:
        context.close()


def _font_px(app: Session, selector: str) -> float:
    return app.page.locator(selector).first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )


def test_the_projector_layout_fills_a_1920x1080_screen_with_large_figures(app_url, tab) -> None:
    app = Session(tab(1920, 1080), app_url)
    # the default layout: the side panel closed, map and plots each about half the screen
    assert not app.page.locator(".clustersim-panel").is_visible()
    assert app.page.locator(".clustersim-projector").count() == 1
    map_box, plots_box = app.box("img.clustersim-map"), app.box("img.clustersim-plots")
    # today's (compact) map is about 400 px wide and each plot about 170 px: twice that
    assert map_box["width"] >= 800, map_box
    assert plots_box["width"] >= 800, plots_box  # two plots side by side, each >= 340 px
    assert map_box["x"] + map_box["width"] <= plots_box["x"], "map and plots side by side"
    for box in (map_box, plots_box):  # all on screen, no scrolling
        assert box["y"] + box["height"] <= 1080 + 1, box
    # text legible from the back of the room
    assert _font_px(app, ".clustersim-month") >= 26
    lesson = app.page.get_by_text("Watch for:").locator("xpath=..")
    assert lesson.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 19

    # switching layouts keeps the town, the map's layer and a playing town playing
    app.page.get_by_role("button", name="Creative density").click()
    app.page.get_by_role("button", name="▶").click()
    app.wait_month_at_least(1, timeout=60_000)
    app.layout("Compact")
    app.page.locator(".v-select", has_text="City").wait_for()  # the side panel opens
    compact_map = app.box("img.clustersim-map")
    assert compact_map["width"] <= 600, compact_map
    assert _font_px(app, ".clustersim-month") < 26
    active = app.page.locator(".v-btn--active", has_text="Creative density")
    assert active.count() == 1
    app.page.get_by_role("button", name="❚❚").click()  # still playing: pause it
    paused_at = app.month()
    app.layout("Projector")
    assert app.box("img.clustersim-map")["width"] >= 800
    assert app.month() >= paused_at >= 1
    app.assert_healthy()


def test_the_projector_layout_on_a_1280x800_screen(app_url, tab) -> None:
    app = Session(tab(1280, 800), app_url)
    app.choose_lesson("hub_and_festival")  # the longest summary, and the gap
    app.wait_baseline_readout()
    app.page.wait_for_timeout(500)
    map_box, plots_box = app.box("img.clustersim-map"), app.box("img.clustersim-plots")
    # the same proportions, smaller: still side by side, the plots on screen (font metrics
    # and the lesson text's line breaks can push their last few pixels below the fold)
    assert map_box["width"] > 560 and plots_box["width"] > 560
    assert map_box["x"] + map_box["width"] <= plots_box["x"]
    assert plots_box["y"] + plots_box["height"] <= 800 * 1.02
    assert app.box("button:has-text('Step')")["y"] < 400
    app.assert_healthy()


def test_no_mesa_leftovers_on_the_page(app_url, tab) -> None:
    app = Session(tab(1400, 1000), app_url)  # a tab of its own
    app.open_panel()
    text = app.page.inner_text("body")
    for leftover in ("Model Parameters", "Use Threads", "PAGE 0", "Page 0", "runs on Solara"):
        assert leftover.lower() not in text.lower(), leftover
    assert app.page.locator(".v-tab").count() == 0  # Mesa's page tabs
    assert app.page.locator(".vue-grid-item").count() == 0  # Mesa's draggable grid
    assert app.page.get_by_text("This website runs on").count() == 0
    # every checkbox left is one of the town's controls in the side panel
    checkboxes = app.page.locator("input[type=checkbox]").count()
    assert checkboxes == app.page.locator(".clustersim-panel input[type=checkbox]").count()
    app.assert_healthy()


def test_the_run_downloads_as_csv(app_url, tab) -> None:
    app = Session(tab(1400, 1000), app_url)  # a tab of its own
    app.step_to(3)
    name, text = app.download("Time series CSV")
    assert name == "clustersim-small-town-month-003-timeseries.csv"
    lines = text.strip().splitlines()
    assert lines[0].startswith("step,population,talents,creative_employment,")
    assert len(lines) == 1 + 4  # header, months 0-3
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "2", "3"]
    name, text = app.download("Firms CSV")
    assert name == "clustersim-small-town-month-003-firms.csv"
    lines = text.strip().splitlines()
    assert lines[0].startswith("firm_id,sector,node,place,founded_step,exit_step,employees")
    town = ClassroomTown(settings=SCENARIOS["small_town"].settings)
    town.run_for(3)
    assert len(lines) == 1 + town.firms.n  # every firm the run had, same seed, same firms
    app.assert_healthy()


def test_the_gap_to_the_baseline_and_the_cost_per_job_are_shown_live(app_url, tab) -> None:
    app = Session(tab(1400, 1000), app_url)  # a tab of its own
    assert "No levers on" in app.readout()
    app.choose("Lesson scenario", "2. The same town")
    app.wait_summary("Creative hub x1, Festival x1")
    app.wait_baseline_readout()
    assert re.search(r"Gap\s+0\b", app.readout()), app.readout()
    assert "no extra jobs yet" in app.readout()
    assert "One run is one history" in app.readout()
    settings = SCENARIOS["hub_and_festival"].settings
    town = ClassroomTown(settings=settings)  # the same town, run without a browser
    shown = {}
    for month in (settings.policy_start, settings.policy_start + 1):
        app.step_to(month)
        town.run_for(month - town.steps)
        gap = baseline_gap(town)
        app.page.locator(".clustersim-readout", has_text=gap.spent_text()).wait_for()
        shown[month] = app.readout()
        assert re.search(rf"Gap\s+{re.escape(gap.gap_text())}\b", shown[month]), shown[month]
        assert f"Creative jobs\n{gap.jobs:,.0f}" in shown[month]
        assert f"Without levers\n{gap.baseline_jobs:,.0f}" in shown[month]
        cost = gap.cost_per_job
        assert ("no extra jobs yet" if cost is None else f"{cost:,.0f} EUR") in shown[month]
    assert shown[settings.policy_start] != shown[settings.policy_start + 1]
    assert "M EUR" in shown[settings.policy_start]  # the hub's building, in the month it opens
    app.assert_healthy()
