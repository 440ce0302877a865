"""Random changes by several users through the REST API of a real server, while
a member's and the owner's WebSocket clients apply the events to copies of the
list: once settled, each copy equals what the REST API shows that user."""

import json
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from websockets.sync.client import connect

from tests.e2e.api import Api
from tests.e2e.servers import Server

from .conftest import DEADLINE, drop_site, make_site

pytestmark = pytest.mark.timeout(300)

USERS = ("alice", "bob", "carol")
ACTIONS = ("claim", "unclaim", "purchase")


class ListCopy:
    """One user's WebSocket view of one list, kept in a thread of its own.

    The reader thread checks each event as it applies it; a violation (or any
    other error) is kept and raised in the test's thread at its next check, so
    the test fails with the violation itself, not with a wait that times out.
    """

    def __init__(self, server: Server, token: str, topic: str) -> None:
        self.topic = topic
        self.gifts: dict[int, dict[str, Any]] = {}
        self.last_seq = 0
        self.failure: BaseException | None = None
        self.changed = threading.Condition()
        self.stack = ExitStack()
        self.socket = self.stack.enter_context(
            connect(f"{server.ws_url}?token={token}", open_timeout=20)
        )
        assert json.loads(self.socket.recv(20))["type"] == "welcome"
        self.socket.send(json.dumps({"type": "subscribe", "topics": [topic]}))
        reply = json.loads(self.socket.recv(20))
        assert reply["type"] == "subscribed", reply
        self.last_seq = reply["seqs"][topic]
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self) -> None:
        try:
            for text in self.socket:
                self.apply(json.loads(text))
        except BaseException as error:
            with self.changed:
                self.failure = error
                self.changed.notify_all()

    def apply(self, message: dict[str, Any]) -> None:
        if message["type"] != "event":
            return
        with self.changed:
            assert message["seq"] > self.last_seq, (message, self.last_seq)
            self.last_seq = message["seq"]
            self.changed.notify_all()
            data = message["data"]
            if data["entity_type"] != "gift":
                return
            gift_id = int(data["entity_id"])
            if message["event"] == "DELETED":
                self.gifts.pop(gift_id, None)
            else:
                self.gifts[gift_id] = data["payload"]

    def raise_failure(self) -> None:
        """Raise what went wrong in the reader thread, if anything did."""
        with self.changed:
            if self.failure is not None:
                raise self.failure

    def settled_at(self, seq: int) -> dict[int, dict[str, Any]]:
        """The copy once it has applied ``seq``; the reader's failure if it fails."""
        with self.changed:
            settled = self.changed.wait_for(
                lambda: self.failure is not None or self.last_seq >= seq,
                timeout=DEADLINE,
            )
            if self.failure is not None:
                raise self.failure
            if not settled:
                raise AssertionError(
                    f"{self.topic}: stuck at {self.last_seq}, not {seq}"
                )
            return dict(self.gifts)

    def close(self) -> None:
        self.stack.close()
        self.thread.join(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    tmp_path = tmp_path_factory.mktemp("stateful")
    site = make_site(tmp_path, os.environ.get("REDIS_URL") or None)
    process = Server(site, tmp_path / "server.log", kind="uvicorn").start()
    yield process
    process.stop()
    drop_site(site)


def test_websocket_copies_match_the_rest_api(server):
    apis = {name: Api.login(server.http_url, name) for name in USERS}
    family = apis["alice"].results("/api/families/")[0]["id"]

    class GiftListMachine(RuleBasedStateMachine):
        @initialize()
        def open_list(self) -> None:
            self.list_id = apis["alice"].post(
                "/api/gift-lists/", json={"family": family, "title": "random"}
            )["id"]
            self.topic = f"gift-list:{self.list_id}"
            self.copies = {
                "bob": ListCopy(server, apis["bob"].token, self.topic),
                "alice": ListCopy(server, apis["alice"].token, self.topic),
            }
            self.gift_ids: list[int] = []

        @invariant()
        def readers_saw_nothing_wrong(self) -> None:
            for copy in getattr(self, "copies", {}).values():
                copy.raise_failure()

        def pick(self, index: int) -> int:
            return self.gift_ids[index % len(self.gift_ids)]

        @rule(user=st.sampled_from(USERS), title=st.text(min_size=1, max_size=30))
        def create(self, user: str, title: str) -> None:
            response = apis[user].client.post(
                "/api/gifts/", json={"list": self.list_id, "title": title}
            )
            assert response.status_code in {201, 400}, response.text
            if response.status_code == 201:
                self.gift_ids.append(response.json()["id"])

        @precondition(lambda self: self.gift_ids)
        @rule(
            user=st.sampled_from(USERS),
            index=st.integers(0, 100),
            title=st.text(min_size=1, max_size=30),
            price=st.none() | st.decimals("0", "999", places=2),
        )
        def edit(self, user: str, index: int, title: str, price: Any) -> None:
            response = apis[user].client.patch(
                f"/api/gifts/{self.pick(index)}/",
                json={"title": title, "price": None if price is None else str(price)},
            )
            assert response.status_code < 500, response.text

        @precondition(lambda self: self.gift_ids)
        @rule(
            user=st.sampled_from(USERS),
            index=st.integers(0, 100),
            action=st.sampled_from(ACTIONS),
        )
        def change_status(self, user: str, index: int, action: str) -> None:
            response = apis[user].client.post(
                f"/api/gifts/{self.pick(index)}/{action}/"
            )
            assert response.status_code < 500, response.text

        @precondition(lambda self: self.gift_ids)
        @rule(user=st.sampled_from(USERS), index=st.integers(0, 100))
        def delete(self, user: str, index: int) -> None:
            gift_id = self.pick(index)
            response = apis[user].client.delete(f"/api/gifts/{gift_id}/")
            assert response.status_code < 500, response.text
            if response.status_code == 204:
                self.gift_ids.remove(gift_id)

        def teardown(self) -> None:
            if not hasattr(self, "copies"):
                return
            try:
                self.readers_saw_nothing_wrong()
                # A last change everyone sees marks the end: once a copy has
                # it, it has had every event before it.
                marker = apis["alice"].patch(
                    f"/api/gift-lists/{self.list_id}/", json={"title": "settled"}
                )
                assert marker["title"] == "settled"
                for user, copy in self.copies.items():
                    # Each user's seqs count what that user is shown.
                    cursor = apis[user].get(
                        "/api/realtime/events/", params={"topics": self.topic}
                    )["cursor"]
                    seq = int(cursor.rsplit("@", 1)[1])
                    shown = {
                        gift["id"]: gift
                        for gift in apis[user].results(
                            f"/api/gifts/?list={self.list_id}"
                        )
                    }
                    assert copy.settled_at(seq) == shown, user
            finally:
                for copy in self.copies.values():
                    copy.close()

    GiftListMachine.TestCase.settings = settings(
        max_examples=10,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    GiftListMachine.TestCase().runTest()
