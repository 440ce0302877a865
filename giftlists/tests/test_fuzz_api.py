"""Fuzzing every write of the REST API: random JSON, near-valid bodies with
any field replaced, text that is not JSON, wrong content types and charsets,
query strings, ids and tokens in paths. Every request gets a status the API
documents (2xx, 400, 401, 403, 404, 405, 409, 410, 415, 429) with a JSON body,
never a 500, and a refused request writes nothing: no domain row and no event.

The examples are derandomized (seeded by the test's source, no example
database), so every run tries the same requests. 300 of them keep this module
to 4 to 8 seconds per pass on a busy 2-core machine; raise them for a deeper
search (``HYPOTHESIS_FUZZ_SCALE=10``: ten times as many).
"""

import json
import logging
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from channels.testing import HttpCommunicator
from django.core.cache import cache
from django.db import transaction
from django.test import Client as DjangoClient
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.asgi import application
from giftlists import services
from giftlists.models import Invitation
from realtime.models import Event

from .helpers import snapshot

SCALE = int(os.environ.get("HYPOTHESIS_FUZZ_SCALE", "1"))

# What a write may be answered with (docs/operations.md, "Limits and
# refusals"; giftlists/api_errors.py).
DOCUMENTED = {200, 201, 204, 400, 401, 403, 404, 405, 409, 410, 415, 429}


class Rollback(Exception):
    """Ends an example's transaction: every example starts from the fixtures."""


