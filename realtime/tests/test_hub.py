"""The process's hub: one group membership per topic, however many sessions
follow it, and every follower still gets every event.

Each test states in its name what a client or an operator observes.
"""

import asyncio
import logging
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.utils import _consistent_hash
from django.test import override_settings

from realtime.hub import hub as hub_module
from realtime.hub.hub import Hub, hub_for
from realtime.hub.shards import shard_count, shard_of
from realtime.hub.watch import LayerWatch
from realtime.protocol.layer import CONTROL_GROUP, event_message, reauthorize_message
from realtime.protocol.topics import group_name, user_group_name

pytestmark = pytest.mark.django_db(transaction=True)


def members(layer: InMemoryChannelLayer, group: str) -> set[str]:
    """The channels in a group, as the layer itself holds them."""
    return set(layer.groups.get(group, {}))


def topic_members(layer: InMemoryChannelLayer, topic: str) -> set[str]:
    return members(layer, group_name(topic))


class Collector:
    """A session stand-in that keeps what the hub gives it."""

    def __init__(self, *topics: str) -> None:
        self.topics = set(topics)
        self.events: list[dict[str, Any]] = []
        self.rechecks: list[dict[str, Any]] = []
        self.failed = False
        self.arrived = asyncio.Event()

    def push(self, message: dict[str, Any]) -> None:
        self.events.append(message["views"][""])  # the single view's envelope
        self.arrived.set()

    def follows_any(self, resource_types: frozenset[str]) -> bool:
        return any(topic.partition(":")[0] in resource_types for topic in self.topics)

    def reauthorize_soon(self, message: dict[str, Any]) -> None:
        self.rechecks.append(message)
        self.arrived.set()

    def layer_failed(self) -> None:
        self.failed = True
        self.arrived.set()


def event(topic: str, seq: int) -> dict[str, Any]:
    return {"type": "event", "topic": topic, "seq": seq, "event": "ADDED"}


async def send(layer: Any, topic: str, seq: int) -> None:
    await layer.group_send(
        group_name(topic), event_message(topic, {"": event(topic, seq)})
    )


