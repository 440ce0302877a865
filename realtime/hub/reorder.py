"""A topic's events back in seq order before the sessions see them.

Two processes that publish to one topic can reach a third out of order: the
later commit's message first. Every local follower would then find the same
seq missing, have it read from the log (one shared read), and drop the live
copy when it arrives: a read and a duplicate per follower for nothing.
:class:`Reorder` holds a message that skips a seq of one of its views for up
to ``wait`` seconds, and passes it on as soon as the missing message arrives;
after the wait it passes on what it holds, in seq order, and the sessions
repair the gap from the log as before. Messages in order (nearly all) pass
straight through.
"""

import asyncio
from collections.abc import Callable
from typing import Any

# Seconds a message that skips a seq waits for the missing one: longer than
# two processes' publishes usually drift apart, far shorter than a human
# would notice.
REORDER_WAIT = 0.05

Message = dict[str, Any]


def _fits(last: dict[str, int], message: Message) -> bool:
    """Whether no view of the message skips a seq after the last passed on
    (a view not seen yet, or an old seq, skips nothing)."""
    for key, envelope in message["views"].items():
        previous = last.get(key)
        if previous is not None and envelope["seq"] > previous + 1:
            return False
    return True


def _first_seq(message: Message) -> int:
    return min((envelope["seq"] for envelope in message["views"].values()), default=0)


class Reorder:
    """Passes each topic's messages to ``deliver`` in seq order, per view."""

    def __init__(
        self, deliver: Callable[[Message], None], wait: float = REORDER_WAIT
    ) -> None:
        self.deliver = deliver
        self.wait = wait
        self.last: dict[str, dict[str, int]] = {}  # topic -> view -> last seq
        self.held: dict[str, list[Message]] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}

    def take(self, message: Message) -> None:
        topic = message["topic"]
        last = self.last.setdefault(topic, {})
        if topic not in self.held and _fits(last, message):
            self._pass(last, message)
            return
        self.held.setdefault(topic, []).append(message)
        self._release(topic, last)
        if topic in self.held and topic not in self.timers:
            loop = asyncio.get_running_loop()
            self.timers[topic] = loop.call_later(self.wait, self.flush, topic)

    def flush(self, topic: str) -> None:
        """Pass on everything held for the topic, in seq order."""
        timer = self.timers.pop(topic, None)
        if timer is not None:
            timer.cancel()
        last = self.last.setdefault(topic, {})
        for message in sorted(self.held.pop(topic, ()), key=_first_seq):
            self._pass(last, message)

    def forget(self, topic: str) -> None:
        """The topic is no longer followed here: pass on what it held."""
        self.flush(topic)
        self.last.pop(topic, None)

    def _pass(self, last: dict[str, int], message: Message) -> None:
        for key, envelope in message["views"].items():
            last[key] = max(last.get(key, 0), envelope["seq"])
        self.deliver(message)

    def _release(self, topic: str, last: dict[str, int]) -> None:
        """Pass on held messages that fit now, as long as one does."""
        held = self.held[topic]
        while held:
            fitting = [message for message in held if _fits(last, message)]
            if not fitting:
                return
            ready = min(fitting, key=_first_seq)
            held.remove(ready)
            self._pass(last, ready)
        del self.held[topic]
        timer = self.timers.pop(topic, None)
        if timer is not None:
            timer.cancel()
