"""What a project gets from the documented lines alone: ``realtime.register``
without a serializer, a ``@realtime.policy`` function with ``depends_on``,
found in the app's ``realtime.py`` (``realtime/tests/project/notes``).

Each test states in its name what a client of such a project observes.
"""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from rest_framework.test import APIClient

import realtime
from realtime.models import Event
from realtime.policies.authorize import authorize, authorize_pairs
from realtime.policies.registry import policy_for
from realtime.publishing.registry import default_entity_type
from realtime.tests.project.notes.models import Board, Note

from .conftest import event_of

pytestmark = pytest.mark.django_db(transaction=True)


def board_with(*members):
    board = Board.objects.create(name="plans")
    board.members.add(*members)
    return board


def test_the_apps_realtime_module_is_found_without_being_imported():
    assert policy_for("board") is not None


def test_a_model_registered_without_serializer_publishes_its_fields_as_json(
    django_user_model,
):
    board = board_with()
    note = Note.objects.create(board=board, text="hi", price=Decimal("12.50"))
    logged = Event.objects.get(topic=f"board:{board.pk}")
    assert logged.entity_type == "note"
    assert logged.payload == {
        "id": note.pk,
        "board": board.pk,
        "text": "hi",
        "price": "12.50",
        "created_at": logged.payload["created_at"],
    }
    # ISO 8601, as Django's JSON encoder writes datetimes.
    assert logged.payload["created_at"].startswith(note.created_at.date().isoformat())
    assert "T" in logged.payload["created_at"]


def test_the_default_entity_type_is_the_model_name_in_kebab_case():
    class GiftList:
        pass

    assert default_entity_type(GiftList) == "gift-list"
    assert default_entity_type(Note) == "note"


def test_register_refuses_an_entity_type_clients_could_not_match():
    with pytest.raises(ValueError, match="entity_type"):
        realtime.register(Note, topics=lambda note: [], entity_type="Not Valid")


async def test_members_follow_the_board_and_others_are_forbidden(make_user, connect):
    ann, bob = await make_user("ann"), await make_user("bob")
    board = await sync_to_async(board_with)(ann)
    topic = f"board:{board.pk}"
    member = await connect(ann)
    assert (await member.subscribe(topic))["topics"] == [topic]
    outsider = await connect(bob)
    await outsider.send({"type": "subscribe", "topics": [topic], "id": 1})
    error = await outsider.expect("error")
    assert (error["code"], error["topic"]) == ("forbidden", topic)
    assert (await outsider.expect("subscribed"))["topics"] == []


async def test_an_identifier_the_policy_cannot_use_is_forbidden_not_an_error(
    make_user, connect
):
    client = await connect(await make_user("ann"))
    for topic in ("board:abc", "board:99999999999999999999999"):
        await client.send({"type": "subscribe", "topics": [topic], "id": 1})
        error = await client.expect("error")
        assert (error["code"], error["topic"]) == ("forbidden", topic)
        await client.expect("subscribed")
    await client.send({"type": "ping", "id": 2})
    assert (await client.expect("pong"))["id"] == 2


async def test_staff_follow_only_what_the_policy_allows_unless_the_setting_says(
    make_user, connect
):
    staff = await make_user("sam", is_staff=True)
    board = await sync_to_async(board_with)()
    topic = f"board:{board.pk}"
    client = await connect(staff)
    await client.send({"type": "subscribe", "topics": [topic]})
    assert (await client.expect("error"))["code"] == "forbidden"
    await client.expect("subscribed")
    with override_settings(REALTIME={"STAFF_BYPASS_POLICIES": True}):
        assert (await client.subscribe(topic))["topics"] == [topic]


async def test_a_member_removed_from_the_board_loses_the_topic_on_open_sockets(
    make_user, connect, publish_now
):
    ann, bob = await make_user("ann"), await make_user("bob")
    board = await sync_to_async(board_with)(ann, bob)
    topic = f"board:{board.pk}"
    leaving, staying = await connect(ann), await connect(bob)
    await leaving.subscribe(topic, "room:barrier")
    await staying.subscribe(topic)
    # No handler of the project's own: the policy's depends_on does it.
    await sync_to_async(board.members.remove)(ann)
    error = await leaving.expect("error")
    assert (error["code"], error["topic"]) == ("forbidden", topic)
    await sync_to_async(Note.objects.create)(board=board, text="after")
    assert (await staying.expect("event"))["data"]["payload"]["text"] == "after"
    # The removed member's socket is still open, and the first it hears is an
    # event sent after the note: the note never reached it. (A ping's pong would
    # not show that: the note comes through the layer, not through this socket.)
    await publish_now("room:barrier")
    await leaving.nothing_before(event_of("room:barrier", 1))


