"""The consumer under faults and limits: a channel layer that refuses a group,
a layer that loses its groups, too many sockets per user, a session that ends,
and what its log lines carry.

Each test states in its name what a client (or an operator) observes.
"""

import asyncio
import logging
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.test import Client as HttpClient
from django.test import RequestFactory, override_settings
from uvicorn.protocols.utils import ClientDisconnected

from realtime.hub import hub as hub_module
from realtime.hub.hub import hub_for
from realtime.hub.watch import CHECK_MESSAGE_TYPE, LayerWatch
from realtime.policies.base import TopicPolicy
from realtime.policies.registry import register_policy, unregister_policy
from realtime.protocol import codes
from realtime.session.session import Session
from realtime.transports.websocket import RealtimeConsumer

from .conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(REALTIME={"MAX_CONNECTIONS_PER_USER": 2})
async def test_a_users_connection_beyond_the_cap_gets_too_many_connections_and_4429(
    make_user, connect
):
    user = await make_user("ann")
    first = await connect(user)
    await connect(user)
    extra, _ = await open_socket(f"/ws/?token={user.token}")
    error = await extra.expect("error")
    assert error["code"] == "too_many_connections"
    assert await extra.closed_with() == codes.TOO_MANY_CONNECTIONS_CLOSE.code
    # Another user is not affected, and a closed socket frees its place.
    await connect(await make_user("bea"))
    await first.close()
    again, _ = await open_socket(f"/ws/?token={user.token}")
    assert (await again.expect("welcome"))["user_id"] == str(user.pk)
    await again.close()


async def test_subscribe_that_the_layer_refuses_gets_unavailable_and_close_1011(
    make_user, connect, monkeypatch
):
    user = await make_user("ann")
    client = await connect(user)
    layer = get_channel_layer()

    async def refuse(group: str, channel: str) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(layer, "group_add", refuse)
    await client.send({"type": "subscribe", "topics": ["room:a"], "id": 3})
    error = await client.expect("error")
    assert error["code"] == "unavailable" and error["id"] == 3
    assert await client.closed_with() == codes.SERVER_ERROR.code


async def wait_until(condition: Any, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (state changed by other tasks)
            await asyncio.sleep(0.01)


async def test_the_watch_calls_back_when_the_layer_loses_its_groups():
    layer = InMemoryChannelLayer()
    failed = asyncio.Event()
    with override_settings(
        REALTIME={"LAYER_CHECK_INTERVAL": 0.05, "LAYER_CHECK_TIMEOUT": 0.5}
    ):
        watch = LayerWatch(layer)
        try:
            watch.attach(lambda shard: failed.set())
            await wait_until(lambda: watch.checks >= 3)
            assert not failed.is_set()  # checks that pass call nobody back
            await layer.flush()  # what a Redis restart does to the groups
            await asyncio.wait_for(failed.wait(), 5)
            # It re-establishes itself and the next connections attach anew.
            again = asyncio.Event()
            watch.attach(lambda shard: again.set())
            passed = watch.checks
            await wait_until(lambda: watch.checks >= passed + 2)
            assert not again.is_set()
        finally:
            watch.task.cancel()


class CancellingLayer:
    """The configured layer, cancelling the watch as its ``at``-th call to the
    layer begins: the cancellation lands inside that call (mid-command on
    Redis)."""

    CALLS = frozenset({"new_channel", "group_add", "group_send", "group_discard"})

    def __init__(self, layer: Any, at: int) -> None:
        self.layer, self.at, self.calls = layer, at, 0
        self.watch: LayerWatch | None = None

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.layer, name)
        if name not in self.CALLS and name != "receive":
            return real

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.at:
                self.watch.task.cancel()
            return await real(*args, **kwargs)

        return call


async def test_the_watch_stops_whenever_it_is_cancelled():
    """A shutdown (or a test's end) cancels the watch at any point of a check;
    on the configured layer, in memory or Redis, it must then stop, not run on.
    Each round cancels it inside a different call of its first two checks."""
    with override_settings(
        REALTIME={"LAYER_CHECK_INTERVAL": 0.01, "LAYER_CHECK_TIMEOUT": 1}
    ):
        for at in range(1, 13):
            layer = CancellingLayer(get_channel_layer(), at)
            layer.watch = watch = LayerWatch(layer)
            await wait_until(lambda layer=layer: layer.calls >= layer.at)
            _, running = await asyncio.wait([watch.task], timeout=2)
            while not watch.task.done():  # leave nothing running behind
                watch.task.cancel()
                await asyncio.sleep(0.01)
            assert not running, f"call {at}: the watch ran on after cancel()"
        # And while it waits between two checks.
        watch = LayerWatch(get_channel_layer())
        await wait_until(lambda: watch.checks >= 1)
        watch.task.cancel()
        _, running = await asyncio.wait([watch.task], timeout=2)
        assert not running, "the watch ran on after cancel() between checks"


