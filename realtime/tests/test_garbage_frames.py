"""Hypothesis-generated garbage never crashes a connection: every frame gets an
answer or is refused politely, and the connection still answers a ping."""

import json

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.protocol import codes

from .conftest import make_user_sync, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
message_types = st.sampled_from(["auth", "subscribe", "unsubscribe", "ping", "x", ""])
topic_like = st.sampled_from(
    ["room:a", "room:closed", "private:1", "nope:1"]
) | st.text(max_size=30)
# Mostly well-formed messages with one field wrong: the deepest paths in the code.
messages = st.fixed_dictionaries(
    {
        "type": message_types | json_values,
        "topics": st.lists(topic_like, max_size=4) | json_values,
    },
    optional={
        "id": st.integers() | st.text(max_size=5) | json_values,
        "since": st.dictionaries(topic_like, st.integers()) | json_values,
        "token": st.text(max_size=10) | json_values,
    },
)
frames = st.one_of(
    st.text(max_size=200).map(lambda text: ("text", text)),
    st.binary(max_size=64).map(lambda data: ("bytes", data)),
    json_values.map(lambda value: ("text", json.dumps(value))),
    messages.map(lambda message: ("text", json.dumps(message))),
    messages.map(lambda message: ("text", json.dumps(message))),
    messages.map(lambda message: ("text", json.dumps(message))),
)


@pytest.fixture
def token():
    return make_user_sync("fuzz").token


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(frames, min_size=1, max_size=5))
def test_garbage_frames_never_break_the_connection(token, batch):
    async def scenario() -> None:
        client, connected = await open_socket(f"/ws/?token={token}")
        assert connected
        assert (await client.receive())["type"] == "welcome"
        for kind, frame in batch:
            # Raw ASGI input: the test communicator refuses empty frames itself.
            await client.communicator.send_input(
                {"type": "websocket.receive", kind: frame}
            )
        await client.send({"type": "ping", "id": "alive"})
        while True:
            output = await client.communicator.receive_output(5)
            if output["type"] == "websocket.close":
                # The one way garbage may end a connection: an auth message with
                # a bad token, answered by the protocol's close 4401.
                assert output["code"] == codes.UNAUTHENTICATED_CLOSE.code
                assert any('"auth"' in frame for kind, frame in batch if kind == "text")
                break
            message = json.loads(output["text"])
            assert message["type"] in {
                "error",
                "pong",
                "subscribed",
                "unsubscribed",
                "welcome",
            }
            if message["type"] == "error":
                assert message["code"] != "internal_error", message
            if message.get("id") == "alive" and message["type"] == "pong":
                break
        await client.close()

    async_to_sync(scenario)()
