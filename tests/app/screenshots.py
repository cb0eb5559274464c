"""Retake the screenshots of docs/teaching.md from the running app (headless Chromium).

Run ``PYTHONPATH=tests .venv/bin/python tests/app/screenshots.py``: it serves the app
with ``clustersim-app``, plays the lessons in Chromium and saves docs/img/app-*.png.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app_server import free_port, wait_for_server
from browser_session import Session

from clustersim.app.scenarios import SCENARIOS
from conftest import CHROMIUM_ARGS, chromium_path

ROOT = Path(__file__).resolve().parents[2]

#: (file, lesson, months, map layer, layout, window size) of each screenshot.
SHOTS = [
    ("app-small-town.png", "small_town", 24, "Rent", "Projector", (1920, 1080)),
    ("app-hub-festival.png", "hub_and_festival", 60, "Rent", "Projector", (1920, 1080)),
    ("app-metropolis.png", "metropolis", 12, "Creative density", "Projector", (1920, 1080)),
    ("app-compact.png", "hub_and_festival", 24, "Rent", "Compact", (1440, 900)),
]


def _shoot(app: Session, lesson: str, months: int, layer: str, layout: str) -> None:
    """Load ``lesson`` in ``layout`` and run it to ``months`` with the map on ``layer``."""
    app.layout(layout)
    if lesson != "small_town":
        app.choose("Lesson scenario", SCENARIOS[lesson].title)
        app.wait_summary(", month 0")
        app.page.wait_for_timeout(500)
    app.page.get_by_role("button", name=layer).click()
    app.step_to(months)
    app.page.wait_for_timeout(1500)


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
            for name, lesson, months, layer, layout, (width, height) in SHOTS:
                page = browser.new_page(viewport={"width": width, "height": height})
                app = Session(page, f"http://127.0.0.1:{port}/")
                _shoot(app, lesson, months, layer, layout)
                app.page.screenshot(path=str(out_dir / name))
                saved.append(out_dir / name)
                if layout == "Compact":  # the side panel's controls, whole
                    app.page.set_viewport_size({"width": width, "height": 1900})
                    app.page.wait_for_timeout(1000)
                    card = app.page.locator(".v-card", has_text="Town and policy").last
                    card.screenshot(path=str(out_dir / "app-controls.png"))
                    saved.append(out_dir / "app-controls.png")
                app.assert_healthy()
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return saved


if __name__ == "__main__":
    for saved_path in take_screenshots():
        print(f"saved {saved_path.relative_to(ROOT)}")
