"""The WebSocket consumer at ``/ws/``: one per connection.

It parses and validates each client message and dispatches it to a small
handler named after its type; handlers refuse bad input by raising
:class:`ClientError`, which becomes an ``error`` message. Live events come from
the process's shared fan-out (``realtime/fanout.py``), wait in the connection's
queue, and are sent by its own flusher task after a seq check (drop duplicates,
fill gaps from the log) and the subscriber's view. No traceback ever reaches a
client.
"""

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from contextlib import suppress
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from realtime.auth import credentials as auth
from realtime.auth.limits import websocket_connections
from realtime.conf import realtime_settings
from realtime.hub.watch import watch_for
from realtime.ops import metrics
from realtime.policies.authorize import authorize_many
from realtime.protocol.events import format_timestamp
from realtime.protocol.topics import is_valid_topic, user_group_name
from realtime.session.encoding import encode
from realtime.session.subscriptions import GapNotRepairable, TopicStream

logger = logging.getLogger(__name__)

# Close codes (PROTOCOL.md section 2). 4xxx mirror the HTTP status they mean.
# Only 4401 tells a client to stop; after any other it reconnects and resumes.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_RATE_LIMITED = 4429
# The user already holds MAX_CONNECTIONS_PER_USER sockets on this process.
CLOSE_TOO_MANY_CONNECTIONS = 4429
# The client read nothing for SEND_TIMEOUT: 504, the server gave up waiting.
CLOSE_SLOW_CONSUMER = 4504
# Also for a channel layer that failed (Redis down or restarted empty): the
# connection may have lost its groups, so it must resume on a fresh one.
CLOSE_INTERNAL_ERROR = 1011

# Error codes (PROTOCOL.md section 2).
INVALID_JSON = "invalid_json"
INVALID_MESSAGE = "invalid_message"
UNKNOWN_TYPE = "unknown_type"
INVALID_TOPIC = "invalid_topic"
FORBIDDEN = "forbidden"
TOO_MANY_TOPICS = "too_many_topics"
MESSAGE_TOO_LARGE = "message_too_large"
RATE_LIMITED = "rate_limited"
UNAUTHENTICATED = "unauthenticated"
INTERNAL_ERROR = "internal_error"
TOO_MANY_CONNECTIONS = "too_many_connections"
UNAVAILABLE = "unavailable"

# How a connection authenticated: a session can end (logout) under an open
# socket, a token cannot.
AUTH_SESSION = "session"
AUTH_TOKEN = "token"  # noqa: S105 (a method name, not a secret)

# Seconds the clean-up of a failed connection may spend leaving its groups: the
# layer may be down, and the groups then expire on their own.
CLEANUP_TIMEOUT = 5

# Before authentication only these may be sent; anything else is answered with
# an error and waits for an "auth".
PRE_AUTH_TYPES = frozenset({"auth", "ping"})
# The delivery counter's child, looked up once rather than once per frame.
DELIVERED = metrics.DELIVERED.labels("websocket")


