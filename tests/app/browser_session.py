"""Helpers of the app's browser tests and screenshots: one Chromium tab on the classroom page."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from clustersim.app.scenarios import SCENARIOS

__all__ = ["LOAD_TIMEOUT_MS", "Session", "wait_for_redraw"]

LOAD_TIMEOUT_MS = 60_000


class Session:
    """One browser tab on the app, collecting page errors."""

    def __init__(self, page, url: str) -> None:
        self.page, self.errors = page, []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(url)
        self.wait_month(0, timeout=LOAD_TIMEOUT_MS)
        page.locator("img.clustersim-plots").wait_for(timeout=LOAD_TIMEOUT_MS)
        page.locator("img.clustersim-map").wait_for(timeout=LOAD_TIMEOUT_MS)

    def month(self) -> int:
        return int(self.page.locator(".clustersim-month").inner_text().removeprefix("Month "))

    def wait_month(self, month: int, timeout: float | None = None) -> None:
        self.page.locator(".clustersim-month", has_text=re.compile(f"^Month {month}$")).wait_for(
            timeout=timeout
        )

    def wait_month_at_least(self, month: int, timeout: float | None = None) -> None:
        """Wait until the page shows ``month`` or later (Play may redraw past a month unseen)."""
        self.page.wait_for_function(
            """month => {
                const shown = document.querySelector('.clustersim-month');
                const m = shown && shown.innerText.match(/Month (\\d+)/);
                return m !== null && Number(m[1]) >= month;
            }""",
            arg=month,
            timeout=timeout,
        )

    def images(self) -> list[str]:
        """The ``src`` of the map and of the plots (they change when redrawn)."""
        return [
            self.page.locator(f"img.clustersim-{name}").get_attribute("src")
            for name in ("map", "plots")
        ]

    def box(self, selector: str) -> dict:
        """Position and size on the page (CSS pixels) of the first element ``selector`` finds."""
        return self.page.locator(selector).first.bounding_box()

    def summary(self) -> str:
        return self.page.locator("div", has_text=re.compile(r"month \d+ · ")).last.inner_text()

    def readout(self) -> str:
        return self.page.locator(".clustersim-readout").inner_text()

    def wait_baseline_readout(self) -> None:
        """Wait until the readout compares the town with its baseline.

        A regular expression, not a string: Playwright matches a string ``has_text``
        case-insensitively, and the no-levers readout says "the same town without levers".
        """
        self.page.locator(".clustersim-readout", has_text=re.compile("Without levers")).wait_for()

    def step(self, month: int) -> None:
        self.page.get_by_role("button", name="Step").click()
        self.wait_month(month)

    def step_to(self, month: int) -> None:
        for next_month in range(self.month() + 1, month + 1):
            self.step(next_month)

    def choose(self, label: str, option: str) -> None:
        self.page.locator(".v-select", has_text=label).click()
        self.page.locator(".menuable__content__active [role=option]", has_text=option).click()

    def choose_lesson(self, key: str) -> None:
        """Choose lesson ``key`` and wait until its town is built and shown with its text."""
        lesson = SCENARIOS[key]
        self.choose("Lesson scenario", lesson.title)
        self.page.get_by_text(lesson.watch_for[:60]).wait_for(timeout=LOAD_TIMEOUT_MS)
        self.wait_month(0, timeout=LOAD_TIMEOUT_MS)

    def toggle(self, label: str) -> None:
        self.page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).click()

    def open_panel(self) -> None:
        """Open the side panel (town and policy), closed in the projector layout."""
        if not self.page.locator(".clustersim-panel").is_visible():
            self.page.get_by_role("button", name="Town and policy").click()
        self.page.locator(".v-select", has_text="City").wait_for()

    def layout(self, name: str) -> None:
        """Switch to the "Projector" or "Compact" layout and wait for its figures."""
        self.page.get_by_role("button", name=name, exact=True).click()
        self.page.locator(f".clustersim-{name.lower()} img.clustersim-plots").wait_for()

    def wait_summary(self, text: str) -> None:
        self.page.locator("div", has_text=text).last.wait_for()

    def download(self, label: str) -> tuple[str, str]:
        """Click the download button ``label``: the file's suggested name and its text."""
        with self.page.expect_download(timeout=30_000) as info:
            self.page.get_by_role("button", name=label).click()
        download = info.value
        return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")

    def assert_healthy(self) -> None:
        assert self.errors == [], f"page errors: {self.errors}"
        assert self.page.get_by_text("Traceback").count() == 0
        assert self.page.locator(".v-alert.error").count() == 0


def wait_for_redraw(session: Session, before: list[str], figures=(0, 1), timeout_s=20) -> None:
    """Wait until each figure in ``figures`` (0: map, 1: plots) differs from ``before``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = session.images()
        if len(now) == len(before) and all(now[i] != before[i] for i in figures):
            return
        session.page.wait_for_timeout(50)
    pytest.fail(f"figures {figures} were not redrawn within {timeout_s} s")
