"""Logging helpers: every record carries the trace id of the work it belongs to,
and no record carries a credential."""

import logging
import re

from realtime.ops.context import current_trace_id

# ``token=...`` in a query string or a message (access logs print full paths).
_TOKEN_IN_TEXT = re.compile(
    r"((?:^|[?&\s\"'])(?:token|ticket)=)[^&\s\"']+", re.IGNORECASE
)
REDACTED = "[redacted]"


def redact_tokens(text: str) -> str:
    """The text with every ``token=`` / ``ticket=`` value replaced."""
    return _TOKEN_IN_TEXT.sub(rf"\g<1>{REDACTED}", text)


class RequestContextFilter(logging.Filter):
    """Add ``trace_id`` to each record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "trace_id"):
            record.trace_id = current_trace_id() or "-"
        return True


class RedactTokensFilter(logging.Filter):
    """Scrub credentials from the message before any handler writes it.

    ASGI servers log request paths with their query strings, and ``/ws/?token=``
    puts an API token there; this filter sits on every handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message.lower() or "ticket=" in message.lower():
            record.msg = redact_tokens(message)
            record.args = ()
        return True
