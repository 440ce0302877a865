"""The realtime app's settings: one ``REALTIME`` dict in Django settings.

Every key has a declared default here. Values are read when used, never at import
time, and the cache is dropped on ``setting_changed`` so ``override_settings``
works in tests.
"""

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    # How long the event log keeps events for resume and gap repair, in seconds.
    # A day covers a laptop closed overnight; older cursors refetch over REST.
    "EVENT_RETENTION": 24 * 3600,
    # Opportunistic pruning runs at most this often per process, in seconds.
    "PRUNE_INTERVAL": 300,
    # Pruning deletes at most this many events per statement, each in a short
    # transaction of its own, so no writer, replay or vacuum waits long on it.
    "PRUNE_BATCH_SIZE": 1000,
    # A resume that would replay more than this many events is answered with
    # "recovered": false instead: refetching is cheaper than a flood of events.
    "REPLAY_LIMIT": 1000,
    # Seconds a connection has to authenticate with a first "auth" message.
    "AUTH_TIMEOUT": 10,
    # Seconds between the client's pings, announced in "welcome".
    "HEARTBEAT_INTERVAL": 30,
    # Most topics one connection may hold.
    "MAX_TOPICS_PER_CONNECTION": 100,
    # Largest accepted client frame, in bytes (64 KiB).
    "MAX_MESSAGE_BYTES": 64 * 1024,
    # Deepest nesting of lists and objects accepted in a client's JSON (frames,
    # and the realtime API's bodies). Python's parser recurses per level and
    # fails near 1,000; no message of the protocol nests more than 3 levels,
    # and 32 leaves room for client events' data.
    "MAX_JSON_DEPTH": 32,
    # Longest ``id`` a client message may carry, in characters (an integer
    # id: its digits). Replies echo it, one error per refused topic, so an
    # unbounded id multiplied the reply; a UUID is 36, 128 leaves room.
    "MAX_MESSAGE_ID_CHARS": 128,
    # Most topics one subscribe or unsubscribe may name. None: twice
    # MAX_TOPICS_PER_CONNECTION, enough to resubscribe a full connection
    # with repeats while bounding the one error each bad topic gets.
    "MAX_TOPICS_PER_MESSAGE": None,
    # Token bucket per connection: sustained messages per second, and burst size.
    "RATE_LIMIT_PER_SECOND": 20.0,
    "RATE_LIMIT_BURST": 60,
    # Messages refused for rate in a row before the connection is closed (4429).
    "RATE_LIMIT_CLOSE_AFTER": 50,
    # Largest "data" of a client event, in bytes once encoded (PROTOCOL.md
    # section 7: 4 KiB): a typing indicator needs a few dozen.
    "MAX_CLIENT_EVENT_BYTES": 4096,
    # Client events one connection may send: sustained per second, and burst.
    # A typing indicator every second or two stays far below it.
    "CLIENT_EVENTS_PER_SECOND": 5.0,
    "CLIENT_EVENTS_BURST": 10,
    # Dotted path of ``token -> user or None`` for API tokens: ``?token=``, the
    # ``auth`` message and ``Authorization: Token`` on SSE and polling. The
    # default takes DRF tokens (rest_framework.authtoken); connection tickets
    # are always redeemed by realtime itself, before this is asked.
    "TOKEN_AUTHENTICATOR": "realtime.auth.credentials.drf_token_user",
    # Whether staff users may follow every topic whatever its policy says. Off:
    # a policy decides for staff as for anyone (a policy's own ``allow_staff``
    # overrides this for its resource type).
    "STAFF_BYPASS_POLICIES": False,
    # Import the ``realtime`` module of every installed app at start-up, where
    # apps register their models and policies (as ``admin.py`` for the admin).
    "AUTODISCOVER": True,
    # Bearer token a Prometheus scraper must send to /metrics. Without one,
    # /metrics answers only loopback clients and staff users.
    "METRICS_TOKEN": None,
    # Seconds a connection ticket stays valid: enough to open a socket right
    # after asking for it, too short to be worth stealing from a log.
    "TICKET_TTL": 60,
    # Per-view encodings kept per process, so one event is encoded once per view
    # rather than once per subscriber.
    "ENCODE_CACHE_SIZE": 2048,
    # Seconds between keep-alive comments on an idle SSE stream. Proxies and load
    # balancers close idle responses after 60 s or so (nginx's proxy_read_timeout
    # default); 15 s stays well under that and notices a vanished client sooner.
    "SSE_KEEPALIVE": 15,
    # Milliseconds an EventSource waits before reconnecting, sent as "retry:".
    # Browsers choose their own default (0.5 to 5 s); saying it makes them agree.
    "SSE_RETRY": 3000,
    # Most log rows one poll reads. A client that is further behind gets
    # "more": true and polls again at once, so no response grows without bound.
    "POLL_PAGE_SIZE": 100,
    # Seconds one frame to a WebSocket client may take to leave the server. A
    # client that reads nothing for this long is dropped (close 4504) rather
    # than held with its backlog; it resumes with ``since``. Long enough for a
    # phone on a bad network, short next to the log's retention.
    "SEND_TIMEOUT": 10,
    # Live events one WebSocket may have waiting to be sent. Beyond it events
    # are dropped, which the next event that fits turns into a gap filled from
    # the log; a client that far behind is soon dropped by SEND_TIMEOUT anyway.
    "MAX_PENDING_EVENTS": 1000,
    # Open connections (WebSocket and SSE) one user may hold across every
    # server process (counted in Redis where it runs); the next one gets
    # "too_many_connections" (close 4429, or 429 for SSE). A page per tab and
    # a few scripts stay far below it; a loop opening sockets does not.
    "MAX_CONNECTIONS_PER_USER": 50,
    # Connections (WebSocket and SSE) across every server process that have
    # not signed in yet: a client sending its "auth" message holds one for a
    # moment; a flood of handshakes that never sign in is refused beyond it.
    "MAX_ANONYMOUS_CONNECTIONS": 1000,
    # Seconds the connections of a server process that died without a word
    # still count against their users' caps (counted in Redis where it runs).
    "CONNECTION_COUNT_TTL": 30,
    # Seconds between checks that this process's channel-layer groups still
    # deliver (Redis stopped, or restarted empty). A failed check closes every
    # WebSocket of the process with 1011, and the clients resume. None: no checks.
    "LAYER_CHECK_INTERVAL": 5,
    # Seconds a check message may take to come back before the check fails;
    # time in which the event loop lagged does not count (a starved process
    # is not a failed layer).
    "LAYER_CHECK_TIMEOUT": 10,
}


class RealtimeSettings:
    """Attribute access to ``settings.REALTIME`` with the defaults filled in."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._cache is None:
            user = getattr(settings, "REALTIME", {}) or {}
            unknown = set(user) - set(DEFAULTS)
            if unknown:
                raise AttributeError(f"Unknown REALTIME settings: {sorted(unknown)}")
            self._cache = {**DEFAULTS, **user}
        return self._cache

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._load()[name]
        except KeyError:
            raise AttributeError(f"Unknown realtime setting {name!r}") from None

    def reload(self) -> None:
        """Forget cached values; the next access reads settings again."""
        self._cache = None


realtime_settings = RealtimeSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "REALTIME":
        realtime_settings.reload()


setting_changed.connect(_reload, dispatch_uid="realtime.conf.reload")
