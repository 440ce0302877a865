"""The benchmark harness: a fresh site, real server processes, real sockets.

A :class:`BenchSite` owns a fresh database (PostgreSQL when ``DATABASE_URL``
names one, else a SQLite file) and a fresh Redis prefix, seeded through the ORM.
:class:`ServerGroup` starts ``scripts/serve.py`` on it (the launch ``make serve``
uses) with the floor app of ``bench/floor_asgi.py``, and reads its processes'
CPU time and memory from ``/proc``. :func:`run_fanout` holds C WebSockets over T
topics, drives changes at a fixed rate, and measures every delivery; every
change carries its send time in its text, so the receiver computes latency.
:func:`run_presence` opens C connections on one topic at once and closes most
of them again, and checks that every connection's view of presence agrees.
"""

import asyncio
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Seconds for server processes to import, connect and answer.
START_TIMEOUT = 60
# Handshakes in flight at once while connecting: a browser crowd arrives over
# seconds, not in one instant, and the listen backlog stays far from full.
CONNECT_CONCURRENCY = 100
# Seconds to wait for the next delivery after the last change was made.
DRAIN_TIMEOUT = 20
# Changes in flight at once; the publisher is open-loop below this.
MAX_IN_FLIGHT_WRITES = 64
TITLE = re.compile(r"bench (\d+) (\d+)")
TIMESTAMP = re.compile(r'"timestamp":"([^"]+)"')
# Counters of /metrics each run reports: how often the seq check had to act.
REPORTED_COUNTERS = {
    "realtime_gaps_repaired_total",
    "realtime_events_dropped_total",
    "realtime_events_delivered_total",
}
METRIC_LINE = re.compile(r"^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$")


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit; children inherit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(round(fraction * len(ordered) + 0.5) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def summary_ms(values_ns: list[int]) -> dict[str, float | None]:
    """p50, p95, p99 and max of nanosecond durations, in milliseconds."""
    values = [value / 1e6 for value in values_ns]
    return {
        "p50": _round(percentile(values, 0.50)),
        "p95": _round(percentile(values, 0.95)),
        "p99": _round(percentile(values, 0.99)),
        "max": _round(max(values) if values else None),
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# -- the site ---------------------------------------------------------------


def synchronous_commit() -> bool:
    """Whether the benchmark's commits wait for the disk (``BENCH_SYNCHRONOUS_COMMIT``,
    off by default); both the real path and the floor run with the same."""
    return os.environ.get("BENCH_SYNCHRONOUS_COMMIT", "off").strip().lower() in {
        "1",
        "on",
        "true",
    }


@dataclass
class BenchSite:
    """A fresh database and Redis prefix, migrated and seeded for the load."""

    database_url: str
    redis_url: str | None
    prefix: str
    drop_database: Any = None
    seeded: dict = field(default_factory=dict)

    @classmethod
    def create(cls, workdir: Path) -> "BenchSite":
        prefix = f"bench{uuid.uuid4().hex[:10]}"
        base = os.environ.get("DATABASE_URL", "").strip()
        redis_url = os.environ.get("REDIS_URL", "").strip() or None
        if not base.startswith(("postgres://", "postgresql://")):
            return cls(f"sqlite:///{workdir / 'bench.sqlite3'}", redis_url, prefix)
        import psycopg

        parsed = urlparse(base)
        admin_url = urlunparse(parsed._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{prefix}"')
            if not synchronous_commit():
                # This machine's fsync has a p99 of tens of ms and stalls of
                # seconds (docs/performance.md): with commits waiting for it,
                # every percentile would measure the disk, not the site.
                conn.execute(f'ALTER DATABASE "{prefix}" SET synchronous_commit = off')

        def drop() -> None:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{prefix}" WITH (FORCE)')

        url = urlunparse(parsed._replace(path=f"/{prefix}"))
        return cls(url, redis_url, prefix, drop)

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY="bench-secret-" + self.prefix,
            DATABASE_URL=self.database_url,
            REDIS_PREFIX=self.prefix,
            DJANGO_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        # Empty, not absent: serve.py would default to the local Redis.
        env["REDIS_URL"] = self.redis_url or ""
        env.update(extra)
        return env

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def prepare(self, users: int, lists: int) -> dict:
        """Migrate and seed ``users`` subscribers and ``lists`` gift lists."""
        self.manage("manage.py", "migrate", "--no-input", "-v0")
        self.seeded = json.loads(
            self.manage("-m", "bench.seed", str(users), str(lists))
        )
        return self.seeded

    def destroy(self) -> None:
        if self.drop_database:
            self.drop_database()


# -- the servers ------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    with suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue.extend(_children(current))
    return tree


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except OSError:
        return 0


class ServerGroup:
    """``scripts/serve.py`` serving the floor app: N processes on one port."""

    def __init__(
        self,
        site: BenchSite,
        log_path: Path,
        server: str = "uvicorn",
        workers: int = 2,
        layer: str = "pubsub",
        extra_env: dict | None = None,
    ) -> None:
        self.site = site
        self.port = free_port()
        self.log_path = log_path
        self.env = site.env(
            ASGI_SERVER=server,
            WEB_CONCURRENCY=str(workers),
            REALTIME_CHANNEL_LAYER=layer,
            HOST="127.0.0.1",
            PORT=str(self.port),
            **(extra_env or {}),
        )
        # Every worker writes its metrics here and /metrics sums them, so a run
        # can report what the realtime layer did (gap repairs, duplicates).
        self.metrics_dir = tempfile.mkdtemp(prefix="bench-metrics-")
        self.env["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir
        self.workers = workers
        self.process: subprocess.Popen | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> "ServerGroup":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    PYTHON,
                    "scripts/serve.py",
                    "--skip-prepare",
                    "--app",
                    "bench.floor_asgi:application",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        try:
            return self._wait_until_serving()
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise

    def _wait_until_serving(self) -> "ServerGroup":
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            with suppress(httpx.HTTPError):
                # Any answer below 500 will do (a GET here is 405); pages need
                # collected static files, which the benchmark does not build.
                response = httpx.get(f"{self.http_url}/api/auth/token/", timeout=2)
                if response.status_code < 500 and self._all_workers_up():
                    return self
            time.sleep(0.3)
        raise RuntimeError(f"server did not answer in time:\n{self.log()}")

    def _all_workers_up(self) -> bool:
        # Each worker process imports the site; wait until every one is serving
        # so that memory and CPU are read from warm processes.
        return len(self.worker_pids()) >= self.workers

    def pids(self) -> list[int]:
        return process_tree(self.process.pid) if self.process else []

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (not the supervisor, not helpers)."""
        workers = []
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    cmdline = handle.read()
            except OSError:
                continue
            if pid == self.process.pid and self.workers > 1:
                continue  # the supervisor
            if b"resource_tracker" in cmdline:
                continue
            workers.append(pid)
        return workers

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids())

    def realtime_counters(self) -> dict[str, float]:
        """The realtime layer's counters, summed over every worker (empty when
        /metrics does not answer)."""
        try:
            text = httpx.get(f"{self.http_url}/metrics", timeout=10).text
        except httpx.HTTPError:
            return {}
        counters: dict[str, float] = {}
        for line in text.splitlines():
            match = METRIC_LINE.match(line)
            if match and match.group(1) in REPORTED_COUNTERS:
                name = match.group(1) + (match.group(2) or "")
                counters[name] = counters.get(name, 0) + float(match.group(3))
        return counters

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


# -- the load ---------------------------------------------------------------


@dataclass
class Scenario:
    """C connections over T topics; E changes per topic at R changes a second."""

    name: str
    connections: int
    topics: int
    events_per_topic: int
    rate: float
    description: str = ""


@dataclass
class Tally:
    """What one run's connections received."""

    latencies_ns: list[int] = field(default_factory=list)
    # From the event's own timestamp (taken by the server as it publishes) to
    # its arrival: the delivery path alone, without the write before it.
    server_latencies_ns: list[int] = field(default_factory=list)
    stamps_ns: dict[int, int] = field(default_factory=dict)
    received: int = 0
    duplicated: int = 0
    unexpected: int = 0
    first_sent_ns: int | None = None
    last_received_ns: int = 0


class Subscriber:
    """One WebSocket that follows one topic and records what arrives."""

    def __init__(self, topic: str, tally: Tally) -> None:
        self.topic = topic
        self.tally = tally
        self.seen: set[int] = set()
        self.connection: Any = None
        self.reader: asyncio.Task | None = None
        self.handshake_ns = 0
        self.closed_early = False
        self.user_id: str | None = None  # from welcome (the real endpoint)
        self.subscribe_sent_ns = 0
        self.subscribed_ns = 0

    async def open(self, url: str, first: dict | None) -> None:
        started = time.monotonic_ns()
        self.connection = await connect(
            url,
            open_timeout=60,
            ping_interval=None,  # like a browser: no protocol-level pings
            max_queue=None,
            close_timeout=5,
        )
        if first is not None:  # real and limit: welcome, then subscribe
            welcome = await self._expect("welcome")
            self.user_id = welcome.get("user_id")
            self.subscribe_sent_ns = time.monotonic_ns()
            await self.connection.send(json.dumps(first))
        await self._expect("subscribed")
        self.subscribed_ns = time.monotonic_ns()
        self.handshake_ns = self.subscribed_ns - started
        self.reader = asyncio.create_task(self.read())

    async def _expect(self, kind: str) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.connection.recv(), 60))
            if message.get("type") == kind:
                return message
            if message.get("type") == "error":
                raise RuntimeError(f"{self.topic}: {message}")
            self.passed_over(message)

    def passed_over(self, message: dict[str, Any]) -> None:
        """A message that came before the awaited reply: of no use here (a
        presence diff can come before ``subscribed``)."""

    async def read(self) -> None:
        tally = self.tally
        try:
            async for text in self.connection:
                now = time.monotonic_ns()
                if '"type":"event"' not in text:
                    continue
                match = TITLE.search(text)
                if match is None:
                    tally.unexpected += 1
                    continue
                number = int(match.group(1))
                if number in self.seen:
                    tally.duplicated += 1
                    continue
                self.seen.add(number)
                tally.received += 1
                tally.latencies_ns.append(now - int(match.group(2)))
                stamp = tally.stamps_ns.get(number)
                if stamp is None:
                    stamp = tally.stamps_ns[number] = _wall_ns(text)
                if stamp:
                    tally.server_latencies_ns.append(time.time_ns() - stamp)
                tally.last_received_ns = now
        except Exception:
            self.closed_early = True

    async def close(self) -> None:
        if self.connection is not None:
            with suppress(Exception):
                await self.connection.close()
        if self.reader is not None:
            with suppress(Exception):
                await asyncio.wait_for(self.reader, 10)


def _wall_ns(text: str) -> int:
    match = TIMESTAMP.search(text)
    if match is None:
        return 0
    stamp = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    return int(stamp.timestamp() * 1e6) * 1000


class Publisher:
    """Makes the scenario's changes at a fixed rate, open-loop."""

    def __init__(self, servers: ServerGroup, seeded: dict) -> None:
        self.servers = servers
        self.seeded = seeded
        self.request_ns: list[int] = []
        self.failed = 0
        self.published: dict[str, list[int]] = {}

    async def run(self, topics: list[str], per_topic: int, rate: float) -> None:
        headers = {"Authorization": f"Token {self.seeded['writer_token']}"}
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT_WRITES)
        async with httpx.AsyncClient(
            base_url=self.servers.http_url, headers=headers, limits=limits, timeout=60
        ) as client:
            gate = asyncio.Semaphore(MAX_IN_FLIGHT_WRITES)
            jobs = []
            start = time.monotonic()
            for number in range(len(topics) * per_topic):
                due = start + number / rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await gate.acquire()
                topic = topics[number % len(topics)]
                jobs.append(asyncio.create_task(self.one(client, gate, topic, number)))
            await asyncio.gather(*jobs)

    async def one(
        self, client: httpx.AsyncClient, gate: asyncio.Semaphore, topic: str, n: int
    ) -> None:
        sent = time.monotonic_ns()
        list_id = int(topic.split(":", 1)[1])
        try:
            response = await client.post(
                "/api/gifts/", json={"list": list_id, "title": f"bench {n} {sent}"}
            )
            ok = response.status_code == 201
        except httpx.HTTPError:
            ok = False
        finally:
            gate.release()
        self.request_ns.append(time.monotonic_ns() - sent)
        if ok:
            self.published.setdefault(topic, []).append(n)
        else:
            self.failed += 1


