"""The polling endpoint through DRF's test client: what a polling client reads."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from realtime.log.prune import prune_expired
from realtime.models import Event

from .conftest import make_user_sync, publish_now_sync

pytestmark = pytest.mark.django_db

URL = "/api/realtime/events/"


@pytest.fixture
def ann():
    return make_user_sync("ann")


@pytest.fixture
def api(ann) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ann.token}")
    return client


def poll(client: APIClient, topics: str, cursor: str | None = None, status=200):
    params = {"topics": topics}
    if cursor is not None:
        params["cursor"] = cursor
    response = client.get(URL, params)
    assert response.status_code == status, response.content
    return response.json()


def seqs(body) -> list[tuple[str, int]]:
    return [(event["topic"], event["seq"]) for event in body["events"]]


def test_without_cursor_no_events_and_the_current_cursor(api):
    publish_now_sync("room:a")
    publish_now_sync("room:a")
    body = poll(api, "room:a,room:b")
    assert body == {
        "events": [],
        "cursor": "room:a@2,room:b@0",
        "recovered": True,
        "more": False,
    }


def test_events_after_the_cursor_in_order_then_the_next_cursor(api):
    publish_now_sync("room:a", entity_id=1)
    start = poll(api, "room:a,room:b")["cursor"]
    publish_now_sync("room:b", entity_id=2)
    publish_now_sync("room:a", entity_id=3)
    publish_now_sync("room:b", entity_id=4)
    body = poll(api, "room:a,room:b", start)
    assert seqs(body) == [("room:b", 1), ("room:a", 2), ("room:b", 2)]
    assert [e["data"]["entity_id"] for e in body["events"]] == ["2", "3", "4"]
    assert body["events"][0]["type"] == "event"
    assert body["cursor"] == "room:a@2,room:b@2"
    assert poll(api, "room:a,room:b", body["cursor"])["events"] == []


def test_topic_missing_from_the_cursor_starts_at_its_current_seq(api):
    publish_now_sync("room:a")
    publish_now_sync("room:b")
    body = poll(api, "room:a,room:b", "room:a@0")
    assert seqs(body) == [("room:a", 1)]
    assert body["cursor"] == "room:a@1,room:b@1"


def test_withheld_events_leave_no_trace_in_seqs_or_cursors(api):
    vip = APIClient()
    vip.credentials(HTTP_AUTHORIZATION=f"Token {make_user_sync('vip-vera').token}")
    publish_now_sync("room:a", "SECRET", 1)
    assert poll(api, "room:a")["cursor"] == "room:a@0"  # the plain view saw nothing
    publish_now_sync("room:a", "ADDED", 2)
    plain = poll(api, "room:a", "room:a@0")
    assert [(e["seq"], e["event"]) for e in plain["events"]] == [(1, "ADDED")]
    assert plain["cursor"] == "room:a@1"
    shown = poll(vip, "room:a", "room:a@0")
    assert [(e["seq"], e["event"]) for e in shown["events"]] == [
        (1, "SECRET"),
        (2, "ADDED"),
    ]


@override_settings(REALTIME={"POLL_PAGE_SIZE": 2})
def test_a_long_backlog_comes_in_pages_flagged_more_without_loss(api):
    for entity_id in range(1, 6):
        publish_now_sync("room:a" if entity_id % 2 else "room:b", entity_id=entity_id)
    cursor, seen, pages = "room:a@0,room:b@0", [], []
    while True:
        body = poll(api, "room:a,room:b", cursor)
        seen += [e["data"]["entity_id"] for e in body["events"]]
        pages.append(body["more"])
        cursor = body["cursor"]
        if not body["more"]:
            break
    assert seen == ["1", "2", "3", "4", "5"]
    assert pages == [True, True, False]
    assert cursor == "room:a@3,room:b@2"


def test_resume_past_pruned_events_is_not_recovered_and_jumps_to_now(api):
    for entity_id in (1, 2, 3):
        publish_now_sync("room:a", entity_id=entity_id)
    publish_now_sync("room:b", entity_id=9)
    Event.objects.filter(topic="room:a", seq=2).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert prune_expired() == 2  # the event as each view of the room logged it
    body = poll(api, "room:a,room:b", "room:a@1,room:b@0")
    assert body["recovered"] is False
    assert body["unrecovered"] == ["room:a"]
    assert seqs(body) == [("room:b", 1)]  # the other topic still resumes
    assert body["cursor"] == "room:a@3,room:b@1"


def test_cursor_ahead_of_the_server_is_not_recovered(api):
    publish_now_sync("room:a")
    body = poll(api, "room:a", "room:a@40")
    assert (body["recovered"], body["unrecovered"]) == (False, ["room:a"])
    assert body["cursor"] == "room:a@1"


@override_settings(REALTIME={"REPLAY_LIMIT": 2})
def test_backlog_beyond_the_replay_limit_is_not_recovered(api):
    for entity_id in (1, 2, 3):
        publish_now_sync("room:a", entity_id=entity_id)
    body = poll(api, "room:a", "room:a@0")
    assert (body["recovered"], body["events"]) == (False, [])


def test_reading_takes_three_queries_however_many_topics_and_events(
    ann, django_assert_max_num_queries
):
    topics = [f"room:t{n}" for n in range(5)]
    for n in range(40):
        publish_now_sync(topics[n % 5], entity_id=n)
    client = APIClient()
    client.force_authenticate(ann)
    cursor = ",".join(f"{topic}@0" for topic in topics)
    with django_assert_max_num_queries(3):
        body = poll(client, ",".join(topics), cursor)
    assert len(body["events"]) == 40


def test_session_login_is_accepted(ann):
    client = APIClient()
    client.force_login(ann)
    assert poll(client, "room:a")["cursor"] == "room:a@0"


def test_no_credentials_get_401(db):
    body = poll(APIClient(), "room:a", status=401)
    assert body["code"] == "unauthenticated"
    assert "credentials" in body["detail"]


def test_bad_token_gets_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert poll(client, "room:a", status=401)["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("topics", "cursor", "status", "code", "topic"),
    [
        ("", None, 400, "missing_topics", None),
        ("room:a,not a topic", None, 400, "invalid_topic", "not a topic"),
        ("room:a,room:closed-1", None, 403, "forbidden", "room:closed-1"),
        ("nosuchtype:1", None, 403, "forbidden", "nosuchtype:1"),
        ("room:a", "room:a@x", 400, "invalid_cursor", None),
        ("room:a", "room:a", 400, "invalid_cursor", None),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    api, topics, cursor, status, code, topic
):
    body = poll(api, topics, cursor, status=status)
    assert body["code"] == code
    assert body.get("topic") == topic
    assert body["detail"]


@override_settings(REALTIME={"MAX_TOPICS_PER_CONNECTION": 2})
def test_too_many_topics_are_refused(api):
    body = poll(api, "room:a,room:b,room:c", status=400)
    assert body["code"] == "too_many_topics"


def test_another_method_gets_405_with_a_code(api):
    response = api.post(URL, {"topics": "room:a"}, format="json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("accept", "format_"),
    [
        ("text/html", None),  # a browser: DRF's HTML page, without a code
        ("text/event-stream", None),  # a 406
        (None, "xml"),  # a 404
        (None, "api"),
    ],
)
def test_every_answer_is_json_whatever_is_asked_for(api, accept, format_):
    """Clients read the refusal's code whatever Accept or ?format= they sent."""
    query = {"topics": "room:a"} | ({"format": format_} if format_ else {})
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    anonymous = APIClient().get(URL, query, **headers)
    assert anonymous["Content-Type"] == "application/json"
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")
    signed_in = api.get(URL, query, **headers)
    assert signed_in["Content-Type"] == "application/json"
    assert signed_in.json()["cursor"] == "room:a@0"
