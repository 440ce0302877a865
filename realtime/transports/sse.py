"""The Server-Sent Events stream at ``/realtime/sse/?topics=...``.

One response per client, fed by a :class:`TopicStream` like a
WebSocket connection: the same groups, seq checks, gap repair, redaction and
encoded text. Every event goes out as ``id: <cursor after it>``, ``event:
<EVENT>``, ``data: <event JSON>``, so an ``EventSource`` reconnects with
``Last-Event-ID`` and misses nothing. Bad requests get a 4xx JSON answer before
any stream starts.
"""

import asyncio
import logging
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer

from realtime.auth import credentials as auth
from realtime.conf import realtime_settings
from realtime.ops import metrics
from realtime.policies.authorize import authorize_many
from realtime.protocol.layer import EVENT as EVENT_MESSAGE_TYPE
from realtime.protocol.topics import user_group_name
from realtime.session.encoding import encode
from realtime.session.subscriptions import GapNotRepairable, TopicStream
from realtime.transports.http import (
    FORBIDDEN,
    UNAUTHENTICATED,
    Refusal,
    authorize_all,
    parse_since,
    parse_topics,
    resume_cursor,
    unauthenticated,
)

logger = logging.getLogger(__name__)

STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    # nginx buffers proxied responses unless told not to; SSE must flow at once.
    (b"x-accel-buffering", b"no"),
]
KEEPALIVE = b": keep-alive\n\n"
METHOD_NOT_ALLOWED = "method_not_allowed"
AUTH_SCHEME = "token"  # "Authorization: Token <key>", as DRF expects


