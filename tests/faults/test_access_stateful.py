"""Random changes of who may see a gift list (joining and leaving its family,
staff flags, a new owner, rotated tokens) while every user follows it over a
WebSocket of a real server, with changes to the list between them.

What each user receives is checked against what the REST API allowed at the
step that caused it: nobody ever receives an event of a step in which they
could not read the list; everybody who could receives it; the list's owner at
that step never learns of a claim; and a connection whose token was rotated
ends.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.api import Api
from tests.e2e.servers import Server, Site

from .conftest import DEADLINE, drop_site, make_site

pytestmark = pytest.mark.timeout(600)

# alice creates each example's family and list; the others come and go.
GUESTS = ("bob", "dave", "erin")
PASSWORDS = {"dave": "dave-pw-4471", "erin": "erin-pw-8812"}
CLAIMED_FIELDS = ("claimed_by", "claimed_by_username")


@dataclass
class Access:
    """Who may read the list at one step, and who owns it."""

    members: frozenset[str]
    staff: frozenset[str]
    owner: str

    def reads(self, user: str) -> bool:
        return user in self.members or user in self.staff


@dataclass
class Window:
    """The time one change of the list took, and who could read it then."""

    start: datetime
    end: datetime
    access: Access


def now() -> datetime:
    return datetime.now(UTC)


def stamp(event: dict[str, Any]) -> datetime:
    return datetime.strptime(
        event["data"]["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ"
    ).replace(tzinfo=UTC)


class Follower:
    """One user's WebSocket on the list, read by a thread of its own; every
    message is kept, and a failure is raised in the test's thread."""

    def __init__(self, server: Server, token: str, topic: str) -> None:
        self.topic = topic
        self.messages: list[dict[str, Any]] = []
        self.closed_with: int | None = None
        self.failure: BaseException | None = None
        self.changed = threading.Condition()
        self.stack = ExitStack()
        self.socket = self.stack.enter_context(
            connect(f"{server.ws_url}?token={token}", open_timeout=20)
        )
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()
        self.wait_for(lambda m: m["type"] == "welcome")

    def read(self) -> None:
        try:
            for text in self.socket:
                with self.changed:
                    self.messages.append(json.loads(text))
                    self.changed.notify_all()
        except ConnectionClosed as closed:
            with self.changed:
                self.closed_with = closed.rcvd.code if closed.rcvd else 1006
                self.changed.notify_all()
        except BaseException as error:
            with self.changed:
                self.failure = error
                self.changed.notify_all()

    def wait_for(self, found: Any, after: int = 0) -> dict[str, Any]:
        """The first message from index ``after`` on that ``found`` accepts."""
        with self.changed:

            def match() -> dict[str, Any] | None:
                if self.failure is not None:
                    raise self.failure
                return next((m for m in self.messages[after:] if found(m)), None)

            if not self.changed.wait_for(
                lambda: match() is not None or self.closed_with is not None,
                timeout=DEADLINE,
            ):
                raise AssertionError(f"{self.topic}: no message came in time")
            message = match()
            if message is None:
                raise AssertionError(f"closed with {self.closed_with} first")
            return message

    def wait_closed(self) -> int:
        with self.changed:
            assert self.changed.wait_for(
                lambda: self.closed_with is not None, timeout=DEADLINE
            ), "the connection stayed open"
            return self.closed_with

    def follows(self) -> bool:
        """Whether its last answer about the topic was a yes."""
        for message in reversed(self.messages):
            if message["type"] == "subscribed" and self.topic in message["topics"]:
                return True
            if message["type"] == "error" and message.get("topic") == self.topic:
                return False
        return False

    def subscribe(self) -> bool:
        """Ask for the topic; whether the server accepted it."""
        mark = len(self.messages)
        self.socket.send(json.dumps({"type": "subscribe", "topics": [self.topic]}))
        self.wait_for(lambda m: m["type"] == "subscribed", after=mark)
        return self.follows()

    def events(self) -> list[dict[str, Any]]:
        with self.changed:
            return [m for m in self.messages if m["type"] == "event"]

    def close(self) -> None:
        self.stack.close()
        self.thread.join(10)


@dataclass
class World:
    server: Server
    site: Site
    apis: dict[str, Api] = field(default_factory=dict)

    def shell(self, code: str) -> str:
        return self.site.manage("shell", "-c", code)

    def login(self, user: str) -> Api:
        password = PASSWORDS.get(user)
        self.apis[user] = Api.login(self.server.http_url, user, password)
        return self.apis[user]


