"""Retake the screenshots of docs/teaching.md from the running app (headless Chromium).

Run ``PYTHONPATH=tests .venv/bin/python tests/app/screenshots.py [OUT_DIR]``: it serves
the app with ``clustersim-app`` (the spin-up users get, a fresh spin-up cache, so the
first shot shows the page preparing its town), plays the lessons in Chromium and saves
docs/img/app-*.png (or OUT_DIR/app-*.png).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from app_server import free_port, wait_for_server
from browser_session import Session

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
        app.choose_lesson(lesson)
        app.page.wait_for_timeout(500)
    app.page.get_by_role("button", name=layer).click()
    app.step_to(months)
    app.page.wait_for_timeout(1500)


def _shoot_preparing(browser, url: str, path: Path) -> None:
    """The page while its first town runs its spin-up (the cache is empty)."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(url)
    page.locator(".clustersim-preparing").wait_for(timeout=60_000)
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": 1920, "height": 200})
    page.close()


def take_screenshots(out_dir: Path = ROOT / "docs" / "img") -> list[Path]:
    """Serve the app with clustersim-app and save the screenshots used by docs/teaching.md."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    exe = Path(sys.executable).with_name("clustersim-app")
    cache = tempfile.TemporaryDirectory(prefix="clustersim-screenshots-")
    env = {**os.environ, "CLUSTERSIM_CACHE_DIR": cache.name}
    server = subprocess.Popen([str(exe), "--port", str(port)], stdout=subprocess.DEVNULL, env=env)
    saved = []
    try:
        wait_for_server(port, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            _shoot_preparing(browser, f"http://127.0.0.1:{port}/", out_dir / "app-preparing.png")
            saved.append(out_dir / "app-preparing.png")
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
        cache.cleanup()
    return saved


if __name__ == "__main__":
    for saved_path in take_screenshots(*(Path(arg).resolve() for arg in sys.argv[1:2])):
        print(f"saved {saved_path}")