# The paths a benchmark socket takes: the project's consumer and the two floors
# of bench/floor_asgi.py.
MODES = ("limit", "real", "naive")


def socket_opening(
    servers: ServerGroup, mode: str, topic: str, token: str
) -> tuple[str, dict | None]:
    """The URL a ``mode`` socket opens and the first message it sends after
    ``welcome`` (None: the naive floor subscribes by its URL, says no welcome)."""
    subscribe = {"type": "subscribe", "topics": [topic]}
    if mode == "real":
        return f"{servers.ws_base}/ws/?token={token}", subscribe
    if mode == "limit":
        return f"{servers.ws_base}/ws/limit/", subscribe
    if mode == "naive":
        return f"{servers.ws_base}/ws/floor/?topic={topic}", None
    raise ValueError(f"unknown mode {mode!r}")


async def _gather_limited(coroutines: list, limit: int) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(coroutine: Any) -> Any:
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines), return_exceptions=True)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_fanout(
    servers: ServerGroup, seeded: dict, scenario: Scenario, mode: str
) -> dict[str, Any]:
    """Hold the scenario's connections, make its changes, measure every delivery.

    ``mode`` is ``real`` (``/ws/`` with token auth and subscribe), ``limit``
    (the trivial consumer on the same per-process hub) or ``naive`` (a consumer
    that joins the topic's group per socket). Either way the changes are the
    same REST writes, so only the consumer differs.
    """
    topics = [f"gift-list:{list_id}" for list_id in seeded["lists"][: scenario.topics]]
    tokens = seeded["tokens"]
    tally = Tally()
    subscribers = [
        Subscriber(topics[n % len(topics)], tally) for n in range(scenario.connections)
    ]
    rss_before = servers.rss()
    cpu_server_0, cpu_client_0 = servers.cpu(), _self_cpu()
    connect_started = time.monotonic()

    def opening(n: int, subscriber: Subscriber) -> Any:
        url, first = socket_opening(
            servers, mode, subscriber.topic, tokens[n % len(tokens)]
        )
        return subscriber.open(url, first)

    outcomes = await _gather_limited(
        [opening(n, s) for n, s in enumerate(subscribers)], CONNECT_CONCURRENCY
    )
    connect_seconds = time.monotonic() - connect_started
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    held = [s for s, o in zip(subscribers, outcomes, strict=True) if o is None]
    await asyncio.sleep(1)  # let the servers settle before reading memory
    rss_after = servers.rss()
    cpu_server_1, cpu_client_1 = servers.cpu(), _self_cpu()

    counters_before = servers.realtime_counters() if mode == "real" else {}
    publisher = Publisher(servers, seeded)
    events_started = time.monotonic_ns()
    await publisher.run(topics, scenario.events_per_topic, scenario.rate)
    expected = sum(len(publisher.published.get(s.topic, [])) for s in held)
    # Overload slows deliveries down: wait as long as they keep coming, and
    # DRAIN_TIMEOUT after the last one.
    deadline, seen = time.monotonic() + DRAIN_TIMEOUT, tally.received
    while tally.received < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        if tally.received > seen:
            deadline, seen = time.monotonic() + DRAIN_TIMEOUT, tally.received
    cpu_server_2, cpu_client_2 = servers.cpu(), _self_cpu()

    lost = 0
    for subscriber in held:
        wanted = set(publisher.published.get(subscriber.topic, []))
        lost += len(wanted - subscriber.seen)
    await _gather_limited([s.close() for s in subscribers], CONNECT_CONCURRENCY)

    window_s = max((tally.last_received_ns - events_started) / 1e9, 1e-9)
    handshakes = [s.handshake_ns for s in held]
    return {
        "scenario": scenario.name,
        "mode": mode,
        "connections": scenario.connections,
        "topics": len(topics),
        "connections_held": len(held),
        "connect_failures": len(failures),
        "connect_failure_sample": [repr(f)[:200] for f in failures[:3]],
        "connect_seconds": round(connect_seconds, 2),
        "handshake_ms": summary_ms(handshakes),
        "changes_made": sum(len(v) for v in publisher.published.values()),
        "changes_failed": publisher.failed,
        "change_request_ms": summary_ms(publisher.request_ns),
        "deliveries_expected": expected,
        "deliveries_received": tally.received,
        "lost": lost,
        "duplicated": tally.duplicated,
        "unexpected_messages": tally.unexpected,
        "closed_early": sum(s.closed_early for s in held),
        "latency_ms": summary_ms(tally.latencies_ns),
        "publish_to_delivery_ms": summary_ms(tally.server_latencies_ns),
        "deliveries_per_second": round(tally.received / window_s, 1),
        "offered_deliveries_per_second": round(scenario.rate * len(held) / len(topics)),
        "server_cpu_us_per_delivery": round(
            (cpu_server_2 - cpu_server_1) * 1e6 / max(tally.received, 1), 1
        ),
        "server_counters": _counted_since(counters_before, servers, mode),
        "server_rss_before_mib": round(rss_before / 2**20, 1),
        "server_rss_after_mib": round(rss_after / 2**20, 1),
        "server_kib_per_connection": round(
            (rss_after - rss_before) / 1024 / max(len(held), 1), 1
        ),
        "cpu_seconds": {
            "connect": {
                "server": round(cpu_server_1 - cpu_server_0, 2),
                "loadgen": round(cpu_client_1 - cpu_client_0, 2),
            },
            "events": {
                "server": round(cpu_server_2 - cpu_server_1, 2),
                "loadgen": round(cpu_client_2 - cpu_client_1, 2),
            },
        },
    }