class ServerLog(logging.Handler):
    """Tracebacks and errors logged while a request is served."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.bad.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def server_log() -> Iterator[ServerLog]:
    handler = ServerLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


# -- the world every example starts from ------------------------------------------


@pytest.fixture
def world(
    alice, bob, carol, dave, family, other_family, gift_list, other_list,
    wanted_gift, claimed_gift, purchased_gift,
) -> dict[str, Any]:  # fmt: skip
    """Names for the rows and people the generated requests refer to."""
    _, invitation = services.create_invitation(alice, family)
    _, for_dave = services.create_invitation(alice, family, "dave")
    old, expired = services.create_invitation(alice, family)
    Invitation.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    http = DjangoClient()
    http.force_login(bob)
    return {
        "users": {"alice": alice, "bob": bob, "carol": carol, "dave": dave},
        "ids": {
            "family": family.pk,
            "other_family": other_family.pk,
            "list": gift_list.pk,
            "other_list": other_list.pk,
            "gift": wanted_gift.pk,
            "claimed": claimed_gift.pk,
            "purchased": purchased_gift.pk,
            "alice": alice.pk,
            "bob": bob.pk,
            "dave": dave.pk,
        },
        "tokens": {"invitation": invitation, "for_dave": for_dave, "expired": expired},
        "api_token": Token.objects.create(user=bob).key,
        "session": http.cookies["sessionid"].value,
    }


# -- generated requests ------------------------------------------------------------

TRICKY = st.sampled_from(
    ["\u0663", "\u00b2", "\ud800", "\x00", "\n", "\u202e", "\U0001f381", "'", "%"]
)
texts = st.one_of(
    st.text(max_size=20),
    st.lists(TRICKY | st.text(max_size=3), max_size=6).map("".join),
    st.sampled_from([201, 5000]).map(lambda n: "x" * n),
    st.sampled_from([" ", ""]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**30])
    | st.floats()
    | texts,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3)
    ),
    max_leaves=8,
)
# A row's id as a client might write it: ours, someone else's, none, odd forms.
ROW_KEYS = ["family", "other_family", "list", "other_list", "gift", "claimed"]
ids = st.one_of(
    st.sampled_from(ROW_KEYS).map(lambda key: ("id", key)),
    st.sampled_from(ROW_KEYS).map(lambda key: ("str id", key)),
    st.sampled_from(
        [0, -1, 987654321, 2**63, "9" * 19, "\u0663", "1e3", "1.0", 1.0, "", True]
    ),
    json_values,
)
prices = st.one_of(
    st.sampled_from(
        ["12.50", "1e400", "NaN", "Infinity", "-1", "12345678901.23", "0x10", "1,5"]
    ),
    st.floats(),
    st.decimals(allow_nan=True).map(str),
    json_values,
)
dates = st.one_of(
    st.sampled_from(
        ["2026-12-24", "0000-01-01", "9999-12-31", "2026-02-30", "+12026-01-01", ""]
    ),
    st.dates().map(str),
    json_values,
)
urls = st.one_of(
    st.sampled_from(
        [
            "https://example.com/kite",
            "javascript:alert(1)",
            "http://" + "a" * 600 + ".com",
            "http://[::1",
            "http://exa mple.com",
            "https://\u0663.example",
        ]
    ),
    json_values,
)
FIELDS = {
    "name": texts | json_values,
    "title": texts | json_values,
    "family": ids,
    "list": ids,
    "occasion_date": dates,
    "url": urls,
    "price": prices,
    "notes": texts | json_values,
    "username": st.sampled_from(["dave", "bob", "nobody", "a b", "x" * 151])
    | texts
    | json_values,
    "password": st.sampled_from(["bob-password-1", "wrong"]) | texts | json_values,
    "status": st.sampled_from(["purchased", "claimed"]) | json_values,
    "claimed_by": ids,
    "owner": ids,
    "id": ids,
}
other_bodies = st.one_of(
    st.fixed_dictionaries({}, optional=FIELDS).map(lambda body: ("json", body)),
    json_values.map(lambda value: ("json", value)),
    st.binary(max_size=40).map(lambda data: ("bytes", data)),
    st.text(max_size=40).map(lambda text: ("text", text)),
    st.sampled_from([1, 31, 32, 33, 1000]).map(
        lambda depth: ("text", '{"title": ' + "[" * depth + "]" * depth + "}")
    ),
    st.just(("none", None)),
)
# Codecs Python knows that do not turn bytes into text.
NOT_TEXT = {"rot13", "base64"}
# Besides the body's own (JSON, form-encoded: None here).
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-16",
            "application/json; charset=latin-1",
            "application/json; charset=rot13",
            "application/json; charset=base64",
            "application/json; charset=nonsense",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "text/plain",
            "application/xml",
            "",
        ]
    ),
)
# Every write of the site, with a body it takes (near-valid bodies start there).
ENDPOINTS = {
    ("POST", "/api/families/"): {"name": "The Cousins"},
    ("PATCH", "/api/families/{family}/"): {"name": "The Testers"},
    ("POST", "/api/families/{family}/invitations/"): {"username": "dave"},
    ("DELETE", "/api/families/{family}/members/{user}/"): {},
    ("POST", "/api/invitations/{token}/accept/"): {},
    ("POST", "/api/gift-lists/"): {
        "family": ("id", "family"),
        "title": "Christmas",
        "occasion_date": "2026-12-24",
    },
    ("PATCH", "/api/gift-lists/{list}/"): {"title": "Birthday", "occasion_date": None},
    ("DELETE", "/api/gift-lists/{list}/"): {},
    ("POST", "/api/gifts/"): {
        "list": ("id", "list"),
        "title": "Kite",
        "url": "https://example.com/kite",
        "price": "12.50",
        "notes": "blue",
    },
    ("PATCH", "/api/gifts/{gift}/"): {"title": "Red kite", "price": None},
    ("DELETE", "/api/gifts/{gift}/"): {},
    ("POST", "/api/gifts/{gift}/claim/"): {},
    ("POST", "/api/gifts/{gift}/unclaim/"): {},
    ("POST", "/api/gifts/{gift}/purchase/"): {},
    ("POST", "/api/auth/token/"): {"username": "bob", "password": "bob-password-1"},
}


def mostly(common: str, *others: str) -> st.SearchStrategy:
    return st.sampled_from([common] * 3 + list(others))


path_values = {
    "family": mostly("family", "other_family", "0", "987654321", "9" * 19),
    "list": mostly("list", "other_list", "0", "987654321", "9" * 19),
    "gift": mostly("gift", "claimed", "purchased", "987654321", "9" * 19),
    "user": st.sampled_from(["alice", "bob", "dave", "0", "9" * 18]),
    "token": st.sampled_from(["invitation", "for_dave", "expired", "x" * 129])
    | texts.filter(lambda text: text and "/" not in text),
}
queries = st.one_of(
    st.just(""),
    st.just(""),
    st.builds(
        lambda name, value: f"{name}={quote(str(value), errors='surrogatepass')}",
        st.sampled_from(["family", "list", "format", "page"]),
        ids | texts,
    ),
    st.text(max_size=20).map(
        lambda text: quote(text, safe="=&", errors="surrogatepass")
    ),
)
# Members mostly (the deepest paths), and everyone else: staff, an outsider,
# no one, tokens and sessions good and bad.
OTHERS = ["carol", "dave", "anonymous", "token", "bad token", "session"]
who = st.sampled_from(["alice"] * 4 + ["bob"] * 4 + OTHERS + ["bad session", "nul"])


def served_as_the_site_serves_it(asked: dict[str, Any]) -> bool:
    """Not a non-text charset (``rot13``) with a query string: the test client
    speaks WSGI, whose request decodes the query's bytes with the body's
    charset before any view runs (a LookupError in Django). The site is
    served over ASGI, which answers that request 400
    (``test_an_unreadable_charset_is_a_400_over_asgi``)."""
    charset = (asked["content_type"] or "").partition("charset=")[2]
    return not (asked["query"] and charset in NOT_TEXT)


@st.composite
def near_valid(draw: Any, valid: dict[str, Any]) -> dict[str, Any]:
    """A body the endpoint takes, with a field or two dropped or replaced."""
    body = dict(valid)
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=2)):
        if name in body and draw(st.booleans()):
            del body[name]
        else:
            body[name] = draw(FIELDS[name])
    return body


@st.composite
def requests(draw: Any) -> dict[str, Any]:
    method, template = draw(st.sampled_from(sorted(ENDPOINTS)))
    valid = ENDPOINTS[method, template]
    if draw(st.integers(0, 9)) == 0:  # the wrong method now and then
        method = draw(st.sampled_from(["PUT", "GET", "PATCH", "POST", "DELETE"]))
    params = {
        name: draw(values)
        for name, values in path_values.items()
        if "{" + name + "}" in template
    }
    body = draw(
        st.one_of(
            near_valid(valid).map(lambda body: ("json", body)),
            near_valid(valid).map(lambda body: ("json", body)),
            near_valid(valid).map(lambda body: ("form", body)),
            other_bodies,
        )
    )
    return {
        "method": method,
        "template": template,
        "params": params,
        "query": draw(queries),
        "body": body,
        "content_type": draw(st.none() | st.none() | content_types),
        "who": draw(who),
    }


# -- turning a generated request into one ----------------------------------------


def resolve(value: Any, world: dict[str, Any]) -> Any:
    """Placeholders of generated values made into the fixtures' ids."""
    if isinstance(value, tuple):
        kind, key = value
        return world["ids"][key] if kind == "id" else str(world["ids"][key])
    if isinstance(value, dict):
        return {k: resolve(v, world) for k, v in value.items()}
    return value


