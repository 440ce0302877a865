"""The Server-Sent Events stream at ``/realtime/sse/?topics=...``.

The same session as a WebSocket connection (the hub, seq checks, gap repair,
redaction, re-authorization, the layer watch) behind a different writer:
every event goes out as ``id: <cursor after it>``, ``event: <EVENT>``,
``data: <event JSON>``, so an ``EventSource`` reconnects with
``Last-Event-ID`` and misses nothing. Bad requests get a 4xx JSON answer
before any stream starts.
"""

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer

from realtime.auth.hosts import refused_host
from realtime.conf import realtime_settings
from realtime.protocol import codes
from realtime.protocol.codes import Close
from realtime.protocol.messages import encode
from realtime.session.following import LayerUnavailable
from realtime.session.session import Session
from realtime.transports.http import (
    Refusal,
    authenticate,
    authorize_all,
    header,
    parse_presence,
    parse_since,
    parse_topics,
    query_value,
    resume_cursor,
)
from realtime.transports.hub_fed import HubFed

logger = logging.getLogger(__name__)

STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    # nginx buffers proxied responses unless told not to; SSE must flow at once.
    (b"x-accel-buffering", b"no"),
]
KEEPALIVE = b": keep-alive\n\n"


def sse_message(event: str, data: str, event_id: str | None = None) -> bytes:
    """One SSE message: optional ``id:``, ``event:``, one ``data:`` line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


class SseConsumer(HubFed, AsyncHttpConsumer):
    """Streams the events of ``?topics=`` to one client until it goes away."""

    name = "sse"
    ends_when_empty = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session: Session | None = None
        self.streaming = False  # the response has started
        self.keepalive: asyncio.Task | None = None
        self.main_task: asyncio.Task | None = None
        self.ended = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.main_task = asyncio.current_task()
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            if not self.ended:
                raise
            self.main_task.uncancel()  # end(): the stream is over, not failed
        finally:
            await self.disconnect()

    # -- the transport a session writes through -----------------------------

    async def start_stream(self) -> None:
        if not self.streaming:
            self.streaming = True
            await self.send_headers(status=200, headers=STREAM_HEADERS)
            retry = f"retry: {int(realtime_settings.SSE_RETRY)}\n".encode()
            await self.send_body(retry, more_body=True)

    async def write_message(self, message: dict[str, Any]) -> None:
        await self.start_stream()
        if message["type"] == "subscribed":
            # A stream has no welcome: this is where it learns its id (echoes).
            message = {**message, "connection_id": self.session.connection_id}
        chunk = sse_message(message["type"], encode(message), self.session.cursor())
        await self.send_body(chunk, more_body=True)

    async def write_text(self, kind: str, text: str) -> None:
        await self.start_stream()
        chunk = sse_message(kind, text, self.session.cursor())
        await self.send_body(chunk, more_body=True)

    async def write_event(self, event: dict[str, Any], text: str) -> None:
        chunk = sse_message(event["event"], text, self.session.cursor())
        await self.send_body(chunk, more_body=True)

    async def write_keepalive(self) -> None:
        await self.send_body(KEEPALIVE, more_body=True)

    async def write_close(self, close: Close) -> None:
        """End the response and the connection's task; the client reconnects
        with ``Last-Event-ID``."""
        await self.start_stream()
        await self.send_body(b"", more_body=False)
        self.end()

    def end(self) -> None:
        if not self.ended and self.main_task is not None:
            self.ended = True
            if self.main_task is not asyncio.current_task():
                self.main_task.cancel()

    # -- the request ---------------------------------------------------------

    async def handle(self, body: bytes) -> None:
        if refused_host(self.scope) is not None:
            # What Django answers any other request whose Host it refuses.
            await self.refuse(
                Refusal(400, codes.DISALLOWED_HOST, "the Host header is not allowed")
            )
            return
        try:
            if self.scope["method"] != "GET":
                raise Refusal(405, codes.METHOD_NOT_ALLOWED, "only GET opens a stream")
            found = await authenticate(self.scope)
            topics = parse_topics(query_value(self.scope, "topics"))
            cursor = resume_cursor(
                header(self.scope, b"last-event-id"), query_value(self.scope, "cursor")
            )
            since = parse_since(cursor)
            present = parse_presence(query_value(self.scope, "presence"))
            grants = await database_sync_to_async(authorize_all)(found.user, topics)
        except Refusal as refusal:
            await self.refuse(refusal)
            return
        session = self.session = Session(self, self.channel_layer, capped=True)
        try:
            if not await session.start(found.user, found.binding):
                await session.finish()  # before its farewell wrote anything
                limit = realtime_settings.MAX_CONNECTIONS_PER_USER
                await self.refuse(
                    Refusal(
                        429,
                        codes.TOO_MANY_CONNECTIONS,
                        f"at most {limit} connections per user; close one first",
                    )
                )
                return
            await session.follow(grants, since, resuming=cursor is not None)
            await session.show_presence(list(grants), present)
        except Exception as error:
            # The layer (Redis) or the log cannot take the stream now.
            if not isinstance(error, LayerUnavailable):
                logger.exception("Starting an SSE stream failed")
            await session.finish()
            if not self.streaming:
                await self.refuse(
                    Refusal(503, codes.UNAVAILABLE, "the server cannot stream now")
                )
            return
        self.keepalive = asyncio.create_task(
            self.keep_alive(session), name=f"sse-keepalive-{session.connection_id}"
        )

    async def refuse(self, refusal: Refusal) -> None:
        headers = [(b"content-type", b"application/json")]
        if refusal.status == 401:
            headers.append((b"www-authenticate", b"Token"))
        elif refusal.status == 405:
            headers.append((b"allow", b"GET"))
        await self.send_response(
            refusal.status, encode(refusal.body()).encode(), headers=headers
        )

    async def http_request(self, message: dict[str, Any]) -> None:
        # Unlike the base class, a started stream outlives handle(): it ends
        # when the client goes away (http.disconnect) or the server ends it.
        if "body" in message:
            self.body.append(message["body"])
        if message.get("more_body"):
            return
        await self.handle(b"".join(self.body))
        if self.session is None or not self.session.writable:
            raise StopConsumer()

    async def keep_alive(self, session: Session) -> None:
        """A comment every ``SSE_KEEPALIVE`` seconds while nothing else is sent."""
        interval = float(realtime_settings.SSE_KEEPALIVE)
        while session.writable:
            await asyncio.sleep(interval)
            session.keep_alive()

    async def disconnect(self) -> None:
        """The client went away or the stream ended; safe to call twice."""
        if self.keepalive is not None:
            self.keepalive.cancel()
            self.keepalive = None
        if self.session is not None:
            await self.session.finish()
