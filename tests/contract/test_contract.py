"""The wire contract, written once and run on WebSocket, SSE and polling
against a real server process: the same events, in the same order, with the
same redaction, the same resume, and the same refusals."""

import asyncio
import uuid
from typing import Any

import pytest

from tests.e2e.api import Api

from .transports import TRANSPORTS, Refused, Transport


def list_pk(topic: str) -> int:
    return int(topic.split(":")[1])


async def add_gift(api: Api, topic: str, title: str) -> dict[str, Any]:
    return await asyncio.to_thread(
        api.post, "/api/gifts/", json={"list": list_pk(topic), "title": title}
    )


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def keys(events: list[dict]) -> list[tuple[str, int, str]]:
    return [(e["topic"], e["seq"], e["event"]) for e in events]


async def test_events_arrive_in_order_with_their_topic_and_seq(
    transport: Transport, users, demo
):
    bob = users["bob"]
    topics = [demo["bob_list"], demo["family"]]
    session = await transport.open(bob.token, topics)
    start = session.opened.seqs
    gift = await add_gift(bob, demo["bob_list"], unique("Compass"))
    await asyncio.to_thread(
        bob.patch,
        f"/api/gift-lists/{list_pk(demo['bob_list'])}/",
        json={"title": unique("Bob's holidays")},
    )
    events = await session.events(3)
    await session.close()
    assert keys(events) == [
        (demo["bob_list"], start[demo["bob_list"]] + 1, "ADDED"),
        # One change on two topics: published in topic order, family first.
        (demo["family"], start[demo["family"]] + 1, "UPDATED"),
        (demo["bob_list"], start[demo["bob_list"]] + 2, "UPDATED"),
    ]
    assert events[0]["data"]["payload"]["id"] == gift["id"]
    assert events[0]["data"]["entity_type"] == "gift"
    assert events[1]["data"]["entity_type"] == "gift-list"


async def test_owner_never_sees_claims_and_others_see_the_truth(
    transport: Transport, users, demo
):
    alice, bob = users["alice"], users["bob"]
    topic = demo["alice_list"]
    as_alice = await transport.open(alice.token, [topic])
    as_bob = await transport.open(bob.token, [topic])
    gift = await add_gift(alice, topic, unique("Kite"))
    await asyncio.to_thread(bob.post, f"/api/gifts/{gift['id']}/claim/", expect=200)
    await asyncio.to_thread(
        alice.patch, f"/api/gifts/{gift['id']}/", json={"title": unique("Red kite")}
    )
    alice_sees = await as_alice.events(2)
    bob_sees = await as_bob.events(3)
    await as_alice.close()
    await as_bob.close()

    assert [e["event"] for e in alice_sees] == ["ADDED", "UPDATED"]
    assert [e["event"] for e in bob_sees] == ["ADDED", "STATUS_CHANGED", "UPDATED"]
    # Each recipient's seqs count only what it is shown: the owner's go on
    # without a gap where the claim was, and her cursor says nothing of it.
    alice_at, bob_at = as_alice.opened.seqs[topic], as_bob.opened.seqs[topic]
    assert [e["seq"] for e in alice_sees] == [alice_at + 1, alice_at + 2]
    assert [e["seq"] for e in bob_sees] == [bob_at + 1, bob_at + 2, bob_at + 3]
    assert as_alice.cursor == f"{topic}@{alice_at + 2}"
    alice_update, bob_update = alice_sees[1]["data"], bob_sees[2]["data"]
    assert alice_update["payload"]["status"] == "wanted"
    assert alice_update["payload"]["claimed_by"] is None
    assert bob_update["payload"]["status"] == "claimed"
    assert bob_update["payload"]["claimed_by"] is not None
    assert bob_sees[1]["data"]["payload"]["status"] == "claimed"


