"""What uvicorn and daphne refuse themselves when scripts/serve.py launches them
(as ``make serve`` does): WebSocket frames over their size limit, from the
frame's header, before the payload is buffered; proxy headers from anyone but
the trusted proxies. And what the site answers over their real sockets to a
huge id, a lone surrogate, an Origin of another scheme, and hundreds of random
frames."""

import asyncio
import json
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from scripts.serve import WS_MAX_SIZE
from tests.faults.rawws import TEXT, ClosedByServer, RawSocket

from .api import Api
from .servers import Served, Site
from .wsclient import WsClient

KINDS = ["uvicorn", "daphne"]
MESSAGE_TOO_BIG = 1009
ONE_MIB = 1024 * 1024

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module", params=KINDS)
def served(request, site: Site, tmp_path_factory) -> Iterator[Served]:
    """make serve's launch of one server kind, with default settings."""
    log = tmp_path_factory.mktemp("served") / f"{request.param}.log"
    server = Served(site, log, request.param).start()
    yield server
    server.stop()


def vm_rss(pid: int) -> int:
    """Resident memory of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def send_frame_head(raw: RawSocket, length: int, payload: bytes) -> None:
    """A masked text frame announcing ``length`` bytes, with only ``payload``."""
    mask = os.urandom(4)
    head = struct.pack("!BBQ", 0x80 | TEXT, 0x80 | 127, length) + mask
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    raw.sock.sendall(head + body)


def close_code_of(raw: RawSocket) -> int:
    """Read frames until the server's close frame; its code."""
    try:
        while True:
            raw.message()
    except ClosedByServer as closed:
        return closed.code


# -- frame size ------------------------------------------------------------------


def test_a_1_mib_frame_is_refused_by_the_server_from_its_header(served):
    token = Api.login(served.http_url, "bob").token
    warm = RawSocket(served.port, f"/ws/?token={token}")
    assert warm.message()["type"] == "welcome"
    pids = served.server_pids()
    before = sum(vm_rss(pid) for pid in pids)

    raw = RawSocket(served.port, f"/ws/?token={token}")
    assert raw.message()["type"] == "welcome"
    # The header says 1 MiB; only 16 KiB follow, and no more is ever sent: a
    # close now can only come from the header, with nothing buffered.
    send_frame_head(raw, ONE_MIB, b"x" * 16 * 1024)

    assert close_code_of(raw) == MESSAGE_TOO_BIG
    assert sum(vm_rss(pid) for pid in pids) - before < ONE_MIB // 2
    # The connection that behaved is untouched.
    warm.send_json({"type": "ping", "id": 1})
    pong = warm.message()
    assert (pong["type"], pong["id"]) == ("pong", 1)
    raw.close()
    warm.close()


async def test_a_whole_1_mib_frame_closes_the_socket_with_1009(served):
    token = Api.login(served.http_url, "bob").token
    async with connect(f"{served.ws_url}?token={token}", max_size=None) as socket:
        assert json.loads(await socket.recv())["type"] == "welcome"
        await socket.send("x" * ONE_MIB)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == MESSAGE_TOO_BIG


async def test_a_frame_between_the_sites_limit_and_the_servers_gets_an_error(
    served,
):
    """Over the site's 64 KiB but under the server's limit: the protocol's
    message_too_large error, and the connection stays."""
    assert WS_MAX_SIZE > 100 * 1024
    token = Api.login(served.http_url, "bob").token
    socket = await WsClient.open(served.ws_url, token, max_size=None)
    await socket.welcome()
    await socket.connection.send("x" * 100 * 1024)
    assert (await socket.receive())["code"] == "message_too_large"
    await socket.send({"type": "ping", "id": 2})
    assert (await socket.receive())["id"] == 2
    await socket.close()


# -- bad frames over a real socket ----------------------------------------------


async def test_a_huge_id_and_a_lone_surrogate_get_one_small_error_each(served):
    token = Api.login(served.http_url, "bob").token
    socket = await WsClient.open(served.ws_url, token)
    await socket.welcome()
    await socket.connection.send(
        json.dumps(
            {
                "type": "subscribe",
                "id": "i" * 60_000,
                "topics": [f"bad topic {n}" for n in range(200)],
            }
        )
    )
    await socket.connection.send(
        r'{"type": "subscribe", "id": "\ud800", "topics": ["\udfff"]}'
    )
    await socket.send({"type": "ping", "id": "after"})
    replies = [await socket.connection.recv() for _ in range(3)]
    first, second, pong = (json.loads(text) for text in replies)
    assert (first["code"], "id" in first) == ("invalid_message", False)
    assert (second["code"], "id" in second) == ("invalid_json", False)
    assert pong["id"] == "after"  # open and answering: no 1011
    assert sum(map(len, replies)) < 1000
    await socket.close()


