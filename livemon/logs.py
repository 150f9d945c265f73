"""Configure logging once per process: plain text by default, one JSON object per line on request.

`LIVEMON_LOG_FORMAT=json` makes every record one line of JSON for a log shipper (Loki,
Elasticsearch, CloudWatch): `{"ts", "level", "logger", "msg", "process", "exc"?}` with the
message already formatted. Only those fields are written, never the record's `args` or
extra attributes, so nothing reaches the logs that the message text does not show; and
livemon's messages name sessions, partitions and engines, never viewers (viewer ids are
pseudonymised at ingest and are not logged).
"""

from __future__ import annotations

import logging
import os
import time

import orjson


class JsonFormatter(logging.Formatter):
    """One JSON object per record, UTC timestamps with milliseconds."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a single line of JSON."""
        line: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def configure_logging() -> None:
    """Logs on stderr; level from LIVEMON_LOG_LEVEL (default INFO), format from LIVEMON_LOG_FORMAT (text|json)."""
    level = os.environ.get("LIVEMON_LOG_LEVEL", "INFO").upper()
    if os.environ.get("LIVEMON_LOG_FORMAT", "text").lower() == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler])
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns real messages
