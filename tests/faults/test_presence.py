"""Presence, client events and echoes over real sockets on two server
processes sharing Redis (PROTOCOL.md section 7): state and diffs after joins,
leaves and several tabs; a killed process's users leave within the
connection-count TTL; client events reach the others in either process and
not the sender; an echo is marked on its author's connection only."""

import asyncio
from typing import Any

import pytest

from tests.e2e.api import Api
from tests.e2e.servers import Server
from tests.e2e.wsclient import WsClient

from .conftest import alice_list, drop_site, make_site

pytestmark = pytest.mark.timeout(180)

TTL = 2  # seconds a dead process's connections still count; production: 30


class Tab:
    """One browser tab's socket: every message kept, in order."""

    def __init__(self, socket: WsClient) -> None:
        self.socket = socket
        self.messages: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, server: Server, api: Api, topic: str) -> "Tab":
        tab = cls(await WsClient.open(server.ws_url, api.token))
        tab.welcome = await tab.socket.welcome()
        await tab.socket.send({"type": "subscribe", "topics": [topic]})
        return tab

    async def next(self, kind: str) -> dict[str, Any]:
        """The next message of this kind (others are kept, not lost)."""
        while True:
            message = await self.socket.receive()
            self.messages.append(message)
            if message["type"] == kind:
                return message


def ids(*tabs: Tab) -> set[str]:
    """The user ids of the tabs' users (as their welcomes said)."""
    return {tab.welcome["user_id"] for tab in tabs}


async def test_presence_client_events_and_echoes_across_two_processes(
    shared_redis_url, tmp_path
):
    site = make_site(tmp_path, shared_redis_url, CONNECTION_COUNT_TTL=TTL)
    first = Server(site, tmp_path / "first.log", kind="uvicorn").start()
    second = Server(site, tmp_path / "second.log", kind="uvicorn").start()
    try:
        alice, bob, carol = (
            Api.login(first.http_url, name) for name in ("alice", "bob", "carol")
        )
        topic = f"gift-list:{alice_list(alice)}"

        here = await Tab.open(first, alice, topic)  # alice, on the first process
        alone = (await here.next("presence_state"))["present"]
        assert [entry["name"] for entry in alone.values()] == ["alice"]

        there = await Tab.open(second, bob, topic)  # bob, on the second
        assert set((await there.next("presence_state"))["present"]) == ids(here, there)
        assert set((await here.next("presence_diff"))["joins"]) == ids(there)

        carol_a = await Tab.open(first, carol, topic)
        await carol_a.next("presence_state")
        for tab in (here, there):
            assert set((await tab.next("presence_diff"))["joins"]) == ids(carol_a)
        carol_b = await Tab.open(second, carol, topic)  # a second tab: no news
        state = (await carol_b.next("presence_state"))["present"]
        assert state[carol_a.welcome["user_id"]]["connections"] == 2

        # A client event from the second process reaches the first, not its sender.
        await there.socket.send(
            {"type": "publish", "topic": topic, "event": "typing", "id": "t"}
        )
        assert (await there.next("published"))["id"] == "t"
        typing = await carol_a.next("client_event")
        assert (typing["event"], typing["user_id"]) == (
            "typing",
            there.welcome["user_id"],
        )

        # An echo: carol's REST write marked on carol's first tab only.
        await asyncio.to_thread(
            carol.client.post,
            "/api/gifts/",
            json={"list": int(topic.split(":")[1]), "title": "Echo"},
            headers={"X-Realtime-Connection": carol_a.welcome["connection_id"]},
        )
        mine, theirs = await carol_a.next("event"), await carol_b.next("event")
        assert (mine.get("echo"), "echo" in theirs) == (True, False)
        assert mine["seq"] == theirs["seq"]

        # The second process dies: bob leaves everywhere; carol stays, present
        # through her first tab.
        second.kill()
        diff = await here.next("presence_diff")
        assert (set(diff["joins"]), set(diff["leaves"])) == (set(), ids(there))
        # Typing reaches a member only: alice owns the list and hears nothing
        # of it, so the next thing she hears of carol is carol's leave.
        await carol_a.socket.close()
        diff = await here.next("presence_diff")
        assert set(diff["leaves"]) == ids(carol_a)
        assert not [m for m in here.messages if m["type"] == "client_event"]
    finally:
        first.stop()
        second.stop()
        drop_site(site)