async def test_clearing_the_members_re_checks_every_one_of_them(make_user, connect):
    ann = await make_user("ann")
    board = await sync_to_async(board_with)(ann)
    client = await connect(ann)
    await client.subscribe(f"board:{board.pk}")
    await sync_to_async(board.members.clear)()
    assert (await client.expect("error"))["code"] == "forbidden"


@override_settings(
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.BasicAuthentication"
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    }
)
def test_polling_takes_a_token_and_refuses_anonymous_whatever_rest_framework_says(
    django_user_model,
):
    from realtime.tests.conftest import make_user_sync

    ann = make_user_sync("ann")
    board = board_with(ann)
    Note.objects.create(board=board, text="hi")
    topic = f"board:{board.pk}"
    client = APIClient()
    query = {"topics": topic, "cursor": f"{topic}@0"}
    assert client.get("/api/realtime/events/", query).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {ann.token}")
    response = client.get("/api/realtime/events/", query)
    assert response.status_code == 200
    assert [e["data"]["payload"]["text"] for e in response.json()["events"]] == ["hi"]


class OneQueryPolicy(realtime.TopicPolicy):
    """Answers permission and view together, as a policy with one query can."""

    views = ("editor", "reader")
    allow_staff = True

    def view_if_permitted(self, user, identifier):
        if identifier == "closed":
            return realtime.REFUSED
        return "editor" if identifier == user.get_username() else "reader"

    def view(self, user, identifier):
        return "reader"


def test_a_policy_answering_permission_and_view_at_once_decides_both(
    django_user_model,
):
    ann = django_user_model.objects.create_user("ann")
    sam = django_user_model.objects.create_user("sam", is_staff=True)
    realtime.register_policy("shelf", OneQueryPolicy())
    try:
        assert authorize(ann, "shelf:ann").view == "editor"
        assert authorize(ann, "shelf:open").view == "reader"
        assert authorize(ann, "shelf:closed") is None
        # Staff let in by allow_staff are not asked for permission: view() alone.
        assert authorize(sam, "shelf:closed").view == "reader"
    finally:
        realtime.unregister_policy("shelf")


class CrowdPolicy(realtime.TopicPolicy):
    """Answers a crowd's subscribes in one call, and fails a call that holds
    an identifier it cannot use, as a query would."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def views_if_permitted(self, pairs):
        self.batches.append(len(pairs))
        if any(identifier == "bad" for _, identifier in pairs):
            raise ValueError("not a shelf")
        return [
            realtime.REFUSED if identifier == "closed" else None
            for _, identifier in pairs
        ]

    def view_if_permitted(self, user, identifier):
        if identifier == "bad":
            raise ValueError("not a shelf")
        return realtime.REFUSED if identifier == "closed" else None


def test_a_crowds_subscribes_are_answered_together_and_a_bad_one_alone(
    django_user_model,
):
    ann = django_user_model.objects.create_user("ann")
    bea = django_user_model.objects.create_user("bea")
    policy = CrowdPolicy()
    realtime.register_policy("shelf", policy)
    try:
        pairs = [(ann, "shelf:a"), (bea, "shelf:b"), (bea, "shelf:closed")]
        grants = authorize_pairs(pairs)
        assert policy.batches == [3]  # one call for the three
        assert [grant and grant.topic for grant in grants] == [
            "shelf:a",
            "shelf:b",
            None,
        ]
        # An identifier the policy cannot use spoils the call: each pair is
        # asked alone, and only that one is refused.
        grants = authorize_pairs([(ann, "shelf:a"), (ann, "shelf:bad")])
        assert [grant and grant.topic for grant in grants] == ["shelf:a", None]
    finally:
        realtime.unregister_policy("shelf")
