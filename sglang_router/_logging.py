"""Python's own log lines, in the Go router's style.

With ``--json-log`` (``json_log=True``) every line the process writes is a
JSON object, Python's included: the same keys as the router's zap JSON
encoder (level, ts, logger, caller, msg), one object per line on stderr.
"""

import json
import logging
import sys
import time

# zap's level names (its JSON encoder writes them in lower case).
_LEVELS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn",
           logging.ERROR: "error", logging.CRITICAL: "dpanic"}

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JSONFormatter(logging.Formatter):
    """One JSON object per record, with the keys of the router's JSON logs."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "level": _LEVELS.get(record.levelno, record.levelname.lower()),
            "ts": _iso8601(record.created),
            "logger": record.name,
            "caller": f"{record.filename}:{record.lineno}",
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["stacktrace"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _iso8601(created: float) -> str:
    """zap's ISO8601 time: 2006-01-02T15:04:05.000-0700, local time."""
    local = time.localtime(created)
    millis = int((created % 1) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f".{millis:03d}" + time.strftime("%z", local)


def configure(json_lines: bool = False, level: int = logging.INFO) -> None:
    """Set up the root logger for a command-line entry point: plain lines,
    or JSON lines with json_lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if json_lines else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)


def use_json_for_package() -> None:
    """Make the sglang_router loggers write JSON lines (Router(json_log=True)
    in a program that configured nothing else for them)."""
    pkg = logging.getLogger("sglang_router")
    if any(isinstance(h.formatter, JSONFormatter) for h in pkg.handlers + logging.getLogger().handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    pkg.addHandler(handler)
    pkg.propagate = False
    if pkg.level == logging.NOTSET:
        pkg.setLevel(logging.INFO)
