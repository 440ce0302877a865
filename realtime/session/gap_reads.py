"""Gap repair reads shared by every session of a process.

Events of one topic can reach a process out of seq order (two processes
publish; the later commit's message may arrive first), and a session whose
outbox overflowed drops live events and reads them back. Either way every
follower of the topic finds the same events missing at about the same time:
reading them once per session would be one query per socket for what one
query answers. :class:`GapReads` makes concurrent reads of the same range one
read, and keeps complete answers a few seconds for the sessions that come to
the same gap a little later. An incomplete answer (an event not committed yet,
or pruned) is never kept: the next session asks the log again.
"""

import asyncio
import time
from collections import OrderedDict
from typing import Any

from channels.db import database_sync_to_async

from realtime.hub.next_read import per_loop
from realtime.log import store as log

# Complete ranges kept, and for how many seconds.
KEPT_RANGES = 256
KEPT_SECONDS = 5.0

Range = tuple[str, str, int, int]  # topic, view, after, upto


class GapReads:
    """One log read per missing range per process (and per event loop)."""

    def __init__(self) -> None:
        self.reading: dict[Range, asyncio.Future] = {}
        self.kept: OrderedDict[Range, tuple[float, list[dict[str, Any]]]] = (
            OrderedDict()
        )

    async def events_between(
        self, topic: str, view: str, after: int, upto: int
    ) -> list[dict[str, Any]]:
        """The events with ``after < seq <= upto`` of the topic's view, in order
        (fewer when the log lacks some). Callers must not change them."""
        key = (topic, view, after, upto)
        found = self.kept.get(key)
        if found is not None and time.monotonic() - found[0] < KEPT_SECONDS:
            return found[1]
        reading = self.reading.get(key)
        if reading is None:
            reading = self.reading[key] = asyncio.ensure_future(self._read(key))
            reading.add_done_callback(lambda _: self.reading.pop(key, None))
        return await asyncio.shield(reading)

    async def _read(self, key: Range) -> list[dict[str, Any]]:
        events = await database_sync_to_async(log.events_between)(*key)
        if len(events) == key[3] - key[2]:  # complete: the same for everyone
            self.kept[key] = (time.monotonic(), events)
            while len(self.kept) > KEPT_RANGES:
                self.kept.popitem(last=False)
        return events


#: The running loop's shared reads.
gap_reads = per_loop(GapReads)