@pytest.fixture(scope="module")
def world(tmp_path_factory, shared_redis_url) -> Iterator[World]:
    """A site on the shared Redis: changes made in ``manage.py shell`` (the
    admin's stand-in here) must reach the server, which the in-memory layer
    cannot do."""
    tmp_path = tmp_path_factory.mktemp("access")
    site = make_site(tmp_path, shared_redis_url)
    server = Server(site, tmp_path / "server.log", kind="uvicorn").start()
    world = World(server, site)
    world.shell(
        "from django.contrib.auth import get_user_model; U = get_user_model(); "
        + "; ".join(
            f"U.objects.create_user({name!r}, password={password!r})"
            for name, password in PASSWORDS.items()
        )
    )
    for user in ("alice", *GUESTS):
        world.login(user)
    yield world
    server.stop()
    drop_site(site)


def test_nobody_receives_what_rest_refuses_them_at_that_step(world: World):
    class AccessMachine(RuleBasedStateMachine):
        @initialize()
        def open_list(self) -> None:
            for user in ("alice", *GUESTS):  # tokens as they are now
                world.login(user)
            world.shell(
                "from django.contrib.auth import get_user_model; "
                "get_user_model().objects.filter(username__in="
                f"{list(GUESTS)!r}).update(is_staff=False)"
            )
            alice = world.apis["alice"]
            self.family = alice.post("/api/families/", json={"name": "random"})["id"]
            self.list_id = alice.post(
                "/api/gift-lists/", json={"family": self.family, "title": "s0"}
            )["id"]
            self.topic = f"gift-list:{self.list_id}"
            self.access = Access(frozenset({"alice"}), frozenset(), "alice")
            self.windows: list[Window] = []
            self.step = 0
            self.gifts: list[int] = []
            self.followers = {
                user: Follower(world.server, world.apis[user].token, self.topic)
                for user in ("alice", *GUESTS)
            }
            self.settle()

        # -- who may see the list ------------------------------------------

        @rule(user=st.sampled_from(GUESTS))
        def join(self, user: str) -> None:
            if user in self.access.members:
                return
            world.apis["alice"].invite_and_accept(self.family, world.apis[user])
            self.change(members=self.access.members | {user})

        @rule(user=st.sampled_from(GUESTS))
        def leave(self, user: str) -> None:
            if user not in self.access.members or user == self.access.owner:
                return
            me = world.apis[user].get("/api/families/")["results"]
            assert any(f["id"] == self.family for f in me)
            user_id = self.user_id(user)
            world.apis[user].call(
                "DELETE", f"/api/families/{self.family}/members/{user_id}/", expect=204
            )
            self.change(members=self.access.members - {user})

        @rule(user=st.sampled_from(GUESTS))
        def toggle_staff(self, user: str) -> None:
            staff = user not in self.access.staff
            world.shell(
                "from django.contrib.auth import get_user_model; "
                f"u = get_user_model().objects.get(username={user!r}); "
                f"u.is_staff = {staff}; u.save()"
            )
            self.change(staff=self.access.staff ^ {user})

        @rule(user=st.sampled_from(GUESTS))
        def hand_over(self, user: str) -> None:
            """The list gets a new owner (in the admin, say): the old and the
            new owner's views change, and each is told to refetch."""
            old = self.access.owner
            if user not in self.access.members or user == old:
                return
            marks = {name: len(self.followers[name].messages) for name in (old, user)}
            self.step += 1
            self.access = Access(self.access.members, self.access.staff, user)
            with self.window():
                world.shell(
                    "from django.contrib.auth import get_user_model; "
                    "from giftlists.models import GiftList; "
                    f"gift_list = GiftList.objects.get(pk={self.list_id}); "
                    "gift_list.owner = get_user_model().objects.get("
                    f"username={user!r}); gift_list.title = 's{self.step}'; "
                    "gift_list.save()"
                )
            for name, mark in marks.items():
                if self.access.reads(name):
                    self.followers[name].wait_for(
                        lambda m: (
                            m["type"] == "subscribed" and m.get("recovered") is False
                        ),
                        after=mark,
                    )

        @rule(user=st.sampled_from(GUESTS))
        def rotate_token(self, user: str) -> None:
            world.shell(
                "from rest_framework.authtoken.models import Token; "
                f"Token.objects.filter(user__username={user!r}).delete()"
            )
            old = self.followers[user]
            assert old.wait_closed() == 4401  # what the old token opened ends
            old.close()
            api = world.login(user)  # a new token
            self.followers[user] = Follower(world.server, api.token, self.topic)
            self.settle()

        # -- changes to the list ---------------------------------------------

        @rule()
        def add_gift(self) -> None:
            self.step += 1
            with self.window():
                gift = world.apis[self.access.owner].post(
                    "/api/gifts/",
                    json={"list": self.list_id, "title": f"s{self.step}"},
                )
            self.gifts.append(gift["id"])
            self.readers_get(
                lambda m: m["data"]["payload"].get("title") == gift["title"]
            )

        @rule(who=st.integers(0, 10), which=st.integers(0, 100))
        def claim(self, who: int, which: int) -> None:
            claimers = sorted(self.access.members - {self.access.owner})
            if not self.gifts or not claimers:
                return
            user = claimers[who % len(claimers)]
            gift = self.gifts[which % len(self.gifts)]
            with self.window():
                response = world.apis[user].client.post(f"/api/gifts/{gift}/claim/")
            assert response.status_code in (200, 409), response.text
            if response.status_code == 200:
                self.readers_get(
                    lambda m: (
                        m["event"] == "STATUS_CHANGED"
                        and m["data"]["entity_id"] == str(gift)
                    ),
                    but_not=self.access.owner,
                )

        @rule()
        def rename_list(self) -> None:
            self.step += 1
            title = f"s{self.step}"
            with self.window():
                world.apis[self.access.owner].patch(
                    f"/api/gift-lists/{self.list_id}/", json={"title": title}
                )
            self.readers_get(lambda m: m["data"]["payload"].get("title") == title)

        # -- the model -------------------------------------------------------

        def user_id(self, user: str) -> int:
            members = world.apis["alice"].results(
                f"/api/families/{self.family}/members/"
            )
            return next(m["id"] for m in members if m["username"] == user)

        def change(self, **what: Any) -> None:
            self.access = Access(
                members=what.get("members", self.access.members),
                staff=what.get("staff", self.access.staff),
                owner=what.get("owner", self.access.owner),
            )
            self.settle()

        def settle(self) -> None:
            """Wait until every connection follows the list exactly when REST
            lets its user read it (the server drops a revoked one by itself;
            a client asks again once it may)."""
            for user, follower in self.followers.items():
                allowed = self.access.reads(user)
                if follower.follows() and not allowed:
                    follower.wait_for(
                        lambda m: (
                            m["type"] == "error"
                            and m.get("topic") == self.topic
                            and m["code"] == "forbidden"
                        )
                    )
                elif not follower.follows():
                    assert follower.subscribe() == allowed, (user, self.access)

        @contextmanager
        def window(self) -> Iterator[None]:
            """Time one change of the list: its events are stamped within it."""
            start = now()
            yield
            self.windows.append(Window(start, now(), self.access))

        def readers_get(self, found: Any, but_not: str | None = None) -> None:
            """Every user who may read the list (but ``but_not``) gets it."""
            for user, follower in self.followers.items():
                if self.access.reads(user) and user != but_not:
                    follower.wait_for(lambda m: m["type"] == "event" and found(m))

        @invariant()
        def nobody_saw_what_they_could_not_read(self) -> None:
            """Each event came from a change made while its user could read
            the list, and shows a gift to that change's owner unclaimed."""
            for user, follower in getattr(self, "followers", {}).items():
                for event in follower.events():
                    at = stamp(event)
                    window = next(
                        (w for w in self.windows if w.start <= at <= w.end), None
                    )
                    assert window is not None, ("from no change", user, event)
                    assert window.access.reads(user), (user, event, window)
                    if user != window.access.owner:
                        continue
                    payload = event["data"]["payload"]
                    assert event["event"] != "STATUS_CHANGED", (user, event)
                    if event["data"]["entity_type"] == "gift":
                        assert payload["status"] == "wanted", (user, event)
                        for name in CLAIMED_FIELDS:
                            assert payload.get(name) is None, (user, event)

        def teardown(self) -> None:
            for follower in getattr(self, "followers", {}).values():
                follower.close()

    AccessMachine.TestCase.settings = settings(
        max_examples=6,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    AccessMachine.TestCase().runTest()
    assert httpx.get(f"{world.server.http_url}/healthz", timeout=10).status_code == 200
