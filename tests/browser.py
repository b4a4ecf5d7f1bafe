"""Chromium for the browser tests: found or skipped (never skipped where CI asks for it)."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def chromium_or_skip() -> str:
    """The browser's path; skips the test when Chromium or playwright is missing, unless
    `FAILEDCONTACT_BROWSER_TESTS=1` (CI), where a missing browser fails it."""
    wanted = os.environ.get("FAILEDCONTACT_BROWSER_TESTS") == "1"
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if wanted:
            raise
        pytest.skip("the `browser` extra (playwright) is not installed")
    if browser_path is None:
        assert not wanted, "Chromium is not installed (Debian package `chromium`)"
        pytest.skip("Chromium is not installed")
    return browser_path


def launch(driver: Any, browser_path: str) -> Any:
    """A headless Chromium that fetches nothing it is not asked to."""
    return driver.chromium.launch(executable_path=browser_path, args=_ARGS)


def watched_page(browser: Any, problems: list[str], requests: list[str]) -> Any:
    """A new page that records its errors in `problems` and every URL it asks for."""
    page = browser.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    return page
