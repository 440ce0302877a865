"""One client connection, whatever its transport.

A :class:`Session` holds what the server knows of a connection: who it is,
the topics it follows with their grants and positions, and its outbox. The
transports (WebSocket, SSE) parse their input, call the session, and write
what its outbox hands them; the session knows nothing of frames or streams.

Its life is one state machine: ``connected`` (no user yet) -> ``open``
(signed in) -> ``closing`` (the server is writing its farewell) -> ``closed``.
The server ends a connection only through :meth:`Session.close`; a client
that goes away ends it through :meth:`Session.finish`. Both give back what
the connection held: its topics and its user in the hub, its place in the
per-user count.
"""

import asyncio
import enum
import logging
import time
import uuid
from contextlib import suppress
from typing import Any, Protocol

from realtime.auth.credentials import Binding
from realtime.auth.ledger import ANONYMOUS, CountUnavailable, ledger
from realtime.conf import realtime_settings
from realtime.hub.hub import Hub, hub_for
from realtime.ops import metrics
from realtime.protocol import codes, messages
from realtime.protocol.codes import Close
from realtime.publishing.sending import remember_server_loop
from realtime.session.access import Access
from realtime.session.client_events import ClientEvents
from realtime.session.following import Following, LayerUnavailable
from realtime.session.outbox import KEEPALIVE, MESSAGE, Outbox
from realtime.session.presence import Presence
from realtime.session.subscriptions import Subscription

logger = logging.getLogger(__name__)

# Seconds for which a user read from the database at sign-in stands for the
# database's answer: the first subscribe, sent right after ``welcome``, is
# authorized without reading the account again (a deactivation meanwhile ends
# the connection through re-authorization anyway).
USER_FRESH_SECONDS = 2.0
# What a connection hears when Redis (its counts, the layer) does not answer.
UNAVAILABLE = messages.error(
    codes.UNAVAILABLE, "the server cannot take connections now; retry"
)


class State(enum.Enum):
    CONNECTED = "connected"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Transport(Protocol):
    """What a session needs of its transport."""

    name: str  # the metrics label: "websocket", "sse"
    # Whether the connection ends once it follows nothing (an SSE stream is
    # opened for its topics; a WebSocket may subscribe again).
    ends_when_empty: bool

    async def write_message(self, message: dict[str, Any]) -> None: ...
    async def write_text(self, kind: str, text: str) -> None: ...
    async def write_event(self, event: dict[str, Any], text: str) -> None: ...
    async def write_keepalive(self) -> None: ...
    async def write_close(self, close: Close) -> None: ...
    def end(self) -> None:
        """End the connection's task now, without waiting for the client."""