def _counted_since(
    before: dict[str, float], servers: ServerGroup, mode: str
) -> dict[str, float]:
    if mode != "real":
        return {}
    after = servers.realtime_counters()
    return {name: value - before.get(name, 0) for name, value in after.items()}


async def warm_up(servers: ServerGroup, seeded: dict) -> None:
    """A few connections and changes on both paths, so first-use costs
    (imports, caches, database connections) are not charged to the scenario."""
    warm = Scenario("warm-up", 2 * servers.workers * 2, 2, 2, 50)
    for mode in MODES:
        await run_fanout(servers, seeded, warm, mode)


async def measure_writes(
    servers: ServerGroup, seeded: dict, writers: int, seconds: float
) -> dict[str, Any]:
    """Closed-loop REST writes (POST /api/gifts/) by ``writers`` concurrent clients."""
    headers = {"Authorization": f"Token {seeded['writer_token']}"}
    lists = seeded["lists"]
    durations: list[int] = []
    failed = 0

    async def writer(index: int, client: httpx.AsyncClient, until: float) -> None:
        nonlocal failed
        n = 0
        while time.monotonic() < until:
            sent = time.monotonic_ns()
            response = await client.post(
                "/api/gifts/",
                json={"list": lists[index % len(lists)], "title": f"write {n} {sent}"},
            )
            durations.append(time.monotonic_ns() - sent)
            failed += response.status_code != 201
            n += 1

    async with httpx.AsyncClient(
        base_url=servers.http_url, headers=headers, timeout=60
    ) as client:
        await writer(0, client, time.monotonic() + 1)  # warm up
        durations.clear()
        cpu_0 = servers.cpu()
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(writer(i, client, until) for i in range(writers)))
        elapsed = time.monotonic() - started
        cpu_1 = servers.cpu()
    writes = len(durations)
    return {
        "writers": writers,
        "writes": writes,
        "failed": failed,
        "writes_per_second": round(writes / elapsed, 1),
        "server_cpu_ms_per_write": round((cpu_1 - cpu_0) * 1000 / max(writes, 1), 2),
        "write_ms": summary_ms(durations),
    }


