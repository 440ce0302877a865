"""Presence (PROTOCOL.md section 7): who else follows a topic, once per user
however many connections, shown after ``subscribed`` and kept current by
diffs; a view may hide entries or fields. Across processes and through a
killed one: ``tests/faults/test_presence.py``."""

import asyncio
from typing import Any

import pytest

from realtime.policies.base import TopicPolicy
from realtime.policies.registry import register_policy, unregister_policy

from .conftest import event_of
from .test_sse import SseClient

pytestmark = pytest.mark.django_db(transaction=True)


class LoungePolicy(TopicPolicy):
    """``lounge:<name>``: anyone; hosts ("host-" users) are shown to guests
    without their name, and "secret-" users to nobody but hosts."""

    presence = True
    views = ("host", "guest")

    def has_permission(self, user: Any, identifier: str) -> bool:
        return True

    def view(self, user: Any, identifier: str) -> str:
        return "host" if user.username.startswith("host-") else "guest"

    def presence_meta(self, user: Any) -> dict[str, Any]:
        return {**super().presence_meta(user), "initial": user.username[0].upper()}

    def present_presence(self, entry: dict, view: str | None) -> dict | None:
        if view == "host":
            return entry
        if entry["name"].startswith("secret-"):
            return None
        if entry["name"].startswith("host-"):
            return {key: value for key, value in entry.items() if key != "name"}
        return entry


@pytest.fixture(autouse=True)
def lounge():
    register_policy("lounge", LoungePolicy())
    yield
    unregister_policy("lounge")


async def subscribed_with_state(client, topic="lounge:1", **extra) -> dict:
    await client.subscribe(topic, **extra)
    return (await client.expect("presence_state"))["present"]


async def test_the_first_follower_sees_itself_and_the_next_is_announced(
    make_user, connect
):
    ann, bea = await make_user("ann"), await make_user("bea")
    first = await connect(ann)
    assert await subscribed_with_state(first) == {
        str(ann.pk): {
            "user_id": str(ann.pk),
            "name": "ann",
            "initial": "A",
            "connections": 1,
        }
    }
    second = await connect(bea)
    present = await subscribed_with_state(second)
    assert set(present) == {str(ann.pk), str(bea.pk)}
    diff = await first.expect("presence_diff")
    assert (diff["topic"], diff["leaves"]) == ("lounge:1", {})
    assert diff["joins"][str(bea.pk)]["name"] == "bea"


async def test_a_user_is_one_entry_however_many_connections(make_user, connect):
    ann, bea = await make_user("ann"), await make_user("bea")
    watcher = await connect(ann)
    await subscribed_with_state(watcher)
    tabs = [await connect(bea) for _ in range(2)]
    await subscribed_with_state(tabs[0])
    assert (await watcher.expect("presence_diff"))["joins"].keys() == {str(bea.pk)}
    present = await subscribed_with_state(tabs[1])
    assert present[str(bea.pk)]["connections"] == 2
    # bea's second tab and its closing were no news: the next diff the
    # watcher gets is bea's last tab leaving.
    await tabs[1].close()
    await tabs[0].send({"type": "unsubscribe", "topics": ["lounge:1"]})
    await tabs[0].expect("unsubscribed")
    diff = await watcher.expect("presence_diff")
    assert (diff["joins"], list(diff["leaves"])) == ({}, [str(bea.pk)])


async def test_a_closed_connection_leaves_at_once(make_user, connect):
    ann, bea = await make_user("ann"), await make_user("bea")
    watcher, leaving = await connect(ann), await connect(bea)
    await subscribed_with_state(watcher)
    await subscribed_with_state(leaving)
    await watcher.expect("presence_diff")
    await leaving.close()
    assert list((await watcher.expect("presence_diff"))["leaves"]) == [str(bea.pk)]


async def test_following_without_being_shown_still_hears_presence(make_user, connect):
    ann, bea, cid = [await make_user(name) for name in ("ann", "bea", "cid")]
    watcher, lurker = await connect(ann), await connect(bea)
    await subscribed_with_state(watcher)
    present = await subscribed_with_state(lurker, presence=False)
    assert set(present) == {str(ann.pk)}  # itself not among them
    newcomer = await connect(cid)
    await subscribed_with_state(newcomer)
    # The lurker's arrival was no news: the watcher's next diff is cid.
    assert list((await watcher.expect("presence_diff"))["joins"]) == [str(cid.pk)]
    assert list((await lurker.expect("presence_diff"))["joins"]) == [str(cid.pk)]