# A real message with a field replaced by anything, any JSON, text, bytes.
fuzz_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
fuzz_topics = st.sampled_from(
    ["gift-list:1", "family:1", "user:2", "user:1", "gift-list:99999", "nope:1"]
) | st.text(max_size=12)
fuzz_messages = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["ping", "subscribe", "unsubscribe", "auth", "x"])
        | fuzz_values
    },
    optional={
        "id": st.integers() | st.text(max_size=8) | fuzz_values,
        "topics": st.lists(fuzz_topics, max_size=4) | fuzz_values,
        "since": st.dictionaries(fuzz_topics, st.integers()) | fuzz_values,
        "token": st.sampled_from(["@token@", "", "tk_x"]) | fuzz_values,
    },
)
fuzz_frames = st.one_of(
    fuzz_messages.map(json.dumps),
    fuzz_messages.map(json.dumps),
    fuzz_values.map(json.dumps),  # a lone surrogate travels as "\ud800"
    st.text(max_size=40),
    st.binary(max_size=40),
    st.sampled_from([33, 1000]).map(lambda n: "[" * n + "]" * n),
    st.just("x" * 70_000),  # over the site's 64 KiB, under the server's limit
)
# Everything the site may answer fuzzed frames with (PROTOCOL.md section 2).
FUZZ_ANSWERS = {"error", "pong", "welcome", "subscribed", "unsubscribed", "event"}
FUZZ_ERRORS = {
    "invalid_json",
    "invalid_message",
    "unknown_type",
    "invalid_topic",
    "forbidden",
    "too_many_topics",
    "message_too_large",
    "unauthenticated",
}


@pytest.fixture(scope="module")
def bobs_token(served: Served) -> str:
    """One sign-in per server, however many examples."""
    return Api.login(served.http_url, "bob").token


@pytest.fixture
def log_start(served: Served) -> int:
    """Where the server's log stood when the test began."""
    return len(served.log())


@settings(
    max_examples=100,  # about 450 frames a server kind, in a second or two
    derandomize=True,
    database=None,
    deadline=None,
    # The server is the module's, shared by every example on purpose.
    suppress_health_check=list(HealthCheck),
)
@given(batch=st.lists(fuzz_frames, min_size=1, max_size=8))
async def test_random_frames_get_documented_answers_and_no_traceback(
    served, bobs_token, log_start, batch
):
    """Over a real server's socket, as make serve runs it: every answer to a
    batch of frames is a documented one, the socket still answers a ping
    (unless a bad auth closed it with 4401), and the server logs no
    traceback."""
    socket = await WsClient.open(served.ws_url, bobs_token, max_size=None)
    await socket.welcome()
    try:
        for frame in batch:
            if isinstance(frame, str):
                frame = frame.replace("@token@", bobs_token)
            await socket.connection.send(frame)
        await socket.send({"type": "ping", "id": "alive"})
        while (answer := await socket.receive()).get("id") != "alive":
            assert answer["type"] in FUZZ_ANSWERS, answer
            assert answer.get("code") in FUZZ_ERRORS | {None}, answer
        assert answer["type"] == "pong", answer
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4401, closed
    await socket.close()
    logged = served.log()[log_start:]  # JSON lines (DEBUG off)
    assert "Traceback" not in logged and '"level": "ERROR"' not in logged, logged


# -- proxy headers ---------------------------------------------------------------


def metrics_status(server: Served, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.get(
        f"{server.http_url}/metrics", headers=headers, timeout=10
    ).status_code


def test_metrics_answer_loopback_but_not_a_client_behind_a_loopback_proxy(served):
    # The test connects from 127.0.0.1: to the server, a proxy on this machine.
    assert metrics_status(served) == 200
    # A proxy appends the address it saw; a client may have written its own
    # "127.0.0.1" first: only the address the trusted proxy saw counts.
    assert metrics_status(served, "127.0.0.1, 203.0.113.9") == 403
    assert metrics_status(served, "203.0.113.9") == 403


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("trusted", ["none", "192.0.2.1"])
def test_proxy_headers_from_an_untrusted_peer_are_ignored(
    site, tmp_path, kind, trusted
):
    server = Served(
        site, tmp_path / "server.log", kind, DJANGO_TRUSTED_PROXIES=trusted
    ).start()
    try:
        # 127.0.0.1 is not a trusted proxy here: what it says of its client
        # is ignored, and it is the client (a local one).
        assert metrics_status(server, "203.0.113.9") == 200
    finally:
        server.stop()


async def test_a_trusted_proxys_https_makes_the_https_origin_the_sockets_own(
    served,
):
    token = Api.login(served.http_url, "bob").token
    origin = f"https://127.0.0.1:{served.port}"
    url = f"{served.ws_url}?token={token}"
    tls = {"Origin": origin, "X-Forwarded-Proto": "https"}
    async with connect(url, additional_headers=tls) as socket:
        assert json.loads(await socket.recv())["type"] == "welcome"
    with pytest.raises(InvalidStatus) as refused:  # no TLS said: http's origin
        await connect(url, additional_headers={"Origin": origin})
    assert refused.value.response.status_code == 403


async def test_without_access_log_requests_and_handshakes_are_not_logged(served):
    """ACCESS_LOG is off by default: neither HTTP requests nor WebSocket
    handshakes leave a line per request in the servers' log."""
    httpx.get(served.http_url + "/healthz?probe=unlogged", timeout=10)
    socket = await WsClient.open(served.ws_url + "?probe=unlogged")
    await socket.close()
    # A barrier: Django logs a 404 (a warning), after anything logged before.
    httpx.get(served.http_url + "/nowhere-logged/", timeout=10)
    deadline = time.monotonic() + 10
    while "/nowhere-logged/" not in served.log() and time.monotonic() < deadline:  # noqa: ASYNC110 (a file another process writes)
        await asyncio.sleep(0.1)
    log = served.log()
    assert "/nowhere-logged/" in log
    assert "probe=unlogged" not in log