# -- presence ---------------------------------------------------------------

# Seconds the views of presence have, at most, to agree after the last
# connection opened (or the last leaver closed); given up sooner when no
# presence message at all arrived for DRAIN_TIMEOUT seconds.
PRESENCE_TIMEOUT = 300


@dataclass
class PresenceScenario:
    """C connections, one user each while the seeded accounts last, join one
    topic at once; then all but O observers leave."""

    name: str
    connections: int
    observers: int
    description: str = ""


@dataclass
class PresenceTally:
    """What one run's connections heard of presence."""

    states: int = 0
    state_entries: int = 0
    diffs: int = 0
    joins: int = 0
    leaves: int = 0
    # The contract sends presence_state right after subscribed, diffs after
    # it: a diff before the state (or before subscribed) is counted here.
    diffs_before_state: int = 0
    diffs_before_subscribed: int = 0
    # Entries that changed nothing: a join of a user the view had already, a
    # leave of one it did not have. Harmless to a client that merges by user
    # id, so counted, not failed; a view that ends wrong is the failure.
    redundant_joins: int = 0
    redundant_leaves: int = 0
    malformed: int = 0  # an entry whose user_id is not its key
    repeated_states: int = 0
    first_diff_ns: int = 0
    last_diff_ns: int = 0
    last_message_ns: int = 0


