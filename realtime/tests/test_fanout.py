"""The process's shared fan-out: one group membership per topic, however many
sockets follow it, and every follower still gets every event.

Each test states in its name what a client or an operator observes.
"""

import asyncio
import logging
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.test import override_settings

from realtime.hub import hub as fanout_module
from realtime.hub.hub import Fanout, fanout_for
from realtime.hub.watch import LayerWatch
from realtime.protocol.layer import EVENT as EVENT_MESSAGE_TYPE
from realtime.protocol.topics import group_name

pytestmark = pytest.mark.django_db(transaction=True)


def members(layer: InMemoryChannelLayer, topic: str) -> set[str]:
    """The channels in the topic's group, as the layer itself holds them."""
    return set(layer.groups.get(group_name(topic), {}))


class Collector:
    """A follower that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def push(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.arrived.set()


def event(topic: str, seq: int) -> dict[str, Any]:
    return {"type": "event", "topic": topic, "seq": seq, "event": "ADDED"}


async def send(layer: Any, topic: str, seq: int) -> None:
    await layer.group_send(
        group_name(topic), {"type": EVENT_MESSAGE_TYPE, "event": event(topic, seq)}
    )


async def wait_for(condition: Any, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (state changed by other tasks)
            await asyncio.sleep(0.01)


async def test_many_sockets_on_a_topic_make_one_group_member_and_all_get_events(
    make_user, connect, publish_now, group_calls
):
    joined, left = group_calls  # in memory or Redis: watch what the layer is asked
    topic_group = group_name("room:a")
    clients = []
    for index in range(5):
        client = await connect(await make_user(f"user{index}"))
        await client.subscribe("room:a")
        clients.append(client)
    fanout_joins = [
        (group, channel) for group, channel in joined if group == topic_group
    ]
    assert len(fanout_joins) == 1
    await publish_now("room:a", "ADDED", 1, text="hi")
    for client in clients:
        received = await client.expect("event")
        assert (received["topic"], received["seq"]) == ("room:a", 1)
    for client in clients[:4]:
        await client.close()
    assert not [group for group, _ in left if group == topic_group]  # one still follows
    await clients[4].close()
    await wait_for(lambda: fanout_joins[0] in left)


async def test_unsubscribing_socket_stops_receiving_while_others_go_on(
    make_user, connect, publish_now
):
    ann, bea = (
        await connect(await make_user("ann")),
        await connect(await make_user("bea")),
    )
    await ann.subscribe("room:a")
    await bea.subscribe("room:a")
    await ann.send({"type": "unsubscribe", "topics": ["room:a"]})
    await ann.expect("unsubscribed")
    await publish_now("room:a", "ADDED", 1)
    assert (await bea.expect("event"))["seq"] == 1
    await ann.assert_silent()


async def test_a_follower_that_fails_does_not_keep_the_event_from_the_others(
    caplog,
):
    layer = InMemoryChannelLayer()
    fanout = Fanout(layer)

    class Broken:
        def push(self, event: dict[str, Any]) -> None:
            raise RuntimeError("broken follower")

    healthy = Collector()
    await fanout.follow("room:a", Broken())
    await fanout.follow("room:a", healthy)
    with caplog.at_level(logging.ERROR, logger="realtime.hub.hub"):
        await send(layer, "room:a", 1)
        await asyncio.wait_for(healthy.arrived.wait(), 5)
    assert healthy.events == [event("room:a", 1)]
    assert "refused an event of room:a" in caplog.text
    await fanout.unfollow("room:a", healthy)


async def test_events_of_other_topics_reach_only_their_followers():
    layer = InMemoryChannelLayer()
    fanout = Fanout(layer)
    on_a, on_b = Collector(), Collector()
    await fanout.follow("room:a", on_a)
    await fanout.follow("room:b", on_b)
    await send(layer, "room:b", 1)
    await send(layer, "room:a", 1)
    await send(layer, "room:a", 2)
    await wait_for(lambda: len(on_a.events) == 2 and len(on_b.events) == 1)
    assert [e["seq"] for e in on_a.events] == [1, 2]  # in the order sent
    assert [e["topic"] for e in on_b.events] == ["room:b"]
    await fanout.unfollow("room:a", on_a)
    await fanout.unfollow("room:b", on_b)


async def test_the_last_follower_leaving_leaves_the_group_and_stops_the_fanout():
    layer = InMemoryChannelLayer()
    fanout = fanout_for(layer)
    first, second = Collector(), Collector()
    await fanout.follow("room:a", first)
    await fanout.follow("room:a", second)
    await fanout.unfollow("room:a", first)
    assert members(layer, "room:a") and not fanout.closed
    fanout.abandon("room:a", second)  # a connection that is gone: no waiting
    await wait_for(lambda: fanout.closed)
    assert not members(layer, "room:a")
    assert fanout_for(layer) is not fanout  # the next follower starts afresh


async def test_after_the_layer_loses_its_groups_the_next_follower_joins_again():
    layer = InMemoryChannelLayer()
    fanout = Fanout(layer)
    before, after = Collector(), Collector()
    await fanout.follow("room:a", before)
    await layer.flush()  # what a Redis restart does to the groups
    fanout.forget_groups()  # what the layer watch tells the fan-out
    await fanout.follow("room:a", after)
    assert members(layer, "room:a")
    await send(layer, "room:a", 1)
    await wait_for(lambda: after.events)
    assert after.events == [event("room:a", 1)]


async def test_followed_groups_are_renewed_before_the_layer_expires_them(
    monkeypatch,
):
    monkeypatch.setattr(fanout_module, "REJOIN_INTERVAL", 0.05)
    layer = InMemoryChannelLayer()
    fanout = Fanout(layer)
    follower = Collector()
    await fanout.follow("room:a", follower)
    layer.groups[group_name("room:a")].clear()  # as if the membership expired
    await wait_for(lambda: members(layer, "room:a"))
    await send(layer, "room:a", 1)
    await wait_for(lambda: follower.events)
    await fanout.unfollow("room:a", follower)


async def test_a_group_the_layer_refuses_leaves_no_follower_behind():
    layer = InMemoryChannelLayer()
    fanout = Fanout(layer)

    async def refuse(group: str, channel: str) -> None:
        raise ConnectionError("Redis is down")

    layer.group_add = refuse
    with pytest.raises(ConnectionError):
        await fanout.follow("room:a", Collector())
    assert "room:a" not in fanout.followers
    assert fanout.closed  # nothing follows anything: nothing keeps running


async def test_a_subscribe_whose_position_read_fails_leaves_no_follower_behind(
    make_user, connect, monkeypatch
):
    def database_gone(*args: Any) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr("realtime.session.subscriptions.read_positions", database_gone)
    client = await connect(await make_user("ann"))
    fanout = fanout_for(get_channel_layer())  # the one the socket will use
    await client.send({"type": "subscribe", "topics": ["room:a"], "id": 1})
    assert (await client.expect("error"))["code"] == "unavailable"
    await wait_for(lambda: fanout.closed)  # nothing follows anything any more
    assert "room:a" not in fanout.followers


async def test_every_time_the_watch_finds_the_groups_lost_the_fanout_joins_again(
    monkeypatch,
):
    layer = InMemoryChannelLayer()
    with override_settings(
        REALTIME={"LAYER_CHECK_INTERVAL": 0.05, "LAYER_CHECK_TIMEOUT": 0.3}
    ):
        watch = LayerWatch(layer)
        monkeypatch.setattr(fanout_module, "watch_for", lambda layer: watch)
        fanout = Fanout(layer)
        try:
            for _ in range(2):  # a second Redis restart as well as the first
                await fanout.follow("room:a", Collector())
                assert "room:a" in fanout.joined
                await asyncio.sleep(0.3)  # the watch holds its check group again
                await layer.flush()
                await wait_for(lambda: "room:a" not in fanout.joined)
        finally:
            watch.task.cancel()
