"""Tokens never reach the logs: uvicorn and daphne, launched by scripts/serve.py
as ``make serve`` launches them (DEBUG off, JSON logs) with their access logs
on, are sent credentials in URLs in every encoding a query parser accepts; the
captured output is then grepped for them. What writes them: each server's
access log, Django's request log (its ``request`` field shows the path and
query), the realtime consumer's lines."""

import json

import httpx
import pytest

from .api import Api
from .servers import Served
from .wsclient import WsClient


@pytest.mark.parametrize("kind", ["uvicorn", "daphne"])
async def test_credentials_in_urls_are_redacted_from_every_log_line(
    site, tmp_path, kind
):
    server = Served(site, tmp_path / f"{kind}.log", kind, ACCESS_LOG="1").start()
    try:
        bob = Api.login(server.http_url, "bob")
        ticket = bob.post("/api/realtime/ticket/")["ticket"]
        for credential in (bob.token, ticket):
            socket = await WsClient.open(server.ws_url, credential)
            await socket.welcome()
            await socket.send({"type": "subscribe", "topics": ["no good"]})
            await socket.receive_until("subscribed")
            await socket.close()
        # A percent-encoded name is "token" to the server, so it signs in...
        socket = await WsClient.open(f"{server.ws_url}?%74oken={bob.token}")
        await socket.welcome()
        await socket.close()
        # ...and so it must be redacted too. No client of this API sends a
        # token in an HTTP query string, but one that did must not leak it:
        # the access log and Django's request log (401, 404) both name the URL.
        for query in (
            f"token={bob.token}",
            f"%74oken={bob.token}",
            f"x=1&t%6Fken={bob.token}",
        ):
            httpx.get(f"{server.http_url}/api/families/?{query}", timeout=10)
            httpx.get(f"{server.http_url}/nowhere/?{query}", timeout=10)
        # A refused token is logged by the consumer path too: still redacted.
        refused = await WsClient.open(server.ws_url, bob.token[:-4] + "0000")
        assert (await refused.receive())["code"] == "unauthenticated"
    finally:
        server.stop()
    log = server.log()
    for secret in (bob.token, ticket, bob.token[:-4] + "0000"):
        assert secret not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    # Each writer was there, redacted: the access log...
    access = [line for line in lines if line["logger"] == f"{kind}.access"]
    assert any("/api/families/?token=[redacted]" in x["message"] for x in access)
    assert any("/nowhere/?%74oken=[redacted]" in x["message"] for x in access)
    if kind == "uvicorn":  # its handshake lines; daphne's carry no query
        assert any("/ws/?%74oken=[redacted]" in x["message"] for x in lines)
    # ...and Django's request log, whose request field shows the query.
    requests = [line for line in lines if line["logger"] == "django.request"]
    assert any("&t%6Fken=[redacted]" in line.get("request", "") for line in requests)
