"""Where an idle subscribed connection's memory goes: one server process,
Python's allocations traced, N sockets opened, the difference by source.

    python -m bench.memory_profile [connections] [mode]   # 3000 real

``mode`` is ``real``, ``limit`` or ``naive`` (see ``bench/harness.py``). It
prints the RSS per connection (with tracing's own overhead: about twice the
untraced figure), the traced Python allocations per connection, and the
largest differences by file, by line and by call stack. Uses ``DATABASE_URL``
and ``REDIS_URL`` as ``make bench`` does.
"""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from .harness import (
    PYTHON,
    ROOT,
    BenchSite,
    ServerGroup,
    Subscriber,
    Tally,
    _gather_limited,
    socket_opening,
)

SETTLE_SECONDS = 3


class TracedServer(ServerGroup):
    """One server process serving ``bench.traced_asgi``."""

    def start(self) -> "TracedServer":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, "scripts/serve.py", "--skip-prepare", "--app",
                 "bench.traced_asgi:application"],
                cwd=ROOT, env=self.env, stdout=log, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        return self._wait_until_serving()

    def snapshot(self, folder: Path) -> tracemalloc.Snapshot:
        """Have the worker write a snapshot; load it."""
        before = set(folder.glob("*.done"))
        os.kill(self.worker_pids()[0], signal.SIGUSR1)
        while not (done := set(folder.glob("*.done")) - before):
            time.sleep(0.2)
        return tracemalloc.Snapshot.load(str(done.pop().with_suffix(".snap")))


def report(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int) -> None:
    total = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    print(f"traced Python allocations: {total / 1024 / n:.1f} KiB per connection")
    for key, count in (("filename", 20), ("lineno", 20), ("traceback", 8)):
        print(f"\n== by {key}")
        for stat in after.compare_to(before, key)[:count]:
            where = stat.traceback[-1] if key != "traceback" else ""
            size, blocks = stat.size_diff / n, stat.count_diff / n
            print(f"{size:7.0f} B {blocks:6.2f} blocks  {where}")
            if key == "traceback":
                for line in stat.traceback.format()[-12:]:
                    print("        " + line)


async def main(connections: int, mode: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    site = BenchSite.create(workdir)
    try:
        seeded = site.prepare(200, 100)
        env = {"BENCH_SNAPSHOT_DIR": str(workdir), "PYTHONPATH": str(ROOT)}
        server = TracedServer(site, workdir / "server.log", workers=1, extra_env=env)
        server.start()
        try:
            topics = [f"gift-list:{list_id}" for list_id in seeded["lists"]]
            tokens = seeded["tokens"]

            def opened(n: int) -> tuple[Subscriber, object]:
                subscriber = Subscriber(topics[n % len(topics)], Tally())
                token = tokens[n % len(tokens)]
                url, first = socket_opening(server, mode, subscriber.topic, token)
                return subscriber, subscriber.open(url, first)

            warm = [opened(n) for n in range(20)]  # the first ones build caches
            await _gather_limited([opening for _, opening in warm], 20)
            await asyncio.sleep(SETTLE_SECONDS)
            rss, before = server.rss(), server.snapshot(workdir)
            crowd = [opened(n) for n in range(connections)]
            outcomes = await _gather_limited([o for _, o in crowd], 100)
            failed = sum(1 for outcome in outcomes if outcome is not None)
            await asyncio.sleep(SETTLE_SECONDS)
            rss_after, after = server.rss(), server.snapshot(workdir)
            per_connection = (rss_after - rss) / 1024 / connections
            print(
                f"{connections} {mode} connections, {failed} failed; RSS "
                f"{per_connection:.1f} KiB per connection (tracing included)"
            )
            report(before, after, connections)
            await _gather_limited([s.close() for s, _ in warm + crowd], 500)
        finally:
            server.stop()
    finally:
        site.destroy()


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 3000,
            sys.argv[2] if len(sys.argv) > 2 else "real",
        )
    )
