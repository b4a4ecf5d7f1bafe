"""The server's own log: one format for every logger (ours, uvicorn's, asyncio's), text or
JSON lines, and repeated messages rate-limited so a flood cannot fill the disk.

A message repeated (the same logger, level and format string, whatever its arguments) is
written `burst` times per `window` seconds; the rest are counted, and the next one written
says how many were suppressed. A traceback is kept only on the first of each window.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from datetime import UTC, datetime

import orjson

_TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class RepeatLimit(logging.Filter):
    """Let through `burst` records per message per `window` seconds; count the rest."""

    def __init__(self, burst: int = 10, window: float = 60.0) -> None:
        super().__init__()
        self.burst, self.window = burst, window
        self._seen: dict[tuple[str, int, str], tuple[float, int, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        with self._lock:
            start, written, suppressed = self._seen.get(key, (now, 0, 0))
            if now - start >= self.window:
                start, written = now, 0
            if written >= self.burst:
                self._seen[key] = (start, written, suppressed + 1)
                return False
            self._seen[key] = (start, written + 1, 0)
        if written:
            record.exc_info, record.exc_text = None, None  # one traceback per window
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} like this suppressed)"
        return True


class JsonLines(logging.Formatter):
    """A log record as one JSON object a line: time, level, logger, message (and error)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(json: bool = False) -> logging.Handler:
    """One stderr handler at the root, for every logger; uvicorn's own handlers removed."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if json else logging.Formatter(_TEXT))
    handler.addFilter(RepeatLimit())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
