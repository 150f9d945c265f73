"""Configure logging once per process."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    """Plain, timestamped logs on stderr; level from LIVEMON_LOG_LEVEL (default INFO)."""
    logging.basicConfig(
        level=os.environ.get("LIVEMON_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns real messages