class Session(Following, Access, ClientEvents, Presence):
    """The server side of one client connection."""

    def __init__(self, transport: Transport, layer: Any, *, capped: bool) -> None:
        """``capped``: the connection counts against MAX_CONNECTIONS_PER_USER."""
        self.transport = transport
        self.layer = layer
        self.capped = capped
        self.connection_id = uuid.uuid4().hex
        self.state = State.CONNECTED
        self.user: Any = None
        self.user_read_at = -USER_FRESH_SECONDS  # monotonic: when it was read
        self.binding = Binding()  # what signed it in: a session, a token
        self.subscriptions: dict[str, Subscription] = {}
        self.outbox = Outbox(self)
        self.commands = asyncio.Lock()  # subscribe, unsubscribe, re-check: in turn
        self.hub: Hub | None = None
        self.in_user_group = False
        self.counted: str | None = None  # the ledger key it is counted under
        self.released = False
        self.farewell: asyncio.Task | None = None
        self.delivered = metrics.labelled(metrics.DELIVERED, transport.name)
        metrics.labelled(metrics.CONNECTIONS, transport.name).inc()
        remember_server_loop()

    def log_extra(self, **fields: Any) -> dict[str, Any]:
        """Fields for this connection's log lines (never a token or a payload)."""
        return {
            "connection_id": self.connection_id,
            "user_id": str(self.user.pk) if self.user is not None else None,
            **fields,
        }

    def user_read(self) -> None:
        """The user was just read from the database (signed in, re-checked)."""
        self.user_read_at = time.monotonic()

    def user_is_fresh(self) -> bool:
        """Whether the user was read from the database a moment ago."""
        return time.monotonic() - self.user_read_at < USER_FRESH_SECONDS

    @property
    def writable(self) -> bool:
        return self.state is State.OPEN or self.state is State.CONNECTED

    # -- output --------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message for the client, after whatever is queued before it."""
        if self.writable:
            self.outbox.put(MESSAGE, message)

    def send_error(
        self, code: str, text: str, message_id: object = None, topic: str | None = None
    ) -> None:
        self.send(messages.error(code, text, message_id, topic))

    def keep_alive(self) -> None:
        """Queue a keep-alive when nothing else is waiting to be written."""
        if self.writable and self.outbox.idle():
            self.outbox.put(KEEPALIVE)

    # -- life ------------------------------------------------------------------

    async def start(self, user: Any, binding: Binding | None = None) -> bool:
        """Signed in: count the connection, attach to the hub, and have it
        carry the user's re-authorization requests here (it joins the user's
        group once per process). False, and closing, when the user already
        has too many connections here."""
        if self.capped and self.counted != str(user.pk):
            limit = realtime_settings.MAX_CONNECTIONS_PER_USER
            try:
                admitted = await ledger().admit(str(user.pk), limit)
            except CountUnavailable as error:
                raise LayerUnavailable() from error
            if not admitted:
                self.user = user
                logger.warning(
                    "Refused a connection: the user has %d open",
                    limit,
                    extra=self.log_extra(),
                )
                self.close(
                    codes.TOO_MANY_CONNECTIONS_CLOSE,
                    messages.error(
                        codes.TOO_MANY_CONNECTIONS,
                        f"at most {limit} connections per user; close one first",
                    ),
                )
                return False
            self.uncount()
            self.counted = str(user.pk)
        self.user, self.binding = user, binding or Binding()
        self.user_read()
        if self.hub is None:
            self.hub = hub_for(self.layer)
            await self.hub.attach(self)
        if not self.in_user_group:
            await self.hub.follow_user(user.pk, self)
            self.in_user_group = True
        if self.state is State.CONNECTED:
            self.state = State.OPEN
        return self.state is State.OPEN

    def close(self, close: Close, *farewell: dict[str, Any]) -> None:
        """End the connection from the server's side: give everything back at
        once, then write ``farewell`` (error messages) and the close from a
        task of its own. Only the first call counts."""
        if not self.writable:
            return
        self.state = State.CLOSING
        if close.metric is not None:
            metrics.CLOSED.labels(close.metric).inc()
        self.outbox.discard()
        self.release()
        self.farewell = asyncio.get_running_loop().create_task(
            self._say_farewell(close, farewell)
        )

    async def _say_farewell(
        self, close: Close, farewell: tuple[dict[str, Any], ...]
    ) -> None:
        try:
            async with asyncio.timeout(realtime_settings.SEND_TIMEOUT):
                for message in farewell:
                    await self.transport.write_message(message)
                await self.transport.write_close(close)
            # A slow client's close frame waits behind what it has not read:
            # if it reads in time it sees the code, else it sees the end.
            ended = close is codes.SLOW_CONSUMER
        except (TimeoutError, OSError):
            ended = True  # the client takes nothing: do not wait for it
        except Exception:
            logger.exception("Closing a connection failed", extra=self.log_extra())
            ended = True
        if ended:
            self.state = State.CLOSED
            self.transport.end()

    async def close_and_finish(self, close: Close) -> None:
        """Close, and wait until the close is written (the connection's own
        task is about to end)."""
        self.close(close)
        if self.farewell is not None:
            with suppress(Exception):
                await asyncio.shield(self.farewell)
        await self.finish()

    def client_gone(self) -> None:
        """A write found the client gone: stop writing; its disconnect follows."""
        if self.writable:
            self.state = State.CLOSING
            self.outbox.discard()
            self.release()

    async def finish(self) -> None:
        """The connection is over (the client left, or its task ends): give
        everything back, and let a farewell in progress end."""
        if self.writable:
            self.state = State.CLOSING
            self.outbox.discard()
        self.release()
        if self.farewell is not None and not self.farewell.done():
            self.farewell.cancel()  # nobody is there to read it
            with suppress(BaseException):
                await self.farewell
        self.state = State.CLOSED

    def release(self) -> None:
        """Give back what the connection held in this process; safe twice."""
        if self.released:
            return
        self.released = True
        metrics.SUBSCRIPTIONS.dec(len(self.subscriptions))
        if self.user is not None:
            self.hide_presence_soon(dict(self.subscriptions))
        self.subscriptions.clear()
        if self.hub is not None:
            self.hub.detach(self)
        self.uncount()
        metrics.labelled(metrics.CONNECTIONS, self.transport.name).dec()

    async def count_anonymous(self) -> bool:
        """Count this connection among those not signed in yet; False (and
        closing) when there are too many already."""
        limit = realtime_settings.MAX_ANONYMOUS_CONNECTIONS
        try:
            admitted = await ledger().admit(ANONYMOUS, limit)
        except CountUnavailable:
            self.close(codes.LAYER_FAILED, UNAVAILABLE)
            return False
        if admitted:
            self.counted = ANONYMOUS
            return True
        logger.warning("Refused a connection: %d are not signed in yet", limit)
        self.close(
            codes.TOO_MANY_CONNECTIONS_CLOSE,
            messages.error(
                codes.TOO_MANY_CONNECTIONS,
                "too many connections are waiting to sign in; try again later",
            ),
        )
        return False

    def uncount(self) -> None:
        """Give back this connection's place in its user's (or the anonymous)
        count."""
        if self.counted is not None:
            ledger().release(self.counted)
            self.counted = None

    def layer_failed(self) -> None:
        """The hub heard from the watch: this connection may be deaf."""
        self.close(codes.LAYER_FAILED)
