"""The WebSocket endpoint at ``/ws/``: one consumer per connection.

It authenticates the connection (session cookie, ``?token=``, or a first
``auth`` message), reads each frame into a message and hands it to the
connection's session; everything the client receives comes from the
session's outbox through :meth:`RealtimeConsumer.write_message` and friends.
No traceback ever reaches a client.
"""

import asyncio
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from realtime.auth import credentials
from realtime.auth.credentials import Authenticated, Binding
from realtime.auth.limits import TokenBucket
from realtime.conf import realtime_settings
from realtime.hub.watch import watch_for
from realtime.protocol import codes, messages
from realtime.protocol.codes import ClientError, Close
from realtime.protocol.messages import encode
from realtime.session.following import LayerUnavailable
from realtime.session.session import UNAVAILABLE, Session
from realtime.transports import client_messages as client
from realtime.transports.hub_fed import HubFed

logger = logging.getLogger(__name__)

# How uvicorn refuses a send on a socket that it closed by itself (a ping the
# client did not answer in time): as a RuntimeError, not as the OSError of a
# client gone, and for as long as the socket takes to drain.
CLOSED_BY_SERVER = "after sending 'websocket.close'"


class ServerClosedSocket(ConnectionError):
    """The ASGI server closed this socket on its own: nothing more can be
    sent, and the connection is over."""


