"""Headless Debian Chromium through Playwright, with the flags this sandbox needs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DRIVER_EXIT_S = 10


@contextmanager
def chromium() -> Iterator[Browser]:
    """Launch the system Chromium (never a downloaded one)."""
    manager = sync_playwright()
    playwright = manager.start()
    # Playwright's stop() returns once the driver's pipe closes, not once the node driver has
    # exited; on a loaded machine its Popen is then collected while running, and the suite's
    # warnings-as-errors turns that ResourceWarning into a failure of whichever test runs next.
    driver: subprocess.Popen[bytes] | None = (
        manager._client._transport._proc._transport.get_extra_info("subprocess")  # type: ignore[attr-defined]
    )
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
        if driver is not None:
            driver.wait(timeout=DRIVER_EXIT_S)