class PresenceSubscriber(Subscriber):
    """A Subscriber that merges what it hears of presence into its view, as a
    client would: the presence_state replaces the view, each presence_diff
    adds its joins and removes its leaves, by user id."""

    def __init__(self, topic: str, tally: Tally, heard: PresenceTally) -> None:
        super().__init__(topic, tally)
        self.heard = heard
        self.present: dict[str, Any] = {}
        self.has_state = False
        self.changed_ns = 0  # when the view's users last changed
        self.diffs = 0
        self.leaves = 0

    def passed_over(self, message: dict[str, Any]) -> None:
        self.hear(message, time.monotonic_ns())

    async def read(self) -> None:
        try:
            async for text in self.connection:
                if '"type":"presence_' in text:
                    self.hear(json.loads(text), time.monotonic_ns())
        except Exception:
            self.closed_early = True

    def hear(self, message: dict[str, Any], now: int) -> None:
        heard, kind = self.heard, message.get("type")
        if kind == "presence_state":
            present = message.get("present") or {}
            heard.states += 1
            heard.repeated_states += self.has_state
            heard.state_entries += len(present)
            heard.malformed += sum(e.get("user_id") != u for u, e in present.items())
            self.present, self.has_state = dict(present), True
            changed = True
        elif kind == "presence_diff":
            heard.diffs += 1
            self.diffs += 1
            heard.first_diff_ns = heard.first_diff_ns or now
            heard.last_diff_ns = now
            if not self.has_state:  # the state to come replaces the view
                heard.diffs_before_state += 1
                heard.diffs_before_subscribed += not self.subscribed_ns
            changed = False
            for user, entry in (message.get("joins") or {}).items():
                heard.joins += 1
                heard.malformed += entry.get("user_id") != user
                if user in self.present:
                    heard.redundant_joins += self.has_state
                else:
                    changed = True
                self.present[user] = entry
            for user in message.get("leaves") or {}:
                heard.leaves += 1
                self.leaves += 1
                if self.present.pop(user, None) is None:
                    heard.redundant_leaves += self.has_state
                else:
                    changed = True
        else:
            return
        heard.last_message_ns = now
        if changed:
            self.changed_ns = now

    def agrees(self, users: set[str]) -> bool:
        """Whether this connection's view is exactly ``users``."""
        return (
            self.has_state
            and len(self.present) == len(users)
            and self.present.keys() == users
        )


