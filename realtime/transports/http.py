"""What the SSE stream and the polling endpoint share: reading their query
(``topics``, the resume cursor) and authorizing every topic, with one set of
refusals. Both answer a :class:`Refusal` with its status and JSON body before
anything else is sent.
"""

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from realtime.auth import credentials
from realtime.auth.drf import TOKEN_KEYWORD
from realtime.conf import realtime_settings
from realtime.policies.authorize import authorize_many
from realtime.policies.base import Grant
from realtime.protocol.codes import (
    FORBIDDEN,
    INVALID_CURSOR,
    INVALID_MESSAGE,
    INVALID_TOPIC,
    MISSING_TOPICS,
    TOO_MANY_TOPICS,
    UNAUTHENTICATED,
)
from realtime.protocol.topics import InvalidCursor, is_valid_topic, parse_cursor

# Topics in a cursor are as long as topics; a cursor for the largest allowed
# subscription stays far below this, so longer text is refused unread.
MAX_CURSOR_CHARS = 64 * 1024


class Refusal(Exception):
    """A request refused before any event is read; becomes a 4xx JSON answer."""

    def __init__(
        self, status: int, code: str, detail: str, topic: str | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.topic = topic

    def body(self) -> dict[str, Any]:
        """``{"detail": ..., "code": ..., "topic": ...}`` (topic when there is one)."""
        body: dict[str, Any] = {"detail": self.detail, "code": self.code}
        if self.topic is not None:
            body["topic"] = self.topic
        return body


def unauthenticated(detail: str) -> Refusal:
    """The refusal of a request without valid credentials (401)."""
    return Refusal(401, UNAUTHENTICATED, detail)


def header(scope: dict[str, Any], name: bytes) -> str | None:
    """A request header's value (the first of that name), if present."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def parse_presence(value: str | None) -> bool:
    """``?presence=false`` follows the topics without being shown present
    (the SSE form of a subscribe's ``"presence": false``)."""
    if value is None or value == "true":
        return True
    if value == "false":
        return False
    raise Refusal(400, INVALID_MESSAGE, "presence must be true or false")


def query_value(scope: dict[str, Any], name: str) -> str | None:
    """A query parameter's value (the first of that name), if present."""
    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query, keep_blank_values=True).get(name)
    return values[0] if values else None


async def authenticate(scope: dict[str, Any]) -> credentials.Authenticated:
    """Who the request signs in as the polling endpoint finds it
    (``auth/drf.py``): ``Authorization: Token``, then the session cookie.

    A ``Token`` header that does not authenticate is refused even with a valid
    session, as DRF's token authentication refuses it.
    """
    scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() == TOKEN_KEYWORD.lower():
        found = await credentials.authenticate_token(token.strip())
        if found is None:
            raise unauthenticated("Invalid token.")
        return found
    user = credentials.session_user(scope)
    if user is None:
        raise unauthenticated("Authentication credentials were not provided.")
    key = getattr(scope.get("session"), "session_key", None)
    return credentials.Authenticated(user, credentials.Binding(session_key=key))


def parse_topics(text: str | None) -> list[str]:
    """The topics of ``?topics=a,b``: valid, without repeats, within the limit."""
    topics = [part.strip() for part in (text or "").split(",") if part.strip()]
    topics = list(dict.fromkeys(topics))
    if not topics:
        raise Refusal(
            400, MISSING_TOPICS, "name the topics: ?topics=gift-list:17,family:5"
        )
    for topic in topics:
        if not is_valid_topic(topic):
            raise Refusal(400, INVALID_TOPIC, "not a valid topic", topic[:200])
    limit = realtime_settings.MAX_TOPICS_PER_CONNECTION
    if len(topics) > limit:
        raise Refusal(400, TOO_MANY_TOPICS, f"at most {limit} topics per request")
    return topics


def resume_cursor(*candidates: str | None) -> str | None:
    """The first non-blank cursor text (``Last-Event-ID`` before ``?cursor=``)."""
    for text in candidates:
        if text is not None and text.strip():
            return text
    return None


def parse_since(text: str | None) -> dict[str, int]:
    """The positions of a cursor ``topic@seq,...``; none for no cursor."""
    if text is None:
        return {}
    if len(text) > MAX_CURSOR_CHARS:
        raise Refusal(400, INVALID_CURSOR, "the cursor is too long")
    try:
        return parse_cursor(text)
    except InvalidCursor as error:
        raise Refusal(400, INVALID_CURSOR, f"invalid cursor: {error}") from None


def authorize_all(user: Any, topics: Iterable[str]) -> dict[str, Grant]:
    """A grant for every topic, or a 403 naming the first one refused (sync)."""
    grants = authorize_many(user, list(topics))
    for topic, grant in grants.items():
        if grant is None:
            raise Refusal(403, FORBIDDEN, "you may not follow this topic", topic)
    return {topic: grant for topic, grant in grants.items() if grant is not None}