async def test_resume_replays_exactly_the_missed_events_then_goes_live(
    transport: Transport, users, demo
):
    bob, topic = users["bob"], demo["bob_list"]
    first = await transport.open(bob.token, [topic])
    await add_gift(bob, topic, unique("Seen"))
    (seen,) = await first.events(1)
    cursor = first.cursor
    await first.close()
    missed = [unique("Missed") for _ in range(3)]
    for title in missed:
        await add_gift(bob, topic, title)

    second = await transport.open(bob.token, [topic], cursor)
    assert second.opened.recovered is True
    replayed = await second.events(3)
    assert [e["data"]["payload"]["title"] for e in replayed] == missed
    assert [e["seq"] for e in replayed] == [seen["seq"] + n for n in (1, 2, 3)]
    live = unique("Live")
    await add_gift(bob, topic, live)
    (after,) = await second.events(1)  # the next one, not a repeat
    assert (after["data"]["payload"]["title"], after["seq"]) == (live, seen["seq"] + 4)
    await second.close()


async def test_resume_from_a_pruned_position_says_not_recovered(
    transport: Transport, users, demo, site
):
    bob, topic = users["bob"], demo["bob_list"]
    first = await transport.open(bob.token, [topic])
    await add_gift(bob, topic, unique("Seen"))
    (seen,) = await first.events(1)
    cursor = first.cursor
    await first.close()
    for _ in range(2):
        await add_gift(bob, topic, unique("Pruned"))
    await asyncio.to_thread(prune_after, site, topic, seen["seq"])

    second = await transport.open(bob.token, [topic], cursor)
    assert second.opened.recovered is False
    assert second.opened.unrecovered == [topic]
    live = unique("After refetch")
    await add_gift(bob, topic, live)
    (event,) = await second.events(1)  # nothing replayed: straight to live
    assert event["data"]["payload"]["title"] == live
    assert event["seq"] == seen["seq"] + 3
    await second.close()


def prune_after(site, topic: str, seq: int) -> None:
    """Age the topic's events after ``seq`` past retention, then prune them."""
    site.manage(
        "shell",
        "-c",
        "from datetime import timedelta; from django.utils import timezone; "
        "from realtime.models import Event; from realtime.log.prune import prune_expired; "
        f"Event.objects.filter(topic={topic!r}, seq__gt={seq}).update("
        "created_at=timezone.now() - timedelta(days=30)); prune_expired()",
    )


async def test_forbidden_topic_is_refused_by_name(transport: Transport, users, demo):
    with pytest.raises(Refused) as refused:
        await transport.open(
            users["alice"].token, [demo["alice_list"], "family:999999"]
        )
    assert (refused.value.code, refused.value.topic) == ("forbidden", "family:999999")


async def test_unknown_resource_type_is_forbidden(transport: Transport, users):
    with pytest.raises(Refused) as refused:
        await transport.open(users["carol"].token, ["secret-stuff:1"])  # staff too
    assert (refused.value.code, refused.value.topic) == ("forbidden", "secret-stuff:1")


async def test_invalid_topic_is_refused_by_name(transport: Transport, users, demo):
    with pytest.raises(Refused) as refused:
        await transport.open(users["bob"].token, [demo["bob_list"], "Gift List:1"])
    assert (refused.value.code, refused.value.topic) == ("invalid_topic", "Gift List:1")


async def test_bad_credentials_are_refused(transport: Transport, demo):
    with pytest.raises(Refused) as refused:
        await transport.open("not-a-token", [demo["bob_list"]])
    assert refused.value.code == "unauthenticated"


async def test_every_transport_delivers_the_same_events(server, users, demo):
    """Opened side by side, the three transports hand bob identical objects."""
    bob, topics = users["bob"], [demo["bob_list"], demo["family"]]
    sessions = [
        await cls(server.http_url).open(bob.token, topics)
        for cls in TRANSPORTS.values()
    ]
    gift = await add_gift(bob, demo["bob_list"], unique("Same"))
    await asyncio.to_thread(bob.post, f"/api/gifts/{gift['id']}/claim/", expect=409)
    await asyncio.to_thread(bob.call, "DELETE", f"/api/gifts/{gift['id']}/", expect=204)
    received = [await session.events(2) for session in sessions]
    for session in sessions:
        await session.close()
    assert [e["event"] for e in received[0]] == ["ADDED", "DELETED"]
    assert received[0] == received[1] == received[2]