def encoded(body: tuple[str, Any]) -> tuple[bytes, str]:
    """The body's bytes and its own content type."""
    kind, value = body
    if kind == "json":
        return json.dumps(value).encode(), "application/json"
    if kind == "form":
        pairs = [
            f"{quote(k, errors='surrogatepass')}={quote(str(v), errors='surrogatepass')}"
            for k, v in value.items()
        ]
        return "&".join(pairs).encode(), "application/x-www-form-urlencoded"
    if kind == "bytes":
        return value, "application/json"
    if kind == "text":
        return value.encode("utf-8", "surrogatepass"), "application/json"
    return b"", "application/json"


def client_for(who: str, world: dict[str, Any]) -> tuple[APIClient, dict[str, str]]:
    client, headers = APIClient(), {}
    if who in world["users"]:
        client.force_authenticate(world["users"][who])
    elif who == "token":
        headers["HTTP_AUTHORIZATION"] = f"Token {world['api_token']}"
    elif who == "bad token":
        headers["HTTP_AUTHORIZATION"] = "Token " + "0" * 40
    elif who == "session":
        headers["HTTP_COOKIE"] = f"sessionid={world['session']}"
    elif who == "bad session":
        headers["HTTP_COOKIE"] = "sessionid=abcdefghijkl"
    elif who == "nul":
        # Octal in a quoted cookie: Django reads it as a NUL in the key.
        headers["HTTP_COOKIE"] = 'sessionid="abcdefgh\\000"'
    return client, headers


