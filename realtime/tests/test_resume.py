"""Resume with ``since`` and gap repair: no event lost, none twice, in order."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from realtime.models import Event
from realtime.protocol.layer import event_message

from .conftest import event_of

pytestmark = pytest.mark.django_db(transaction=True)


async def test_resume_replays_exactly_the_missed_events_then_goes_live(
    make_user, connect, publish_now
):
    user = await make_user("ann")
    first = await connect(user)
    await first.subscribe("room:a")
    await publish_now("room:a", "ADDED", 1)
    await publish_now("room:a", "ADDED", 2)
    seen = [(await first.receive())["seq"] for _ in range(2)]
    assert seen == [1, 2]
    await first.close()

    for entity_id in (3, 4, 5):  # published while the client was away
        await publish_now("room:a", "UPDATED", entity_id)

    second = await connect(user)
    reply = await second.subscribe("room:a", since={"room:a": 2})
    assert reply["recovered"] is True
    assert reply["seqs"] == {"room:a": 5}
    replayed = [await second.receive() for _ in range(3)]
    assert [(e["seq"], e["data"]["entity_id"]) for e in replayed] == [
        (3, "3"),
        (4, "4"),
        (5, "5"),
    ]
    # Each next message is a later live event: nothing more was replayed before
    # it, and it came once.
    await publish_now("room:a", "UPDATED", 6)
    assert (await second.nothing_before(event_of("room:a", 6)))["seq"] == 6
    await publish_now("room:a", "UPDATED", 7)
    assert (await second.nothing_before(event_of("room:a", 7)))["seq"] == 7


async def test_subscribing_again_with_since_replays_a_followed_topic(
    make_user, connect, publish_now
):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    assert [(await client.expect("event"))["seq"] for _ in range(3)] == [1, 2, 3]
    # The client lost track after 1 (say, a cache it dropped): it asks again.
    reply = await client.subscribe("room:a", since={"room:a": 1})
    assert (reply["recovered"], reply["seqs"]) == (True, {"room:a": 3})
    assert [(await client.expect("event"))["seq"] for _ in range(2)] == [2, 3]
    await publish_now("room:a", "ADDED", 4)  # and live events go on after it
    assert (await client.expect("event"))["seq"] == 4
    # Asked from a seq the log no longer reaches, it says so.
    reply = await client.subscribe("room:a", since={"room:a": 99})
    assert reply["recovered"] is False


async def test_resume_from_the_current_seq_replays_nothing(
    make_user, connect, publish_now
):
    await publish_now("room:a")
    client = await connect(await make_user("ann"))
    reply = await client.subscribe("room:a", since={"room:a": 1})
    assert reply["recovered"] is True
    await publish_now("room:a", "ADDED", 2)  # a replay would have come before it
    await client.nothing_before(event_of("room:a", 2))


async def test_resume_replays_only_what_the_recipient_may_see(
    make_user, connect, publish_now
):
    await publish_now("room:a", "SECRET", 1)
    await publish_now("room:a", "ADDED", 2)
    client = await connect(await make_user("ann"))
    reply = await client.subscribe("room:a", since={"room:a": 0})
    assert reply["recovered"] is True
    assert reply["seqs"] == {"room:a": 1}  # the SECRET took no seq of this view
    event = await client.receive()
    assert (event["seq"], event["event"]) == (1, "ADDED")
    await publish_now("room:a", "ADDED", 3)  # the replay ended before it
    assert (await client.nothing_before(event_of("room:a", 3)))["seq"] == 2


async def test_resume_past_pruned_events_says_not_recovered(
    make_user, connect, publish_now
):
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    await sync_to_async(
        lambda: Event.objects.filter(topic="room:a", seq=2).update(
            created_at=timezone.now() - timedelta(days=2)
        )
    )()
    from realtime.log.prune import prune_expired

    assert await sync_to_async(prune_expired)() == 2  # as each view logged it
    client = await connect(await make_user("ann"))
    reply = await client.subscribe("room:a", "room:b", since={"room:a": 1, "room:b": 0})
    assert reply["recovered"] is False
    assert reply["unrecovered"] == ["room:a"]
    assert reply["seqs"] == {"room:a": 3, "room:b": 0}
    # Nothing half-replayed (the client refetches): the next is a live event.
    await publish_now("room:a", "ADDED", 4)
    assert (await client.nothing_before(event_of("room:a", 4)))["seq"] == 4


async def test_resume_from_a_seq_ahead_of_the_server_says_not_recovered(
    make_user, connect, publish_now
):
    await publish_now("room:a")
    client = await connect(await make_user("ann"))
    reply = await client.subscribe("room:a", since={"room:a": 40})
    assert reply["recovered"] is False


@override_settings(REALTIME={"REPLAY_LIMIT": 2})
async def test_resume_beyond_the_replay_limit_says_not_recovered(
    make_user, connect, publish_now
):
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    client = await connect(await make_user("ann"))
    reply = await client.subscribe("room:a", since={"room:a": 0})
    assert reply["recovered"] is False
    await publish_now("room:a", "ADDED", 4)  # nothing half-replayed before it
    await client.nothing_before(event_of("room:a", 4))


async def test_dropped_message_is_repaired_from_the_log_before_the_next(
    make_user, connect, publish_now, monkeypatch
):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    layer = get_channel_layer()
    real_group_send = layer.group_send
    dropped = []

    async def drop_second(group, message):
        shown = message.get("views", {}).get("plain", {})
        if shown.get("seq") == 2 and not dropped:
            dropped.append(message)  # lost, as a full channel-layer inbox loses it
            return
        await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", drop_second)
    repaired_before = REGISTRY.get_sample_value("realtime_gaps_repaired_total")
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    assert dropped
    events = [await client.receive() for _ in range(3)]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[1]["data"]["entity_id"] == "2"
    await publish_now("room:a", "ADDED", 4)  # nothing was sent twice before it
    await client.nothing_before(event_of("room:a", 4))
    # Operators see it: one gap repaired.
    assert (
        REGISTRY.get_sample_value("realtime_gaps_repaired_total") == repaired_before + 1
    )


async def test_followers_missing_the_same_event_share_one_log_read(
    make_user, connect, publish_now, monkeypatch
):
    """Every follower of a topic finds the same event missing at once (it came
    late, or an overflow dropped it): each gets it in order, from one read of
    the log in the process rather than one per connection."""
    from realtime.session import gap_reads

    clients = []
    for name in ("ann", "bob", "cid"):
        client = await connect(await make_user(name))
        await client.subscribe("room:a")
        clients.append(client)
    layer = get_channel_layer()
    real_group_send = layer.group_send
    dropped = []

    async def drop_second(group, message):
        shown = message.get("views", {}).get("plain", {})
        if shown.get("seq") == 2 and not dropped:
            dropped.append(message)
            return
        await real_group_send(group, message)

    reads = []
    real_read = gap_reads.log.events_between

    def counted_read(*args):
        reads.append(args)
        return real_read(*args)

    monkeypatch.setattr(layer, "group_send", drop_second)
    monkeypatch.setattr(gap_reads.log, "events_between", counted_read)
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    assert dropped
    for client in clients:
        events = [await client.receive() for _ in range(3)]
        assert [e["seq"] for e in events] == [1, 2, 3]
        assert events[1]["data"]["entity_id"] == "2"
    assert reads == [("room:a", "plain", 1, 2)]


async def test_a_crowd_subscribing_at_once_reads_positions_together(
    make_user, connect, publish_now, monkeypatch
):
    """Sockets subscribing in the same moment each get the topic's position
    and their replay, from a couple of reads of the log rather than a read
    per socket."""
    import asyncio

    from realtime.session import seq_reads

    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    clients = [await connect(await make_user(f"crowd{n}")) for n in range(8)]
    reads = []
    real_read = seq_reads.log.current_seqs

    def counted_read(views):
        reads.append(views)
        return real_read(views)

    monkeypatch.setattr(seq_reads.log, "current_seqs", counted_read)
    replies = await asyncio.gather(
        *(c.subscribe("room:a", since={"room:a": 1}) for c in clients)
    )
    for client, reply in zip(clients, replies, strict=True):
        assert reply["seqs"] == {"room:a": 3} and reply["recovered"] is True
        replayed = [await client.receive() for _ in range(2)]
        assert [e["seq"] for e in replayed] == [2, 3]
    # The first subscribe's read, then one for all who asked while it ran.
    assert 1 <= len(reads) <= 2


async def test_duplicate_and_stale_messages_are_not_delivered_twice(
    make_user, connect, publish_now
):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    first = await publish_now("room:a")
    second = await publish_now("room:a")
    assert [(await client.receive())["seq"] for _ in range(2)] == [1, 2]
    layer = get_channel_layer()
    for envelope in (second, first):  # redelivered, and out of order
        await layer.group_send(
            "rt.room.a", event_message("room:a", {"plain": envelope})
        )
    # Sent after them through the same layer: had they been passed on, they
    # would have come first.
    await publish_now("room:a", "ADDED", 3)
    await client.nothing_before(event_of("room:a", 3))


async def test_a_follower_whose_view_changes_is_told_to_refetch(
    make_user, connect, publish_now
):
    """Each view numbers its events apart: a follower moved to another view
    gets an unasked subscribed with that view's seq and recovered: false."""
    from realtime.publishing.reauthorize import reauthorize_users

    user = await make_user("ann")
    client = await connect(user)
    await client.subscribe("room:a")
    await publish_now("room:a", "SECRET", 1)  # the vip view's only
    await publish_now("room:a", "ADDED", 2)
    assert (await client.expect("event"))["seq"] == 1  # plain: 1 event so far

    def promote() -> None:
        from django.db import transaction

        user.username = "vip-ann"  # the room policy's vip view
        user.save()
        with transaction.atomic():
            reauthorize_users([user.pk])

    await sync_to_async(promote)()
    told = await client.expect("subscribed")
    assert told["topics"] == ["room:a"]
    assert (told["seqs"], told["recovered"]) == ({"room:a": 2}, False)
    assert told["unrecovered"] == ["room:a"]
    await publish_now("room:a", "SECRET", 3)  # now shown, in the vip numbering
    shown = await client.expect("event")
    assert (shown["event"], shown["seq"]) == ("SECRET", 3)
