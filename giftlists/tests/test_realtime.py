"""Gift lists on the realtime layer: topics, who may follow them, and what each
recipient sees (PROTOCOL.md section 6), through the real ASGI application."""

import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client as HttpClient
from rest_framework.authtoken.models import Token

from config.asgi import application
from giftlists import services
from giftlists.models import Gift
from giftlists.realtime import GiftListPolicy
from realtime import REFUSED
from realtime.models import Event
from realtime.policies.authorize import authorize
from realtime.protocol.events import validation_errors
from realtime.testing import SocketClient, empty_channel_layer

from .helpers import join

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def fresh_channel_layer():
    """Each test starts with an empty channel layer and leaves nothing behind."""
    async with empty_channel_layer():
        yield


class QuietClient(SocketClient):
    """A socket that follows topics without being shown present, and passes
    over the presence state a gift list sends after ``subscribed``: these
    tests are about events (presence has tests of its own)."""

    async def subscribe(self, *topics: str, **extra: Any) -> dict[str, Any]:
        return await super().subscribe(*topics, presence=False, **extra)

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        while (message := await super().receive(timeout))["type"] == "presence_state":
            pass
        return message


@pytest.fixture
async def sockets():
    """``await sockets(user)``: a welcomed socket signed in as the user."""
    opened: list[SocketClient] = []

    async def open_as(user) -> SocketClient:
        token = await sync_to_async(
            lambda: Token.objects.get_or_create(user=user)[0].key
        )()
        client = await QuietClient.connect(application, f"/ws/?token={token}")
        assert client.connected
        client.welcome = await client.expect("welcome")
        opened.append(client)
        return client

    yield open_as
    for client in opened:
        await client.close()


def run(function, *args, **kwargs):
    return sync_to_async(function)(*args, **kwargs)


async def test_members_follow_lists_and_families_outsiders_are_forbidden(
    sockets, alice, bob, carol, dave, family, gift_list, other_list
):
    member = await sockets(bob)
    reply = await member.subscribe(
        f"gift-list:{gift_list.pk}", f"family:{family.pk}", f"user:{bob.pk}"
    )
    assert len(reply["topics"]) == 3

    await member.send(
        {
            "type": "subscribe",
            "topics": [
                f"gift-list:{other_list.pk}",
                f"user:{alice.pk}",
                "gift-list:99999",
            ],
        }
    )
    messages = await member.receive_until("subscribed")
    assert sorted(
        m["topic"] for m in messages if m.get("code") == "forbidden"
    ) == sorted([f"gift-list:{other_list.pk}", f"user:{alice.pk}", "gift-list:99999"])

    outsider = await sockets(dave)
    reply = await outsider.subscribe(f"gift-list:{gift_list.pk}", f"family:{family.pk}")
    assert reply["topics"] == []

    staff = await sockets(carol)  # staff, not a member
    reply = await staff.subscribe(f"gift-list:{gift_list.pk}", f"user:{alice.pk}")
    assert len(reply["topics"]) == 2


async def test_owner_never_learns_of_claims_while_members_do(
    sockets, alice, bob, erin, gift_list, wanted_gift
):
    owner = await sockets(alice)
    member = await sockets(bob)
    topic = f"gift-list:{gift_list.pk}"
    owner_at = (await owner.subscribe(topic))["seqs"][topic]
    member_at = (await member.subscribe(topic))["seqs"][topic]

    await run(services.claim_gift, erin, wanted_gift)
    claimed = await member.receive()
    assert claimed["event"] == "STATUS_CHANGED"
    assert claimed["data"]["payload"]["status"] == "claimed"
    assert claimed["data"]["payload"]["claimed_by"] == erin.pk

    gift = await run(Gift.objects.get, pk=wanted_gift.pk)
    await run(services.update_gift, alice, gift, notes="Blue, please")
    for_member = await member.receive()
    # The owner's first event is this edit: had the claim, published before it,
    # been sent to the owner, it would have come first.
    for_owner = await owner.receive()
    assert for_member["event"] == for_owner["event"] == "UPDATED"
    # The claim took a seq of the members' view only: the owner sees no gap.
    assert (for_owner["seq"], for_member["seq"]) == (owner_at + 1, member_at + 2)
    assert for_member["data"]["payload"]["status"] == "claimed"
    assert for_owner["data"]["payload"]["notes"] == "Blue, please"
    assert for_owner["data"]["payload"]["status"] == "wanted"
    assert for_owner["data"]["payload"]["claimed_by"] is None
    assert for_owner["data"]["payload"]["claimed_by_username"] is None


