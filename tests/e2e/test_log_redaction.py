"""Tokens never reach the logs: a real server's captured output is grepped for
the credentials a client put in its URLs. (uvicorn with its access log on, as
``make serve`` runs it; daphne as the tests and ``runserver`` run it.)"""

import httpx
import pytest

from .api import Api
from .servers import Server
from .wsclient import WsClient


@pytest.mark.parametrize("kind", ["uvicorn", "daphne"])
async def test_tokens_in_urls_are_redacted_from_server_logs(site, tmp_path, kind):
    server = Server(site, tmp_path / f"{kind}.log", kind=kind, access_log=True).start()
    try:
        bob = Api.login(server.http_url, "bob")
        ticket = bob.post("/api/realtime/ticket/")["ticket"]
        for credential in (bob.token, ticket):
            socket = await WsClient.open(server.ws_url, credential)
            await socket.welcome()
            await socket.send({"type": "subscribe", "topics": ["no good"]})
            await socket.receive_until("subscribed")
            await socket.close()
        if kind == "uvicorn":
            # No client of this API sends a token in an HTTP query string, but
            # one that did must not leak it either. (Daphne writes its access
            # log around Python logging; its WebSocket lines carry no query.)
            httpx.get(f"{server.http_url}/api/families/?token={bob.token}", timeout=10)
        # A refused token is logged by the consumer path too: still redacted.
        refused = await WsClient.open(server.ws_url, bob.token[:-4] + "0000")
        assert (await refused.receive())["code"] == "unauthenticated"
    finally:
        server.stop()
    log = server.log()
    for secret in (bob.token, ticket, bob.token[:-4] + "0000"):
        assert secret not in log
    if kind == "uvicorn":  # its access log names every request, query included
        assert "/ws/?token=[redacted]" in log
        assert "/api/families/?token=[redacted]" in log