class RealtimeConsumer(HubFed, AsyncWebsocketConsumer):
    """One WebSocket connection: frames in, the session's outbox out."""

    name = "websocket"
    ends_when_empty = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session: Session | None = None
        self.auth_timer: asyncio.Task | None = None
        self.main_task: asyncio.Task | None = None
        self.ended = False
        self.closed_by_server = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.main_task = asyncio.current_task()
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            if not self.ended:
                raise
            self.main_task.uncancel()  # end(): the connection is over, not failed
            if self.session is not None:
                await self.session.finish()
        except Exception:
            # A handler could not reach the layer (Redis gone) or the database.
            # Close so the client resumes on a fresh connection, and have the
            # watch check whether the other connections here lost their groups.
            logger.exception(
                "A WebSocket connection failed; closing it so that its client resumes",
                extra=self.session.log_extra() if self.session else {},
            )
            if (watch := watch_for(self.channel_layer)) is not None:
                watch.check_soon()
            if self.session is not None:
                await self.session.close_and_finish(codes.SERVER_ERROR)
        finally:
            if self.auth_timer is not None:
                self.auth_timer.cancel()
            if self.session is not None:
                self.session.release()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """channels' dispatch without its per-message ``close_old_connections``
        (a thread hop for every frame): every database call here goes through
        ``database_sync_to_async``, which closes old connections itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # -- the transport a session writes through -----------------------------

    async def write_message(self, message: dict[str, Any]) -> None:
        await self.write_frame({"type": "websocket.send", "text": encode(message)})

    async def write_text(self, kind: str, text: str) -> None:
        await self.write_frame({"type": "websocket.send", "text": text})

    async def write_event(self, event: dict[str, Any], text: str) -> None:
        await self.write_frame({"type": "websocket.send", "text": text})

    async def write_keepalive(self) -> None:
        """WebSocket servers ping on their own; nothing to write."""

    async def write_close(self, close: Close) -> None:
        await self.write_frame(
            {"type": "websocket.close", "code": close.code, "reason": close.reason}
        )

    async def write_frame(self, message: dict[str, Any]) -> None:
        """Send one ASGI message, unless the server closed the socket itself:
        then raise ServerClosedSocket (an OSError, as for a client gone), send
        nothing more, and end the connection, whose disconnect would come
        only once the socket has drained."""
        if self.closed_by_server:
            raise ServerClosedSocket("the server closed this socket")
        try:
            await self.base_send(message)
        except RuntimeError as refused:
            if CLOSED_BY_SERVER not in str(refused):
                raise
            self.closed_by_server = True
            logger.info(
                "The server closed this WebSocket itself (its pings went "
                "unanswered); ending the connection",
                extra=self.session.log_extra() if self.session else {},
            )
            self.end()
            raise ServerClosedSocket("the server closed this socket") from refused

    def end(self) -> None:
        """End the connection's task from another task (a client too slow to
        take even the close frame is not waited for)."""
        if not self.ended and self.main_task is not None:
            self.ended = True
            self.main_task.cancel()

    # -- connection --------------------------------------------------------------

    async def connect(self) -> None:
        self.rate_limiter = TokenBucket(
            realtime_settings.RATE_LIMIT_PER_SECOND, realtime_settings.RATE_LIMIT_BURST
        )
        self.refused_in_a_row = 0
        await self.accept()
        self.session = Session(self, self.channel_layer, capped=True)
        token = credentials.token_from_query(self.scope)
        if token is not None:
            await self.sign_in(await credentials.authenticate_token(token), None)
        elif (user := credentials.session_user(self.scope)) is not None:
            key = getattr(self.scope.get("session"), "session_key", None)
            await self.sign_in(Authenticated(user, Binding(session_key=key)), None)
        elif await self.session.count_anonymous():
            self.auth_timer = asyncio.create_task(self.expire_unauthenticated())

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """channels' own, without its ``close_old_connections`` (a thread hop
        for every connection that ends: a tenth of a reconnect storm's work);
        every database call here closes old connections itself."""
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def disconnect(self, code: int) -> None:
        if self.session is not None:
            await self.session.finish()

    async def sign_in(self, found: Authenticated | None, message_id: object) -> None:
        """Start the session for who signed in, or refuse credentials that failed."""
        session = self.session
        if found is None:
            session.close(
                codes.UNAUTHENTICATED_CLOSE,
                messages.error(
                    codes.UNAUTHENTICATED, "the credentials are not valid", message_id
                ),
            )
            return
        if self.auth_timer is not None:
            self.auth_timer.cancel()
            self.auth_timer = None
        user, method = found.user, found.binding.method
        try:
            started = await session.start(user, found.binding)
        except LayerUnavailable:
            if (watch := watch_for(self.channel_layer)) is not None:
                watch.check_soon()  # the open connections here may be deaf too
            session.close(codes.LAYER_FAILED, UNAVAILABLE)
            return
        if not started:
            return
        logger.info(
            "WebSocket connection authenticated by %s",
            method,
            extra=session.log_extra(auth_method=method),
        )
        session.send(
            messages.welcome(
                session.connection_id,
                user.pk,
                realtime_settings.HEARTBEAT_INTERVAL,
                message_id,
            )
        )

    async def expire_unauthenticated(self) -> None:
        await asyncio.sleep(realtime_settings.AUTH_TIMEOUT)
        if self.session is not None and self.session.user is None:
            self.session.close(codes.AUTH_TIMEOUT)

    # -- client messages -----------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        session = self.session
        if session is None or not session.writable:
            return
        if not self.within_rate():
            if self.refused_in_a_row >= realtime_settings.RATE_LIMIT_CLOSE_AFTER:
                session.close(codes.RATE_LIMITED_CLOSE)
            else:
                session.send_error(
                    codes.RATE_LIMITED,
                    "too many messages; slow down",
                    self.id_of(text_data, bytes_data),
                )
            return
        message_id = None
        try:
            message = client.parse_frame(text_data, bytes_data)
            message_id = client.message_id(message)
            kind = client.message_type(message, session.user is not None)
            await self.handle(kind, message, message_id)
        except ClientError as error:
            session.send_error(error.code, error.message, message_id, error.topic)
        except StopConsumer:
            raise
        except Exception:
            logger.exception(
                "Handling a client message failed", extra=session.log_extra()
            )
            session.send_error(
                codes.INTERNAL_ERROR,
                "the server could not handle this message",
                message_id,
            )

    @staticmethod
    def id_of(text_data: str | None, bytes_data: bytes | None) -> object:
        """The id of a refused frame, where it has one, so that the client
        can settle that request at once instead of waiting for a reply."""
        try:
            return client.message_id(client.parse_frame(text_data, bytes_data))
        except ClientError:
            return None

    def within_rate(self) -> bool:
        if self.rate_limiter.take():
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False

    async def handle(self, kind: str, message: dict[str, Any], message_id: Any) -> None:
        session = self.session
        if kind == client.PING:
            session.send(messages.pong(message_id))
        elif kind == client.SUBSCRIBE:
            topics, since = client.topic_list(message), client.since_positions(message)
            present = client.presence_wanted(message)
            await session.subscribe(topics, since, message_id, present)
        elif kind == client.UNSUBSCRIBE:
            await session.unsubscribe(client.topic_list(message), message_id)
        elif kind == client.PUBLISH:
            await session.send_client_event(client.client_event(message), message_id)
        else:
            found = await credentials.authenticate_token(client.token_of(message))
            if found is not None and session.user is not None:
                if found.user.pk != session.user.pk:
                    raise ClientError(
                        codes.INVALID_MESSAGE,
                        "this connection is already signed in as another user",
                    )
            await self.sign_in(found, message_id)