async def test_owner_resume_is_redacted_the_same_way(
    sockets, alice, bob, gift_list, wanted_gift
):
    topic = f"gift-list:{gift_list.pk}"
    start = (await (await sockets(alice)).subscribe(topic))["seqs"][topic]
    await run(services.purchase_gift, bob, wanted_gift)
    gift = await run(Gift.objects.get, pk=wanted_gift.pk)
    await run(services.update_gift, alice, gift, title="Red kite")

    owner = await sockets(alice)
    reply = await owner.subscribe(topic, since={topic: start})
    assert reply["recovered"] is True
    assert reply["seqs"] == {topic: start + 1}  # the purchase took no owner's seq
    replayed = await owner.receive()
    assert replayed["event"] == "UPDATED"  # the STATUS_CHANGED was withheld
    assert replayed["data"]["payload"]["status"] == "wanted"
    assert replayed["data"]["payload"]["title"] == "Red kite"
    # Nothing else was replayed: the next event is a change made after resuming.
    await run(services.update_gift_list, alice, gift_list, title="Alice's party")
    following = await owner.receive()
    assert following["data"]["entity_type"] == "gift-list"
    assert following["data"]["payload"]["title"] == "Alice's party"


async def test_event_payload_is_what_the_rest_api_shows_that_user(
    sockets, api, bob, gift_list, claimed_gift
):
    member = await sockets(bob)
    await member.subscribe(f"gift-list:{gift_list.pk}")
    gift = await run(services.create_gift, bob, gift_list, "Yo-yo", notes="any colour")
    event = await member.receive()
    rest = await run(lambda: api(bob).get(f"/api/gifts/{gift.pk}/").json())
    assert event["event"] == "ADDED"
    assert event["data"]["payload"] == rest
    assert event["data"]["entity_type"] == "gift"
    assert event["data"]["tenant_id"] == str(gift_list.family_id)


async def test_lists_and_memberships_reach_the_family_and_user_topics(
    sockets, alice, bob, dave, family
):
    family_socket = await sockets(bob)
    await family_socket.subscribe(f"family:{family.pk}")
    newcomer = await sockets(dave)
    await newcomer.subscribe(f"user:{dave.pk}")

    gift_list = await run(services.create_gift_list, bob, family, "Bob's wedding")
    added = await family_socket.receive()
    assert (added["event"], added["data"]["entity_type"]) == ("ADDED", "gift-list")
    assert added["data"]["payload"]["id"] == gift_list.pk

    await run(join, dave, family, alice)
    joined = await family_socket.receive()
    assert (joined["event"], joined["data"]["entity_type"]) == ("ADDED", "membership")
    note = await newcomer.receive()
    assert note["topic"] == f"user:{dave.pk}"
    assert note["data"]["payload"]["family"] == family.pk


async def test_accepting_an_invitation_tells_the_family_and_the_newcomer(
    sockets, api, alice, bob, dave, family
):
    family_socket = await sockets(bob)
    await family_socket.subscribe(f"family:{family.pk}")
    newcomer = await sockets(dave)
    await newcomer.subscribe(f"user:{dave.pk}")
    created = await run(
        lambda: api(alice).post(f"/api/families/{family.pk}/invitations/").json()
    )

    response = await run(
        lambda: api(dave).post(f"/api/invitations/{created['token']}/accept/")
    )

    assert response.status_code == 201
    # Inviting published nothing: the first event is dave joining.
    joined = await family_socket.receive()
    assert joined["topic"] == f"family:{family.pk}"
    assert (joined["event"], joined["data"]["entity_type"]) == ("ADDED", "membership")
    assert joined["data"]["payload"] == response.json()
    assert joined["data"]["user_id"] == str(dave.pk)
    assert validation_errors(joined) == [], joined
    note = await newcomer.receive()
    assert (note["topic"], note["event"]) == (f"user:{dave.pk}", "ADDED")
    assert note["data"]["payload"]["family"] == family.pk
    # dave now follows the family he joined.
    reply = await newcomer.subscribe(f"family:{family.pk}")
    assert reply["topics"] == [f"family:{family.pk}"]