class StallingLayer:
    """The configured layer as a server starved of CPU sees it: right after a
    check message is sent, a callback blocks the event loop for ``stall``
    seconds, longer than the check's timeout, before the answer is read."""

    def __init__(self, layer: Any, stall: float, stalls: int) -> None:
        self.layer, self.stall, self.stalls = layer, stall, stalls

    def __getattr__(self, name: str) -> Any:
        return getattr(self.layer, name)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self.layer.group_send(group, message)
        if message["type"] == CHECK_MESSAGE_TYPE and self.stalls:
            self.stalls -= 1
            asyncio.get_running_loop().call_soon(time.sleep, self.stall)

    async def receive(self, channel: str) -> dict[str, Any]:
        # An answer comes in over a socket, a turn of the loop later; the
        # in-memory layer would hand it over before the loop could stall.
        await asyncio.sleep(0.001)
        return await self.layer.receive(channel)


async def test_a_starved_event_loop_closes_no_connection_but_lost_groups_still_do(
    make_user, connect, monkeypatch
):
    """The loop is blocked for longer than the check's timeout while a check
    message is on its way, twice: the layer is fine, so the watch fails no
    check and the socket stays open. Losing the groups still closes it."""
    with override_settings(
        REALTIME={"LAYER_CHECK_INTERVAL": 0.05, "LAYER_CHECK_TIMEOUT": 0.3}
    ):
        layer = StallingLayer(get_channel_layer(), stall=1, stalls=2)
        watch = LayerWatch(layer)
        monkeypatch.setattr(hub_module, "watch_for", lambda layer: watch)
        failed: list[int] = []
        watch.attach(failed.append)
        try:
            client = await connect(await make_user("ann"))
            await client.subscribe("room:a")
            await wait_until(lambda: layer.stalls == 0)
            # The check that stalled last, and the one after, have ended.
            checks = watch.checks
            await wait_until(lambda: watch.checks >= checks + 2)
            assert failed == []
            await client.send({"type": "ping", "id": 1})
            assert (await client.expect("pong"))["id"] == 1  # still open

            await get_channel_layer().flush()  # what a Redis restart does
            await wait_until(lambda: failed)
            assert await client.closed_with() == codes.SERVER_ERROR.code
        finally:
            watch.task.cancel()


async def session_socket(user):
    http = HttpClient()
    await sync_to_async(http.force_login)(user)
    key = http.cookies["sessionid"].value
    client, connected = await open_socket(
        headers=[(b"cookie", f"sessionid={key}".encode())]
    )
    assert connected
    await client.expect("welcome")
    return client, key


async def test_logout_closes_the_sessions_sockets_4401_and_keeps_token_sockets(
    make_user, connect
):
    user = await make_user("ann")
    by_session, key = await session_socket(user)
    other_session, _ = await session_socket(user)
    by_token = await connect(user)
    request = RequestFactory().post("/accounts/logout/")
    request.session = type("Session", (), {"session_key": key})()
    # The signal comes before Django deletes the session: the message names it.
    await sync_to_async(user_logged_out.send)(
        sender=type(user), request=request, user=user
    )
    error = await by_session.expect("error")
    assert error["code"] == "unauthenticated"
    assert await by_session.closed_with() == codes.UNAUTHENTICATED_CLOSE.code
    for client in (other_session, by_token):
        await client.send({"type": "ping", "id": 1})
        assert (await client.expect("pong"))["id"] == 1
        await client.close()


async def test_a_deleted_session_is_noticed_on_reauthorization(make_user):
    from django.contrib.sessions.models import Session

    from realtime.publishing.reauthorize import reauthorize_users

    user = await make_user("ann")
    client, key = await session_socket(user)
    await sync_to_async(Session.objects.filter(session_key=key).delete)()
    await sync_to_async(reauthorize_users)([user.pk])
    await client.expect("error")
    assert await client.closed_with() == codes.UNAUTHENTICATED_CLOSE.code


async def test_log_lines_carry_connection_and_user_never_the_token(
    make_user, connect, caplog
):
    user = await make_user("ann")
    with caplog.at_level(logging.INFO, logger="realtime.transports.websocket"):
        client = await connect(user)
        await client.close()
    records = [r for r in caplog.records if r.name == "realtime.transports.websocket"]
    assert records
    for record in records:
        assert len(record.connection_id) == 32
        assert record.user_id == str(user.pk)
        assert user.token not in str(record.__dict__)
    assert records[0].auth_method == "token"


