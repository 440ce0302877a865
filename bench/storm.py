"""S10, the reconnect storm: every server process restarts under its clients.

C sockets follow T topics while changes flow (REST writes at a fixed rate).
Then the servers restart, as a deploy does: every process stops (its sockets
close) and new ones start on the same port. Every client reconnects with
jittered exponential backoff and subscribes again. On the real path it resumes
with ``since`` (the last seq it saw of its topic), as PROTOCOL.md section 3
says a client does; on the limit floor (``/ws/limit/``, no seqs) it can only
subscribe afresh. The changes go on meanwhile (writes fail while no process
answers, and are not expected by anyone); once the last client is back they go
on a little longer.

Reported on both paths: from the restart until the last client is subscribed
again (empty when some client was not back within ``STORM_LIMIT``), the
reconnect attempts, and the new processes' CPU seconds from the restart until
the end. On the real path only, since only it resumes: until the last client
has every event made before that moment, and lost and duplicated deliveries
over the whole run (by change number, per client).
"""

import asyncio
import json
import os
import random
import time
from contextlib import suppress
from typing import Any

from websockets.asyncio.client import connect

from .harness import (
    CONNECT_CONCURRENCY,
    TITLE,
    Publisher,
    ServerGroup,
    _gather_limited,
    socket_opening,
    summary_ms,
)

# Seconds of changes before the restart, and after the last client is back.
BEFORE_SECONDS = 5.0
AFTER_SECONDS = 3.0
# Reconnect backoff, "full jitter": a delay drawn from 0 to min(CAP, BASE * 2^n).
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# Seconds to wait for the last deliveries, and at most for the storm itself.
DRAIN_SECONDS = 20.0
STORM_LIMIT = 300.0
# The paths the storm runs on, in this order. The naive floor compares two
# designs of fan-out; what a storm costs beyond the least is real/limit.
STORM_MODES = ("limit", "real")


class Resumer:
    """One client: follows one topic, and when the connection ends reconnects
    with backoff and subscribes again; with ``resumes`` it keeps its last seq
    and asks for what it missed with ``since``."""

    def __init__(
        self, topic: str, url: str, subscribe: dict | None, resumes: bool
    ) -> None:
        self.topic = topic
        self.url = url
        self.subscribe = subscribe  # None: the URL subscribes (no welcome)
        self.resumes = resumes
        self.last_seq: int | None = None
        self.arrivals: dict[int, int] = {}  # change number -> arrival (monotonic ns)
        self.duplicated = 0
        self.connections = 0
        self.reconnect_attempts = 0
        self.resubscribed_ns = 0
        self.unrecovered = 0
        self.stopping = False
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        attempt = 0
        while not self.stopping:
            self.reconnect_attempts += self.connections > 0
            try:
                await self.session()
                attempt = 0
            except Exception:
                attempt += 1
            if self.stopping:
                return
            self.subscribed.clear()
            await asyncio.sleep(
                random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))
            )

    async def session(self) -> None:
        async with connect(
            self.url,
            open_timeout=30,
            ping_interval=None,
            max_queue=None,
            close_timeout=2,
        ) as socket:
            if self.subscribe is not None:
                await self._expect(socket, "welcome")
                subscribe = dict(self.subscribe)
                if self.resumes and self.last_seq is not None:
                    subscribe["since"] = {self.topic: self.last_seq}
                await socket.send(json.dumps(subscribe))
            reply = await self._expect(socket, "subscribed")
            if self.connections:
                self.resubscribed_ns = time.monotonic_ns()
                self.unrecovered += reply.get("recovered") is False
            if self.resumes and self.last_seq is None:
                self.last_seq = reply["seqs"][self.topic]
            self.connections += 1
            self.subscribed.set()
            async for text in socket:
                self.take(text)

    async def _expect(self, socket: Any, kind: str) -> dict[str, Any]:
        while True:
            text = await asyncio.wait_for(socket.recv(), 30)
            message = json.loads(text)
            if message.get("type") == kind:
                return message
            if message.get("type") == "error":
                raise RuntimeError(message)
            self.take(text)

    def take(self, text: str) -> None:
        if '"type":"event"' not in text:
            return
        if self.resumes:
            self.last_seq = max(self.last_seq or 0, json.loads(text)["seq"])
        match = TITLE.search(text)
        if match is None:
            return
        number = int(match.group(1))
        if number in self.arrivals:
            self.duplicated += 1
        else:
            self.arrivals[number] = time.monotonic_ns()


