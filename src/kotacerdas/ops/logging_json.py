"""One JSON object per log line (KOTACERDAS_LOG_FORMAT=json), with the request id.

Each line has `time` (ISO 8601 in UTC, milliseconds), `level`, `logger`,
`message` and `process`, then `request_id` while a web request is handled,
`exc_info` for a logged exception, and any `extra=` fields the call passed.
The formatter adds nothing that the log call did not pass, so keeping personal
data out of the lines stays the job of each log call.
"""

import contextvars
import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

# The id of the request this thread is handling; set by RequestMetricsMiddleware.
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None
)

FIELDS = ["asctime", "levelname", "name", "message", "process"]
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Set `record.request_id` to the id of the request being handled, or None."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class JsonFormatter(BaseJsonFormatter):
    """python-json-logger's formatter with the field names of docs/monitoring.md."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(FIELDS, rename_fields=RENAMED, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        # Lines outside a request (the worker, start-up) carry no request id.
        if log_data.get("request_id") is None:
            log_data.pop("request_id", None)
