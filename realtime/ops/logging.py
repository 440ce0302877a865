"""Logging helpers: every record carries the trace id of the work it belongs to,
and no record carries a credential."""

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from realtime.ops.context import current_trace_id

REDACTED = "[redacted]"

# Names whose value is a credential, as a query parameter (``?token=``), a
# cookie (``sessionid=``) or a field of JSON or a dict (``"token": "..."``).
CREDENTIAL_NAMES = frozenset(
    {"token", "ticket", "access_token", "password", "sessionid"}
)

# ``name=value``: in a query string, a cookie header, a repr, a message. The
# name may be percent-encoded (``%74oken`` is ``token`` to every query parser);
# the value runs to the next separator whatever its own encoding.
_NAME_CHARS = r"[^\s&?=;,/\"'<>#()\[\]{}]"
# A name starts only after a separator (or at the start): a long run of name
# characters is then scanned once, not once per character (no quadratic scan).
_PAIR = re.compile(
    rf"(?<!{_NAME_CHARS})(?P<name>{_NAME_CHARS}+)=(?P<value>[^&;\s\"'<>#]*)"
)
# ``"token": "value"`` in JSON or ``'token': 'value'`` in a Python repr.
_FIELD = re.compile(
    r"(?P<q>[\"'])(?P<name>[A-Za-z_]+)(?P=q)(?P<sep>\s*:\s*)"
    r"(?P<vq>[\"'])(?P<value>(?:\\.|(?!(?P=vq)).)*)(?P=vq)"
)
# Record attributes every record has: anything else came in through ``extra``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "trace_id",
}


def _is_credential_name(name: str) -> bool:
    # Decode as query parsers do, and again for names encoded twice.
    for _ in range(3):
        decoded = unquote_plus(name, errors="replace")
        if decoded == name:
            break
        name = decoded
    return name.strip().lower() in CREDENTIAL_NAMES


def _redact_pair(match: re.Match) -> str:
    if not match.group("value") or not _is_credential_name(match.group("name")):
        return match.group(0)
    return f"{match.group('name')}={REDACTED}"


def _redact_field(match: re.Match) -> str:
    if match.group("name").lower() not in CREDENTIAL_NAMES:
        return match.group(0)
    q, vq = match.group("q"), match.group("vq")
    return f"{q}{match.group('name')}{q}{match.group('sep')}{vq}{REDACTED}{vq}"


def redact_tokens(text: str) -> str:
    """The text with the value of every credential replaced: ``token=``,
    ``ticket=``, ``password=``, ``sessionid=`` (with the name percent-encoded
    or not), and the same names as JSON or dict fields."""
    if "=" in text:
        text = _PAIR.sub(_redact_pair, text)
    if ":" in text:
        text = _FIELD.sub(_redact_field, text)
    return text


class RequestContextFilter(logging.Filter):
    """Add ``trace_id`` to each record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "trace_id"):
            record.trace_id = current_trace_id() or "-"
        return True


class RedactTokensFilter(logging.Filter):
    """Scrub credentials from everything a formatter could write.

    ASGI servers log request paths with their query strings, and ``/ws/?token=``
    puts an API token there; Django's request log carries the request itself
    (its repr shows the path and query) as an ``extra`` field, which JSON
    formatters print; exception texts may quote a URL. This filter sits on every
    handler and rewrites, where they hold a credential: the message (its
    arguments, or the whole formatted text), each ``extra`` field, the
    exception text (then written out in place of the exception) and the stack.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_message(record)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD and not name.startswith("_"):
                redacted = _redacted_value(value)
                if redacted is not value:
                    setattr(record, name, redacted)
        _redact_exception(record)
        if isinstance(record.stack_info, str):
            record.stack_info = redact_tokens(record.stack_info)
        return True


def _redact_message(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format: the handler reports it as usual
        return
    clean = redact_tokens(message)
    if clean == message:
        return
    if record.args:
        # Keep the arguments (formatters such as uvicorn's read them) when
        # redacting them one by one is enough.
        args = record.args
        if isinstance(args, dict):
            record.args = {key: _redacted_value(v) for key, v in args.items()}
        else:
            record.args = tuple(_redacted_value(arg) for arg in args)
        try:
            if record.getMessage() == clean:
                return
        except Exception:  # noqa: S110 (falls through to the whole text)
            pass
    record.msg, record.args = clean, ()


def _redacted_value(value: Any) -> Any:
    """The value, or its text redacted if that holds a credential."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        clean = redact_tokens(value)
        return value if clean == value else clean
    try:
        text = str(value)  # what a JSON formatter would write for it
    except Exception:
        return value
    clean = redact_tokens(text)
    return value if clean == text else clean


def _redact_exception(record: logging.LogRecord) -> None:
    text = record.exc_text
    if text is None and record.exc_info and record.exc_info[0] is not None:
        text = logging.Formatter().formatException(record.exc_info)
    if not text:
        return
    clean = redact_tokens(text)
    if clean != text:
        # Formatters format exc_info afresh (JSON ones ignore exc_text while
        # it is set), so the redacted text stands in for the exception.
        record.exc_text, record.exc_info = clean, None