async def test_member_who_leaves_stops_receiving_the_family_topics(
    sockets, alice, bob, dave, family, gift_list, other_family
):
    leaver = await sockets(bob)
    await leaver.subscribe(
        f"gift-list:{gift_list.pk}", f"family:{family.pk}", f"user:{bob.pk}"
    )
    await run(services.remove_member, bob, family, bob)
    revoked = set()
    while len(revoked) < 2:
        message = await leaver.receive()
        if message["type"] == "error":
            assert message["code"] == "forbidden"
            revoked.add(message["topic"])
    assert revoked == {f"gift-list:{gift_list.pk}", f"family:{family.pk}"}
    await run(services.create_gift, alice, gift_list, "Secret surprise")
    # Bob joining Dave's family sends bob a note on his own topic after the
    # gift: had the gift been sent to bob, it would have come before the note.
    await run(join, bob, other_family, dave)
    before_the_note = []
    while True:
        message = await leaver.receive()
        if (message.get("topic"), message.get("event")) == (f"user:{bob.pk}", "ADDED"):
            break
        before_the_note.append(message)
    # Only news of bob's own leaving may come first.
    assert [m for m in before_the_note if m.get("topic") != f"user:{bob.pk}"] == []


async def test_every_domain_event_kind_matches_the_schema(
    sockets, alice, bob, gift_list, wanted_gift
):
    member = await sockets(bob)
    await member.subscribe(f"gift-list:{gift_list.pk}")
    await run(services.claim_gift, bob, wanted_gift)
    gift = await run(Gift.objects.get, pk=wanted_gift.pk)
    await run(services.update_gift, alice, gift, title="Bigger kite")
    await run(services.delete_gift, alice, gift)
    await run(services.update_gift_list, alice, gift_list, title="Alice turns 30")
    events = [await member.receive() for _ in range(4)]
    assert [e["event"] for e in events] == [
        "STATUS_CHANGED",
        "UPDATED",
        "DELETED",
        "UPDATED",
    ]
    assert events[2]["data"]["payload"] == {"id": wanted_gift.pk}
    for event in events:
        assert validation_errors(event) == [], event


def test_gift_moved_to_another_list_leaves_one_topic_and_joins_the_other(
    wanted_gift, gift_list, family, alice
):
    second = services.create_gift_list(alice, family, "Alice's wedding")
    gift = Gift.objects.get(pk=wanted_gift.pk)
    gift.list = second
    gift.save()
    latest = {
        topic: Event.objects.filter(topic=topic).latest("seq")
        for topic in (f"gift-list:{gift_list.pk}", f"gift-list:{second.pk}")
    }
    assert latest[f"gift-list:{gift_list.pk}"].event == "DELETED"
    assert latest[f"gift-list:{second.pk}"].event == "ADDED"
    assert latest[f"gift-list:{second.pk}"].entity_id == str(gift.pk)


def test_request_trace_id_and_user_are_on_the_events(api, bob, gift_list):
    client = api(bob)
    response = client.post(
        "/api/gifts/",
        {"list": gift_list.pk, "title": "Traced"},
        format="json",
        HTTP_X_REQUEST_ID="req-12345678",
    )
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-12345678"
    event = Event.objects.get(
        entity_type="gift", entity_id=str(response.json()["id"]), view="member"
    )
    assert (event.trace_id, event.user_id) == ("req-12345678", str(bob.pk))

    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = client.post(
        "/api/gifts/",
        {"list": gift_list.pk, "title": "Traced twice"},
        format="json",
        HTTP_TRACEPARENT=f"00-{trace}-00f067aa0ba902b7-01",
    )
    assert (
        Event.objects.get(
            entity_type="gift", entity_id=str(response.json()["id"]), view="member"
        ).trace_id
        == trace
    )

    response = client.post(
        "/api/gifts/", {"list": gift_list.pk, "title": "x"}, format="json"
    )
    generated = Event.objects.get(
        entity_type="gift", entity_id=str(response.json()["id"]), view="member"
    ).trace_id
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert response["X-Request-ID"] == generated