@override_settings(REALTIME={"MAX_PENDING_EVENTS": 1})
async def test_a_socket_whose_queue_overflows_still_gets_every_event_in_order(
    make_user, connect, publish_now, monkeypatch
):
    # A client on a slow network: its first event's write waits for the gate.
    gate, pushed = asyncio.Event(), []
    real_write, real_push = RealtimeConsumer.write_event, Session.push

    async def slow_write(self: RealtimeConsumer, event: dict, text: str) -> None:
        await gate.wait()
        await real_write(self, event, text)

    def recording_push(self: Session, event: dict) -> None:
        real_push(self, event)
        pushed.append(event["topic"])

    monkeypatch.setattr(RealtimeConsumer, "write_event", slow_write)
    monkeypatch.setattr(Session, "push", recording_push)
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    for number in range(1, 6):  # faster than they leave: the queue overflows
        await publish_now("room:a", "ADDED", number)
    await wait_until(lambda: len(pushed) == 5)  # all five reached the socket
    gate.set()
    seqs = [(await client.expect("event"))["seq"] for _ in range(2)]
    session = next(iter(hub_for(get_channel_layer()).members))
    await wait_until(lambda: session.outbox.writer is None)  # nothing left to send
    assert await client.communicator.receive_nothing(timeout=0)
    await publish_now("room:a", "ADDED", 6)  # ...which brings them from the log
    seqs += [(await client.expect("event"))["seq"] for _ in range(4)]
    assert seqs == [1, 2, 3, 4, 5, 6]


async def test_a_client_gone_mid_send_ends_quietly_without_an_error_log(
    make_user, connect, publish_now, monkeypatch, caplog
):
    attempts = []

    async def gone(self: RealtimeConsumer, event: dict, text: str) -> None:
        attempts.append(event["seq"])
        raise ClientDisconnected()

    monkeypatch.setattr(RealtimeConsumer, "write_event", gone)
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    session = next(iter(hub_for(get_channel_layer()).members))
    witness = Witness()
    await session.hub.attach(witness)
    await session.hub.follow("room:a", witness)
    with caplog.at_level(logging.ERROR):
        await publish_now("room:a", "ADDED", 1)
        await wait_until(lambda: not session.writable)
        await publish_now("room:a", "ADDED", 2)
        # Nothing more is attempted: looked at once the hub has handed 2 to the
        # topic's followers, and the session's writer, had it been given 2, is done.
        await wait_until(lambda: witness.pushes == 2 and session.outbox.writer is None)
    assert attempts == [1]
    assert not session.subscriptions  # it let go of its topics at once
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    session.hub.detach(witness)


class Witness:
    """Another follower in the same hub: when it has an event, the hub has
    handed that event to every follower it has."""

    def __init__(self) -> None:
        self.pushes = 0

    def push(self, event: dict) -> None:
        self.pushes += 1

    def follows_any(self, resource_types: frozenset[str]) -> bool:
        return False

    def reauthorize_soon(self, message: dict) -> None:
        pass

    def layer_failed(self) -> None:
        pass


class BrokenPolicy(TopicPolicy):
    """A policy with a bug: it raises for every topic."""

    def has_permission(self, user: Any, identifier: str) -> bool:
        raise RuntimeError("a bug in the policy")


async def test_a_policy_that_fails_ends_only_the_connections_that_asked_it(
    make_user, connect, caplog
):
    """Subscribes arriving together are authorized together: one whose policy
    raises gets an internal_error (and the error is logged), the others in
    the same batch are subscribed as if it were not there."""
    register_policy("broken", BrokenPolicy())
    try:
        users = [await make_user(name) for name in ("ann", "bea", "cat")]
        clients = [await connect(user) for user in users]
        topics = ["room:a", "broken:1", "room:b"]
        for client, topic in zip(clients, topics, strict=True):
            await client.send({"type": "subscribe", "topics": [topic]})
        assert (await clients[0].expect("subscribed"))["topics"] == ["room:a"]
        assert (await clients[2].expect("subscribed"))["topics"] == ["room:b"]
        assert (await clients[1].expect("error"))["code"] == "internal_error"
        await clients[1].send({"type": "ping", "id": 1})
        assert (await clients[1].expect("pong"))["id"] == 1  # still connected
        assert "a bug in the policy" in caplog.text
    finally:
        unregister_policy("broken")
