"""S6 at the database alone: how many transactions one topic's sequence rows let
through, without the HTTP servers (whose CPU runs out first on this machine).

Each thread commits transactions back to back on a connection of its own; each
transaction logs one change in two views of a topic (``append`` twice, as a
gift's change on a gift list), on ONE topic or spread over 16. A transaction
may also do ``WORK_MS`` of other work (a sleep: another query, a slow
validation), ``before`` it publishes or ``after``: the sequence rows stay
locked from the append to the commit, so work after the publish holds every
other writer of the topic. The site's writes publish last (the ``post_save``
of the last save in their transaction), as ``none`` and ``before`` do.

PostgreSQL only. ``python -m bench.seq_lock SECONDS ROUNDS`` runs it in the
site's environment and prints JSON; ``make bench`` runs it through
``measure_seq_lock``.
"""

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from .harness import PYTHON, ROOT, summary_ms

LOCK_THREADS = (1, 4, 16)
LOCK_TOPIC_COUNTS = (1, 16)
LOCK_WORK = ("none", "before", "after")
WORK_MS = 2.0
LOCK_SECONDS = 3.0
LOCK_ROUNDS = 2
RUN_TIMEOUT = 900


def lock_case(work: str, topics: int, threads: int) -> str:
    """The name of one measurement: ``"after: 1 topic x 16 threads"``."""
    return f"{work}: {topics} topic{'s' if topics != 1 else ''} x {threads} threads"


def best_rounds(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    """Per case, the round with the most transactions per second (a noisy
    neighbour only makes a round worse)."""
    best: dict[str, dict] = {}
    for results in rounds:
        for case, result in results.items():
            if case not in best or result["per_second"] > best[case]["per_second"]:
                best[case] = result
    return best


def shares(best: dict[str, dict]) -> dict[str, float | None]:
    """One topic's transactions/s over 16 topics', per work placement and threads."""
    found: dict[str, float | None] = {}
    for work in LOCK_WORK:
        for threads in LOCK_THREADS:
            one = best.get(lock_case(work, min(LOCK_TOPIC_COUNTS), threads))
            many = best.get(lock_case(work, max(LOCK_TOPIC_COUNTS), threads))
            if one and many and many["per_second"]:
                ratio = round(one["per_second"] / many["per_second"], 3)
                found[f"{work}: {threads} threads"] = ratio
    return found


# -- in the site's process ----------------------------------------------------


def _transactions(topics: int, index: int, work: str, until: float) -> list[int]:
    from django.db import connection, transaction
    from django.utils import timezone

    from realtime.log.store import append
    from realtime.models import Event

    durations = []
    topic = f"gift-list:{index % topics + 1}"
    try:
        while time.monotonic() < until:
            began = time.monotonic_ns()
            with transaction.atomic():
                if work == "before":
                    time.sleep(WORK_MS / 1000)
                for view in ("owner", "member"):
                    append(
                        Event(
                            topic=topic,
                            view=view,
                            event="ADDED",
                            entity_type="gift",
                            entity_id=str(index),
                            payload={"id": index, "title": "a gift"},
                            created_at=timezone.now(),
                        )
                    )
                if work == "after":
                    time.sleep(WORK_MS / 1000)
            durations.append(time.monotonic_ns() - began)
    finally:
        connection.close()
    return durations


def run_case(topics: int, threads: int, work: str, seconds: float) -> dict[str, Any]:
    """``threads`` writers on ``topics`` topics for ``seconds``."""
    results: list[list[int]] = [[] for _ in range(threads)]
    until = time.monotonic() + seconds

    def one(index: int) -> None:
        results[index] = _transactions(topics, index, work, until)

    workers = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    durations = [value for result in results for value in result]
    return {
        "transactions": len(durations),
        "per_second": round(len(durations) / elapsed, 1),
        "ms": summary_ms(durations),
    }


def run_in_site(seconds: float, rounds: int) -> dict[str, Any]:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError("the sequence-lock measurement needs PostgreSQL")
    measured = []
    for _ in range(rounds):
        results = {}
        for work in LOCK_WORK:
            for threads in LOCK_THREADS:
                for topics in LOCK_TOPIC_COUNTS:
                    key = lock_case(work, topics, threads)
                    results[key] = run_case(topics, threads, work, seconds)
        measured.append(results)
    best = best_rounds(measured)
    return {"rounds": measured, "best": best, "one_topic_share": shares(best)}


# -- from make bench ----------------------------------------------------------


def measure_seq_lock(
    site: Any, seconds: float = LOCK_SECONDS, rounds: int = LOCK_ROUNDS
) -> dict[str, Any]:
    """The measurement on the bench site's (migrated) database."""
    if not site.database_url.startswith(("postgres://", "postgresql://")):
        return {"skipped": "needs PostgreSQL: set DATABASE_URL"}
    done = subprocess.run(
        [PYTHON, "-m", "bench.seq_lock", str(seconds), str(rounds)],
        cwd=ROOT,
        env=site.env(),
        stdout=subprocess.PIPE,
        text=True,
        timeout=RUN_TIMEOUT,
        check=True,
    )
    return json.loads(done.stdout)


def seq_lock_markdown(result: dict[str, Any]) -> list[str]:
    """The table: transactions/s and p99 per case, and one topic's share."""
    if "skipped" in result:
        return [f"S6 database alone skipped: {result['skipped']}"]
    best = result["best"]
    lines = [
        f"| S6 database alone, work {WORK_MS:g} ms | threads "
        "| 1 topic tx/s | 1 topic p99 ms | 16 topics tx/s | 16 topics p99 ms "
        "| 1 topic / 16 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for work in LOCK_WORK:
        for threads in LOCK_THREADS:
            one = best.get(lock_case(work, min(LOCK_TOPIC_COUNTS), threads), {})
            many = best.get(lock_case(work, max(LOCK_TOPIC_COUNTS), threads), {})
            share = result["one_topic_share"].get(f"{work}: {threads} threads")
            lines.append(
                f"| {work} | {threads} | {one.get('per_second')} "
                f"| {one.get('ms', {}).get('p99')} | {many.get('per_second')} "
                f"| {many.get('ms', {}).get('p99')} | {share} |"
            )
    return lines


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(json.dumps(run_in_site(float(argv[0]), int(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
