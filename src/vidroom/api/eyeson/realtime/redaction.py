"""Credentials travel in the websockets' query strings (``/rt?access_key=``, ``/rt?api_key=``,
``/call?auth_token=``: clients put them there): keep them out of uvicorn's log lines."""

from __future__ import annotations

import logging
import re

SECRET_QUERY = re.compile(r"((?:access_key|api_key|auth_token)=)[^&\s\"]*", re.IGNORECASE)
LOGGERS = ("uvicorn.error", "uvicorn.access")


class RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                SECRET_QUERY.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = SECRET_QUERY.sub(r"\1[redacted]", record.msg)
        return True


_FILTER = RedactCredentials()


def redact_websocket_logs() -> None:
    """Install the filter on uvicorn's loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