async def until_agreed(
    watchers: list[PresenceSubscriber], users: set[str], heard: PresenceTally
) -> int:
    """Wait until every watcher's view is exactly ``users``; how many views
    were not when the deadline came (0: all agree)."""
    started = time.monotonic()
    started_ns = time.monotonic_ns()
    pending = list(watchers)
    while pending:
        pending = [w for w in pending if not w.agrees(users)]
        quiet_s = (time.monotonic_ns() - max(heard.last_message_ns, started_ns)) / 1e9
        if not pending or quiet_s > DRAIN_TIMEOUT:
            break
        if time.monotonic() - started > PRESENCE_TIMEOUT:
            break
        await asyncio.sleep(0.05)
    return sum(not w.agrees(users) for w in watchers)


def _seconds(start_ns: int, end_ns: int) -> float:
    return round(max(end_ns - start_ns, 0) / 1e9, 2)


def _per_second(count: int, start_ns: int, end_ns: int) -> float | None:
    if not count or end_ns <= start_ns:
        return None
    return round(count / ((end_ns - start_ns) / 1e9), 1)


async def run_presence(
    servers: ServerGroup,
    seeded: dict,
    scenario: PresenceScenario,
    topic: str,
    presence: bool,
) -> dict[str, Any]:
    """A join storm, then a leave storm, on one topic.

    Every connection subscribes to ``topic`` with its own account (round-robin
    when there are fewer accounts than connections). With ``presence`` each
    connection's merged view must come to hold exactly the users connected;
    then all but the observers close, and each observer's view must come to
    hold exactly the users still there. Without it (a topic that has no
    presence) the same storms measure what connecting and closing cost alone.
    """
    tokens = seeded["tokens"]
    tally, heard = Tally(), PresenceTally()
    watchers = [
        PresenceSubscriber(topic, tally, heard) for _ in range(scenario.connections)
    ]
    subscribe = {"type": "subscribe", "topics": [topic]}
    rss_before = servers.rss()
    cpu_server_0, cpu_client_0 = servers.cpu(), _self_cpu()
    outcomes = await _gather_limited(
        [
            w.open(f"{servers.ws_base}/ws/?token={tokens[n % len(tokens)]}", subscribe)
            for n, w in enumerate(watchers)
        ],
        CONNECT_CONCURRENCY,
    )
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    held = [w for w, o in zip(watchers, outcomes, strict=True) if o is None]
    everyone = {w.user_id for w in held}
    join_failures = await until_agreed(held, everyone, heard) if presence else 0
    cpu_server_1, cpu_client_1 = servers.cpu(), _self_cpu()
    first_sent = min(
        (w.subscribe_sent_ns for w in watchers if w.subscribe_sent_ns), default=0
    )
    last_subscribed = max((w.subscribed_ns for w in held), default=first_sent)
    last_change = max((w.changed_ns for w in held), default=0)
    join_diffs, join_entries = heard.diffs, heard.joins
    join_last_diff = heard.last_diff_ns
    await asyncio.sleep(1)  # let the servers settle before reading memory
    rss_after = servers.rss()

    observers, leavers = held[: scenario.observers], held[scenario.observers :]
    staying = {w.user_id for w in observers}
    users_left = len(everyone - staying)
    observer_diffs = sum(w.diffs for w in observers)
    observer_leaves = sum(w.leaves for w in observers)
    diffs_before_leaving = heard.diffs
    cpu_server_2, cpu_client_2 = servers.cpu(), _self_cpu()
    leave_started = time.monotonic_ns()
    await _gather_limited([w.close() for w in leavers], CONNECT_CONCURRENCY)
    closed = time.monotonic_ns()
    leave_failures = await until_agreed(observers, staying, heard) if presence else 0
    cpu_server_3, cpu_client_3 = servers.cpu(), _self_cpu()
    leave_end = (
        max([leave_started] + [w.changed_ns for w in observers]) if presence else closed
    )
    observer_diffs = sum(w.diffs for w in observers) - observer_diffs
    observer_leaves = sum(w.leaves for w in observers) - observer_leaves
    await _gather_limited([w.close() for w in watchers], CONNECT_CONCURRENCY)

    join_end = max(last_change, last_subscribed) if presence else last_subscribed
    join_cpu = cpu_server_1 - cpu_server_0
    return {
        "scenario": scenario.name,
        "topic": topic,
        "presence": presence,
        "connections": scenario.connections,
        "users": len(set(tokens[: scenario.connections])),
        "connections_held": len(held),
        "users_held": len(everyone),
        "connect_failures": len(failures),
        "connect_failure_sample": [repr(f)[:200] for f in failures[:3]],
        "handshake_ms": summary_ms([w.handshake_ns for w in held]),
        "join": {
            # From the first subscribe sent to the last view's last change
            # (with presence) or to the last subscribed reply (without).
            "seconds": None if join_failures else _seconds(first_sent, join_end),
            "connect_seconds": _seconds(first_sent, last_subscribed),
            "failures": join_failures,
            "presence_states": heard.states,
            "state_entries": heard.state_entries,
            "diffs": join_diffs,
            "join_entries": join_entries,
            "diffs_per_second": _per_second(join_diffs, first_sent, join_last_diff),
            "server_cpu_seconds": round(join_cpu, 2),
            "server_cpu_ms_per_connection": round(
                join_cpu * 1000 / max(len(held), 1), 2
            ),
            "loadgen_cpu_seconds": round(cpu_client_1 - cpu_client_0, 2),
        },
        "leave": {
            "observers": len(observers),
            "leavers": len(leavers),
            "users_left": users_left,
            # From the first close to the last observer's view's last change
            # (with presence) or to the last close done (without).
            "seconds": None if leave_failures else _seconds(leave_started, leave_end),
            "close_seconds": _seconds(leave_started, closed),
            "failures": leave_failures,
            "observer_diffs": observer_diffs,
            "observer_leave_entries": observer_leaves,
            "observer_leave_entries_expected": len(observers) * users_left
            if presence
            else 0,
            "diffs_per_second": _per_second(observer_diffs, leave_started, leave_end),
            "diffs_all_connections": heard.diffs - diffs_before_leaving,
            "server_cpu_seconds": round(cpu_server_3 - cpu_server_2, 2),
            "loadgen_cpu_seconds": round(cpu_client_3 - cpu_client_2, 2),
        },
        "anomalies": {
            "diffs_before_state": heard.diffs_before_state,
            "diffs_before_subscribed": heard.diffs_before_subscribed,
            "redundant_joins": heard.redundant_joins,
            "redundant_leaves": heard.redundant_leaves,
            "malformed_entries": heard.malformed,
            "repeated_states": heard.repeated_states,
            # Presence messages on a topic without presence.
            "unexpected_presence": 0 if presence else heard.states + heard.diffs,
        },
        "closed_early": sum(w.closed_early for w in observers),
        "server_rss_before_mib": round(rss_before / 2**20, 1),
        "server_rss_after_mib": round(rss_after / 2**20, 1),
        "server_kib_per_connection": round(
            (rss_after - rss_before) / 1024 / max(len(held), 1), 1
        ),
    }


def as_dict(scenario: Scenario) -> dict[str, Any]:
    return asdict(scenario)
