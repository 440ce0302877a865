"""Logging helpers: every record carries the trace id of the work it belongs to."""

import logging

from .context import current_trace_id


class RequestContextFilter(logging.Filter):
    """Add ``trace_id`` to each record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "trace_id"):
            record.trace_id = current_trace_id() or "-"
        return True
