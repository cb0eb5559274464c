"""The classroom page in Chromium: it renders, Step and Play redraw it, controls work.

The browser tests serve the real app (pytest-ipywidgets' ``solara_app``) and drive
Debian's Chromium through Playwright (never ``playwright install``). CI installs
chromium (scripts/bootstrap.sh); without it these tests fail and say so.

Run ``PYTHONPATH=tests python tests/app/test_page.py`` to retake the screenshots in docs/img/.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from app_server import free_port, wait_for_server

from clustersim.app.scenarios import SCENARIOS
from conftest import CHROMIUM_ARGS, chromium_path

ROOT = Path(__file__).resolve().parents[2]
LOAD_TIMEOUT_MS = 60_000

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


class Session:
    """One browser tab on the app, collecting page errors."""

    def __init__(self, page, url: str) -> None:
        self.page, self.errors = page, []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(url)
        self.wait_month(0, timeout=LOAD_TIMEOUT_MS)
        page.locator(".vue-grid-item img").nth(1).wait_for(timeout=LOAD_TIMEOUT_MS)

    def wait_month(self, month: int, timeout: float | None = None) -> None:
        self.page.get_by_text(f"Time: {month:.1f}", exact=True).wait_for(timeout=timeout)

    def wait_month_at_least(self, month: int, timeout: float | None = None) -> None:
        """Wait until the page shows ``month`` or later (Play may redraw past a month unseen)."""
        self.page.wait_for_function(
            """month => {
                const m = document.body.innerText.match(/Time: (\\d+)\\.0/);
                return m !== null && Number(m[1]) >= month;
            }""",
            arg=month,
            timeout=timeout,
        )

    def images(self) -> list[str]:
        imgs = self.page.locator(".vue-grid-item img")
        return [imgs.nth(i).get_attribute("src") for i in range(imgs.count())]

    def summary(self) -> str:
        return self.page.locator("div", has_text=re.compile(r"month \d+ · ")).last.inner_text()

    def step(self, month: int) -> None:
        self.page.get_by_role("button", name="Step").click()
        self.wait_month(month)

    def choose(self, label: str, option: str) -> None:
        self.page.locator(".v-select", has_text=label).click()
        self.page.locator(".menuable__content__active [role=option]", has_text=option).click()

    def toggle(self, label: str) -> None:
        self.page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).click()

    def wait_summary(self, text: str) -> None:
        self.page.locator("div", has_text=text).last.wait_for()

    def assert_healthy(self) -> None:
        assert self.errors == [], f"page errors: {self.errors}"
        assert self.page.get_by_text("Traceback").count() == 0
        assert self.page.locator(".v-alert.error").count() == 0


def _wait_for_redraw(session: Session, before: list[str], figures=(0, 1), timeout_s=20) -> None:
    """Wait until each figure in ``figures`` (0: map, 1: plots) differs from ``before``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = session.images()
        if len(now) == len(before) and all(now[i] != before[i] for i in figures):
            return
        session.page.wait_for_timeout(50)
    pytest.fail(f"figures {figures} were not redrawn within {timeout_s} s")


def test_page_shows_the_town_and_step_and_play_redraw_it(
    app_url, page_session, record_property
) -> None:
    app = Session(page_session, app_url)
    images = app.images()
    assert len(images) == 2, "expected the city map and the plots"
    widths = app.page.locator(".vue-grid-item img").evaluate_all("s => s.map(i => i.naturalWidth)")
    assert min(widths) > 300, f"figures not drawn (image widths {widths})"
    assert "Small town, month 0" in app.summary()
    for name in ("Rent", "Creative density", "Amenity", "Accessibility"):
        assert app.page.get_by_role("button", name=name).count() == 1
    # Step, Play and Reset sit above the town controls in the sidebar
    step_y = app.page.get_by_role("button", name="Step").bounding_box()["y"]
    city_y = app.page.locator(".v-select", has_text="City").bounding_box()["y"]
    assert step_y < city_y

    start = time.monotonic()
    app.step(1)
    _wait_for_redraw(app, images)
    seconds = time.monotonic() - start
    record_property("browser_step_redraw_seconds", seconds)
    print(f"Step click to redrawn map and plots in Chromium: {seconds:.2f} s")
    app.wait_summary("Small town, month 1")

    images = app.images()
    app.page.get_by_role("button", name="Creative density").click()
    _wait_for_redraw(app, images, figures=(0,))

    app.page.get_by_role("button", name="▶").click()
    try:
        app.wait_month_at_least(3, timeout=60_000)
    finally:
        app.page.get_by_role("button", name="❚❚").click()
    app.assert_healthy()


def test_controls_and_scenarios_change_the_model(app_url, page_session) -> None:
    app = Session(page_session, app_url)
    app.choose("Lesson scenario", "2. The same town")
    app.wait_summary("Creative hub x1, Festival x1")
    assert "grey dashed lines" in app.page.inner_text("body")

    app.toggle("Broadband")
    app.wait_summary("Festival x1, Broadband x1")
    assert "You changed this scenario" in app.page.inner_text("body")

    app.choose("City", "Medium city")
    app.page.locator("b", has_text="Medium city").wait_for()
    app.toggle("Clustering benefits stop at a cap")
    app.page.get_by_text(re.compile("agglomeration uncapped")).wait_for()
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


def test_two_sessions_have_their_own_towns(app_url, page_session, browser) -> None:
    first = Session(page_session, app_url)
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
    """Non-daemon threads besides the main one: what would keep the server from exiting."""
    return [t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]


def test_closing_the_tab_while_playing_ends_the_play_thread(app_url, context) -> None:
    # SolaraViz plays in a non-daemon thread; if it outlived the tab, Ctrl+C could not
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


# ------------------------------------------------------------------ screenshots for docs


def take_screenshots(out_dir: Path = ROOT / "docs" / "img") -> list[Path]:
    """Serve the app with clustersim-app and save the screenshots used by docs/teaching.md."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    exe = Path(sys.executable).with_name("clustersim-app")
    server = subprocess.Popen([str(exe), "--port", str(port)], stdout=subprocess.DEVNULL)
    saved = []
    try:
        wait_for_server(port, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 960})
            app = Session(page, f"http://127.0.0.1:{port}/")
            shots = [
                ("small_town", 24, "Rent", "app-small-town.png"),
                ("metropolis", 12, "Creative density", "app-metropolis.png"),
                ("hub_and_festival", 36, "Rent", "app-hub-festival.png"),
            ]
            for scenario, months, layer, name in shots:
                if scenario != "small_town":
                    app.choose("Lesson scenario", SCENARIOS[scenario].title)
                    app.wait_summary(", month 0")
                    app.page.wait_for_timeout(500)
                app.page.get_by_role("button", name=layer).click()
                for month in range(1, months + 1):
                    app.step(month)
                app.page.wait_for_timeout(1500)
                path = out_dir / name
                app.page.screenshot(path=str(path))
                saved.append(path)
            app.page.set_viewport_size({"width": 1440, "height": 1900})
            app.page.wait_for_timeout(1000)
            path = out_dir / "app-controls.png"
            app.page.locator(".v-card", has_text="Town and policy").last.screenshot(path=str(path))
            saved.append(path)
            app.assert_healthy()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return saved


if __name__ == "__main__":
    for saved_path in take_screenshots():
        print(f"saved {saved_path.relative_to(ROOT)}")
