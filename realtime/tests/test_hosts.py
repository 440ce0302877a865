"""The SSE stream checks the Host header against ALLOWED_HOSTS as Django checks
every other request, and answers a refused one with a 400 before anything else."""

import json

import pytest
from channels.testing import HttpCommunicator
from django.test import override_settings

from realtime.protocol import codes
from realtime.tests.project.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def sse_answer(path: str, *headers: tuple[bytes, bytes]) -> tuple[int, dict]:
    communicator = HttpCommunicator(application, "GET", path, headers=list(headers))
    response = await communicator.get_response(timeout=5)
    await communicator.wait(5)
    return response["status"], json.loads(response["body"])


@pytest.mark.parametrize(
    "host", [b"evil.example", b"localhost.evil.example", b"127.0.0.2:8000", b""]
)
async def test_sse_refuses_a_host_not_in_allowed_hosts(make_user, host):
    user = await make_user("ann")
    status, body = await sse_answer(
        "/realtime/sse/?topics=room:a",
        (b"host", host),
        (b"authorization", f"Token {user.token}".encode()),
    )
    assert (status, body["code"]) == (400, codes.DISALLOWED_HOST)


async def test_sse_refuses_a_bad_host_before_reading_credentials():
    status, body = await sse_answer("/realtime/sse/?topics=room:a", (b"host", b"x.y"))
    assert (status, body["code"]) == (400, codes.DISALLOWED_HOST)


@pytest.mark.parametrize("host", [b"localhost", b"localhost:8000", b"127.0.0.1:1"])
async def test_sse_serves_allowed_hosts(make_user, host):
    user = await make_user("ann")
    communicator = HttpCommunicator(
        application,
        "GET",
        "/realtime/sse/?topics=room:a",
        headers=[(b"host", host), (b"authorization", f"Token {user.token}".encode())],
    )
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    assert start["status"] == 200
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(5)


@override_settings(ALLOWED_HOSTS=[], DEBUG=True)
async def test_sse_allows_django_local_hosts_with_debug_and_no_allowed_hosts(
    make_user,
):
    status, body = await sse_answer(
        "/realtime/sse/?topics=room:a", (b"host", b"evil.example")
    )
    assert status == 400
    status, body = await sse_answer(
        "/realtime/sse/?topics=room:a", (b"host", b"app.localhost:8000")
    )
    assert (status, body["code"]) == (401, codes.UNAUTHENTICATED)
