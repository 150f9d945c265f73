"""Headless Debian Chromium through Playwright, with the flags this sandbox needs."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Dialog, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DRIVER_EXIT_S = 10
DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@functools.cache
def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="livemon-screenshots-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def screenshot_path(name: str) -> str:
    """Where a page test saves its screenshot: docs/screenshots with LIVEMON_UPDATE_SCREENSHOTS=1 (`make
    screenshots`), else a scratch directory removed at exit, so a test run does not rewrite tracked files."""
    if os.environ.get("LIVEMON_UPDATE_SCREENSHOTS") != "1":
        return str(_scratch() / name)
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(DOCS_SCREENSHOTS / name)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Launch the system Chromium (never a downloaded one)."""
    manager = sync_playwright()
    playwright = manager.start()
    # Playwright's stop() returns once the driver's pipe closes, not once the node driver has
    # exited; on a loaded machine its Popen is then collected while running, and the suite's
    # warnings-as-errors turns that ResourceWarning into a failure of whichever test runs next.
    client = manager._client
    assert client is not None  # set by start()
    driver: subprocess.Popen[bytes] | None = (  # asyncio's Process keeps its transport private (untyped)
        client._transport._proc._transport.get_extra_info("subprocess")  # type: ignore[attr-defined]
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


def dismiss_dialogs(page: Page, messages: list[str]) -> None:
    """Dismiss every dialog `page` opens, keeping its message (the pages must open none)."""

    def dismiss(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
