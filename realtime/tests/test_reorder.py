"""Events of a topic that reach a process out of seq order (two processes
published them) are passed on to its followers in order; one whose
predecessor never comes is passed on after a short wait, so that the
followers repair the gap from the log as before.

Each test states in its name what a follower observes.
"""

import asyncio
from typing import Any

from realtime.hub.reorder import Reorder


def message(topic: str, **seqs: int) -> dict[str, Any]:
    views = {
        ("" if view == "single" else view): {"seq": seq} for view, seq in seqs.items()
    }
    return {"type": "realtime.event", "topic": topic, "views": views}


def seqs(delivered: list[dict[str, Any]], view: str = "") -> list[int]:
    return [m["views"][view]["seq"] for m in delivered if view in m["views"]]


async def test_a_later_event_that_arrives_first_waits_for_the_one_before_it():
    delivered: list[dict[str, Any]] = []
    reorder = Reorder(delivered.append, wait=5)
    for seq in (1, 3, 4, 2, 5):
        reorder.take(message("room:a", single=seq))
    assert seqs(delivered) == [1, 2, 3, 4, 5]
    assert not reorder.held and not reorder.timers


async def test_an_event_whose_predecessor_never_comes_passes_after_the_wait():
    delivered: list[dict[str, Any]] = []
    reorder = Reorder(delivered.append, wait=0.05)
    reorder.take(message("room:a", single=1))
    reorder.take(message("room:a", single=4))
    reorder.take(message("room:a", single=3))
    assert seqs(delivered) == [1]  # held, waiting for 2
    await asyncio.sleep(0.2)
    assert seqs(delivered) == [1, 3, 4]  # in order; the followers read 2
    reorder.take(message("room:a", single=5))
    assert seqs(delivered) == [1, 3, 4, 5]  # and on from there at once


async def test_topics_and_views_are_ordered_each_on_their_own():
    delivered: list[dict[str, Any]] = []
    reorder = Reorder(delivered.append, wait=5)
    reorder.take(message("room:a", owner=1, member=1))
    reorder.take(message("room:a", member=2))  # hidden from the owner's view
    reorder.take(message("room:b", single=7))  # another topic: not held up
    reorder.take(message("room:a", owner=3, member=4))  # waits: owner 2 missing
    assert seqs(delivered, "member") == [1, 2]
    assert seqs(delivered) == [7]
    reorder.take(message("room:a", owner=2, member=3))
    assert seqs(delivered, "owner") == [1, 2, 3]
    assert seqs(delivered, "member") == [1, 2, 3, 4]


async def test_an_old_or_first_event_is_never_held():
    delivered: list[dict[str, Any]] = []
    reorder = Reorder(delivered.append, wait=5)
    reorder.take(message("room:a", single=10))  # the first seen: nothing before it
    reorder.take(message("room:a", single=8))  # older: the followers drop it
    reorder.take(message("room:a", single=11))
    assert seqs(delivered) == [10, 8, 11]


async def test_forgetting_a_topic_passes_on_what_it_held():
    delivered: list[dict[str, Any]] = []
    reorder = Reorder(delivered.append, wait=5)
    reorder.take(message("room:a", single=1))
    reorder.take(message("room:a", single=3))
    reorder.forget("room:a")
    assert seqs(delivered) == [1, 3]
    reorder.take(message("room:a", single=9))  # starts anew
    assert seqs(delivered) == [1, 3, 9]
    assert not reorder.timers