async def wait_for(condition: Any, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (state changed by other tasks)
            await asyncio.sleep(0.01)


def held(layer: Any, method: str) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the layer's ``method`` (group_add, group_discard) wait: the first
    event is set when a call arrives, which goes on once the second is set."""
    arrived, proceed = asyncio.Event(), asyncio.Event()
    original = getattr(layer, method)

    async def waiting(group: str, channel: str) -> None:
        arrived.set()
        await proceed.wait()
        await original(group, channel)

    setattr(layer, method, waiting)
    return arrived, proceed


async def following(hub: Hub, topic: str) -> Collector:
    collector = Collector(topic)
    await hub.attach(collector)
    await hub.follow(topic, collector)
    return collector


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
    hub_joins = [(group, channel) for group, channel in joined if group == topic_group]
    assert len(hub_joins) == 1
    await publish_now("room:a", "ADDED", 1, text="hi")
    for client in clients:
        received = await client.expect("event")
        assert (received["topic"], received["seq"]) == ("room:a", 1)
    for client in clients[:4]:
        await client.close()
    assert not [group for group, _ in left if group == topic_group]  # one still follows
    await clients[4].close()
    await wait_for(lambda: hub_joins[0] in left)


async def test_unsubscribing_socket_stops_receiving_while_others_go_on(
    make_user, connect, publish_now
):
    ann, bea = (
        await connect(await make_user("ann")),
        await connect(await make_user("bea")),
    )
    await ann.subscribe("room:a", "room:b")
    await bea.subscribe("room:a")
    await ann.send({"type": "unsubscribe", "topics": ["room:a"]})
    await ann.expect("unsubscribed")
    await publish_now("room:a", "ADDED", 1)
    assert (await bea.expect("event"))["seq"] == 1
    # A later event on a topic ann still follows comes through the same hub
    # after the first: it is the next thing ann hears.
    await publish_now("room:b", "ADDED", 2)
    assert (await ann.expect("event"))["topic"] == "room:b"


async def test_a_session_that_fails_does_not_keep_the_event_from_the_others(caplog):
    layer = InMemoryChannelLayer()
    hub = Hub(layer)

    class Broken(Collector):
        def push(self, message: dict[str, Any]) -> None:
            raise RuntimeError("broken session")

    broken = Broken("room:a")
    await hub.attach(broken)
    await hub.follow("room:a", broken)
    healthy = await following(hub, "room:a")
    with caplog.at_level(logging.ERROR, logger="realtime.hub.hub"):
        await send(layer, "room:a", 1)
        await asyncio.wait_for(healthy.arrived.wait(), 5)
    assert healthy.events == [event("room:a", 1)]
    assert "refused an event of room:a" in caplog.text
    hub.detach(broken)
    hub.detach(healthy)


async def test_events_of_other_topics_reach_only_their_followers():
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    on_a, on_b = await following(hub, "room:a"), await following(hub, "room:b")
    await send(layer, "room:b", 1)
    await send(layer, "room:a", 1)
    await send(layer, "room:a", 2)
    await wait_for(lambda: len(on_a.events) == 2 and len(on_b.events) == 1)
    assert [e["seq"] for e in on_a.events] == [1, 2]  # in the order sent
    assert [e["topic"] for e in on_b.events] == ["room:b"]
    hub.detach(on_a)
    hub.detach(on_b)


async def test_the_last_session_leaving_leaves_the_groups_and_stops_the_hub():
    layer = InMemoryChannelLayer()
    hub = hub_for(layer)
    first, second = await following(hub, "room:a"), await following(hub, "room:a")
    await hub.unfollow("room:a", first)
    assert topic_members(layer, "room:a") and not hub.closed
    hub.detach(first)
    hub.detach(second)  # a connection that is gone: no waiting
    await wait_for(lambda: hub.closed and not members(layer, CONTROL_GROUP))
    assert not topic_members(layer, "room:a")
    assert hub_for(layer) is not hub  # the next session starts afresh


async def test_a_request_to_recheck_a_resource_type_reaches_its_followers_only():
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    rooms, boards = await following(hub, "room:a"), await following(hub, "board:1")
    await layer.group_send(CONTROL_GROUP, reauthorize_message(resource_types=["board"]))
    await wait_for(lambda: boards.rechecks)
    # The hub handles its channel's messages in order: a later event to the
    # rooms proves the request was handled, and passed the rooms by.
    await send(layer, "room:a", 1)
    await wait_for(lambda: rooms.events)
    assert rooms.rechecks == []
    hub.detach(rooms)
    hub.detach(boards)


async def test_after_the_layer_loses_its_groups_the_next_session_joins_again():
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    before = await following(hub, "room:a")
    await layer.flush()  # what a Redis restart does to the groups
    hub.groups_lost()  # what the layer watch tells the hub
    assert before.failed  # its connection closes, and its client resumes
    after = await following(hub, "room:a")
    assert topic_members(layer, "room:a") and members(layer, CONTROL_GROUP)
    await send(layer, "room:a", 1)
    await wait_for(lambda: after.events)
    assert after.events == [event("room:a", 1)]
    hub.detach(before)
    hub.detach(after)


class TwoShardLayer(InMemoryChannelLayer):
    """The in-memory layer, its groups told apart over two shards by the hash
    channels-redis's core layer spreads them over two hosts with."""

    ring_size = 2

    def consistent_hash(self, value: str) -> int:
        return _consistent_hash(value, self.ring_size)


def topic_on(layer: Any, shard: int) -> str:
    """A topic whose group the layer puts on ``shard``."""
    for number in range(1000):
        if shard_of(layer, group_name(f"room:{number}")) == shard:
            return f"room:{number}"
    raise AssertionError(f"no topic on shard {shard}")


async def test_a_lost_shard_ends_only_the_sessions_that_depend_on_it():
    layer = TwoShardLayer()
    assert shard_count(layer) == 2
    control = shard_of(layer, CONTROL_GROUP)
    beside, other = topic_on(layer, control), topic_on(layer, 1 - control)
    hub = Hub(layer)
    kept = await following(hub, beside)
    ended = await following(hub, other)
    hub.groups_lost(1 - control)  # what the watch says when that shard failed
    assert ended.failed and not kept.failed  # only its client resumes
    assert beside in hub.joined and other not in hub.joined  # joined again later
    await send(layer, beside, 1)
    await wait_for(lambda: kept.events)
    assert kept.events == [event(beside, 1)]  # the other shard's topics go on
    hub.groups_lost(control)  # the control group's shard: every session ends
    assert kept.failed
    hub.detach(kept)
    hub.detach(ended)


async def test_a_session_whose_user_group_is_on_a_lost_shard_ends_too():
    """Re-authorization requests for its user travel through that group: a
    session that cannot hear them must not go on as if it could."""
    layer = TwoShardLayer()
    control = shard_of(layer, CONTROL_GROUP)
    beside = topic_on(layer, control)
    elsewhere = next(
        number
        for number in range(1000)
        if shard_of(layer, user_group_name(number)) != control
    )
    hub = Hub(layer)
    session = await following(hub, beside)
    await hub.follow_user(elsewhere, session)
    neighbour = await following(hub, beside)
    hub.groups_lost(1 - control)
    assert session.failed and not neighbour.failed
    hub.detach(session)
    hub.detach(neighbour)


async def test_joined_groups_are_renewed_before_the_layer_expires_them(monkeypatch):
    monkeypatch.setattr(hub_module, "REJOIN_INTERVAL", 0.05)
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    collector = await following(hub, "room:a")
    layer.groups[group_name("room:a")].clear()  # as if the membership expired
    await wait_for(lambda: topic_members(layer, "room:a"))
    await send(layer, "room:a", 1)
    await wait_for(lambda: collector.events)
    hub.detach(collector)


async def test_a_group_the_layer_refuses_leaves_no_follower_behind():
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    collector = Collector("room:a")
    await hub.attach(collector)

    async def refuse(group: str, channel: str) -> None:
        raise ConnectionError("Redis is down")

    layer.group_add = refuse
    with pytest.raises(ConnectionError):
        await hub.follow("room:a", collector)
    assert "room:a" not in hub.followers
    hub.detach(collector)
    assert hub.closed  # nothing is attached: nothing keeps running


async def test_a_subscribe_whose_position_read_fails_leaves_no_follower_behind(
    make_user, connect, monkeypatch
):
    def database_gone(*args: Any) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr("realtime.session.following.read_positions", database_gone)
    client = await connect(await make_user("ann"))
    hub = hub_for(get_channel_layer())  # the one the socket uses
    await client.send({"type": "subscribe", "topics": ["room:a"], "id": 1})
    assert (await client.expect("error"))["code"] == "unavailable"
    await wait_for(lambda: hub.closed)  # nothing follows anything any more
    assert "room:a" not in hub.followers


async def test_every_time_the_watch_finds_the_groups_lost_the_hub_joins_again(
    monkeypatch,
):
    layer = InMemoryChannelLayer()
    with override_settings(
        REALTIME={"LAYER_CHECK_INTERVAL": 0.05, "LAYER_CHECK_TIMEOUT": 0.3}
    ):
        watch = LayerWatch(layer)
        monkeypatch.setattr(hub_module, "watch_for", lambda layer: watch)
        hub = Hub(layer)
        try:
            for _ in range(2):  # a second Redis restart as well as the first
                collector = await following(hub, "room:a")
                assert "room:a" in hub.joined
                checks = watch.checks
                await wait_for(lambda c=checks: watch.checks > c)  # one passed
                await layer.flush()
                await wait_for(lambda c=collector: c.failed)
                assert "room:a" not in hub.joined
                hub.detach(collector)
                hub = Hub(layer)
        finally:
            watch.task.cancel()


async def test_a_users_requests_reach_only_their_sessions_through_one_membership():
    """However many connections a user has in a process, the process joins
    the user's group once, and a request for that user reaches each of them
    and no one else; the group is left when the last of them goes."""
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    first, second, stranger = [await following(hub, "room:a") for _ in range(3)]
    for session in (first, second):
        await hub.follow_user(7, session)
    await hub.follow_user(8, stranger)
    assert len(members(layer, user_group_name(7))) == 1
    await layer.group_send(user_group_name(7), reauthorize_message(user_id="7"))
    await wait_for(lambda: first.rechecks and second.rechecks)
    assert [m["user_id"] for m in first.rechecks + second.rechecks] == ["7", "7"]
    assert stranger.rechecks == []
    hub.detach(first)
    await asyncio.sleep(0.05)
    assert len(members(layer, user_group_name(7))) == 1  # the second still here
    hub.detach(second)
    await wait_for(lambda: not members(layer, user_group_name(7)))
    hub.detach(stranger)


async def test_events_that_reach_the_process_out_of_order_reach_followers_in_order():
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    collector = await following(hub, "room:a")
    for seq in (1, 3, 2):  # two publishing processes, the later commit first
        await send(layer, "room:a", seq)
    await wait_for(lambda: len(collector.events) == 3)
    assert [e["seq"] for e in collector.events] == [1, 2, 3]
    hub.detach(collector)


async def test_a_session_gone_while_its_users_group_was_joined_is_not_kept():
    """A client that leaves while its sign-in is still joining its user's
    group: the hub keeps nothing of it, and leaves the group nobody needs."""
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    session = await following(hub, "room:a")
    joining, proceed = held(layer, "group_add")
    task = asyncio.create_task(hub.follow_user(7, session))
    await joining.wait()
    hub.detach(session)  # the client left meanwhile
    proceed.set()
    await task
    assert session not in hub.followers.get(user_group_name(7), set())
    await wait_for(lambda: not members(layer, user_group_name(7)))


async def test_a_follow_while_the_last_follower_leaves_still_gets_events():
    """The topic's group is being left (its last follower went) when another
    session follows it: the group is joined again, and events reach it."""
    layer = InMemoryChannelLayer()
    hub = Hub(layer)
    leaving = await following(hub, "room:a")
    staying = Collector("room:a")
    await hub.attach(staying)
    leaving_now, proceed = held(layer, "group_discard")
    left = asyncio.create_task(hub.unfollow("room:a", leaving))
    await leaving_now.wait()  # the leave holds the topic, mid-discard
    follow = asyncio.create_task(hub.follow("room:a", staying))
    proceed.set()
    await left
    await follow
    await send(layer, "room:a", 1)
    await wait_for(lambda: staying.events)
    assert [e["seq"] for e in staying.events] == [1]
    hub.detach(leaving)
    hub.detach(staying)
