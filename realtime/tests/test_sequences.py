"""Seqs under concurrent writers: every view of a topic numbers its events
1, 2, 3... with no gap and no repeat, and its log rows' ids follow their seqs
(polling pages read in id order), however the writers' commits interleave (on SQLite they take turns)."""

import threading
import time
from collections import defaultdict

import pytest
from django.db import connection, transaction
from django.utils import timezone

from realtime.log.store import append_all
from realtime.models import Event
from realtime.publishing.publisher import publish

WRITERS = 6
CHANGES_EACH = 12


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_gapless_seqs_whose_ids_follow_them():
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for n in range(CHANGES_EACH):
                # Half the changes are on two topics, one of them shared by all.
                topics = ["room:hot"] + ([f"room:w{index}"] if n % 2 else [])
                with transaction.atomic():
                    publish(
                        topics,
                        "ADDED",
                        entity_type="message",
                        entity_id=index * 100 + n,
                        payload={"id": index * 100 + n},
                    )
                    time.sleep(0.001 * (n % 3))  # commits land in varied orders
        except BaseException as error:  # reported by the test's own thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    streams: dict[tuple[str, str], list[int]] = defaultdict(list)
    for topic, view, seq in Event.objects.order_by("id").values_list(
        "topic", "view", "seq"
    ):
        streams[(topic, view)].append(seq)
    for view in ("vip", "plain"):
        assert streams[("room:hot", view)] == list(range(1, WRITERS * CHANGES_EACH + 1))
        for index in range(WRITERS):
            assert streams[(f"room:w{index}", view)] == list(
                range(1, CHANGES_EACH // 2 + 1)
            )


@pytest.mark.django_db
def test_one_change_logs_at_most_one_row_per_stream():
    def row(view: str) -> Event:
        return Event(
            topic="room:a",
            view=view,
            event="ADDED",
            entity_type="message",
            entity_id="1",
            payload={"id": 1},
            created_at=timezone.now(),
        )

    with pytest.raises(ValueError, match="one row per stream"):
        append_all([row("vip"), row("vip")])
    assert not Event.objects.exists()
    logged = append_all([row("vip"), row("plain")])
    assert [(e.view, e.seq) for e in logged] == [("vip", 1), ("plain", 1)]
