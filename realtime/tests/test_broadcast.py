"""``publish()``: logged in the transaction, sent only after commit."""

import logging

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.models import Event, Sequence
from realtime.ops.context import trace
from realtime.publishing.publisher import publish

from .conftest import event_of

pytestmark = pytest.mark.django_db(transaction=True)


def publish_in_rolled_back_transaction() -> None:
    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            publish(
                ["room:a"],
                "ADDED",
                entity_type="message",
                entity_id=1,
                payload={"id": 1},
            )
            raise Rollback
    except Rollback:
        pass


async def test_rolled_back_change_publishes_nothing(make_user, connect, publish_now):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    await sync_to_async(publish_in_rolled_back_transaction)()  # of entity 1
    assert await sync_to_async(Event.objects.count)() == 0
    # A change committed after it: had the rolled-back one been sent, it would
    # have come first (with seq 1 too, so the entity tells them apart).
    await publish_now("room:a", "ADDED", 2)
    event = await client.nothing_before(event_of("room:a", 2))
    assert event["seq"] == 1  # the rolled-back seq was never taken


async def test_event_is_sent_only_after_commit(make_user, connect, monkeypatch):
    """The layer is asked to send the event only once its transaction committed.

    Each send records whether the commit had happened. Before committing, the
    transaction waits for a coroutine queued on the test's event loop after
    publish(): it runs after whatever publish() handed that loop, so a send made
    before the commit has been recorded by then.
    """
    from asgiref.sync import async_to_sync

    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    layer = get_channel_layer()
    real_group_send = layer.group_send
    committed: list[bool] = []  # [True] once the transaction has committed
    sends: list[bool] = []  # one per send of the event: committed by then?

    async def group_send(group, message):
        if message.get("type") == "realtime.event" and message["topic"] == "room:a":
            sends.append(bool(committed))
        await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)

    async def sends_so_far() -> list[bool]:
        return list(sends)

    def publish_and_look_before_commit() -> tuple[int, list[bool]]:
        with transaction.atomic():
            # Registered before publish() registers its send, so it runs first.
            transaction.on_commit(lambda: committed.append(True))
            publish(
                ["room:a"],
                "ADDED",
                entity_type="message",
                entity_id=1,
                payload={"id": 1},
            )
            logged = Event.objects.filter(topic="room:a", view="plain").count()
            return logged, async_to_sync(sends_so_far)()

    logged, sent_before_commit = await sync_to_async(publish_and_look_before_commit)()
    assert logged == 1
    assert sent_before_commit == [], "sent while the transaction was open"
    assert (await client.receive())["seq"] == 1
    assert sends == [True]


def test_seqs_count_up_per_topic_and_one_change_may_have_many_topics():
    for _ in range(3):
        publish(
            ["room:a"], "ADDED", entity_type="message", entity_id=1, payload={"id": 1}
        )
    envelopes = publish(
        ["room:b", "room:a"],
        "UPDATED",
        entity_type="message",
        entity_id=1,
        payload={"id": 1},
    )
    assert {(e["topic"], e["seq"]) for e in envelopes} == {("room:a", 4), ("room:b", 1)}
    # Each view of a room (vip, plain) that shows the change counts it.
    counters = Sequence.objects.values_list("topic", "view", "last_seq")
    assert sorted(counters) == [
        ("room:a", "plain", 4),
        ("room:a", "vip", 4),
        ("room:b", "plain", 1),
        ("room:b", "vip", 1),
    ]
    logged = Event.objects.filter(topic="room:a", view="plain")
    assert list(logged.values_list("seq", flat=True)) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("topics", "event", "entity_type", "payload"),
    [
        (["no colon"], "ADDED", "message", {"id": 1}),
        (["room:a"], "added", "message", {"id": 1}),
        (["room:a"], "ADDED", "Message", {"id": 1}),
        (["room:a"], "ADDED", "message", {"text": "no id"}),
    ],
)
def test_publish_refuses_malformed_events_and_logs_nothing(
    topics, event, entity_type, payload
):
    with pytest.raises(ValueError):
        publish(topics, event, entity_type=entity_type, entity_id=1, payload=payload)
    assert Event.objects.count() == 0


def test_channel_layer_failure_keeps_the_change_and_logs_once(caplog, monkeypatch):
    layer = get_channel_layer()

    async def redis_is_down(group, message):
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(layer, "group_send", redis_is_down)
    caplog.set_level(logging.ERROR, logger="realtime.publishing.publisher")
    with trace("4bf92f3577b34da6a3ce929d0e0e4736"), transaction.atomic():
        publish(
            ["room:a"], "ADDED", entity_type="message", entity_id=1, payload={"id": 1}
        )
    assert Event.objects.filter(topic="room:a", seq=1).exists()
    failures = [r for r in caplog.records if "Could not send" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_payload_is_stored_as_plain_json():
    from decimal import Decimal

    envelope = publish(
        ["room:a"],
        "ADDED",
        entity_type="message",
        entity_id=7,
        payload={"id": 7, "price": Decimal("12.50")},
    )[0]
    assert envelope["data"]["payload"] == {"id": 7, "price": "12.50"}
    assert Event.objects.get(view="plain").payload == {"id": 7, "price": "12.50"}
