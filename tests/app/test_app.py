"""The classroom app: settings -> model, drawings, the launch command, and the page in Chromium.

The browser tests serve the real app (pytest-ipywidgets' ``solara_app``) and drive
Debian's Chromium through Playwright (never ``playwright install``). CI installs
chromium (scripts/bootstrap.sh); without it these tests fail and say so.

Run ``python tests/test_app.py`` to retake the screenshots in docs/img/.
"""

from __future__ import annotations

import dataclasses
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from clustersim.app.page import CityMapFigure, CityPlotsFigure, _y_range, layer_values, main
from clustersim.app.scenarios import (
    CITY_LABELS,
    LEVER_INFO,
    SCENARIOS,
    ClassroomSettings,
    ClassroomTown,
    available_levers,
    city_graph,
    model_kwargs,
)
from clustersim.model.core import CreativeClusterModel
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


# ------------------------------------------------------------------ settings and model


def test_levers_become_the_models_policy_argument() -> None:
    settings = ClassroomSettings(levers=(("creative_hub", 1.5), ("festival", 1.0)), policy_start=6)
    assert settings.policy() == {
        "creative_hub": {"intensity": 1.5, "start": 6},
        "festival": {"intensity": 1.0, "start": 6},
    }
    kwargs = model_kwargs(settings)
    assert kwargs["policy"] == settings.policy()
    assert kwargs["institutions"] == {"municipality_budget": settings.budget}
    assert "policy" not in model_kwargs(ClassroomSettings())


def test_switching_levers_on_and_off() -> None:
    settings = ClassroomSettings().with_lever("festival", 2.0).with_lever("creative_hub", 1.0)
    assert settings.levers == (("creative_hub", 1.0), ("festival", 2.0))
    assert settings.with_lever("festival", None).levers == (("creative_hub", 1.0),)
    assert settings.lever_intensity("festival") == 2.0
    assert settings.lever_intensity("broadband") is None


def test_every_model_lever_is_offered() -> None:
    levers = available_levers()
    from clustersim.policy.levers import LEVERS

    assert set(levers) == set(LEVERS)
    assert levers[: sum(info.main for info in LEVER_INFO.values())] == [
        name for name, info in LEVER_INFO.items() if info.main
    ]


def test_no_lever_controls_without_the_levers_module(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "clustersim.policy.levers", None)  # import fails
    assert available_levers() == []


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="city must be one of"):
        ClassroomSettings(city="atlantis")
    with pytest.raises(ValueError, match="accessibility"):
        ClassroomSettings(accessibility=0.0)
    with pytest.raises(ValueError, match="once"):
        ClassroomSettings(levers=(("festival", 1.0), ("festival", 2.0)))


def test_the_app_draws_the_same_city_as_the_model() -> None:
    for city in ("small_town", "obidos"):
        ours = city_graph(ClassroomSettings(city=city), np.random.default_rng(3))
        theirs = CreativeClusterModel(city=city, rng=3).graph
        assert dict(ours.nodes(data=True)) == dict(theirs.nodes(data=True))
        assert list(ours.edges(data=True)) == list(theirs.edges(data=True))


def test_accessibility_scales_only_the_town_and_keeps_the_random_stream() -> None:
    plain = ClassroomSettings(city="obidos")
    faster = dataclasses.replace(plain, accessibility=1.5)
    g0, g1 = (city_graph(s, np.random.default_rng(s.seed)) for s in (plain, faster))
    focus = g0.graph["focus"]
    for node, data in g0.nodes(data=True):
        expected = data["accessibility"]
        if data["place"] == focus:
            expected = min(expected * 1.5, 1.0)
        assert g1.nodes[node]["accessibility"] == pytest.approx(expected)
        assert g1.nodes[node]["population"] == data["population"]
    town0, town1 = ClassroomTown(settings=plain), ClassroomTown(settings=faster)
    assert np.array_equal(town0.talents.home, town1.talents.home)
    assert np.array_equal(town0.firms.node, town1.firms.node)


def test_agglomeration_cap_and_budget_reach_the_model() -> None:
    town = ClassroomTown(settings=ClassroomSettings(agglomeration_cap=None, budget=1e6))
    assert town.params.firm.agglomeration_cap is None
    assert town.municipality.budget == 1e6


def test_baseline_is_the_same_town_until_the_levers_start() -> None:
    settings = SCENARIOS["hub_and_festival"].settings
    town = ClassroomTown(settings=settings)
    assert {p.name for p in town.policies} == {"creative_hub", "festival"}
    assert town.baseline is not None and not town.baseline.policies
    town.run_for(settings.policy_start + 3)
    assert len(town.records) == len(town.baseline.records) == settings.policy_start + 4
    before = settings.policy_start  # records[k] is month k
    for row, base in zip(town.records[:before], town.baseline.records[:before], strict=True):
        assert row["creative_employment"] == base["creative_employment"]
    assert sum(r["policy_spend"] for r in town.records) > 0
    assert ClassroomTown(settings=ClassroomSettings()).baseline is None


def test_every_scenario_and_city_builds_and_steps() -> None:
    for scenario in SCENARIOS.values():
        town = ClassroomTown(settings=scenario.settings)
        town.step()
        assert town.steps == 1
        assert scenario.watch_for
    for city in CITY_LABELS:
        settings = ClassroomSettings(city=city)
        assert city_graph(settings, np.random.default_rng(0)).number_of_nodes() > 0
    town = CreativeClusterModel(**model_kwargs(ClassroomSettings(city="obidos")))
    assert town.place_names == ["Obidos", "Lisbon"]