def test_admin_edit_carries_the_admin_user(carol, wanted_gift):
    browser = HttpClient()
    browser.force_login(carol)
    gift = Gift.objects.get(pk=wanted_gift.pk)
    response = browser.post(
        f"/admin/giftlists/gift/{gift.pk}/change/",
        {
            "list": gift.list_id,
            "title": "Edited by staff",
            "url": "",
            "price": "12.50",
            "notes": "",
            "status": "wanted",
            "claimed_by": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    event = Event.objects.filter(entity_id=str(gift.pk)).latest("id")
    assert (event.event, event.user_id) == ("UPDATED", str(carol.pk))
    assert event.payload["title"] == "Edited by staff"


async def test_a_rest_write_naming_its_connection_is_marked_echo_there_only(
    sockets, api, bob, gift_list
):
    topic = f"gift-list:{gift_list.pk}"
    author, other_tab = await sockets(bob), await sockets(bob)
    await author.subscribe(topic)
    await other_tab.subscribe(topic)
    response = await run(
        lambda: api(bob).post(
            "/api/gifts/",
            {"list": gift_list.pk, "title": "Echoed"},
            format="json",
            HTTP_X_REALTIME_CONNECTION=author.welcome["connection_id"],
        )
    )
    assert response.status_code == 201
    mine, theirs = await author.expect("event"), await other_tab.expect("event")
    assert (mine["echo"], mine["seq"]) == (True, theirs["seq"])
    assert "echo" not in theirs


async def test_members_typing_reaches_members_and_never_the_lists_owner(
    sockets, alice, bob, erin, gift_list
):
    topic = f"gift-list:{gift_list.pk}"
    owner, typist, other = await sockets(alice), await sockets(bob), await sockets(erin)
    for client in (owner, typist, other):
        await client.subscribe(topic)
    await typist.send({"type": "publish", "topic": topic, "event": "typing"})
    await typist.expect("published")
    assert (await other.expect("client_event"))["user_id"] == str(bob.pk)
    # A change published after it reaches the owner first: no client event
    # (which might hint at a surprise) came before it.
    gift = await run(services.create_gift, alice, gift_list, "Kite")
    first = await owner.receive()
    assert (first["type"], first["data"]["entity_id"]) == ("event", str(gift.pk))
    # And the owner may not send what members say among themselves to anyone
    # but them: the owner's own typing reaches members.
    await owner.send({"type": "publish", "topic": topic, "event": "typing"})
    await owner.expect("published")
    assert (await other.expect("event"))["data"]["entity_id"] == str(gift.pk)
    assert (await other.expect("client_event"))["user_id"] == str(alice.pk)


def test_a_gift_list_subscribe_is_authorized_with_one_query(
    alice, bob, dave, gift_list, django_assert_num_queries
):
    """Every subscribe asks who may follow and with which view: the list's
    owner gets the owner's view, a member the members', anyone else nothing,
    each answered by one query."""
    topic = f"gift-list:{gift_list.pk}"
    answers = {}
    for user in (alice, bob, dave):
        with django_assert_num_queries(1):
            answers[user.username] = authorize(user, topic)
    assert answers["alice"].view == "owner"
    assert answers["bob"].view == "member"
    assert answers["dave"] is None
    with django_assert_num_queries(0):  # not a list id: refused unasked
        assert authorize(bob, "gift-list:abc") is None


def test_a_crowd_subscribing_to_gift_lists_is_authorized_with_one_query(
    alice, bob, dave, gift_list, other_list, django_assert_num_queries
):
    """Subscribes arriving together: the owner's view, a member's, and a
    refusal for a stranger or an unusable id, all from one query."""
    pairs = [
        (alice, str(gift_list.pk)),
        (bob, str(gift_list.pk)),
        (dave, str(gift_list.pk)),
        (bob, "abc"),
        (dave, str(other_list.pk)),
    ]
    with django_assert_num_queries(1):
        views = GiftListPolicy().views_if_permitted(pairs)
    assert views == ["owner", "member", REFUSED, REFUSED, "owner"]
