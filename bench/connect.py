"""S8, the connect burst: what opening a connection costs the servers.

N sockets open at once (no pacing: a crowd after a deploy or a network blip),
each signs in with ``?token=`` and subscribes to one topic. Two figures:

- **server CPU per connection**: the CPU seconds of every server process
  (``/proc/<pid>/stat``) from before the first TCP connect until the last
  ``subscribed`` arrived, over the connections held: accept, handshake,
  authentication, authorization, seqs, presence and the channel layer's work;
- **subscribe acknowledged**: from the ``subscribe`` frame sent to its
  ``subscribed`` reply, percentiles (the naive floor subscribes by its URL:
  from the TCP connect to its ``subscribed``).
"""

import asyncio
import time
from typing import Any

from .harness import (
    ServerGroup,
    Subscriber,
    Tally,
    _gather_limited,
    _self_cpu,
    socket_opening,
    summary_ms,
)

# Seconds to let the servers settle after the burst before reading memory.
SETTLE_SECONDS = 1.0


async def run_connect_burst(
    servers: ServerGroup, seeded: dict, connections: int, topics: int, mode: str
) -> dict[str, Any]:
    """Open ``connections`` sockets at once over ``topics`` topics; measure."""
    names = [f"gift-list:{list_id}" for list_id in seeded["lists"][:topics]]
    tokens = seeded["tokens"]
    tally = Tally()
    subscribers = [Subscriber(names[n % len(names)], tally) for n in range(connections)]

    def opening(n: int, subscriber: Subscriber) -> Any:
        url, first = socket_opening(
            servers, mode, subscriber.topic, tokens[n % len(tokens)]
        )
        return subscriber.open(url, first)

    rss_before = servers.rss()
    cpu_server_0, cpu_client_0 = servers.cpu(), _self_cpu()
    started = time.monotonic()
    outcomes = await _gather_limited(
        [opening(n, s) for n, s in enumerate(subscribers)], connections
    )
    seconds = time.monotonic() - started
    cpu_server_1, cpu_client_1 = servers.cpu(), _self_cpu()
    await asyncio.sleep(SETTLE_SECONDS)
    rss_after = servers.rss()
    held = [s for s, o in zip(subscribers, outcomes, strict=True) if o is None]
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    acks = [
        s.subscribed_ns - (s.subscribe_sent_ns or s.subscribed_ns - s.handshake_ns)
        for s in held
    ]
    await _gather_limited([s.close() for s in subscribers], 500)
    server_cpu = cpu_server_1 - cpu_server_0
    return {
        "mode": mode,
        "connections": connections,
        "topics": len(names),
        "connections_held": len(held),
        "connect_failures": len(failures),
        "connect_failure_sample": [repr(f)[:200] for f in failures[:3]],
        "seconds": round(seconds, 2),
        "subscribe_ack_ms": summary_ms(acks),
        "handshake_ms": summary_ms([s.handshake_ns for s in held]),
        "server_cpu_seconds": round(server_cpu, 2),
        "server_cpu_ms_per_connection": round(server_cpu * 1000 / max(len(held), 1), 3),
        "loadgen_cpu_seconds": round(cpu_client_1 - cpu_client_0, 2),
        "server_kib_per_connection": round(
            (rss_after - rss_before) / 1024 / max(len(held), 1), 1
        ),
    }


def connect_markdown(result: dict[str, Any]) -> list[str]:
    """S8's table: each path's figures."""
    lines = [
        "| S8 connect burst | held | at once | server CPU ms/conn "
        "| subscribe ack p50 ms | p99 ms | burst s | KiB/conn |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode in ("limit", "real", "naive"):
        run = result[mode]
        ack = run["subscribe_ack_ms"]
        lines.append(
            f"| {mode} | {run['connections_held']} | {run['connections']} "
            f"| {run['server_cpu_ms_per_connection']} | {ack['p50']} | {ack['p99']} "
            f"| {run['seconds']} | {run['server_kib_per_connection']} |"
        )
    return lines