class ContinuousPublisher(Publisher):
    """The scenario's changes at a fixed rate until told to stop; each
    change's number with the time its write was answered."""

    def __init__(self, servers: ServerGroup, seeded: dict) -> None:
        super().__init__(servers, seeded)
        self.stopping = False
        self.answered_ns: dict[int, int] = {}

    async def run_until_stopped(self, topics: list[str], rate: float) -> None:
        import httpx

        headers = {"Authorization": f"Token {self.seeded['writer_token']}"}
        async with httpx.AsyncClient(
            base_url=self.servers.http_url, headers=headers, timeout=30
        ) as client:
            gate = asyncio.Semaphore(16)
            jobs = []
            start = time.monotonic()
            number = 0
            while not self.stopping:
                delay = start + number / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await gate.acquire()
                topic = topics[number % len(topics)]
                jobs.append(
                    asyncio.create_task(self.timed(client, gate, topic, number))
                )
                number += 1
            await asyncio.gather(*jobs)

    async def timed(self, client: Any, gate: Any, topic: str, number: int) -> None:
        await self.one(client, gate, topic, number)
        self.answered_ns[number] = time.monotonic_ns()


def restart(servers: ServerGroup) -> None:
    """Stop every server process, then start new ones on the same port."""
    servers.stop()
    os.makedirs(servers.metrics_dir, exist_ok=True)  # stop() removed it
    servers.start()


async def run_storm(
    servers: ServerGroup,
    seeded: dict,
    connections: int,
    topics: int,
    rate: float,
    mode: str,
) -> dict[str, Any]:
    """Hold the sockets on ``mode``'s path (``real`` or ``limit``), restart the
    servers under them, measure the storm."""
    names = [f"gift-list:{list_id}" for list_id in seeded["lists"][:topics]]
    tokens = seeded["tokens"]
    resumes = mode == "real"
    clients = []
    for n in range(connections):
        topic = names[n % len(names)]
        url, first = socket_opening(servers, mode, topic, tokens[n % len(tokens)])
        clients.append(Resumer(topic, url, first, resumes))
    tasks: list[asyncio.Task] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def first_connect(client: Resumer) -> None:
        async with gate:
            tasks.append(asyncio.create_task(client.run()))
            with suppress(TimeoutError):
                await asyncio.wait_for(client.subscribed.wait(), 120)

    await _gather_limited([first_connect(c) for c in clients], connections)
    held = sum(c.subscribed.is_set() for c in clients)
    publisher = ContinuousPublisher(servers, seeded)
    writing = asyncio.create_task(publisher.run_until_stopped(names, rate))
    await asyncio.sleep(BEFORE_SECONDS)

    restart_ns = time.monotonic_ns()
    await asyncio.to_thread(restart, servers)
    started_ns = time.monotonic_ns()
    cpu_0 = servers.cpu()
    deadline = time.monotonic() + STORM_LIMIT
    while time.monotonic() < deadline and not all(  # noqa: ASYNC110
        c.resubscribed_ns and c.subscribed.is_set() for c in clients
    ):
        await asyncio.sleep(0.1)
    # Who was back in time; the storm's end is the last of them (if all were).
    back = [c.resubscribed_ns for c in clients if c.resubscribed_ns]
    all_back = len(back) == len(clients)
    back_ns = max(back, default=restart_ns)
    await asyncio.sleep(AFTER_SECONDS)
    publisher.stopping = True
    await writing
    expected_by_topic: dict[str, list[int]] = publisher.published
    # Only a resuming client gets what was made while it was away: the floor's
    # clients never will, so waiting for them would measure nothing.
    deadline = time.monotonic() + (DRAIN_SECONDS if resumes else 0)
    while time.monotonic() < deadline and any(  # noqa: ASYNC110
        len(c.arrivals) < len(expected_by_topic.get(c.topic, [])) for c in clients
    ):
        await asyncio.sleep(0.1)
    cpu_1 = servers.cpu()
    for client in clients:
        client.stopping = True
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    reconnected = sum(bool(c.resubscribed_ns) for c in clients)
    server_cpu = cpu_1 - cpu_0
    resubscribe = [ns - restart_ns for ns in back]
    return {
        "mode": mode,
        "connections": connections,
        "topics": len(names),
        "connections_held": held,
        "changes_made": sum(len(v) for v in expected_by_topic.values()),
        "changes_failed": publisher.failed,
        "restart_seconds": round((started_ns - restart_ns) / 1e9, 2),
        "storm_limit_seconds": STORM_LIMIT,
        "resubscribed_in_time": len(back),
        "resubscribed_by_the_end": reconnected,
        "reconnect_attempts": sum(c.reconnect_attempts for c in clients),
        "resubscribe_after_restart_ms": summary_ms(resubscribe),
        # None when some client was not back within STORM_LIMIT.
        "last_resubscribed_seconds": round((back_ns - restart_ns) / 1e9, 2)
        if all_back
        else None,
        "server_cpu_seconds_storm": round(server_cpu, 2),
        "server_cpu_ms_per_reconnection": round(
            server_cpu * 1000 / max(reconnected, 1), 2
        ),
        **(
            delivery_figures(clients, publisher, restart_ns, back_ns, all_back)
            if resumes
            else dict.fromkeys(RESUME_FIGURES)
        ),
    }


