"""S7, the log: how large millions of events are, and what pruning them costs.

Fills the bench database's event log with ``events`` rows in a few
``INSERT ... SELECT generate_series`` statements (10,000 topics, gapless seqs,
timestamps spread so that ``expired_share`` of them are older than the
retention), reads the table's and indexes' sizes, then prunes the expired part
the way ``prune_expired`` does (``delete_batch`` until none are left) while two
threads run without pause on connections of their own:

- a **replay**: what a resuming client's subscribe costs the database (a
  topic's current seq, then its events after a ``since`` 1 to 50 behind);
- a **writer**: one event appended in a transaction of its own (the log's share
  of every write).

Their latency is reported for a quiet baseline before the prune and during it.
With ``single_delete`` the expired part goes in one ``DELETE`` instead, as
before pruning was batched, for comparison.

PostgreSQL only. ``python -m bench.log_prune EVENTS EXPIRED_SHARE BATCH
[--single-delete]`` runs one measurement in the site's environment and prints
it as JSON; ``make bench`` runs it through ``measure_log``.
"""

import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

from .harness import PYTHON, ROOT, summary_ms

LOG_EVENTS = 5_000_000
LOG_EXPIRED_SHARE = 0.8
LOG_TOPICS = 10_000
LOG_BATCH_SIZE = 1000
# Seconds of replays and writes measured before the prune, for comparison.
BASELINE_SECONDS = 10.0
# Rows per fill statement: big enough to be fast, small enough to show progress.
FILL_CHUNK = 500_000
RUN_TIMEOUT = 1800

_FILL_SQL = """
INSERT INTO realtime_event (topic, view, seq, event, entity_type, entity_id,
    payload, user_id, tenant_id, trace_id, created_at)
SELECT 'family:' || (i %% %(topics)s), '', i / %(topics)s + 1, 'ADDED', 'gift',
    i::text,
    jsonb_build_object('id', i, 'list', i %% %(topics)s,
        'title', 'Gift idea number ' || i, 'url', 'https://shop.example/item/' || i,
        'price', '19.99', 'notes', '', 'status', 'wanted'),
    '7', (i %% %(topics)s)::text, md5(i::text),
    %(now)s - (1 - i::float8 / %(events)s) * %(span)s * interval '1 second'
FROM generate_series(%(start)s, %(stop)s) AS i
"""

_SEQUENCES_SQL = """
INSERT INTO realtime_sequence (topic, view, last_seq)
SELECT topic, view, max(seq) FROM realtime_event GROUP BY topic, view
ON CONFLICT (topic, view) DO UPDATE SET last_seq = excluded.last_seq
"""

_SIZES_SQL = """
SELECT pg_total_relation_size('realtime_event'), pg_relation_size('realtime_event'),
    pg_indexes_size('realtime_event'), (SELECT count(*) FROM realtime_event)
"""

_INDEX_SIZES_SQL = """
SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes
WHERE relname = 'realtime_event' ORDER BY indexrelname
"""


def log_span_seconds(retention: float, expired_share: float) -> float:
    """How far back the filled log reaches so that ``expired_share`` of its
    evenly spread events are older than ``retention``."""
    if not 0 <= expired_share < 1:
        raise ValueError(f"expired_share must be in [0, 1), not {expired_share}")
    return retention / (1 - expired_share)


def fill_chunks(events: int, chunk: int = FILL_CHUNK) -> list[tuple[int, int]]:
    """The inclusive ``(start, stop)`` ranges of 0..events-1 filled per statement."""
    return [
        (start, min(start + chunk, events) - 1) for start in range(0, events, chunk)
    ]


def split_by_time(
    samples: list[tuple[int, int]], start_ns: int, end_ns: int
) -> dict[str, list[int]]:
    """Durations of ``(began_ns, duration_ns)`` samples: those that began before
    ``start_ns`` (baseline) and those that began between it and ``end_ns``."""
    split: dict[str, list[int]] = {"baseline": [], "during": []}
    for began, duration in samples:
        if began < start_ns:
            split["baseline"].append(duration)
        elif began < end_ns:
            split["during"].append(duration)
    return split


def mib(size: int) -> float:
    return round(size / 2**20, 1)


# -- in the site's process ----------------------------------------------------


