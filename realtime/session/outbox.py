"""A session's outbox: everything it sends, in order, written by one task.

Replies, replayed events and live events all go through it, so a client sees
``subscribed`` before its replay and the replay before later live events.
Live events are checked against the topic's position when their turn comes
(duplicates dropped, gaps filled from the log first). At most
``MAX_PENDING_EVENTS`` live events wait; beyond that they are dropped, and the
next one that fits brings them back from the log as a gap. The writer task
exists only while there is something to send (memory per connection).
"""

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from realtime.conf import realtime_settings
from realtime.ops import metrics
from realtime.protocol import codes
from realtime.protocol.messages import encode
from realtime.session.encoding import encoding_cache
from realtime.session.subscriptions import GapNotRepairable

if TYPE_CHECKING:
    from realtime.session.session import Session

logger = logging.getLogger(__name__)

# What an outbox item is: a message to encode, a message encoded already
# (its type and text, shared by the followers of one view), an event already
# in order (replayed or gap-filled), a live event to check first, a keep-alive.
MESSAGE, TEXT = "message", "text"
EVENT, LIVE, KEEPALIVE = "event", "live", "keepalive"


class Outbox:
    """The ordered queue of one session, and the task that writes it."""

    __slots__ = (
        "items",
        "live",
        "sending_since",
        "session",
        "stalled",
        "watch",
        "writer",
    )

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.items: deque[tuple[str, Any]] | None = None
        self.live = 0
        self.writer: asyncio.Task | None = None
        # When the write in progress began (loop time), None between writes;
        # and whether the watch found one that took SEND_TIMEOUT.
        self.sending_since: float | None = None
        self.stalled = False
        self.watch: asyncio.TimerHandle | None = None

    def put(self, kind: str, payload: Any = None) -> None:
        """Queue one item; the writer task starts if it is not running."""
        if self.items is None:
            self.items = deque()
        self.items.append((kind, payload))
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self.run())

    def put_live(self, message: dict[str, Any]) -> None:
        """Queue a live change, or drop it when ``MAX_PENDING_EVENTS`` wait."""
        if self.live >= realtime_settings.MAX_PENDING_EVENTS:
            metrics.labelled(metrics.DROPPED, "overflow").inc()
            return
        self.live += 1
        self.put(LIVE, message)

    def idle(self) -> bool:
        """Whether nothing is waiting to be written."""
        return not self.items

    def discard(self) -> None:
        """Forget what waits and stop the writer (unless it is the caller)."""
        self.items, self.live = None, 0
        writer = self.writer
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
            self.writer = None

    async def run(self) -> None:
        """Write the items in order until none is left, then end."""
        session = self.session
        loop = asyncio.get_running_loop()
        self.stalled = False
        self.watch = loop.call_later(realtime_settings.SEND_TIMEOUT, self.check, loop)
        delivered = 0
        try:
            while self.items and session.writable:
                kind, payload = self.items.popleft()
                if kind == LIVE:
                    self.live -= 1
                    for event in await session.in_order(payload):
                        delivered += await self.write_event(event)
                elif kind == EVENT:
                    delivered += await self.write_event(payload)
                elif kind == MESSAGE:
                    await self.write(session.transport.write_message(payload))
                elif kind == TEXT:
                    await self.write(session.transport.write_text(*payload))
                else:
                    await self.write(session.transport.write_keepalive())
        except asyncio.CancelledError:
            if not self.stalled:
                raise
            asyncio.current_task().uncancel()  # the watch's: a slow client
            self.session.close(codes.SLOW_CONSUMER)
        except GapNotRepairable as gap:
            logger.error("Unrepairable gap in %s", gap, extra=session.log_extra())
            # The client resumes with since, and hears recovered: false.
            session.close(codes.EVENT_GAP)
        except Exception:
            logger.exception("Writing to a client failed", extra=session.log_extra())
            session.close(codes.SERVER_ERROR)
        finally:
            if delivered:
                session.delivered.inc(delivered)
            if self.writer is asyncio.current_task():
                if self.watch is not None:
                    self.watch.cancel()
                    self.watch = None
                self.sending_since = None
                self.writer = None
                if not self.items:
                    self.items = None

    async def write_event(self, event: dict[str, Any]) -> int:
        """Write one event as the topic's grant shows it; advance the cursor.
        How many events it wrote (0 when the topic was left meanwhile)."""
        session = self.session
        subscription = session.subscriptions.get(event["topic"])
        if subscription is None:
            return 0  # left meanwhile
        subscription.sent_seq = event["seq"]
        if event.get("echo"):  # one connection's own copy: not shared
            text = encode(event)
        else:
            text = encoding_cache.text_for(event, subscription.grant.view_key)
        await self.write(session.transport.write_event(event, text))
        return 1

    async def write(self, sending: Any) -> None:
        """Await one write; a client that has not read for SEND_TIMEOUT is
        ended by :meth:`check`.

        uvicorn's send waits while the socket's write buffer is full (a client
        that stops reading), which bounds what one client holds here; the
        watch bounds how long. (One timer per run of the writer, not one per
        write: under load a writer sends many events in a row.)
        """
        self.sending_since = asyncio.get_running_loop().time()
        try:
            await sending
        except OSError:
            # The client went away mid-send (uvicorn's ClientDisconnected): its
            # disconnect follows and ends the connection; nothing failed.
            self.session.client_gone()
        finally:
            self.sending_since = None

    def check(self, loop: asyncio.AbstractEventLoop) -> None:
        """The writer's watch: end it if its write in progress has waited
        SEND_TIMEOUT, else look again when that could next be the case."""
        self.watch = None
        if self.writer is None or self.writer.done():
            return
        timeout = realtime_settings.SEND_TIMEOUT
        started = self.sending_since
        now = loop.time()
        if started is not None and now - started >= timeout:
            self.stalled = True
            self.writer.cancel()
            return
        wait = timeout if started is None else timeout - (now - started)
        self.watch = loop.call_later(wait, self.check, loop)
