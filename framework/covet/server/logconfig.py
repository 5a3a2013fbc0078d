"""Logging for `covet serve`: text or JSON lines on stderr, or the user's own dictConfig file.

    configure_logging("info", "json", None)
    configure_logging("info", "text", "logging.toml")   # logging.config.dictConfig(file)

Two loggers: `covet.server` (start-up, shutdown, errors) and `covet.access` (one record per
request, from the server's `--access-log` or from `RequestIDMiddleware`). With `--log-format
json` each record is one JSON object on one line: `time` (UTC, ISO 8601), `level`, `logger`,
`message`, the access record's fields (`client`, `method`, `path`, `status`, and with
RequestIDMiddleware `bytes` and `duration_ms`), `request_id` whenever one is known (the
RequestIDMiddleware's context variable is read for any record logged while a request runs),
and `exception` with the traceback. A log shipper then needs no regular expression.

`--log-config FILE` hands the file (JSON, or TOML when it ends in `.toml`) to
`logging.config.dictConfig` instead; `covet.server.logconfig.JSONFormatter` can be named in it
as a formatter's `()` factory.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from covet.server.exceptions import ServerConfigError

__all__ = ["JSONFormatter", "LOGGERS", "configure_logging", "load_log_config"]

LOGGERS = ("covet.server", "covet.access")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _request_id() -> str | None:
    module = sys.modules.get("covet.middleware.requestid")
    if module is None:  # never imported, so never set: no import on the logging path
        return None
    value: str | None = module.REQUEST_ID.get()
    return value


class JSONFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in values are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if "request_id" not in entry and (request_id := _request_id()) is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def load_log_config(path: str) -> dict[str, Any]:
    """The dictConfig mapping in `path` (TOML when it ends in `.toml`, else JSON)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ServerConfigError(f"--log-config {path}: cannot read: {exc.strerror}") from None
    try:
        data: Any = tomllib.loads(text) if path.endswith(".toml") else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ServerConfigError(f"--log-config {path}: not valid: {exc}") from None
    if not isinstance(data, dict):
        raise ServerConfigError(f"--log-config {path}: must hold a mapping (dictConfig)")
    data.setdefault("version", 1)
    return data


def configure_logging(level: str, log_format: str, log_config: str | None) -> None:
    """Set up covet's loggers: from `log_config` when given, else one stderr handler."""
    if log_config is not None:
        config = load_log_config(log_config)
        try:
            logging.config.dictConfig(config)
        except (ValueError, TypeError, AttributeError, ImportError) as exc:
            raise ServerConfigError(f"--log-config {log_config}: rejected: {exc}") from None
        return
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