class Probe(threading.Thread):
    """Runs ``work`` back to back on a connection of its own until stopped,
    keeping when each call began and how long it took."""

    def __init__(self, work: Any, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.work, self.stop = work, stop
        self.samples: list[tuple[int, int]] = []
        self.anomalies = 0
        self.error: str | None = None

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stop.is_set():
                began = time.monotonic_ns()
                self.anomalies += not self.work()
                self.samples.append((began, time.monotonic_ns() - began))
        except Exception as error:  # reported, not raised: the prune goes on
            self.error = repr(error)
        finally:
            connection.close()


def _sizes() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_SIZES_SQL)
        total, table, indexes, rows = cursor.fetchone()
        cursor.execute(_INDEX_SIZES_SQL)
        per_index = {name: mib(size) for name, size in cursor.fetchall()}
    return {
        "rows": rows,
        "total_mib": mib(total),
        "table_mib": mib(table),
        "indexes_mib": mib(indexes),
        "index_mib": per_index,
        "bytes_per_row": round(total / rows) if rows else None,
    }


def _timed(sql: str, params: Any = None) -> float:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return round(time.monotonic() - started, 1)


def fill(events: int, topics: int, span: float, now: Any) -> dict[str, Any]:
    """Empty the log, fill it, set the counters, and vacuum it as a log that
    had been written over days would be."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE realtime_event, realtime_sequence")
    started = time.monotonic()
    for start, stop in fill_chunks(events):
        params = {"topics": topics, "events": events, "span": span, "now": now}
        _timed(_FILL_SQL, {**params, "start": start, "stop": stop})
        print(f"S7 filled {stop + 1:,} events", file=sys.stderr, flush=True)
    _timed(_SEQUENCES_SQL)
    fill_seconds = round(time.monotonic() - started, 1)
    return {
        "fill_seconds": fill_seconds,
        "vacuum_seconds": _timed("VACUUM ANALYZE realtime_event"),
    }


def replay_once(topics: int, behind: int) -> bool:
    """One resuming subscribe's reads, 1 to ``behind`` events back; False when
    it could not be recovered (which the retained window should never cause)."""
    from realtime.log.store import current_seqs, resume_position

    topic = f"family:{random.randrange(topics)}"
    current = current_seqs({topic: ""})[topic]
    since = max(current - random.randint(1, behind), 0)
    return resume_position(topic, "", current, since).recovered


def write_once(topics: int) -> bool:
    """One event appended and committed, as ``publish()`` does it."""
    from django.db import transaction
    from django.utils import timezone

    from realtime.log.store import append
    from realtime.models import Event

    topic = f"family:{random.randrange(topics)}"
    row = Event(
        topic=topic,
        view="",
        event="UPDATED",
        entity_type="gift",
        entity_id="1",
        payload={"id": 1, "title": "written during the prune"},
        user_id="7",
        created_at=timezone.now(),
    )
    with transaction.atomic():
        append(row)
    return True


def prune(cutoff: Any, batch_size: int, single_delete: bool) -> dict[str, Any]:
    """Delete the events before ``cutoff`` as ``prune_expired`` does (or in one
    statement); how long it took and how long each batch held its transaction."""
    from realtime.log.prune import delete_batch
    from realtime.models import Event

    batches: list[int] = []
    deleted = 0
    started = time.monotonic_ns()
    if single_delete:
        deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
        batches.append(time.monotonic_ns() - started)
    else:
        after = None
        while True:
            began = time.monotonic_ns()
            count, after = delete_batch(cutoff, batch_size, after)
            batches.append(time.monotonic_ns() - began)
            deleted += count
            if after is None:
                break
    seconds = (time.monotonic_ns() - started) / 1e9
    return {
        "deleted": deleted,
        "seconds": round(seconds, 1),
        "rows_per_second": round(deleted / seconds) if seconds else None,
        "batches": len(batches),
        "batch_ms": summary_ms(batches),
    }


def run_in_site(
    events: int, expired_share: float, batch_size: int, single_delete: bool
) -> dict[str, Any]:
    """The whole measurement, in a process set up with the site's settings."""
    from django.db import connection
    from django.utils import timezone

    from realtime.conf import realtime_settings

    if connection.vendor != "postgresql":
        raise RuntimeError("S7 needs PostgreSQL (DATABASE_URL)")
    topics = min(LOG_TOPICS, max(events // 100, 1))
    retention = realtime_settings.EVENT_RETENTION
    now = timezone.now()
    result: dict[str, Any] = {
        "events": events,
        "topics": topics,
        "expired_share": expired_share,
        "batch_size": None if single_delete else batch_size,
        "retention_hours": round(retention / 3600, 1),
    }
    result.update(fill(events, topics, log_span_seconds(retention, expired_share), now))
    result["filled"] = _sizes()
    stop = threading.Event()
    # At most 50 back, and within what stays: half of each topic's retained events.
    behind = max(min(50, int(events * (1 - expired_share) / topics) // 2), 1)
    replays = Probe(lambda: replay_once(topics, behind), stop)
    writes = Probe(lambda: write_once(topics), stop)
    replays.start()
    writes.start()
    time.sleep(BASELINE_SECONDS)
    prune_start = time.monotonic_ns()
    result["prune"] = prune(
        now - timedelta(seconds=retention), batch_size, single_delete
    )
    prune_end = time.monotonic_ns()
    stop.set()
    replays.join()
    writes.join()
    for name, probe in (("replay", replays), ("write", writes)):
        split = split_by_time(probe.samples, prune_start, prune_end)
        result[name] = {
            phase: {"count": len(values), "ms": summary_ms(values)}
            for phase, values in split.items()
        }
        result[name]["anomalies"] = probe.anomalies
        result[name]["error"] = probe.error
    result["pruned"] = _sizes()
    result["vacuum_after_prune_seconds"] = _timed("VACUUM ANALYZE realtime_event")
    result["vacuumed"] = _sizes()
    return result


# -- from make bench ----------------------------------------------------------


def measure_log(
    site: Any,
    *,
    events: int = LOG_EVENTS,
    expired_share: float = LOG_EXPIRED_SHARE,
    batch_size: int = LOG_BATCH_SIZE,
    modes: tuple[str, ...] = ("batched",),
) -> dict[str, Any]:
    """S7 on the bench site's (migrated) database, once per prune mode:
    ``batched`` (as the site prunes) and/or ``single`` (one DELETE)."""
    if not site.database_url.startswith(("postgres://", "postgresql://")):
        return {"skipped": "S7 needs PostgreSQL: set DATABASE_URL"}
    results = {}
    for mode in modes:
        args = [str(events), str(expired_share), str(batch_size)]
        if mode == "single":
            args.append("--single-delete")
        done = subprocess.run(
            [PYTHON, "-m", "bench.log_prune", *args],
            cwd=ROOT,
            env=site.env(),
            stdout=subprocess.PIPE,
            text=True,
            timeout=RUN_TIMEOUT,
            check=True,
        )
        results[mode] = json.loads(done.stdout)
        print(log_line(mode, results[mode]), flush=True)
    return results


def log_line(mode: str, run: dict[str, Any]) -> str:
    prune, filled = run["prune"], run["filled"]
    during = run["replay"]["during"]["ms"]
    return (
        f"S7 {mode}: {filled['rows']:,} events, {filled['total_mib']} MiB "
        f"({filled['indexes_mib']} MiB indexes); pruned {prune['deleted']:,} in "
        f"{prune['seconds']} s; replay p99 during {during['p99']} ms, write p99 "
        f"during {run['write']['during']['ms']['p99']} ms"
    )


def log_markdown(result: dict[str, Any]) -> list[str]:
    """S7's tables: sizes, the prune, and latency before and during it."""
    if "skipped" in result:
        return [f"S7 skipped: {result['skipped']}"]
    lines = [
        "| S7 log | events | table MiB | indexes MiB | total MiB | bytes/event "
        "| fill s | pruned | prune s | rows/s | batches | batch p99 / max ms "
        "| after prune + VACUUM MiB | VACUUM s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- | --- |",
    ]
    for mode, run in result.items():
        filled, prune = run["filled"], run["prune"]
        lines.append(
            f"| {mode} | {filled['rows']:,} | {filled['table_mib']} "
            f"| {filled['indexes_mib']} | {filled['total_mib']} "
            f"| {filled['bytes_per_row']} | {run['fill_seconds']} "
            f"| {prune['deleted']:,} | {prune['seconds']} | {prune['rows_per_second']} "
            f"| {prune['batches']} | {prune['batch_ms']['p99']} / "
            f"{prune['batch_ms']['max']} | {run['vacuumed']['total_mib']} "
            f"| {run['vacuum_after_prune_seconds']} |"
        )
    lines += [
        "",
        "| S7 latency ms | replays before | replay p50 / p99 / max before "
        "| replays during | replay p50 / p99 / max during | writes before "
        "| write p50 / p99 / max before | writes during "
        "| write p50 / p99 / max during |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode, run in result.items():
        cells = []
        for name in ("replay", "write"):
            for phase in ("baseline", "during"):
                part = run[name][phase]
                ms = part["ms"]
                cells += [
                    str(part["count"]),
                    f"{ms['p50']} / {ms['p99']} / {ms['max']}",
                ]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    events, share, batch = int(argv[0]), float(argv[1]), int(argv[2])
    result = run_in_site(events, share, batch, single_delete="--single-delete" in argv)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
