"""A brand-new Django project adopts the package by following docs/realtime.md.

The checkout is built as a release would be, installed into a virtualenv of its
own, and a ``startproject`` site is made live with exactly the quick start's
lines; daphne then serves it and real clients check what a user would notice.
"""

import asyncio
import json
import subprocess
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from email.parser import Parser
from typing import Any

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.e2e.wsclient import WsClient

from .fresh import DISTRIBUTION, ROOT, Dist, Project, Server

pytestmark = [pytest.mark.timeout(600), pytest.mark.e2e, pytest.mark.redis]

RECEIVE_TIMEOUT = 20
NOTE_FIELDS = {"id", "board", "text", "created_at"}


# -- the distribution ---------------------------------------------------------


def wheel_files(dist: Dist) -> list[str]:
    with zipfile.ZipFile(dist.wheel) as wheel:
        return wheel.namelist()


def wheel_metadata(dist: Dist) -> Any:
    with zipfile.ZipFile(dist.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(wheel.read(name).decode())


def test_the_wheel_holds_the_realtime_package_and_nothing_of_the_site(dist: Dist):
    """Installing the wheel must not drop the example site into site-packages."""
    files = wheel_files(dist)
    top = {name.split("/", 1)[0] for name in files if ".dist-info/" not in name}
    assert top == {"realtime"}, sorted(top)
    for other in ("config/", "giftlists/", "bench/", "tests/"):
        assert not [name for name in files if name.startswith(other)], other
    assert dist.sdist.name.startswith("django_realtime_layer-"), dist.sdist.name


def test_the_wheel_ships_every_file_of_the_app(dist: Dist):
    """Migrations, the browser client, the event schema: a missing data file only
    shows when a user runs migrate, loads the page or validates an event."""
    tracked = subprocess.run(
        ["git", "ls-files", "realtime"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    needed = {path for path in tracked if not path.startswith("realtime/tests/")}
    missing = sorted(needed - set(wheel_files(dist)))
    assert not missing, missing


def test_the_wheel_declares_its_dependencies_and_extras(dist: Dist):
    """pip installs what the app imports, and the extras the docs name."""
    metadata = wheel_metadata(dist)
    assert canonicalize_name(metadata["Name"]) == DISTRIBUTION
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist") or []]
    runtime = {canonicalize_name(r.name) for r in requirements if not r.marker}
    assert {"django", "channels", "djangorestframework"} <= runtime, runtime

    def extra(name: str) -> set[str]:
        return {
            canonicalize_name(r.name)
            for r in requirements
            if r.marker and r.marker.evaluate({"extra": name})
        }

    assert "channels-redis" in extra("redis")
    assert "prometheus-client" in extra("metrics")
    assert {"redis", "metrics"} <= set(metadata.get_all("Provides-Extra") or [])


# -- the fresh project, served ------------------------------------------------


def test_health_and_readiness_answer(server: Server):
    """A load balancer or orchestrator can tell the site is up and ready."""
    for path in ("/healthz", "/readyz"):
        response = httpx.get(f"{server.http_url}{path}", timeout=RECEIVE_TIMEOUT)
        assert response.status_code == 200, (path, response.text)


async def open_socket(server: Server, token: str) -> WsClient:
    socket = await WsClient.open(server.ws_url, token)
    welcome = await socket.receive(RECEIVE_TIMEOUT)
    assert welcome["type"] == "welcome", welcome
    return socket


async def new_board(project: Project, *members: str) -> int:
    return await asyncio.to_thread(project.create_board, "Groceries", *members)


async def add_note(project: Project, board: int, text: str) -> int:
    """A note made in a ``manage.py shell`` process: not the server's."""
    return await asyncio.to_thread(project.add_note, board, text)


async def next_event(socket: WsClient) -> dict[str, Any]:
    (event,) = await socket.events(1, RECEIVE_TIMEOUT)
    return event


def assert_note_added(event: dict[str, Any], board: int, note: int, text: str):
    """The event a user's client gets for a new note: its fields as JSON."""
    assert event["type"] == "event", event
    assert event["topic"] == f"board:{board}", event
    assert event["event"] == "ADDED", event
    data = event["data"]
    assert data["entity_type"] == "note", data
    assert data["entity_id"] == str(note), data
    payload = data["payload"]
    assert set(payload) == NOTE_FIELDS, payload
    assert payload["id"] == note
    assert payload["board"] == board
    assert payload["text"] == text
    assert datetime.fromisoformat(payload["created_at"]).tzinfo is not None, payload


async def test_a_note_saved_in_another_process_reaches_a_subscribed_websocket(
    project: Project, server: Server, tokens: dict[str, str]
):
    """The point of the package: a committed change reaches the open page."""
    board = await new_board(project, "alice")
    topic = f"board:{board}"
    socket = await open_socket(server, tokens["alice"])
    try:
        reply = await socket.subscribe(topic)
        assert reply["topics"] == [topic], reply
        note = await add_note(project, board, "milk")
        event = await next_event(socket)
        assert_note_added(event, board, note, "milk")
        assert event["seq"] == reply["seqs"][topic] + 1
    finally:
        await socket.close()


@asynccontextmanager
async def sse_stream(
    server: Server, token: str, topic: str, last_event_id: str | None = None
) -> AsyncIterator[tuple[httpx.Response, AsyncIterator[dict[str, str]]]]:
    """The response to an EventSource-like request, and its records' fields."""
    headers = {"Authorization": f"Token {token}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=RECEIVE_TIMEOUT) as client,
        client.stream(
            "GET", "/realtime/sse/", params={"topics": topic}, headers=headers
        ) as response,
    ):

        async def records() -> AsyncIterator[dict[str, str]]:
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line == "":
                    if fields:
                        yield fields
                    fields = {}
                elif not line.startswith(":"):  # a keep-alive comment
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")

        yield response, records()


async def next_record(records: AsyncIterator[dict[str, str]]) -> dict[str, str]:
    return await asyncio.wait_for(anext(records), RECEIVE_TIMEOUT)


async def test_sse_streams_the_next_note_with_a_resume_cursor(
    project: Project, server: Server, tokens: dict[str, str]
):
    """A browser's EventSource gets the same events, each with its cursor."""
    board = await new_board(project, "alice")
    topic = f"board:{board}"
    async with sse_stream(server, tokens["alice"], topic) as (response, records):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        first = await next_record(records)
        assert first["event"] == "subscribed", first
        note = await add_note(project, board, "eggs")
        record = await next_record(records)
    assert record["event"] == "ADDED", record
    event = json.loads(record["data"])
    assert_note_added(event, board, note, "eggs")
    assert record["id"] == f"{topic}@{event['seq']}", record


async def test_sse_resumes_after_the_last_event_id(
    project: Project, server: Server, tokens: dict[str, str]
):
    """An EventSource that reconnects gets what it missed while it was away."""
    board = await new_board(project, "alice")
    topic = f"board:{board}"
    missed = [await add_note(project, board, text) for text in ("tea", "jam")]
    async with sse_stream(server, tokens["alice"], topic, f"{topic}@0") as (
        response,
        records,
    ):
        assert response.status_code == 200
        received = []
        while len(received) < len(missed):
            record = await next_record(records)
            if record.get("event") == "ADDED":
                received.append(json.loads(record["data"]))
    assert [e["data"]["payload"]["id"] for e in received] == missed
    assert [e["seq"] for e in received] == [1, 2]


async def poll(server: Server, token: str, topic: str, cursor: str | None = None):
    params = {"topics": topic}
    if cursor is not None:
        params["cursor"] = cursor
    async with httpx.AsyncClient(
        base_url=server.http_url, timeout=RECEIVE_TIMEOUT
    ) as client:
        return await client.get(
            "/api/realtime/events/",
            params=params,
            headers={"Authorization": f"Token {token}"},
        )


async def test_polling_returns_the_events_in_order_with_their_cursor(
    project: Project, server: Server, tokens: dict[str, str]
):
    """A client without WebSocket or SSE catches up by polling with a cursor."""
    board = await new_board(project, "alice")
    topic = f"board:{board}"
    start = await poll(server, tokens["alice"], topic)
    assert start.status_code == 200, start.text
    assert start.json()["events"] == []
    assert start.json()["cursor"] == f"{topic}@0"
    notes = [await add_note(project, board, text) for text in ("bread", "rice")]

    response = await poll(server, tokens["alice"], topic, f"{topic}@0")
    assert response.status_code == 200, response.text
    body = response.json()
    for event, note, text in zip(body["events"], notes, ("bread", "rice"), strict=True):
        assert_note_added(event, board, note, text)
    assert [event["seq"] for event in body["events"]] == [1, 2]
    assert body["cursor"] == f"{topic}@2"

    caught_up = (await poll(server, tokens["alice"], topic, body["cursor"])).json()
    assert caught_up["events"] == []
    assert caught_up["cursor"] == f"{topic}@2"


async def test_a_non_member_is_refused_on_every_transport(
    project: Project, server: Server, tokens: dict[str, str]
):
    """The policy in notes/realtime.py guards the WebSocket, SSE and polling.

    mallory follows her own board on each transport first, so a refusal of
    alice's board is the policy speaking, not a token the server did not take.
    """
    own = f"board:{await new_board(project, 'mallory')}"
    topic = f"board:{await new_board(project, 'alice')}"
    socket = await open_socket(server, tokens["mallory"])
    try:
        assert (await socket.subscribe(own))["topics"] == [own]
        await socket.send({"type": "subscribe", "topics": [topic], "id": 1})
        error = (await socket.receive_until("error", RECEIVE_TIMEOUT))[-1]
        assert error["code"] == "forbidden", error
        assert error.get("topic") == topic, error
    finally:
        await socket.close()

    async with sse_stream(server, tokens["mallory"], own) as (response, _):
        assert response.status_code == 200
    async with sse_stream(server, tokens["mallory"], topic) as (response, _):
        assert response.status_code == 403
        await response.aread()
        assert response.json()["code"] == "forbidden", response.text

    response = await poll(server, tokens["mallory"], own, f"{own}@0")
    assert response.status_code == 200, response.text
    response = await poll(server, tokens["mallory"], topic, f"{topic}@0")
    assert response.status_code == 403, response.text
    assert "events" not in response.json(), response.text


async def test_an_identifier_the_policy_cannot_use_is_forbidden_not_an_error(
    server: Server, tokens: dict[str, str]
):
    """``board:abc`` makes the policy's query fail; the user just may not follow
    it, and the connection goes on working."""
    socket = await open_socket(server, tokens["alice"])
    try:
        await socket.send({"type": "subscribe", "topics": ["board:abc"], "id": 1})
        error = (await socket.receive_until("error", RECEIVE_TIMEOUT))[-1]
        assert error["code"] == "forbidden", error
        await socket.send({"type": "ping", "id": "still-there"})
        pong = (await socket.receive_until("pong", RECEIVE_TIMEOUT))[-1]
        assert pong["id"] == "still-there", pong
    finally:
        await socket.close()


async def test_a_resumed_subscription_gets_the_missed_notes_then_live_ones(
    project: Project, server: Server, tokens: dict[str, str]
):
    """A page that lost its connection resumes where it was, without a gap."""
    board = await new_board(project, "alice")
    topic = f"board:{board}"
    socket = await open_socket(server, tokens["alice"])
    try:
        await socket.subscribe(topic)
        await add_note(project, board, "seen")
        seen = (await next_event(socket))["seq"]
    finally:
        await socket.close()
    missed = [await add_note(project, board, text) for text in ("soap", "salt")]

    # This time the token comes in the first message, as a browser sends it.
    socket = await WsClient.open(server.ws_url)
    try:
        await socket.send({"type": "auth", "token": tokens["alice"]})
        assert (await socket.receive(RECEIVE_TIMEOUT))["type"] == "welcome"
        await socket.send(
            {"type": "subscribe", "topics": [topic], "since": {topic: seen}}
        )
        *before, reply = await socket.receive_until("subscribed", RECEIVE_TIMEOUT)
        assert reply["recovered"] is True, reply
        replayed = [m for m in before if m["type"] == "event"]
        replayed += await socket.events(len(missed) - len(replayed), RECEIVE_TIMEOUT)
        for event, note, text in zip(replayed, missed, ("soap", "salt"), strict=True):
            assert_note_added(event, board, note, text)
        assert [event["seq"] for event in replayed] == [seen + 1, seen + 2]

        live = await add_note(project, board, "live")
        event = await next_event(socket)
        assert_note_added(event, board, live, "live")
        assert event["seq"] == seen + 3
    finally:
        await socket.close()