async def test_a_view_hides_entries_and_fields_it_may_not_see(make_user, connect):
    host, secret = await make_user("host-hal"), await make_user("secret-sam")
    guest = await make_user("gus")
    host_socket, secret_socket = await connect(host), await connect(secret)
    await subscribed_with_state(host_socket)
    await subscribed_with_state(secret_socket)
    guest_view = await subscribed_with_state(await connect(guest))
    assert str(secret.pk) not in guest_view  # hidden from guests
    assert "name" not in guest_view[str(host.pk)]  # a host, unnamed
    assert guest_view[str(guest.pk)]["name"] == "gus"
    host_view = (await host_socket.expect("presence_diff"))["joins"]
    assert host_view[str(secret.pk)]["name"] == "secret-sam"


async def test_an_sse_stream_is_present_and_hears_presence(make_user, connect):
    ann, bea = await make_user("ann"), await make_user("bea")
    watcher = await connect(ann)
    await subscribed_with_state(watcher)
    stream = await SseClient.open("/realtime/sse/?topics=lounge:1", token=bea.token)
    await stream.message_of("subscribed")
    state = await stream.message_of("presence_state")
    assert set(state["data"]["present"]) == {str(ann.pk), str(bea.pk)}
    assert list((await watcher.expect("presence_diff"))["joins"]) == [str(bea.pk)]


async def test_an_sse_stream_may_follow_without_being_shown(make_user, connect):
    ann, bea, cid = [await make_user(name) for name in ("ann", "bea", "cid")]
    watcher = await connect(ann)
    await subscribed_with_state(watcher)
    stream = await SseClient.open(
        "/realtime/sse/?topics=lounge:1&presence=false", token=bea.token
    )
    await stream.message_of("subscribed")
    state = await stream.message_of("presence_state")
    assert set(state["data"]["present"]) == {str(ann.pk)}  # itself not among them
    await subscribed_with_state(await connect(cid))
    # The stream's arrival was no news: the watcher's next diff is cid.
    assert list((await watcher.expect("presence_diff"))["joins"]) == [str(cid.pk)]
    await stream.disconnect()


async def test_an_sse_presence_other_than_true_or_false_is_refused(make_user):
    bea = await make_user("bea")
    stream = await SseClient.open(
        "/realtime/sse/?topics=lounge:1&presence=no", token=bea.token
    )
    assert stream.status == 400
    assert (await stream.json_body())["code"] == "invalid_message"


async def test_topics_without_presence_send_none(make_user, connect, publish_now):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    await publish_now("room:a", "ADDED", 1)
    await client.nothing_before(event_of("room:a", 1))  # no presence_state first


async def test_a_crowd_joining_at_once_announces_each_user_once(make_user, connect):
    """Joins that arrive together are counted together (in Redis, one script
    for all of them): still one arrival per user, and every connection counted."""
    ann, bea, cat = [await make_user(name) for name in ("ann", "bea", "cat")]
    watcher = await connect(await make_user("host-wes"))
    await subscribed_with_state(watcher)
    crowd = [await connect(user) for user in (ann, ann, ann, ann, bea, bea)]
    await asyncio.gather(*(subscribed_with_state(client) for client in crowd))
    last = await connect(cat)  # after the crowd: its arrival is the barrier
    present = await subscribed_with_state(last)
    joined = []
    while str(cat.pk) not in joined:
        joined += list((await watcher.expect("presence_diff"))["joins"])
    assert sorted(joined) == sorted([str(ann.pk), str(bea.pk), str(cat.pk)])
    assert present[str(ann.pk)]["connections"] == 4
    assert present[str(bea.pk)]["connections"] == 2


async def test_a_crowd_leaving_at_once_announces_each_user_once(make_user, connect):
    """Leaves that arrive together are counted together: a user is gone
    only when their last connection left, and is announced gone once."""
    ann, bea, cat = [await make_user(name) for name in ("ann", "bea", "cat")]
    watcher = await connect(await make_user("host-wes"))
    await subscribed_with_state(watcher)
    crowd = [await connect(user) for user in (ann, ann, ann, bea)]
    for client in crowd:
        await subscribed_with_state(client)
    staying = await connect(bea)
    await subscribed_with_state(staying)
    for _ in range(2):  # ann's and bea's arrivals
        await watcher.expect("presence_diff")
    await asyncio.gather(*(client.close() for client in crowd))
    diff = await watcher.expect("presence_diff")
    assert set(diff["leaves"]) == {str(ann.pk)}  # bea is still here once
    late = await connect(cat)  # after the leaves: what it sees is settled
    present = await subscribed_with_state(late)
    assert set(present) == {str(bea.pk), str(cat.pk), str(watcher.welcome["user_id"])}
    assert present[str(bea.pk)]["connections"] == 1
