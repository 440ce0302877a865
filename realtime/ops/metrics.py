"""Prometheus metrics of the realtime layer, and the ``/metrics`` view.

With several worker processes set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
directory, the same for every worker): each process then writes its numbers
there and ``/metrics`` adds them up, whichever worker answers.

``prometheus-client`` is optional (the ``metrics`` extra): without it every
instrument below does nothing and ``/metrics`` answers 501.
"""

import functools
import hmac
import ipaddress
import os
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from realtime.conf import realtime_settings

try:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        generate_latest,
        multiprocess,
    )
except ImportError:  # pragma: no cover - exercised by installs without the extra
    CONTENT_TYPE_LATEST = None

    class _Unkept:
        """An instrument that keeps nothing, for installs without Prometheus."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def labels(self, *args: Any, **kwargs: Any) -> "_Unkept":
            return self

        def inc(self, amount: float = 1) -> None:
            pass

        def dec(self, amount: float = 1) -> None:
            pass

        def observe(self, amount: float) -> None:
            pass

    Counter = Gauge = Histogram = _Unkept  # type: ignore[assignment,misc]


@functools.lru_cache(maxsize=256)
def labelled(metric: Any, *values: str) -> Any:
    """``metric.labels(*values)``, looked up once per process: ``labels()``
    takes a lock and builds its key on every call, and every connection asks."""
    return metric.labels(*values)


CONNECTIONS = Gauge(
    "realtime_connections_open",
    "Open realtime connections (WebSocket and SSE).",
    ["transport"],
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "realtime_subscriptions",
    "Topics followed, summed over open connections.",
    multiprocess_mode="livesum",
)
PUBLISHED = Counter("realtime_events_published", "Events written to the log.")
DELIVERED = Counter(
    "realtime_events_delivered", "Events sent to a client.", ["transport"]
)
DROPPED = Counter(
    "realtime_events_dropped",
    "Events not passed on: duplicates, failed channel-layer sends, unrepairable "
    "gaps, overflow of a connection's queue.",
    ["reason"],
)
CLOSED = Counter(
    "realtime_connections_closed",
    "Connections the server closed, by reason: slow_consumer, layer_failed, "
    "too_many_connections, session_ended, error.",
    ["reason"],
)
LAYER_CHECKS_FAILED = Counter(
    "realtime_layer_checks_failed",
    "Channel-layer checks that failed: the layer is down or lost its groups.",
)
GAPS_REPAIRED = Counter(
    "realtime_gaps_repaired", "Gaps in a topic's seqs filled from the log."
)
REPLAYED = Counter(
    "realtime_events_replayed", "Events replayed from the log on resume."
)
# Buckets from "instant" to "a client would notice": the p99 target is ~200 ms.
LATENCY = Histogram(
    "realtime_publish_to_deliver_seconds",
    "From publish to the first delivery of the event in a process.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def observe_latency(timestamp: str) -> None:
    """Record the age of an event (its ``data.timestamp``) now."""
    published = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=UTC
    )
    LATENCY.observe(max(0.0, (datetime.now(UTC) - published).total_seconds()))


def _from_loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _allowed(request: HttpRequest) -> bool:
    token = realtime_settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())
    user = getattr(request, "user", None)
    return _from_loopback(request) or bool(user and user.is_staff)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics, for a scraper with the token, or on loopback, or for staff."""
    if CONTENT_TYPE_LATEST is None:
        return HttpResponse(
            "metrics need prometheus-client: "
            "pip install 'django-realtime-layer[metrics]'",
            status=501,
            content_type="text/plain",
        )
    if not _allowed(request):
        return HttpResponseForbidden(
            "metrics are not public", content_type="text/plain"
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
