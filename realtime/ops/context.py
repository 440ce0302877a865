"""Who is acting and under which trace id, for the events a change publishes.

The request middleware fills these context variables; code outside a request
(shell, management commands) leaves them empty, so its events carry null ids.
"""

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "realtime_trace_id", default=None
)
_request: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "realtime_request", default=None
)

# W3C trace context: version-traceid-parentid-flags; the trace id is 32 lower hex.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
# An incoming X-Request-ID is echoed into events and logs, so only safe text passes.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


def new_trace_id() -> str:
    """A fresh random trace id in the W3C format (32 hex digits)."""
    return uuid.uuid4().hex


def trace_id_from_headers(traceparent: str | None, request_id: str | None) -> str:
    """A request's trace id: from ``traceparent``, else ``X-Request-ID``, else new."""
    if traceparent:
        match = _TRACEPARENT.match(traceparent.strip().lower())
        if match and match.group(1) != "0" * 32:
            return match.group(1)
    if request_id and _REQUEST_ID.match(request_id.strip()):
        return request_id.strip()
    return new_trace_id()


def current_trace_id() -> str | None:
    """The trace id of the request being served, or None outside a request."""
    return _trace_id.get()


def current_user_id() -> str | None:
    """The id of the authenticated user of the current request, as a string."""
    request = _request.get()
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)


# The header a client sends with a REST write to learn its own echo
# (PROTOCOL.md section 7), and the shape of a connection id.
CONNECTION_HEADER = "X-Realtime-Connection"
_CONNECTION_ID = re.compile(r"^[0-9a-f]{32}$")


def current_connection_id() -> str | None:
    """The realtime connection the current request says it comes from (its
    ``X-Realtime-Connection`` header), or None."""
    request = _request.get()
    if request is None:
        return None
    value = request.headers.get(CONNECTION_HEADER, "").strip()
    return value if _CONNECTION_ID.match(value) else None


@contextmanager
def request_context(request: Any, trace_id: str) -> Iterator[None]:
    """Bind a request and its trace id to everything done inside the block."""
    trace_token = _trace_id.set(trace_id)
    request_token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(request_token)
        _trace_id.reset(trace_token)


@contextmanager
def trace(trace_id: str | None = None) -> Iterator[str]:
    """Run a block (a script, a job) under a trace id of its own."""
    value = trace_id or new_trace_id()
    token = _trace_id.set(value)
    try:
        yield value
    finally:
        _trace_id.reset(token)
