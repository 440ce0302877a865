"""Shared reads (presence state for a crowd): one read of a key at a time,
and every caller's answer is read after it asked."""

import asyncio

import pytest

from realtime.hub.next_read import NextRead


class Store:
    """A value that changes, read slowly enough for callers to pile up."""

    def __init__(self) -> None:
        self.version = 0
        self.reads = 0

    async def read(self, key: str) -> tuple[str, int]:
        self.reads += 1
        seen = self.version
        await asyncio.sleep(0.01)
        return key, seen


async def test_a_crowd_shares_reads_and_sees_what_it_wrote_before_asking():
    store = Store()
    shared = NextRead(store.read)

    async def write_then_read() -> tuple[int, tuple[str, int]]:
        store.version += 1  # what this caller did before asking
        return store.version, await shared.get("topic")

    answers = await asyncio.gather(*(write_then_read() for _ in range(50)))
    for written, (key, seen) in answers:
        assert key == "topic"
        assert seen >= written  # read after the caller's own change
    # The first caller's read, then one read for everyone who came meanwhile.
    assert store.reads == 2


async def test_each_key_is_read_on_its_own_and_a_failure_reaches_its_callers():
    async def read(key: str) -> str:
        await asyncio.sleep(0)
        if key == "bad":
            raise ConnectionError("gone")
        return key.upper()

    shared = NextRead(read)
    good, bad = await asyncio.gather(
        shared.get("good"), shared.get("bad"), return_exceptions=True
    )
    assert good == "GOOD"
    assert isinstance(bad, ConnectionError)
    # A failed read is not kept: the next caller reads again.
    with pytest.raises(ConnectionError):
        await shared.get("bad")
    assert await shared.get("good") == "GOOD"
