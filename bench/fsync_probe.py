"""How long a one-row commit takes on this machine's PostgreSQL, with and
without waiting for the disk: ``python -m bench.fsync_probe``.

The benchmark's database commits without waiting (``synchronous_commit=off``,
bench/harness.py) because of what this prints: on a disk whose flushes stall,
every REST write's tail measures the disk, for the floor and the real path alike.
"""

import os
import sys
import time
import uuid

import psycopg

COMMITS = 600
# A write every 20 ms, about the rate of scenario S1.
PAUSE = 0.02


def probe(url: str, synchronous_commit: str) -> dict[str, float]:
    """p50, p99 and max milliseconds of COMMITS single-row autocommit inserts."""
    table = f"fsync_probe_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (n integer)")
        try:
            conn.execute(f"SET synchronous_commit = {synchronous_commit}")
            times = []
            for n in range(COMMITS):
                started = time.perf_counter()
                conn.execute(f"INSERT INTO {table} VALUES (%s)", [n])  # noqa: S608
                times.append((time.perf_counter() - started) * 1000)
                time.sleep(PAUSE)
        finally:
            conn.execute(f"DROP TABLE {table}")
    times.sort()
    return {
        "p50": round(times[len(times) // 2], 2),
        "p99": round(times[int(len(times) * 0.99)], 2),
        "max": round(times[-1], 2),
    }


def main() -> int:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    for mode in ("on", "off"):
        print(f"synchronous_commit={mode}: {probe(url, mode)} ms per commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