# What only a resuming client can report; None for the floor.
RESUME_FIGURES = ("caught_up_seconds", "unrecovered", "lost", "duplicated")


def delivery_figures(
    clients: list[Resumer],
    publisher: ContinuousPublisher,
    restart_ns: int,
    back_ns: int,
    all_back: bool,
) -> dict[str, Any]:
    """Lost and duplicated deliveries over the whole run (by change number, per
    client), ``recovered: false`` answers, and when the last client had every
    event made before the last one was back (None when some client was not)."""
    lost = duplicated = 0
    caught_up_ns = 0
    for client in clients:
        wanted = publisher.published.get(client.topic, [])
        lost += sum(number not in client.arrivals for number in wanted)
        duplicated += client.duplicated
        for number in wanted:
            if (
                publisher.answered_ns.get(number, 0) <= back_ns
                and number in client.arrivals
            ):
                caught_up_ns = max(caught_up_ns, client.arrivals[number])
    return {
        "caught_up_seconds": round((max(caught_up_ns, back_ns) - restart_ns) / 1e9, 2)
        if all_back
        else None,
        "unrecovered": sum(c.unrecovered for c in clients),
        "lost": lost,
        "duplicated": duplicated,
    }


def storm_markdown(result: dict[str, Any]) -> list[str]:
    """S10's table: each path's figures ("-" where the floor has none), then
    real against the limit floor."""
    lines = [
        "| S10 reconnect storm | path | held | resubscribed in time (by the end) "
        "| reconnect attempts | restart s | last resubscribed s | caught up s "
        "| lost | dup | unrecovered | server CPU s (new processes) "
        "| CPU ms/reconnection |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- |",
    ]
    for mode in STORM_MODES:
        run = result[mode]
        shown = {key: "-" if run[key] is None else run[key] for key in RESUME_FIGURES}
        lines.append(
            f"| {run['topics']} topics | {mode} | {run['connections_held']} "
            f"| {run['resubscribed_in_time']} ({run['resubscribed_by_the_end']}) "
            f"| {run['reconnect_attempts']} | {run['restart_seconds']} "
            f"| {run['last_resubscribed_seconds']} | {shown['caught_up_seconds']} "
            f"| {shown['lost']} | {shown['duplicated']} | {shown['unrecovered']} "
            f"| {run['server_cpu_seconds_storm']} "
            f"| {run['server_cpu_ms_per_reconnection']} |"
        )
    ratios = result["vs_limit"]
    lines += [
        "",
        "| S10 real/limit | last resubscribed | server CPU | CPU per reconnection "
        "| every client back on both |",
        "| --- | --- | --- | --- | --- |",
        f"| {result['limit']['connections']} connections "
        f"| {ratios['last_resubscribed_ratio']} | {ratios['server_cpu_ratio']} "
        f"| {ratios['server_cpu_per_reconnection_ratio']} "
        f"| {'yes' if ratios['all_back'] else 'NO'} |",
    ]
    return lines