# ------------------------------------------------------------------ drawings


def test_map_sizes_nodes_by_population_and_colours_by_layer() -> None:
    town = ClassroomTown(settings=ClassroomSettings())
    drawing = CityMapFigure(town, "rent")
    talents = np.bincount(town.talents.home[town.talents.alive], minlength=town.n_nodes)
    people = town.residents + talents
    sizes = drawing.nodes.get_sizes()
    assert np.array_equal(np.argsort(sizes, kind="stable"), np.argsort(people, kind="stable"))
    assert np.allclose(drawing.nodes.get_array(), town.rent)
    assert len(drawing.firms.get_offsets()) == town.firms.alive.sum()
    texts = zip(drawing.labelled, drawing.talent_labels, strict=True)
    labels = {i: text.get_text() for i, text in texts}
    assert all(labels[i] == f"{talents[i]:,}" for i in labels)
    for layer in ("creative_density", "amenity", "accessibility"):
        assert np.allclose(CityMapFigure(town, layer).nodes.get_array(), layer_values(town, layer))
    town.run_for(3)
    drawing.update()
    assert len(drawing.firms.get_offsets()) == town.firms.alive.sum()
    assert "month 3" in drawing.title.get_text()


def test_plots_follow_the_records_and_the_baseline() -> None:
    town = ClassroomTown(settings=SCENARIOS["hub_and_festival"].settings)
    town.run_for(14)
    drawing = CityPlotsFigure(town)
    (_, line, ghost) = drawing.lines[0]
    assert list(line.get_ydata()) == [r["creative_employment"] for r in town.records]
    assert list(ghost.get_ydata()) == [r["creative_employment"] for r in town.baseline.records]
    (_, spend, _) = drawing.lines[3]
    total = sum(r["policy_spend"] for r in town.records) / 1e3
    assert spend.get_ydata()[-1] == pytest.approx(total)


def test_plot_axes_do_not_turn_noise_into_trends() -> None:
    assert _y_range((0.0, 1.0), np.array([316.0, 316.4]), "mean_rent") == pytest.approx(
        (284.58, 347.82)
    )
    assert _y_range((-0.05, 0.05), np.zeros(5), "policy_spend") == (0.0, 1.0)
    # limits stay while the data fit them, so the axes are not redrawn every month
    assert _y_range((270.0, 350.0), np.array([300.0, 312.0]), "mean_rent") == (270.0, 350.0)
    assert _y_range((270.0, 350.0), np.array([300.0, 360.0]), "mean_rent")[1] > 360.0


def test_redraw_time_of_the_default_town(record_property) -> None:
    """Records (never asserts) the server-side time of one step plus both redraws."""
    town = ClassroomTown(settings=SCENARIOS["small_town"].settings)
    drawings = [CityMapFigure(town, "rent"), CityPlotsFigure(town)]
    times = []
    for _ in range(5):
        start = time.perf_counter()
        town.step()
        for drawing in drawings:
            drawing.update()
            assert drawing.png().startswith(b"\x89PNG")
        times.append(time.perf_counter() - start)
    record_property("step_and_redraw_seconds_median", float(np.median(times)))
    print(f"step + redraw of the default town: median {np.median(times):.3f} s")


# ------------------------------------------------------------------ the launch command


def test_clustersim_app_runs_solara_on_localhost(monkeypatch) -> None:
    from solara.__main__ import cli

    calls = []
    monkeypatch.setattr(cli, "main", lambda **kwargs: calls.append(kwargs))
    main([])
    main(["--host", "0.0.0.0", "--port", "9000", "--open"])
    assert calls[0]["args"] == [
        "run",
        "clustersim.app.page",
        "--host",
        "127.0.0.1",
        "--port",
        "8765",
        "--production",
        "--no-open",
    ]
    assert calls[1]["args"][2:7] == ["--host", "0.0.0.0", "--port", "9000", "--production"]
    assert calls[1]["args"][-1] == "--open"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(port: int, server: subprocess.Popen, timeout_s: float = 60) -> str:
    """The app's HTML once the server on ``port`` answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                return reply.read().decode()
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"clustersim-app exited with code {server.returncode}")
            time.sleep(0.5)
    pytest.fail(f"clustersim-app did not answer within {timeout_s} s")


def test_clustersim_app_command_serves_the_page() -> None:
    exe = Path(sys.executable).with_name("clustersim-app")
    assert exe.exists(), f"{exe} is missing: reinstall with pip install -e '.[app]'"
    port = _free_port()
    server = subprocess.Popen(
        [str(exe), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = _wait_for_server(port, server)
        assert "solara" in page.lower()
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}" in output


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

    server = ServerStarlette(_free_port(), "localhost")
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
    port = _free_port()
    server = subprocess.Popen([str(exe), "--port", str(port)], stdout=subprocess.DEVNULL)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        _wait_for_server(port, server)
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
    port = _free_port()
    exe = Path(sys.executable).with_name("clustersim-app")
    server = subprocess.Popen([str(exe), "--port", str(port)], stdout=subprocess.DEVNULL)
    saved = []
    try:
        _wait_for_server(port, server)
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
