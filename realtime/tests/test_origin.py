"""The WebSocket handshake's Origin check compares scheme, host and port: the
request's own origin and CSRF_TRUSTED_ORIGINS pass, everything else is refused
before the socket opens; handshakes without an Origin are let through."""

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from realtime.testing import SocketClient
from realtime.tests.project.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def handshake(
    user, origin: str | None, host: str = "localhost:8000", scheme: str = "ws", **h
) -> bool:
    """Whether a handshake with these headers opens and is welcomed."""
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    headers += [(name.replace("_", "-").encode(), v.encode()) for name, v in h.items()]
    communicator = WebsocketCommunicator(
        application, f"/ws/?token={user.token}", headers=headers
    )
    communicator.scope["scheme"] = scheme  # what the server saw: ws or wss
    client = SocketClient(communicator)
    client.connected, _ = await communicator.connect()
    if client.connected:
        assert (await client.receive())["type"] == "welcome"
    await communicator.disconnect()
    return client.connected


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        ("http://localhost:8000", "localhost:8000", "ws"),
        ("https://localhost:8000", "localhost:8000", "wss"),
        ("http://localhost", "localhost", "ws"),
        ("https://127.0.0.1", "127.0.0.1", "wss"),
    ],
)
async def test_the_pages_own_origin_is_accepted(make_user, origin, host, scheme):
    assert await handshake(await make_user("ann"), origin, host, scheme)


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        # Another scheme: an http page may not use the https site's socket.
        ("https://localhost:8000", "localhost:8000", "ws"),
        ("http://localhost:8000", "localhost:8000", "wss"),
        # Another port: another site on the same machine.
        ("http://localhost:8001", "localhost:8000", "ws"),
        ("http://localhost", "localhost:8000", "ws"),
        ("http://localhost:8000", "localhost", "ws"),
        # Another host, though ALLOWED_HOSTS lists both.
        ("http://127.0.0.1:8000", "localhost:8000", "ws"),
        # A host that ALLOWED_HOSTS refuses, even as its own origin (a name
        # an attacker points at the server: DNS rebinding).
        ("http://evil.example", "evil.example", "ws"),
        ("null", "localhost:8000", "ws"),
        ("http://localhost:8000.evil.example", "localhost:8000", "ws"),
    ],
)
async def test_any_other_origin_is_refused(make_user, origin, host, scheme):
    assert not await handshake(await make_user("ann"), origin, host, scheme)


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
async def test_a_tls_proxy_named_by_secure_proxy_ssl_header_makes_it_https(
    make_user,
):
    user = await make_user("ann")
    https = "https://localhost:8000"
    assert await handshake(user, https, x_forwarded_proto="https")
    assert not await handshake(user, "http://localhost:8000", x_forwarded_proto="https")
    assert not await handshake(user, https, x_forwarded_proto="http")


@override_settings(
    CSRF_TRUSTED_ORIGINS=["https://app.example.com", "https://*.example.org"]
)
@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("https://app.example.com", True),
        ("https://shop.example.org", True),
        ("https://example.org", True),
        ("http://app.example.com", False),
        ("https://app.example.com:8443", False),
        ("http://shop.example.org", False),
        ("https://evilexample.org", False),
    ],
)
async def test_csrf_trusted_origins_are_accepted_as_django_reads_them(
    make_user, origin, accepted
):
    assert await handshake(await make_user("ann"), origin) is accepted


@pytest.mark.parametrize("host", ["localhost:8000", "evil.example"])
async def test_a_handshake_without_origin_is_let_through_to_authenticate(
    make_user, host
):
    assert await handshake(await make_user("ann"), None, host)
