"""No credential survives the redaction filter, whatever its encoding and
wherever a formatter would find it: the message, its arguments, ``extra``
fields (Django's ``request``), exception texts, stacks; in text and JSON."""

import io
import json
import logging
import sys

import pytest
from django.test import RequestFactory
from pythonjsonlogger.json import JsonFormatter

from realtime.ops.logging import RedactTokensFilter, redact_tokens

SECRET = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "text",
    [
        f"GET /ws/?token={SECRET} HTTP/1.1",
        f"GET /ws/?%74oken={SECRET} HTTP/1.1",
        f"GET /ws/?t%6Fk%65n={SECRET}",
        f"GET /ws/?%2574oken={SECRET}",  # encoded twice
        f"GET /ws/?x=1&TOKEN={SECRET}&y=2",
        f"/ws/?token=%{SECRET[:2]}%{SECRET[2:4]}{SECRET[4:]}",  # value encoded
        f"/ws/?ticket=tk_{SECRET}",
        f"/accounts/login/?username=a&password={SECRET}",
        f"Cookie: csrftoken=x; sessionid={SECRET}",
        f"<ASGIRequest: GET '/api/families/?token={SECRET}'>",
        f'{{"type": "auth", "token": "{SECRET}"}}',
        f"{{'type': 'auth', 'token': '{SECRET}'}}",
        f"WSCONNECT /ws/?tok%65n={SECRET}&x=1",
    ],
)
def test_every_encoding_of_a_credential_is_redacted(text):
    redacted = redact_tokens(text)
    assert SECRET not in redacted and SECRET[4:] not in redacted
    assert "[redacted]" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "no credentials here",
        "/api/gifts/?list=3&tokens=7",
        "a token= with nothing after it",
        '{"type": "subscribe", "topics": ["gift-list:1"]}',
    ],
)
def test_text_without_credentials_is_left_alone(text):
    assert redact_tokens(text) == text


def written(record: logging.LogRecord, formatter: logging.Formatter) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTokensFilter())
    handler.setFormatter(formatter)
    handler.handle(record)
    return stream.getvalue()


FORMATTERS = {
    "text": logging.Formatter("%(levelname)s %(name)s %(message)s"),
    "json": JsonFormatter("%(levelname)s %(name)s %(message)s"),
}


def record_of(logger: str, msg: str, args=(), exc_info=None, **extra):
    record = logging.LogRecord(
        logger, logging.WARNING, __file__, 1, msg, args, exc_info
    )
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize("kind", list(FORMATTERS))
def test_djangos_request_field_is_redacted_in_every_format(kind):
    request = RequestFactory().get(f"/api/families/?%74oken={SECRET}")
    record = record_of(
        "django.request", "Not Found: %s", (request.path,), request=request
    )
    out = written(record, FORMATTERS[kind])
    assert SECRET not in out
    if kind == "json":
        assert "[redacted]" in json.loads(out)["request"]


@pytest.mark.parametrize("kind", list(FORMATTERS))
def test_arguments_keep_their_shape_and_lose_their_credentials(kind):
    record = record_of(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/ws/?token={SECRET}", "1.1", 101),
    )
    out = written(record, FORMATTERS[kind])
    assert SECRET not in out and "/ws/?token=[redacted]" in out
    assert len(record.args) == 5  # uvicorn's own formatter unpacks them


def test_mapping_arguments_and_credentials_split_from_their_names():
    mapping = record_of("daphne", "HTTP GET %(path)s", ({"path": f"/?token={SECRET}"},))
    split = record_of("x", "token=%s", (SECRET,))
    for record in (mapping, split):
        out = written(record, FORMATTERS["text"])
        assert SECRET not in out and "[redacted]" in out


@pytest.mark.parametrize("kind", list(FORMATTERS))
def test_exception_texts_and_stacks_are_redacted(kind):
    try:
        raise ValueError(f"could not open /ws/?token={SECRET}")
    except ValueError:
        record = record_of("realtime", "failed", exc_info=sys.exc_info())
    record.stack_info = f"Stack (most recent call last):\n  url='/?ticket={SECRET}'"
    out = written(record, FORMATTERS[kind])
    assert SECRET not in out
    assert "ValueError: could not open /ws/?token=[redacted]" in out.replace(
        "\\n", "\n"
    )


def test_other_extra_fields_are_redacted_and_plain_ones_kept():
    record = record_of(
        "realtime",
        "closed",
        connection_id="c1",
        user_id=None,
        scope={"query_string": f"token={SECRET}".encode()},
        count=3,
    )
    out = json.loads(written(record, FORMATTERS["json"]))
    assert SECRET not in json.dumps(out)
    assert (out["connection_id"], out["user_id"], out["count"]) == ("c1", None, 3)
