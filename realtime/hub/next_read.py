"""Reads shared by the callers that asked before they started.

A crowd arriving in one topic asks for the same thing (its presence state) a
thousand times in a second. :class:`NextRead` runs at most one read of a key
at a time; whoever asks while one runs waits for the next one, which starts
when it ends and answers everyone who asked meanwhile. Each caller still gets
an answer read *after* it asked (what it did before asking is in it), from
one read per key at a time instead of one per caller.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()  # a failure nobody awaited any more is not logged


class NextRead:
    """One read of a key at a time; callers share the next one."""

    def __init__(self, read: Callable[[Any], Awaitable[Any]]) -> None:
        self.read = read
        self.waiting: dict[Hashable, asyncio.Future] = {}
        self.running: dict[Hashable, asyncio.Task] = {}

    async def get(self, key: Hashable) -> Any:
        """What the read of ``key`` returns, read after this call began.
        Callers must not change it: it is shared."""
        waiting = self.waiting.get(key)
        if waiting is None:
            waiting = self.waiting[key] = asyncio.get_running_loop().create_future()
            waiting.add_done_callback(_retrieve)
            if key not in self.running:
                self._start(key)
        return await asyncio.shield(waiting)

    def _start(self, key: Hashable) -> None:
        future = self.waiting.pop(key)
        self.running[key] = asyncio.ensure_future(self._run(key, future))

    async def _run(self, key: Hashable, future: asyncio.Future) -> None:
        try:
            result = await self.read(key)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(result)
        finally:
            del self.running[key]
            if key in self.waiting:
                self._start(key)