def sse_message(event: str, data: str, event_id: str | None = None) -> bytes:
    """One SSE message: optional ``id:``, ``event:``, one ``data:`` line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _query(scope: dict[str, Any], name: str) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query, keep_blank_values=True).get(name)
    return values[0] if values else None


async def authenticate(scope: dict[str, Any]) -> Any:
    """The request's user, as the REST API finds it: ``Token`` header, then session.

    A ``Token`` header that does not authenticate is refused even with a valid
    session, as DRF's ``TokenAuthentication`` refuses it.
    """
    scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() == AUTH_SCHEME:
        user = await auth.user_for_token(token.strip())
        if user is None:
            raise unauthenticated("Invalid token.")
        return user
    user = auth.session_user(scope)
    if user is None:
        raise unauthenticated("Authentication credentials were not provided.")
    return user


class SseConsumer(AsyncHttpConsumer):
    """Streams the events of ``?topics=`` to one client until it goes away."""

    async def handle(self, body: bytes) -> None:
        self.user: Any = None
        self.stream = TopicStream(self.channel_layer, self.channel_name)
        self.streaming = False
        self.keepalive: asyncio.Task | None = None
        self.counted = False
        try:
            if self.scope["method"] != "GET":
                raise Refusal(405, METHOD_NOT_ALLOWED, "only GET opens a stream")
            self.user = await authenticate(self.scope)
            self.session_key = (
                None
                if _header(self.scope, b"authorization")
                else getattr(self.scope.get("session"), "session_key", None)
            )
            topics = parse_topics(_query(self.scope, "topics"))
            cursor = resume_cursor(
                _header(self.scope, b"last-event-id"), _query(self.scope, "cursor")
            )
            since = parse_since(cursor)
            grants = await database_sync_to_async(authorize_all)(self.user, topics)
        except Refusal as refusal:
            headers = [(b"content-type", b"application/json")]
            if refusal.status == 401:
                headers.append((b"www-authenticate", b"Token"))
            elif refusal.status == 405:
                headers.append((b"allow", b"GET"))
            await self.send_response(
                refusal.status, encode(refusal.body()).encode(), headers=headers
            )
            return
        await self.start(grants, since, resuming=cursor is not None)

    async def http_request(self, message: dict[str, Any]) -> None:
        # Unlike the base class, a started stream outlives handle(): it ends
        # when the client goes away (http.disconnect) or the server ends it.
        if "body" in message:
            self.body.append(message["body"])
        if message.get("more_body"):
            return
        try:
            await self.handle(b"".join(self.body))
        except BaseException:
            self.streaming = False
            raise
        finally:
            if not self.streaming:
                await self.disconnect()
        if not self.streaming:
            raise StopConsumer()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Live events skip channels' per-message database cleanup, as in the
        # WebSocket consumer: their common path never queries.
        if message["type"] == EVENT_MESSAGE_TYPE:
            try:
                await self.realtime_event(message)
            except StopConsumer:
                raise
            except Exception:
                logger.exception("Delivering an event to an SSE stream failed")
                await self.end()
            return
        await super().dispatch(message)

    async def start(self, grants: dict, since: dict[str, int], resuming: bool) -> None:
        await self.channel_layer.group_add(
            user_group_name(self.user.pk), self.channel_name
        )
        positions = await self.stream.join(grants, since)
        lost = [topic for topic, pos in positions.items() if not pos.recovered]
        for topic, position in positions.items():
            # The cursor must not pass events still to be replayed: a client
            # that drops mid-replay resumes from where it really is.
            if position.replay:
                self.stream.subscriptions[topic].last_seq = since[topic]
        subscribed: dict[str, Any] = {
            "type": "subscribed",
            "topics": list(grants),
            "seqs": {topic: position.current for topic, position in positions.items()},
        }
        if resuming:
            subscribed["recovered"] = not lost
            if lost:
                subscribed["unrecovered"] = lost
        chunks = [
            f"retry: {int(realtime_settings.SSE_RETRY)}\n".encode(),
            sse_message("subscribed", encode(subscribed), self.stream.cursor()),
        ]
        for topic in grants:
            for event in positions[topic].replay:
                chunks.append(self.message_for(event))
        await self.send_headers(status=200, headers=STREAM_HEADERS)
        self.streaming = True
        self.counted = True
        metrics.CONNECTIONS.labels("sse").inc()
        await self.send_chunk(b"".join(chunks))
        self.keepalive = asyncio.create_task(
            self.keep_alive(), name=f"sse-keepalive-{self.channel_name}"
        )

    def message_for(self, event: dict[str, Any]) -> bytes:
        """The SSE message of an event for this client; empty if withheld."""
        text = self.stream.shown(event)
        if text is None:
            return b""
        metrics.DELIVERED.labels("sse").inc()
        return sse_message(event["event"], text, self.stream.cursor())

    async def send_chunk(self, chunk: bytes) -> None:
        if self.streaming and chunk:
            await self.send_body(chunk, more_body=True)

    async def keep_alive(self) -> None:
        """A comment line every ``SSE_KEEPALIVE`` seconds while the stream is open."""
        interval = float(realtime_settings.SSE_KEEPALIVE)
        try:
            while self.streaming:
                await asyncio.sleep(interval)
                await self.send_chunk(KEEPALIVE)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The client is gone; http.disconnect ends the consumer.
            logger.debug("SSE keep-alive stopped", exc_info=True)

    async def end(self) -> None:
        """End the response; the client reconnects with ``Last-Event-ID``."""
        if self.streaming:
            self.streaming = False
            with suppress(Exception):
                await self.send_body(b"", more_body=False)
        await self.disconnect()
        raise StopConsumer()

    async def disconnect(self) -> None:
        """Leave every group and stop the keep-alive; safe to call twice."""
        self.streaming = False
        if getattr(self, "counted", False):
            self.counted = False
            metrics.CONNECTIONS.labels("sse").dec()
        keepalive = getattr(self, "keepalive", None)
        if keepalive is not None:
            keepalive.cancel()
            with suppress(asyncio.CancelledError):
                await keepalive
            self.keepalive = None
        stream = getattr(self, "stream", None)
        if stream is not None:
            await stream.leave_all()
        if getattr(self, "user", None) is not None:
            await self.channel_layer.group_discard(
                user_group_name(self.user.pk), self.channel_name
            )
            self.user = None

    # -- channel-layer messages ----------------------------------------------

    async def realtime_event(self, message: dict[str, Any]) -> None:
        """A live event: send it in seq order, gaps filled from the log first."""
        if not self.streaming:
            return
        try:
            events = await self.stream.in_order(message["event"])
        except GapNotRepairable as gap:
            logger.error("Unrepairable gap in %s on an SSE stream", gap)
            await self.end()
            return
        await self.send_chunk(b"".join(self.message_for(event) for event in events))

    async def realtime_reauthorize(self, message: dict[str, Any]) -> None:
        """Access may have been lost: drop revoked topics; end for a gone user."""
        if not self.streaming or self.user is None:
            return
        session_key = getattr(self, "session_key", None)
        session_ended = session_key is not None and (
            auth.session_fingerprint(session_key) in message.get("ended_sessions", ())
            or not await auth.session_exists(session_key)
        )
        user = None if session_ended else await auth.refreshed_user(self.user)
        if user is None:
            error = {
                "type": "error",
                "code": UNAUTHENTICATED,
                "message": "the account is no longer active",
            }
            await self.send_chunk(sse_message("error", encode(error)))
            await self.end()
            return
        self.user = user
        grants = await database_sync_to_async(authorize_many)(
            user, self.stream.topics()
        )
        for topic, grant in grants.items():
            if grant is None:
                await self.stream.leave([topic])
                error = {
                    "type": "error",
                    "code": FORBIDDEN,
                    "message": "access to this topic was revoked",
                    "topic": topic,
                }
                await self.send_chunk(
                    sse_message("error", encode(error), self.stream.cursor())
                )
            else:
                self.stream.regrant(topic, grant)
