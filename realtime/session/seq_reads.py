"""Topics' current seqs read in batches: one query for a crowd subscribing.

Every subscribe reads where its topics stand (after joining their groups, so
that what commits later arrives live). A thousand sockets subscribing in the
same second would be a thousand thread hops and queries for a handful of
topics. :class:`SeqReads` runs one read at a time per process and event loop;
the streams asked for meanwhile are read together by the next one, which
starts after they were asked for, so each subscriber's position is read after
its group was joined, as the subscribe needs.
"""

import asyncio

from channels.db import database_sync_to_async

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


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()  # a failure its caller no longer awaits is not logged


class SeqReads:
    """Streams asked for while a read runs are read together next."""

    def __init__(self) -> None:
        self.queued: dict[Stream, list[asyncio.Future]] = {}
        self.task: asyncio.Task | None = None

    async def current(self, views: dict[str, str]) -> dict[str, int]:
        """Each topic's last seq in its view (``{topic: view}``), read after
        this call began."""
        loop = asyncio.get_running_loop()
        waiting = {}
        for topic, view in views.items():
            future = loop.create_future()
            future.add_done_callback(_retrieve)
            self.queued.setdefault((topic, view), []).append(future)
            waiting[topic] = future
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        return {topic: await future for topic, future in waiting.items()}

    async def _run(self) -> None:
        try:
            while self.queued:
                streams = list(self.queued)[:BATCH_SIZE]
                batch = {stream: self.queued.pop(stream) for stream in streams}
                try:
                    found = await database_sync_to_async(read_current)(streams)
                except Exception as error:
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
                    continue
                for stream, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(found.get(stream, 0))
        finally:
            self.task = None


_reads: dict[asyncio.AbstractEventLoop, SeqReads] = {}


def seq_reads() -> SeqReads:
    """The running loop's batched reads."""
    loop = asyncio.get_running_loop()
    reads = _reads.get(loop)
    if reads is None:
        for old in [other for other in _reads if other.is_closed()]:
            del _reads[old]  # tests run many loops in one process
        reads = _reads[loop] = SeqReads()
    return reads
