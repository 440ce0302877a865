"""Pruning the log in bounded batches: exactly the expired events go, whatever
the batch size, and resume still tells a recoverable cursor from a lost one."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from realtime.log.prune import prune_expired
from realtime.log.store import current_seqs, resume_position
from realtime.models import Event

from .conftest import publish_now_sync

pytestmark = pytest.mark.django_db


def age(topic: str, upto_seq: int, days: float = 2) -> None:
    """Make a topic's events up to ``upto_seq`` look ``days`` old, a second
    apart in seq order (the views of one event share their time)."""
    oldest = timezone.now() - timedelta(days=days)
    for seq in range(1, upto_seq + 1):
        Event.objects.filter(topic=topic, seq=seq).update(
            created_at=oldest + timedelta(seconds=seq - upto_seq)
        )


def rows() -> set[tuple[str, str, int]]:
    return set(Event.objects.values_list("topic", "view", "seq"))


@pytest.mark.parametrize("batch_size", [1, 3, 40, 1000])
def test_batches_remove_exactly_the_expired_events(batch_size):
    for n in range(1, 24):
        publish_now_sync("room:a", entity_id=n)  # two views: vip and plain
    for n in range(1, 4):
        publish_now_sync("room:b", entity_id=n)
    age("room:a", 20)
    kept = {row for row in rows() if not (row[0] == "room:a" and row[2] <= 20)}

    with override_settings(REALTIME={"PRUNE_BATCH_SIZE": batch_size}):
        assert prune_expired() == 40  # 20 events as each of two views logged them

    assert rows() == kept
    assert prune_expired() == 0  # nothing left to prune


def test_resume_after_a_batched_prune_recovers_only_within_the_window():
    for n in range(1, 11):
        publish_now_sync("room:a", entity_id=n)
    age("room:a", 6)
    assert prune_expired(batch_size=4) == 12
    current = current_seqs({"room:a": "plain"})["room:a"]
    assert current == 10  # the counter is never pruned

    lost = resume_position("room:a", "plain", current, since=3)
    assert (lost.recovered, lost.replay) == (False, [])
    kept = resume_position("room:a", "plain", current, since=6)
    assert kept.recovered is True
    assert [event["seq"] for event in kept.replay] == [7, 8, 9, 10]

    # Numbering goes on after the pruned events: no seq is given out twice.
    assert publish_now_sync("room:a", entity_id=11)["seq"] == 11


def test_events_newer_than_the_retention_stay():
    publish_now_sync("room:a", entity_id=1)
    publish_now_sync("room:a", entity_id=2)
    with override_settings(REALTIME={"EVENT_RETENTION": 3600}):
        age("room:a", 1, days=0.5 / 24)  # half an hour old: kept
        assert prune_expired(batch_size=1) == 0
        age("room:a", 1, days=2 / 24)  # two hours old: gone
        assert prune_expired(batch_size=1) == 2
    assert {seq for _, _, seq in rows()} == {2}


@pytest.mark.parametrize("batch_size", [0, -5, "100"])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused(batch_size):
    publish_now_sync("room:a", entity_id=1)
    age("room:a", 1)
    with override_settings(REALTIME={"PRUNE_BATCH_SIZE": batch_size}):
        with pytest.raises(ValueError, match="PRUNE_BATCH_SIZE"):
            prune_expired()
    assert len(rows()) == 2  # nothing deleted


def test_the_prune_command_reports_what_it_deleted(capsys):
    for n in range(1, 4):
        publish_now_sync("room:a", entity_id=n)
    age("room:a", 2)
    with override_settings(REALTIME={"PRUNE_BATCH_SIZE": 1}):
        call_command("prune_events")
    assert "Pruned 4 event(s)." in capsys.readouterr().out
