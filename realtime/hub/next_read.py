"""Reads shared by the callers that asked before they started.

A crowd arriving in one topic asks for the same thing (its presence state) a
thousand times in a second. :class:`NextRead` runs at most one read of a key
at a time; whoever asks while one runs waits for the next one, which starts
when it ends and answers everyone who asked meanwhile. Each caller still gets
an answer read *after* it asked (what it did before asking is in it), from
one read per key at a time instead of one per caller.

:class:`BatchedReads` does the same for reads that take many keys at once (a
query with ``IN``): the keys asked for while one batch runs are read together
by the next. :func:`per_loop` gives each event loop its own instance.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


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


class BatchedReads:
    """Keys asked for while a batch is read are read together by the next.

    ``read`` takes a list of keys and returns what it found by key; a key it
    does not return gets ``missing``. One batch runs at a time, so every key is
    read after it was asked for.
    """

    def __init__(
        self,
        read: Callable[[list[Any]], Awaitable[dict[Any, Any]]],
        missing: Any = None,
        batch_size: int = 500,
    ) -> None:
        self.read = read
        self.missing = missing
        self.batch_size = batch_size
        self.queued: dict[Hashable, list[asyncio.Future]] = {}
        self.task: asyncio.Task | None = None

    async def get_many(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        """What the next batch finds for each key, by key."""
        loop = asyncio.get_running_loop()
        waiting = {}
        for key in keys:
            future = loop.create_future()
            future.add_done_callback(_retrieve)
            self.queued.setdefault(key, []).append(future)
            waiting[key] = future
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        return {key: await future for key, future in waiting.items()}

    async def get(self, key: Hashable) -> Any:
        return (await self.get_many([key]))[key]

    async def _run(self) -> None:
        try:
            while self.queued:
                keys = list(self.queued)[: self.batch_size]
                batch = {key: self.queued.pop(key) for key in keys}
                try:
                    found = await self.read(keys)
                except Exception as error:
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(found.get(key, self.missing))
        finally:
            self.task = None


def per_loop(make: Callable[[], T]) -> Callable[[], T]:
    """A function returning the running event loop's own ``make()``: what
    one loop awaits must not be shared with another (tests run many loops in
    one process; a closed loop's instance is dropped)."""
    instances: dict[asyncio.AbstractEventLoop, Any] = {}

    def current() -> T:
        loop = asyncio.get_running_loop()
        instance = instances.get(loop)
        if instance is None:
            for old in [other for other in instances if other.is_closed()]:
                del instances[old]
            instance = instances[loop] = make()
        return instance

    return current
