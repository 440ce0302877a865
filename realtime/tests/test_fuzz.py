"""Fuzzing what a client controls: WebSocket frames and handshakes, SSE and
polling query strings and headers, cursors, ticket requests. Every input gets
one of the answers docs/operations.md ("Limits and refusals") and
docs/fallbacks.md ("Refusals") document, never a 500, a 1011 close or a
traceback in the log, and a well-behaved client on the same application is
still served afterwards.

The examples are derandomized (seeded by each test's source, no example
database), so every run tries the same inputs. Their counts (1,100 examples)
keep this module to 20 to 40 seconds per pass on a busy 2-core machine, the
PostgreSQL and Redis pass being the slower; raise them for a deeper search
(``HYPOTHESIS_FUZZ_SCALE=10``: ten times as many).
"""

import json
import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.http.cookie import parse_cookie
from django.test import Client as DjangoClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from realtime.protocol import codes
from realtime.protocol.topics import parse_cursor
from realtime.testing import RECEIVE_TIMEOUT, SocketClient
from realtime.tests.project.asgi import application

from .conftest import event_of, make_user_sync, publish_now_sync

pytestmark = pytest.mark.django_db(transaction=True)

SCALE = int(os.environ.get("HYPOTHESIS_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    """Reproducible examples: the same inputs on every run and machine."""
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        # Fixtures (users, the observer) are shared by a test's examples on
        # purpose: the observer must outlive every fuzzed connection.
        suppress_health_check=list(HealthCheck),
    )


# -- what may come back ---------------------------------------------------------

# The error codes a WebSocket client may be sent for what it sent (PROTOCOL.md
# section 2). Not internal_error (a bug), unavailable (the layer failed) nor
# too_many_connections (one connection at a time here).
WEBSOCKET_ERRORS = {
    codes.INVALID_JSON,
    codes.INVALID_MESSAGE,
    codes.UNKNOWN_TYPE,
    codes.INVALID_TOPIC,
    codes.FORBIDDEN,
    codes.TOO_MANY_TOPICS,
    codes.MESSAGE_TOO_LARGE,
    codes.RATE_LIMITED,
    codes.UNAUTHENTICATED,
}
# The messages a client may get back before it has been welcomed, and after.
BEFORE_WELCOME = {"error", "pong", "welcome"}
AFTER_WELCOME = BEFORE_WELCOME | {"subscribed", "unsubscribed", "event"}

# The refusals of the HTTP fallbacks (docs/fallbacks.md, "Refusals"), by status.
HTTP_REFUSALS = {
    400: {
        codes.MISSING_TOPICS,
        codes.INVALID_TOPIC,
        codes.TOO_MANY_TOPICS,
        codes.INVALID_CURSOR,
        codes.DISALLOWED_HOST,
    },
    401: {codes.UNAUTHENTICATED},
    403: {codes.FORBIDDEN},
    405: {codes.METHOD_NOT_ALLOWED},
}


class ServerLog(logging.Handler):
    """The log lines that would mean a bug: any traceback, any ERROR (Django's
    refused-host line excepted: it is the documented answer to a bad Host)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        refused_host = record.name == "django.security.DisallowedHost"
        if record.exc_info or (record.levelno >= logging.ERROR and not refused_host):
            self.bad.append(record)

    def forget(self) -> None:
        """Start an example afresh (a failed one may have left lines)."""
        self.bad.clear()

    def assert_clean(self) -> None:
        shown = [f"{r.name}: {r.getMessage()}" for r in self.bad]
        self.bad.clear()
        assert not shown, "the server logged an error:\n" + "\n".join(shown)


@pytest.fixture
def server_log() -> Iterator[ServerLog]:
    handler = ServerLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


# -- people, and the well-behaved client ------------------------------------------

OWN_TOKEN = "@own-token@"
OTHER_TOKEN = "@other-token@"
INACTIVE_TOKEN = "@inactive-token@"
OWN_ID = "@own-id@"
SESSION = "@session@"  # the key of a session ann signed in with
OBSERVED = "room:observed"


class People:
    """Who the fuzzed requests sign in as, and the placeholders that name them
    in generated input (tokens exist only once the test runs)."""

    def __init__(self) -> None:
        self.ann = make_user_sync("ann")
        self.bob = make_user_sync("bob")
        self.gone = make_user_sync("gone", is_active=False)
        self.watcher = make_user_sync("watcher")
        http = DjangoClient()
        http.force_login(self.ann)
        self.session = http.cookies["sessionid"].value
        self.published = 0
        # Something to replay: since / cursors below 3 replay these.
        for entity_id in (1, 2, 3):
            publish_now_sync("room:a", "ADDED", entity_id)

    def fill(self, text: str) -> str:
        return (
            text.replace(OWN_TOKEN, self.ann.token)
            .replace(OTHER_TOKEN, self.bob.token)
            .replace(INACTIVE_TOKEN, self.gone.token)
            .replace(OWN_ID, str(self.ann.pk))
            .replace(SESSION, self.session)
        )

    def next_event(self) -> int:
        self.published += 1
        publish_now_sync(OBSERVED, "ADDED", self.published)
        return self.published


@pytest.fixture
async def people() -> People:
    return await sync_to_async(People)()


@pytest.fixture
async def observer(people: People, connect) -> SocketClient:
    """A client that does everything right and must go on being served."""
    client = await connect(people.watcher)
    await client.subscribe(OBSERVED)
    return client


async def observer_still_served(people: People, observer: SocketClient) -> None:
    entity_id = await sync_to_async(people.next_event)()
    await observer.nothing_before(event_of(OBSERVED, entity_id))


# -- generated input --------------------------------------------------------------

# Unicode digits and lone surrogates: text that looks like what it is not.
TRICKY = st.sampled_from(
    [
        "\u0663",  # ARABIC-INDIC DIGIT THREE: int() reads it as 3
        "\u00b2",  # SUPERSCRIPT TWO: str.isdigit() says yes
        "\ud800",  # a lone surrogate: json.dumps escapes it as \\ud800
        "\udfff",
        "\x00",
        "\n",
        "\u202e",
        "\U0001f381",
    ]
)
texts = st.text(max_size=24) | st.lists(TRICKY | st.text(max_size=3), max_size=6).map(
    "".join
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | texts,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=10,
)

# Topics the fuzzing user may follow, and topics refused for every reason:
# a policy that says no, an unknown type, an identifier the policy's query
# cannot use, a number out of range, a name long enough to be hashed.
FOLLOWED = ["room:a", "room:b", OBSERVED, f"private:{OWN_ID}", "room:" + "x" * 64]
REFUSED = [
    "room:closed-1",
    "private:1",
    "nope:1",
    "board:1",
    "board:abc",
    "board:99999999999999999999999",
    "board:-1",
    "r" * 40 + ":a",
]
good_topics = st.sampled_from(FOLLOWED * 2 + REFUSED)
topics = st.one_of(
    good_topics,
    st.from_regex(r"[a-z][a-z0-9-]{0,5}:[A-Za-z0-9_.-]{1,8}", fullmatch=True),
    st.sampled_from(["room:a\n", " room:a", "ROOM:a", "room:", ":a", "room:a:b"]),
    st.builds(lambda t, s: t + s, st.sampled_from(["room:", "board:"]), TRICKY),
    texts,
)
seqs = st.one_of(
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=-5, max_value=-1),
    st.integers(min_value=2**63 - 2, max_value=2**80),
    json_values,
)
tokens = st.one_of(
    st.sampled_from([OWN_TOKEN, OTHER_TOKEN, INACTIVE_TOKEN, "", "tk_", "tk_x" * 40]),
    st.builds(lambda t: "tk_" + t, texts),
    texts,
    json_values,
)
message_ids = st.one_of(
    st.integers(min_value=-(10**130), max_value=10**130),
    st.text(max_size=140),
    st.sampled_from(["i" * 128, "i" * 129]),
    json_values,
)
message_types = st.sampled_from(
    ["auth", "subscribe", "unsubscribe", "ping", "publish", "welcome", "Ping", ""]
)


def topic_lists() -> st.SearchStrategy:
    return st.one_of(
        st.lists(topics, max_size=6),
        # Around MAX_TOPICS_PER_MESSAGE (200) and MAX_TOPICS_PER_CONNECTION (100).
        st.builds(
            lambda n, topic: [f"{topic}{i}" for i in range(n)],
            st.sampled_from([99, 101, 200, 201]),
            st.sampled_from(["room:n", "bad topic "]),
        ),
        json_values,
    )


# Any value a client could put in each field of a message.
MESSAGE_FIELDS = {
    "type": message_types | json_values,
    "id": message_ids,
    "topics": topic_lists(),
    "since": st.dictionaries(topics, seqs, max_size=4) | json_values,
    "token": tokens,
    "topic": topics,
    "event": texts,
    "data": json_values,
    "presence": json_values,
}
# Each message type of the protocol, well formed.
short_ids = st.integers(-1000, 1000) | st.text("abc-1", max_size=8)


@st.composite
def subscribes(draw: Any) -> dict[str, Any]:
    """A subscribe, often resuming (``since``) some of its topics."""
    chosen = draw(st.lists(good_topics, max_size=4))
    message = {"type": "subscribe", "topics": chosen}
    if chosen and draw(st.booleans()):
        resumed = draw(st.lists(st.sampled_from(chosen), min_size=1, unique=True))
        positions = st.integers(0, 4) | st.integers(-2, 2**80)
        message["since"] = {topic: draw(positions) for topic in resumed}
    if draw(st.booleans()):
        message["id"] = draw(short_ids)
    return message


valid_messages = st.one_of(
    st.fixed_dictionaries({"type": st.just("ping")}, optional={"id": short_ids}),
    subscribes(),
    subscribes(),
    st.fixed_dictionaries(
        {"type": st.just("unsubscribe"), "topics": st.lists(good_topics, max_size=4)},
        optional={"id": short_ids},
    ),
    st.fixed_dictionaries(
        {"type": st.just("auth"), "token": st.sampled_from([OWN_TOKEN] * 3 + [""])},
        optional={"id": short_ids},
    ),
    # A client event (section 7): allowed, refused by name, on any topic.
    st.fixed_dictionaries(
        {
            "type": st.just("publish"),
            "topic": good_topics,
            "event": st.sampled_from(["typing", "plotting", "shouting"]),
        },
        optional={"id": short_ids, "data": json_values},
    ),
)


@st.composite
def near_valid(draw: Any) -> dict[str, Any]:
    """A real message with a field or two dropped or replaced by anything:
    the deepest paths through the code."""
    message = draw(valid_messages)
    for name in draw(st.lists(st.sampled_from(sorted(MESSAGE_FIELDS)), max_size=2)):
        if name in message and draw(st.booleans()):
            del message[name]
        else:
            message[name] = draw(MESSAGE_FIELDS[name])
    return message


def frame_text(value: Any) -> str:
    """JSON text as a client sends it; lone surrogates become \\ud800 escapes."""
    return json.dumps(value)


def deep(depth: int) -> str:
    return '{"type": "ping", "data": ' + "[" * depth + "]" * depth + "}"


frames = st.one_of(
    near_valid().map(lambda m: ("text", frame_text(m))),
    near_valid().map(lambda m: ("text", frame_text(m))),
    near_valid().map(lambda m: ("text", frame_text(m))),
    near_valid().map(lambda m: ("text", frame_text(m))),
    near_valid().map(lambda m: ("text", frame_text(m))),
    json_values.map(lambda v: ("text", frame_text(v))),
    st.text(max_size=60).map(lambda t: ("text", t)),
    st.binary(max_size=40).map(lambda b: ("bytes", b)),
    st.sampled_from([30, 31, 32, 33, 1000]).map(lambda d: ("text", deep(d))),
    # Around MAX_MESSAGE_BYTES (64 KiB), in text and in binary frames.
    st.sampled_from([65_000, 66_000]).map(
        lambda n: ("text", '{"type": "ping", "id": "' + "é" * (n // 2) + '"}')
    ),
    st.just(("bytes", b"\x00" * 70_000)),
)


# -- the WebSocket ------------------------------------------------------------------


async def open_fuzzed(
    query: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> SocketClient:
    """A connection to /ws/ with exactly this query string (not re-encoded)."""
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers or [])
    communicator.scope["query_string"] = query  # read when the app starts
    client = SocketClient(communicator)
    client.connected, _ = await communicator.connect(RECEIVE_TIMEOUT)
    return client


async def answers_until_pong(
    client: SocketClient, welcomed: bool
) -> tuple[list[dict[str, Any]], int | None]:
    """What the server sends up to the pong of a ping sent now, each checked
    against the protocol; or up to a close, with its code."""
    await client.send({"type": "ping", "id": "alive"})
    answers = []
    while True:
        output = await client.communicator.receive_output(RECEIVE_TIMEOUT)
        if output["type"] == "websocket.close":
            return answers, output.get("code")
        message = json.loads(output["text"])
        answers.append(message)
        kind = message["type"]
        event(f"got {kind} {message.get('code', '')}")  # --hypothesis-show-statistics
        assert kind in (AFTER_WELCOME if welcomed else BEFORE_WELCOME), message
        if kind == "welcome":
            welcomed = True
        elif kind == "error":
            assert message["code"] in WEBSOCKET_ERRORS, message
            assert isinstance(message["message"], str), message
            assert isinstance(message.get("id", 0), str | int), message
        elif kind == "subscribed":
            assert set(message["seqs"]) == set(message["topics"]), message
        elif kind == "pong" and message.get("id") == "alive":
            return answers, None


def closed_as_documented(code: int | None, sent: str) -> bool:
    """The one close fuzzed frames may cause: bad credentials, 4401 after an
    ``unauthenticated`` error (an auth message, or a bad ``?token=``)."""
    return code is None or (code == codes.UNAUTHENTICATED_CLOSE.code and "auth" in sent)


@fuzz(examples=400)
@given(
    signed_in=st.sampled_from([True, True, False]),
    batch=st.lists(frames, min_size=1, max_size=6),
)
async def test_every_frame_gets_a_documented_answer_and_others_are_served(
    people, observer, server_log, signed_in, batch
):
    server_log.forget()
    query = f"token={people.ann.token}".encode() if signed_in else b""
    client = await open_fuzzed(query)
    assert client.connected
    if signed_in:
        await client.expect("welcome")
    sent = ""
    for kind, frame in batch:
        if kind == "text":
            frame = people.fill(frame)
            sent += frame
        # Raw ASGI input: the test communicator refuses empty frames itself.
        await client.communicator.send_input({"type": "websocket.receive", kind: frame})

    answers, code = await answers_until_pong(client, signed_in)

    assert closed_as_documented(code, sent), (code, answers)
    if code is not None:
        assert answers[-1]["code"] == codes.UNAUTHENTICATED, answers
    await client.close()
    server_log.assert_clean()
    await observer_still_served(people, observer)


# Query strings: ?token= in every spelling, repeated, percent-encoded or raw.
def percent_encoded(text: str) -> str:
    """Percent-encoded UTF-8; a lone surrogate becomes bytes no decoder takes."""
    return quote(text, safe="", errors="surrogatepass")


query_tokens = st.one_of(
    st.sampled_from([OWN_TOKEN, OTHER_TOKEN, INACTIVE_TOKEN, "", "tk_abc"]),
    texts,
)
query_parts = st.one_of(
    st.just(f"token={OWN_TOKEN}"),
    st.builds(lambda t: "token=" + percent_encoded(t), query_tokens),
    st.builds(lambda t: "token=" + t, query_tokens),
    st.builds(lambda t: "%74oken=" + percent_encoded(t), query_tokens),
    st.sampled_from(["token", "token=%", "token=%zz", "token=%00", "&", "=", ";"]),
    st.text(max_size=20),
)
raw_queries = st.lists(query_parts, max_size=4).map("&".join)
origins = st.one_of(
    st.none(),
    st.none(),
    st.none(),
    st.sampled_from(
        [
            "http://testserver",
            "https://testserver",
            "http://evil.example",
            "null",
            "http://testserver:81",
            "",
            "http://[::1",
        ]
    ),
    texts,
)
cookies = st.one_of(
    st.none(),
    st.none(),
    st.sampled_from([SESSION, "abcdefgh", '"abcdefgh\\000"', "", '"']),
    texts,
)


def raw(text: str) -> bytes:
    """Bytes as a server passes a header or query on: anything but line breaks,
    invalid UTF-8 included (a lone surrogate's three bytes)."""
    return text.replace("\r", "").replace("\n", "").encode("utf-8", "surrogatepass")


@fuzz(examples=150)
@given(query=raw_queries, origin=origins, cookie=cookies)
async def test_every_handshake_gets_a_documented_answer_and_others_are_served(
    people, observer, server_log, query, origin, cookie
):
    server_log.forget()
    headers = []
    if origin is not None:
        headers.append((b"origin", raw(people.fill(origin))))
    if cookie is not None:
        headers.append((b"cookie", raw(f"sessionid={people.fill(cookie)}")))
    client = await open_fuzzed(raw(people.fill(query)), headers)

    if client.connected:
        answers, code = await answers_until_pong(client, welcomed=False)
        assert code in (None, codes.UNAUTHENTICATED_CLOSE.code), (code, answers)
        if code is not None:
            assert answers == [
                {
                    "type": "error",
                    "code": codes.UNAUTHENTICATED,
                    "message": "the credentials are not valid",
                }
            ]
    else:
        # Refused before acceptance (403): only for a browser's foreign Origin.
        assert origin is not None
    await client.close()
    server_log.assert_clean()
    await observer_still_served(people, observer)


# -- SSE and polling ----------------------------------------------------------------

cursor_parts = st.one_of(
    st.builds(lambda t, s: f"{t}@{s}", good_topics, st.integers(0, 4)),
    st.builds(lambda t, s: f"{t}@{s}", good_topics, st.integers(0, 4)),
    st.builds(lambda t, s: f"{t}@{s}", topics, st.integers(min_value=-3, max_value=6)),
    st.builds(lambda t, s: f"{t}@{s}", topics, st.sampled_from(["9" * 18, "9" * 19])),
    st.builds(lambda t, s: f"{t}@{s}", topics, TRICKY),
    texts,
)
cursors = st.one_of(
    st.lists(cursor_parts, max_size=4).map(",".join),
    st.just("room:a@1," * 8000),  # over the 64 KiB a cursor may be
)
topic_params = st.one_of(
    st.lists(good_topics, min_size=1, max_size=4).map(",".join),
    st.lists(good_topics, min_size=1, max_size=4).map(",".join),
    st.lists(topics, max_size=5).map(",".join),
    st.sampled_from([",".join(f"room:n{i}" for i in range(101)), ",,,", " "]),
)
# Mostly the user's own token (the deepest paths), and every way to get it wrong.
authorizations = st.one_of(
    st.just(f"Token {OWN_TOKEN}"),
    st.just(f"Token {OWN_TOKEN}"),
    st.just(f"Token {OWN_TOKEN}"),
    st.none(),
    st.sampled_from(
        [
            f"token {OWN_TOKEN}",
            f"Token  {OWN_TOKEN} ",
            f"Token {OTHER_TOKEN}",
            f"Token {INACTIVE_TOKEN}",
            f"Bearer {OWN_TOKEN}",
            "Token",
            "Token a b",
            "Token tk_abc",
        ]
    ),
    st.builds(lambda t: "Token " + t, texts),
    texts,
)


# What DRF and browsers add to a request: a format override, content types.
other_params = st.sampled_from(["format=json", "format=api", "format=xml", "page=2"])
accepts = st.none() | st.sampled_from(
    ["application/json", "text/event-stream", "text/html", "application/xml", "*/*"]
)


def encode_param(name: str, value: str, how: str) -> str:
    if how == "raw":
        return f"{name}={value}"
    if how == "quoted":
        return f"{name}={percent_encoded(value)}"
    return f"{percent_encoded(name)}={quote(value, safe=':,@', errors='surrogatepass')}"


@st.composite
def fallback_requests(draw: Any) -> dict[str, Any]:
    """A request to the SSE stream or the polling endpoint: query and headers."""
    params = []
    for name, values, counts in (
        ("topics", topic_params, [1, 1, 1, 1, 0, 2]),
        ("cursor", cursors, [0, 0, 1, 1, 2]),
    ):
        for _ in range(draw(st.sampled_from(counts))):
            how = draw(st.sampled_from(["raw", "raw", "quoted", "names quoted"]))
            params.append(encode_param(name, draw(values), how))
    params += draw(st.lists(st.text(max_size=10) | other_params, max_size=2))
    return {
        "query": "&".join(draw(st.permutations(params))),
        "last-event-id": draw(st.none() | st.none() | cursors),
        "authorization": draw(authorizations),
        "cookie": draw(st.none() | cookies.map(lambda c: c and f"sessionid={c}")),
        "accept": draw(accepts),
    }


def check_refusal(status: int, content_type: str, body: bytes) -> None:
    assert status in HTTP_REFUSALS, (status, body[:300])
    assert content_type.startswith("application/json"), (status, body[:300])
    assert json.loads(body)["code"] in HTTP_REFUSALS[status], (status, body[:300])


# The Host the SSE stream checks itself (polling: Django's own 400 page).
hosts = st.one_of(
    st.none(),
    st.none(),
    st.none(),
    st.none(),
    st.sampled_from(
        ["localhost", "127.0.0.1:8000", "evil.example", "[::1", "localhost:x", ""]
    ),
    texts,
)


@fuzz(examples=250)
@given(
    asked=fallback_requests(),
    host=hosts,
    method=st.sampled_from(["GET"] * 9 + ["POST"]),
)
async def test_every_sse_request_gets_a_documented_answer_and_others_are_served(
    people, observer, server_log, asked, host, method
):
    server_log.forget()
    headers = [
        (name.encode(), raw(people.fill(value)))
        for name, value in (*asked.items(), ("host", host))
        if name != "query" and value is not None
    ]
    communicator = HttpCommunicator(
        application, method, "/realtime/sse/", headers=headers
    )
    communicator.scope["query_string"] = raw(people.fill(asked["query"]))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(RECEIVE_TIMEOUT)
    assert start["type"] == "http.response.start", start
    status, response_headers = start["status"], dict(start.get("headers", []))
    body = b""
    event(f"answered {status}")
    if status == 200:
        assert response_headers[b"content-type"].startswith(b"text/event-stream")
        while b"event: subscribed" not in body:
            chunk = await communicator.receive_output(RECEIVE_TIMEOUT)
            body += chunk["body"]
        await communicator.send_input({"type": "http.disconnect"})
    else:
        more = True
        while more:
            chunk = await communicator.receive_output(RECEIVE_TIMEOUT)
            body += chunk["body"]
            more = chunk.get("more_body", False)
        check_refusal(status, response_headers[b"content-type"].decode(), body)
    await communicator.wait(RECEIVE_TIMEOUT)
    server_log.assert_clean()
    await observer_still_served(people, observer)


POLL = "/api/realtime/events/"


@pytest.fixture
def sync_people() -> People:
    return People()


def no_nul_in_session_key(asked: dict[str, Any]) -> bool:
    """Django's own database sessions raise on PostgreSQL for a key holding a
    NUL (a 500 from Django's middleware, before any view); the site refuses
    such keys (config/sessions.py), this minimal project keeps Django's store."""
    key = parse_cookie(asked["cookie"] or "").get("sessionid") or ""
    return "\x00" not in key


@fuzz(examples=150)
@given(
    asked=fallback_requests().filter(no_nul_in_session_key),
    method=st.sampled_from(["get"] * 9 + ["post", "put", "delete"]),
)
def test_every_poll_gets_a_documented_answer_and_others_are_served(
    sync_people, server_log, asked, method
):
    server_log.forget()
    people = sync_people

    def wsgi(text: str) -> str:
        return raw(people.fill(text)).decode("latin-1")  # as WSGI passes bytes on

    extra = {"QUERY_STRING": wsgi(asked["query"])}
    for name, value in asked.items():
        if name != "query" and value is not None:
            key = "HTTP_" + name.upper().replace("-", "_")
            extra[key] = wsgi(value)

    response = getattr(APIClient(), method)(POLL, **extra)

    event(f"answered {response.status_code}")
    if response.status_code == 200:
        body = response.json()
        assert set(body) >= {"events", "cursor", "recovered", "more"}, body
        positions = parse_cursor(body["cursor"])
        assert all(event["topic"] in positions for event in body["events"])
    else:
        check_refusal(response.status_code, response["Content-Type"], response.content)
    server_log.assert_clean()
    # A well-behaved poller still gets what was published meanwhile.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {people.watcher.token}")
    before = client.get(POLL, {"topics": OBSERVED}).json()["cursor"]
    entity_id = people.next_event()
    after = client.get(POLL, {"topics": OBSERVED, "cursor": before}).json()
    assert [e["data"]["entity_id"] for e in after["events"]] == [str(entity_id)]


TICKETS = "/api/realtime/ticket/"
TICKET_REFUSALS = {
    400: codes.INVALID_JSON,
    401: codes.UNAUTHENTICATED,
    405: codes.METHOD_NOT_ALLOWED,
    415: codes.INVALID_MESSAGE,
}
ticket_bodies = st.one_of(
    st.just(b""),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=40),
    st.sampled_from([1, 32, 33, 1000]).map(lambda n: ("[" * n + "]" * n).encode()),
)
ticket_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/json; charset=utf-16",
    ]
)


@fuzz(examples=150)
@given(
    authorization=authorizations,
    body=ticket_bodies,
    content_type=ticket_types,
    method=st.sampled_from(["POST"] * 5 + ["GET", "PUT"]),
)
def test_every_ticket_request_gets_a_documented_answer(
    sync_people, server_log, authorization, body, content_type, method
):
    """Tickets are issued whatever the body (none is read); every other answer
    is a JSON refusal with its documented code."""
    server_log.forget()
    extra = {}
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = raw(sync_people.fill(authorization)).decode(
            "latin-1"
        )
    response = APIClient().generic(
        method, TICKETS, body, content_type=content_type, **extra
    )
    event(f"answered {response.status_code}")
    assert response.status_code in {201, 400, 401, 405, 415}, response.content
    assert response["Content-Type"] == "application/json"
    if response.status_code == 201:
        assert response.json()["ticket"].startswith("tk_")
    else:
        assert response.json()["code"] == TICKET_REFUSALS[response.status_code]
    server_log.assert_clean()
