"""Error codes and close codes (PROTOCOL.md section 2), in one place.

Every transport refuses with these: the WebSocket in ``error`` messages and
close frames, SSE and polling in the JSON body of a 4xx answer.
"""

from dataclasses import dataclass

# -- error codes -----------------------------------------------------------
INVALID_JSON = "invalid_json"
INVALID_MESSAGE = "invalid_message"
UNKNOWN_TYPE = "unknown_type"
INVALID_TOPIC = "invalid_topic"
FORBIDDEN = "forbidden"
TOO_MANY_TOPICS = "too_many_topics"
MESSAGE_TOO_LARGE = "message_too_large"
RATE_LIMITED = "rate_limited"
UNAUTHENTICATED = "unauthenticated"
# Beyond the contract (docs/realtime.md, "Beyond the contract"):
INTERNAL_ERROR = "internal_error"  # a bug on the server; the connection stays
TOO_MANY_CONNECTIONS = "too_many_connections"  # then close 4429
UNAVAILABLE = "unavailable"  # the channel layer refused; then close 1011
# The HTTP transports' refusals of a request's query:
MISSING_TOPICS = "missing_topics"
INVALID_CURSOR = "invalid_cursor"
METHOD_NOT_ALLOWED = "method_not_allowed"
DISALLOWED_HOST = "disallowed_host"  # the Host is not in ALLOWED_HOSTS (400)


class ClientError(Exception):
    """A client message was refused: becomes an ``error`` message with this
    code (and the topic it names) to the client."""

    def __init__(self, code: str, message: str, topic: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.topic = topic


@dataclass(frozen=True, slots=True)
class Close:
    """One way the server ends a connection: the WebSocket close code and
    reason, and the ``realtime_connections_closed`` label it counts under
    (None: not counted, the client caused it)."""

    code: int
    reason: str
    metric: str | None = None

    @property
    def final(self) -> bool:
        """Whether the client must not reconnect with the same credentials."""
        return self.code == 4401


# 4xxx mirror the HTTP status they mean. Only 4401 tells a client to stop;
# after any other it reconnects and resumes.
UNAUTHENTICATED_CLOSE = Close(4401, "unauthenticated")
SESSION_ENDED = Close(4401, "session ended", "session_ended")
AUTH_TIMEOUT = Close(4408, "no authentication in time")
RATE_LIMITED_CLOSE = Close(4429, "rate limit exceeded", "rate_limited")
# The user already holds MAX_CONNECTIONS_PER_USER sockets on this process.
TOO_MANY_CONNECTIONS_CLOSE = Close(4429, "too many connections", "too_many_connections")
# The client read nothing for SEND_TIMEOUT: 504, the server gave up waiting.
SLOW_CONSUMER = Close(4504, "too slow; resume", "slow_consumer")
# 1011 for a channel layer that failed (Redis down or restarted empty: the
# connection may have lost its groups), a gap the log could not fill, or a bug.
LAYER_FAILED = Close(1011, "channel layer failed; resume", "layer_failed")
EVENT_GAP = Close(1011, "event gap; resume", "event_gap")
SERVER_ERROR = Close(1011, "server error; resume", "error")
# An SSE stream whose every topic was revoked: it has nothing left to carry
# (a WebSocket stays open and may subscribe to something else).
NOTHING_TO_FOLLOW = Close(4403, "nothing left to follow", "nothing_to_follow")
# The client went away: nothing is sent.
CLIENT_GONE = Close(1000, "client gone")
