"""Topics' current seqs read in batches: one query for a crowd subscribing.

Every subscribe reads where its topics stand (after joining their groups, so
that what commits later arrives live). A thousand sockets subscribing in the
same second would be a thousand thread hops and queries for a handful of
topics. :class:`SeqReads` runs one read at a time per process and event loop;
the streams asked for meanwhile are read together by the next one, which
starts after they were asked for, so each subscriber's position is read after
its group was joined, as the subscribe needs.
"""

from channels.db import database_sync_to_async

from realtime.hub.next_read import BatchedReads, per_loop
from realtime.log import store as log

Stream = tuple[str, str]  # topic, view
# Streams read by one query at most.
BATCH_SIZE = 500


def read_current(streams: list[Stream]) -> dict[Stream, int]:
    """Each stream's last seq (sync, one query)."""
    views: dict[str, set[str]] = {}
    for topic, view in streams:
        views.setdefault(topic, set()).add(view)
    found: dict[Stream, int] = {}
    # current_seqs takes one view per topic: topics seen in several views
    # (followers with different grants) are read once per view.
    while views:
        chunk = {topic: seen.pop() for topic, seen in views.items()}
        views = {topic: seen for topic, seen in views.items() if seen}
        for topic, seq in log.current_seqs(chunk).items():
            found[(topic, chunk[topic])] = seq
    return found


async def _read(streams: list[Stream]) -> dict[Stream, int]:
    return await database_sync_to_async(read_current)(streams)


class SeqReads:
    """Streams asked for while a read runs are read together next."""

    def __init__(self) -> None:
        self.reads = BatchedReads(_read, missing=0, batch_size=BATCH_SIZE)

    async def current(self, views: dict[str, str]) -> dict[str, int]:
        """Each topic's last seq in its view (``{topic: view}``), read after
        this call began."""
        found = await self.reads.get_many(views.items())
        return {topic: found[(topic, view)] for topic, view in views.items()}


#: The running loop's batched reads.
seq_reads = per_loop(SeqReads)
