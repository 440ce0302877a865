"""The WebSocket endpoint against real uvicorn and daphne processes over real
sockets."""

import json
import re
from html.parser import HTMLParser

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from .api import DEMO_PASSWORDS, Api
from .wsclient import WsClient


class FormFields(HTMLParser):
    """The fields a browser would submit from a page's main form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "checkbox"}:
            self.fields[name] = attrs.get("value") or ""
        elif tag == "input" and name and "checked" in attrs:
            self.fields[name] = attrs.get("value") or "on"
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def admin_session(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)
    client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/",
        data={
            "username": "carol",
            "password": DEMO_PASSWORDS["carol"],
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        headers={"Referer": f"{base_url}/admin/login/"},
    )
    assert response.status_code == 200 and "Log out" in response.text
    return client


async def test_admin_edit_reaches_two_open_sockets(server):
    """The README's two-terminal story: an admin edit arrives on both sockets."""
    bob = Api.login(server.http_url, "bob")
    carol = Api.login(server.http_url, "carol")
    alices_list = bob.list_id("Alice's birthday")
    gift = bob.results(f"/api/gifts/?list={alices_list}")[0]
    sockets = [await WsClient.open(server.ws_url, api.token) for api in (bob, carol)]
    carol_id = None
    for socket in sockets:
        carol_id = (await socket.welcome())["user_id"]  # carol's is the last
        reply = await socket.subscribe(f"gift-list:{alices_list}")
        assert reply["topics"] == [f"gift-list:{alices_list}"]

    admin = admin_session(server.http_url)
    page = admin.get(f"/admin/giftlists/gift/{gift['id']}/change/")
    form = FormFields()
    form.feed(page.text)
    fields = {**form.fields, "title": "Renamed in the admin"}
    response = admin.post(
        f"/admin/giftlists/gift/{gift['id']}/change/",
        data=fields,
        headers={"Referer": str(page.url)},
    )
    assert response.status_code == 200 and "was changed successfully" in response.text

    for socket in sockets:
        (event,) = await socket.events(1)
        assert event["event"] == "UPDATED"
        assert event["data"]["entity_id"] == str(gift["id"])
        assert event["data"]["payload"]["title"] == "Renamed in the admin"
        assert event["data"]["user_id"] == carol_id  # the admin who edited
        assert re.fullmatch(r"[0-9a-f]{32}", event["trace_id"])
        await socket.close()


async def test_rest_change_carries_the_callers_trace_id(server):
    bob = Api.login(server.http_url, "bob")
    bobs_list = bob.list_id("Bob's holidays")
    socket = await WsClient.open(server.ws_url, bob.token)
    await socket.welcome()
    await socket.subscribe(f"gift-list:{bobs_list}")
    trace = "0af7651916cd43dd8448eb211c80319c"
    bob.post(
        "/api/gifts/",
        json={"list": bobs_list, "title": "Traced gift"},
        headers={"traceparent": f"00-{trace}-b7ad6b7169203331-01"},
    )
    (event,) = await socket.events(1)
    assert (event["event"], event["trace_id"]) == ("ADDED", trace)
    await socket.close()


async def test_change_from_another_process_reaches_the_socket(server):
    """A change made in ``manage.py shell`` (another process) is delivered too:
    live on Redis, and on the one-process in-memory layer through gap repair
    from the log at the next live event."""
    bob = Api.login(server.http_url, "bob")
    bobs_list = bob.list_id("Bob's holidays")
    socket = await WsClient.open(server.ws_url, bob.token)
    await socket.welcome()
    await socket.subscribe(f"gift-list:{bobs_list}")
    server.site.manage(
        "shell",
        "-c",
        "from giftlists.models import Gift; "
        f"Gift.objects.create(list_id={bobs_list}, title='Made in a shell')",
    )
    bob.post("/api/gifts/", json={"list": bobs_list, "title": "Made over REST"})
    events = await socket.events(2)
    assert [e["data"]["payload"]["title"] for e in events] == [
        "Made in a shell",
        "Made over REST",
    ]
    assert events[1]["seq"] == events[0]["seq"] + 1
    assert events[0]["trace_id"] is None  # no request made that change
    await socket.close()


async def test_oversized_and_binary_frames_over_a_real_socket(server):
    bob = Api.login(server.http_url, "bob")
    socket = await WsClient.open(server.ws_url, bob.token, max_size=None)
    await socket.welcome()
    await socket.connection.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
    assert (await socket.receive())["code"] == "message_too_large"
    await socket.connection.send(b"\x00binary")
    assert (await socket.receive())["code"] == "invalid_json"
    await socket.send({"type": "ping", "id": 1})
    assert (await socket.receive())["type"] == "pong"
    await socket.close()


async def test_first_message_auth_and_bad_token_close_code(server):
    bob = Api.login(server.http_url, "bob")
    socket = await WsClient.open(server.ws_url)
    await socket.send({"type": "auth", "token": bob.token, "id": 1})
    assert (await socket.welcome())["id"] == 1
    await socket.close()

    refused = await WsClient.open(server.ws_url, "wrong-token")
    assert (await refused.receive())["code"] == "unauthenticated"
    with pytest.raises(ConnectionClosed):
        await refused.receive()
    assert refused.connection.close_code == 4401