class ClientError(Exception):
    """A client message was refused; becomes an ``error`` message to the client."""

    def __init__(self, code: str, message: str, topic: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.topic = topic


class TokenBucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _message_id(message: dict[str, Any]) -> str | int | None:
    message_id = message.get("id")
    if message_id is None:
        return None
    if isinstance(message_id, bool) or not isinstance(message_id, str | int):
        raise ClientError(INVALID_MESSAGE, "id must be a string or an integer")
    return message_id


def _topic_list(message: dict[str, Any]) -> list[str]:
    topics = message.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ClientError(INVALID_MESSAGE, "topics must be a list of strings")
    return list(dict.fromkeys(topics))  # drop repeats, keep order


def _since(message: dict[str, Any]) -> dict[str, int] | None:
    since = message.get("since")
    if since is None:
        return None
    if not isinstance(since, dict) or not all(
        isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0
        for seq in since.values()
    ):
        raise ClientError(
            INVALID_MESSAGE, "since must map topics to non-negative integer seqs"
        )
    return since


class RealtimeConsumer(AsyncWebsocketConsumer):
    """Authenticates a connection and streams the events of its topics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection_id = uuid.uuid4().hex
        self.user: Any = None
        self.auth_method: str | None = None
        self.session_key: str | None = None
        self.closing = False
        self.accepted = False
        self.counted_user: object = None
        self.stream: TopicStream | None = None
        self.auth_timer: asyncio.Task | None = None
        self.detach_watch: Any = None
        # Live events from the process's fan-out wait here for the flusher task;
        # both exist only while there is something to send (memory per socket).
        self.pending: deque[dict[str, Any]] | None = None
        self.flusher: asyncio.Task | None = None
        self.main_task: asyncio.Task | None = None
        self.stopped = False

    def log_extra(self, **fields: Any) -> dict[str, Any]:
        """Fields for this connection's log lines (never a token or a payload)."""
        return {
            "connection_id": self.connection_id,
            "user_id": str(self.user.pk) if self.user is not None else None,
            **fields,
        }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.main_task = asyncio.current_task()
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            if not self.stopped:
                raise
            self.main_task.uncancel()  # stop(): the connection is over, not failed
        except Exception:
            # The dispatch loop died: the channel layer's receive raised (Redis
            # gone), or a handler could not reach the layer or the database.
            # Close so the client resumes on a fresh connection, and have the
            # watch check whether the other connections here lost their groups.
            logger.exception(
                "A WebSocket connection failed; closing it with %d so that its "
                "client resumes",
                CLOSE_INTERNAL_ERROR,
                extra=self.log_extra(),
            )
            metrics.CLOSED.labels("error").inc()
            if (watch := watch_for(self.channel_layer)) is not None:
                watch.check_soon()
            await self.abandon(CLOSE_INTERNAL_ERROR, "server error; resume")
        finally:
            self.release()

    async def connect(self) -> None:
        self.send_frame = self.base_send
        self.stream = TopicStream(self.channel_layer, self.channel_name, follower=self)
        self.rate_limiter = TokenBucket(
            realtime_settings.RATE_LIMIT_PER_SECOND, realtime_settings.RATE_LIMIT_BURST
        )
        self.refused_in_a_row = 0
        await self.accept()
        self.accepted = True
        metrics.CONNECTIONS.labels("websocket").inc()
        if (watch := watch_for(self.channel_layer)) is not None:
            self.detach_watch = watch.attach(self.layer_failed)
        token = auth.token_from_query(self.scope)
        if token is not None:
            user = await auth.user_for_token(token)
            if user is None:
                await self.refuse_credentials(None)
            else:
                await self.start_session(user, None, AUTH_TOKEN)
        elif (user := auth.session_user(self.scope)) is not None:
            await self.start_session(user, None, AUTH_SESSION)
        else:
            self.auth_timer = asyncio.create_task(self.expire_unauthenticated())

    async def disconnect(self, code: int) -> None:
        self.closing = True
        await self.leave_groups()

    async def leave_groups(self) -> None:
        """Leave every group; a layer that fails meanwhile is logged, not raised."""
        if self.auth_timer is not None:
            self.auth_timer.cancel()
            self.auth_timer = None
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT):
                if self.stream is not None:
                    await self.stream.leave_all()
                if self.user is not None:
                    await self.channel_layer.group_discard(
                        user_group_name(self.user.pk), self.channel_name
                    )
        except Exception as error:
            # The groups expire on their own (group_expiry, or Redis restarted).
            logger.warning(
                "Could not leave the channel-layer groups (%s)",
                type(error).__name__,
                extra=self.log_extra(),
            )

    def release(self) -> None:
        """Give back what this connection held in the process; safe to call twice."""
        if self.detach_watch is not None:
            self.detach_watch()
            self.detach_watch = None
        if self.counted_user is not None:
            websocket_connections.release(self.counted_user)
            self.counted_user = None
        if self.accepted:
            self.accepted = False
            metrics.CONNECTIONS.labels("websocket").dec()
        if self.stream is not None and len(self.stream):
            self.stream.abandon_all()
        self.pending = None
        if self.flusher is not None and self.flusher is not asyncio.current_task():
            self.flusher.cancel()

    def stop(self) -> None:
        """End the connection from a task other than its own (the flusher)."""
        if not self.stopped and self.main_task is not None:
            self.stopped = True
            self.main_task.cancel()

    async def abandon(self, code: int, reason: str) -> None:
        """Close (if the socket still takes it) and leave the groups, best effort."""
        if not self.closing:
            self.closing = True
            with suppress(Exception):
                async with asyncio.timeout(realtime_settings.SEND_TIMEOUT):
                    await self.base_send(
                        {"type": "websocket.close", "code": code, "reason": reason}
                    )
        await self.leave_groups()

    def layer_failed(self) -> None:
        """The watch found the layer down or emptied: this socket may be deaf."""
        if not self.closing:
            metrics.CLOSED.labels("layer_failed").inc()
            self.closer = asyncio.ensure_future(
                self.close_with(CLOSE_INTERNAL_ERROR, "channel layer failed; resume")
            )

    # -- sending -------------------------------------------------------------

    async def write(self, frame: dict[str, Any]) -> None:
        """Send one frame, or drop a client that has not read for SEND_TIMEOUT.

        uvicorn's send waits while the socket's write buffer is full (a client
        that stops reading), which bounds what one client holds here; the
        timeout bounds how long.
        """
        try:
            async with asyncio.timeout(realtime_settings.SEND_TIMEOUT):
                await self.send_frame(frame)
        except TimeoutError:
            await self.drop_slow_consumer()
        except OSError:
            # The client went away mid-send (uvicorn's ClientDisconnected): its
            # disconnect message follows and ends this consumer; nothing failed.
            self.closing = True

    async def drop_slow_consumer(self) -> None:
        self.closing = True
        metrics.CLOSED.labels("slow_consumer").inc()
        logger.warning(
            "Dropping a WebSocket client that read nothing for %s s (close %d)",
            realtime_settings.SEND_TIMEOUT,
            CLOSE_SLOW_CONSUMER,
            extra=self.log_extra(),
        )
        await self.leave_groups()
        self.release()
        # The close frame queues behind what the client has not read; if it
        # starts reading within the timeout it sees 4504, else the server ends
        # the TCP connection and the client sees 1006. Either way it resumes.
        with suppress(Exception):
            async with asyncio.timeout(realtime_settings.SEND_TIMEOUT):
                await self.send_frame(
                    {
                        "type": "websocket.close",
                        "code": CLOSE_SLOW_CONSUMER,
                        "reason": "too slow; resume",
                    }
                )
        raise StopConsumer()

    async def send_json(self, message: dict[str, Any]) -> None:
        if not self.closing:
            await self.write({"type": "websocket.send", "text": encode(message)})

    async def send_error(
        self,
        code: str,
        message: str,
        message_id: object = None,
        topic: str | None = None,
    ) -> None:
        error: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if message_id is not None:
            error["id"] = message_id
        if topic is not None:
            error["topic"] = topic
        await self.send_json(error)

    async def close_with(self, code: int, reason: str) -> None:
        """Close once; a client too slow to take even the close frame is left to
        the server's own timeouts."""
        if not self.closing:
            self.closing = True
            with suppress(TimeoutError):
                async with asyncio.timeout(realtime_settings.SEND_TIMEOUT):
                    await self.send_frame(
                        {"type": "websocket.close", "code": code, "reason": reason}
                    )

    # -- authentication ------------------------------------------------------

    async def start_session(self, user: Any, message_id: object, method: str) -> None:
        if self.auth_timer is not None:
            self.auth_timer.cancel()
            self.auth_timer = None
        if self.counted_user is None:
            if not websocket_connections.acquire(
                user.pk, realtime_settings.MAX_CONNECTIONS_PER_USER
            ):
                await self.refuse_connection(message_id)
                return
            self.counted_user = user.pk
        self.user = user
        self.auth_method = method
        if method == AUTH_SESSION:
            self.session_key = getattr(self.scope.get("session"), "session_key", None)
        await self.channel_layer.group_add(user_group_name(user.pk), self.channel_name)
        logger.info(
            "WebSocket connection authenticated by %s",
            method,
            extra=self.log_extra(auth_method=method),
        )
        welcome: dict[str, Any] = {
            "type": "welcome",
            "connection_id": self.connection_id,
            "user_id": str(user.pk),
            "heartbeat_interval": realtime_settings.HEARTBEAT_INTERVAL,
        }
        if message_id is not None:
            welcome["id"] = message_id
        await self.send_json(welcome)

    async def refuse_connection(self, message_id: object) -> None:
        limit = realtime_settings.MAX_CONNECTIONS_PER_USER
        metrics.CLOSED.labels("too_many_connections").inc()
        logger.warning(
            "Refused a WebSocket connection: the user has %d open here",
            limit,
            extra=self.log_extra(),
        )
        await self.send_error(
            TOO_MANY_CONNECTIONS,
            f"at most {limit} connections per user; close one first",
            message_id=message_id,
        )
        await self.close_with(CLOSE_TOO_MANY_CONNECTIONS, "too many connections")

    async def refuse_credentials(self, message_id: object) -> None:
        await self.send_error(
            UNAUTHENTICATED, "the credentials are not valid", message_id=message_id
        )
        await self.close_with(CLOSE_UNAUTHENTICATED, "unauthenticated")

    async def expire_unauthenticated(self) -> None:
        await asyncio.sleep(realtime_settings.AUTH_TIMEOUT)
        if self.user is None:
            await self.close_with(CLOSE_AUTH_TIMEOUT, "no authentication in time")

    # -- client messages -----------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if self.closing:
            return
        if not self.within_rate():
            if self.refused_in_a_row >= realtime_settings.RATE_LIMIT_CLOSE_AFTER:
                await self.close_with(CLOSE_RATE_LIMITED, "rate limit exceeded")
            else:
                await self.send_error(RATE_LIMITED, "too many messages; slow down")
            return
        message_id = None
        try:
            message = self.parse(text_data, bytes_data)
            message_id = _message_id(message)
            handler = self.handler_for(message)
            await handler(message, message_id)
        except ClientError as error:
            await self.send_error(error.code, error.message, message_id, error.topic)
        except StopConsumer:
            raise
        except Exception:
            logger.exception("Handling a client message failed", extra=self.log_extra())
            await self.send_error(
                INTERNAL_ERROR, "the server could not handle this message", message_id
            )

    def within_rate(self) -> bool:
        if self.rate_limiter.take():
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False

    def parse(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        limit = realtime_settings.MAX_MESSAGE_BYTES
        if text_data is None:
            if bytes_data is not None and len(bytes_data) > limit:
                raise ClientError(
                    MESSAGE_TOO_LARGE, f"frames are limited to {limit} bytes"
                )
            raise ClientError(
                INVALID_JSON, "binary frames are not accepted; send JSON text"
            )
        # A character is at most 4 bytes: skip encoding when it cannot be too large.
        if len(text_data) * 4 > limit and len(text_data.encode()) > limit:
            raise ClientError(MESSAGE_TOO_LARGE, f"frames are limited to {limit} bytes")
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):
            raise ClientError(INVALID_JSON, "the frame is not valid JSON") from None
        if not isinstance(message, dict):
            raise ClientError(INVALID_JSON, "a message must be a JSON object")
        return message

    def handler_for(self, message: dict[str, Any]) -> Any:
        kind = message.get("type")
        if not isinstance(kind, str):
            raise ClientError(INVALID_MESSAGE, "type is missing or not a string")
        handler = self.HANDLERS.get(kind)
        if handler is None:
            raise ClientError(UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}")
        if self.user is None and kind not in PRE_AUTH_TYPES:
            raise ClientError(
                INVALID_MESSAGE, "authenticate first with an auth message"
            )
        return getattr(self, handler)

    HANDLERS = {
        "auth": "handle_auth",
        "subscribe": "handle_subscribe",
        "unsubscribe": "handle_unsubscribe",
        "ping": "handle_ping",
    }

    async def handle_ping(self, message: dict[str, Any], message_id: object) -> None:
        pong: dict[str, Any] = {
            "type": "pong",
            "server_time": format_timestamp(timezone.now()),
        }
        if message_id is not None:
            pong["id"] = message_id
        await self.send_json(pong)

    async def handle_auth(self, message: dict[str, Any], message_id: object) -> None:
        token = message.get("token")
        if not isinstance(token, str):
            raise ClientError(INVALID_MESSAGE, "auth needs a token string")
        user = await auth.user_for_token(token)
        if user is None:
            await self.refuse_credentials(message_id)
        elif self.user is None or user.pk == self.user.pk:
            await self.start_session(user, message_id, AUTH_TOKEN)
        else:
            raise ClientError(
                INVALID_MESSAGE, "this connection is already signed in as another user"
            )

    async def handle_subscribe(
        self, message: dict[str, Any], message_id: object
    ) -> None:
        topics = _topic_list(message)
        since = _since(message)
        errors: list[tuple[str, str, str]] = []
        valid = []
        for topic in topics:
            if is_valid_topic(topic):
                valid.append(topic)
            else:
                errors.append((INVALID_TOPIC, "not a valid topic", str(topic)[:200]))
        new = [topic for topic in valid if topic not in self.stream]
        limit = realtime_settings.MAX_TOPICS_PER_CONNECTION
        room = max(limit - len(self.stream), 0)
        for topic in new[room:]:
            errors.append(
                (TOO_MANY_TOPICS, f"at most {limit} topics per connection", topic)
            )
        new = new[:room]
        grants = await database_sync_to_async(authorize_many)(self.user, new)
        for topic in new:
            if grants[topic] is None:
                errors.append((FORBIDDEN, "you may not subscribe to this topic", topic))
        allowed = {topic: grant for topic, grant in grants.items() if grant is not None}
        try:
            positions = await self.stream.join(allowed, since or {})
        except Exception:
            # A group the layer did not take would leave this socket deaf to the
            # topic: refuse, and close so the client retries on a fresh socket.
            logger.exception(
                "Joining the topics' groups failed", extra=self.log_extra()
            )
            await self.send_error(
                UNAVAILABLE, "the server cannot subscribe now; retry", message_id
            )
            await self.close_with(CLOSE_INTERNAL_ERROR, "channel layer failed; resume")
            return
        for code, text, topic in errors:
            await self.send_error(code, text, message_id, topic)
        accepted = [topic for topic in valid if topic in self.stream]
        reply: dict[str, Any] = {
            "type": "subscribed",
            "topics": accepted,
            "seqs": {t: self.stream.subscriptions[t].last_seq for t in accepted},
        }
        if since is not None:
            lost = [topic for topic in allowed if not positions[topic].recovered]
            reply["recovered"] = not lost
            if lost:
                reply["unrecovered"] = lost
        if message_id is not None:
            reply["id"] = message_id
        await self.send_json(reply)
        for topic in allowed:
            for event in positions[topic].replay:
                await self.send_text(self.stream.shown(event))

    async def handle_unsubscribe(
        self, message: dict[str, Any], message_id: object
    ) -> None:
        topics = _topic_list(message)
        done = []
        for topic in topics:
            if not is_valid_topic(topic):
                await self.send_error(
                    INVALID_TOPIC, "not a valid topic", message_id, topic[:200]
                )
                continue
            await self.stream.leave([topic])
            done.append(topic)
        reply: dict[str, Any] = {"type": "unsubscribed", "topics": done}
        if message_id is not None:
            reply["id"] = message_id
        await self.send_json(reply)

    # -- live events -----------------------------------------------------------

    def push(self, event: dict[str, Any]) -> None:
        """Take a live event from the fan-out; the flusher task sends it.

        Sending from a task of this connection's own keeps a client that reads
        slowly from delaying anyone else's events.
        """
        if self.closing:
            return
        if self.flusher is None:
            self.pending = deque((event,))
            self.flusher = asyncio.get_running_loop().create_task(self.flush())
        elif len(self.pending) < realtime_settings.MAX_PENDING_EVENTS:
            self.pending.append(event)
        else:
            metrics.DROPPED.labels("overflow").inc()

    async def flush(self) -> None:
        """Deliver the pending events in order, then end."""
        try:
            while self.pending and not self.closing:
                await self.deliver(self.pending.popleft())
        except StopConsumer:
            self.stop()  # a slow consumer, dropped
        except Exception:
            logger.exception("Delivering an event failed", extra=self.log_extra())
            await self.close_with(CLOSE_INTERNAL_ERROR, "internal error")
        finally:
            self.flusher = self.pending = None

    async def deliver(self, event: dict[str, Any]) -> None:
        """A live event: deliver it in seq order, repairing gaps from the log."""
        if self.closing:
            return
        try:
            texts = await self.stream.accept(event)
        except GapNotRepairable as gap:
            logger.error(
                "Unrepairable gap in %s",
                gap,
                extra=self.log_extra(topic=event["topic"]),
            )
            # The client reconnects and resumes with since; the server then says
            # recovered: false for that topic and the client refetches it.
            await self.close_with(CLOSE_INTERNAL_ERROR, "event gap; resume")
            return
        for text in texts:
            await self.send_text(text)

    async def send_text(self, text: str | None) -> None:
        if text is not None and not self.closing:
            await self.write({"type": "websocket.send", "text": text})
            DELIVERED.inc()

    # -- channel-layer messages ----------------------------------------------

    async def realtime_reauthorize(self, message: dict[str, Any]) -> None:
        """Access may have been lost: drop every topic the user may no longer see."""
        if self.user is None or self.closing:
            return
        if self.auth_method == AUTH_SESSION and not await self.session_alive(message):
            metrics.CLOSED.labels("session_ended").inc()
            logger.info("The session of a WebSocket ended", extra=self.log_extra())
            await self.send_error(UNAUTHENTICATED, "the session has ended")
            await self.close_with(CLOSE_UNAUTHENTICATED, "session ended")
            return
        user = await auth.refreshed_user(self.user)
        if user is None:
            await self.refuse_credentials(None)
            return
        self.user = user
        topics = self.stream.topics()
        grants = await database_sync_to_async(authorize_many)(self.user, topics)
        for topic, grant in grants.items():
            if grant is None:
                await self.stream.leave([topic])
                await self.send_error(
                    FORBIDDEN, "access to this topic was revoked", None, topic
                )
            else:
                self.stream.regrant(topic, grant)

    async def session_alive(self, message: dict[str, Any]) -> bool:
        """Whether the session this connection signed in with still exists."""
        if self.session_key is None:
            return False
        ended = message.get("ended_sessions", ())
        if auth.session_fingerprint(self.session_key) in ended:
            return False  # logging out deletes the session just after the signal
        return await auth.session_exists(self.session_key)