def path_of(asked: dict[str, Any], world: dict[str, Any]) -> str:
    values = {}
    for name, value in asked["params"].items():
        if name == "token":
            value = world["tokens"].get(value, value)
        elif value in world["ids"]:
            value = world["ids"][value]
        values[name] = quote(str(value), safe="", errors="surrogatepass")
    return asked["template"].format(**values)


def written() -> tuple:
    """Every domain row and every logged event."""
    return snapshot(), list(Event.objects.order_by("pk").values_list())


@pytest.fixture
def alice_token(alice) -> str:
    return Token.objects.create(user=alice).key


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("charset", sorted(NOT_TEXT))
async def test_an_unreadable_charset_is_a_400_over_asgi(alice_token, charset):
    """What the fuzzing cannot ask through the WSGI test client: a body in a
    charset that is no text encoding, with a query string, to the site as it
    is served."""
    body = b'{"name": "The Cousins"}'
    communicator = HttpCommunicator(
        application,
        "POST",
        "/api/families/?a=%41",
        body=body,
        headers=[
            (b"host", b"localhost"),
            (b"authorization", f"Token {alice_token}".encode()),
            (b"content-type", f"application/json; charset={charset}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    )
    response = await communicator.get_response(timeout=10)
    await communicator.wait(10)  # the request's end closes its connection
    assert response["status"] == 400
    assert "charset" in json.loads(response["body"])["detail"]


# -- the property --------------------------------------------------------------------


@pytest.mark.django_db
@settings(
    max_examples=300 * SCALE,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    # The fixtures are built once and shared: each example rolls back.
    suppress_health_check=list(HealthCheck),
)
@given(asked=requests().filter(served_as_the_site_serves_it))
def test_every_write_gets_a_documented_answer_and_a_refusal_writes_nothing(
    world, server_log, asked
):
    server_log.bad.clear()
    cache.clear()  # throttles: each example starts with nothing counted
    client, headers = client_for(asked["who"], world)
    data, own_type = encoded((asked["body"][0], resolve(asked["body"][1], world)))
    content_type = asked["content_type"]
    if content_type is None:
        content_type = own_type
    try:
        with transaction.atomic():
            before = written()
            response = client.generic(
                asked["method"],
                path_of(asked, world),
                data,
                content_type=content_type,
                QUERY_STRING=asked["query"],
                **headers,
            )
            status = response.status_code
            event(f"answered {status}")  # --hypothesis-show-statistics
            assert status in DOCUMENTED, (status, response.content[:500])
            if status != 204:
                assert response["Content-Type"].startswith("application/json"), (
                    status,
                    response.content[:500],
                )
                response.json()
            if status >= 400:
                assert written() == before, f"a {status} wrote something"
            raise Rollback
    except Rollback:
        pass
    assert not server_log.bad, server_log.bad
