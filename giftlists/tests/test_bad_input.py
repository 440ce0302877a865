"""Input that is not what it looks like: ids in other scripts' digits, JSON
nested a thousand deep, lone surrogates. Each gets a 4xx and writes nothing."""

import pytest
from rest_framework.test import APIClient

from .helpers import snapshot

# "0123456789" in Arabic-Indic digits (U+0660 to U+0669).
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + n) for n in range(10)))
DEEP = "[" * 1000 + "]" * 1000


def foreign(pk: int) -> str:
    """An id in Arabic-Indic digits, which ``int()`` reads as the same number."""
    return str(pk).translate(ARABIC_INDIC)


@pytest.fixture
def w(gift_list, wanted_gift, family):
    return {"gift": wanted_gift, "list": gift_list, "family": family}


# -- digits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "key"),
    [
        ("/api/gifts/", "gift"),
        ("/api/gift-lists/", "list"),
        ("/api/families/", "family"),
    ],
)
def test_an_id_in_other_digits_names_nothing(api, alice, w, prefix, key):
    client = api(alice)
    pk = w[key].pk
    assert client.get(f"{prefix}{pk}/").status_code == 200
    assert client.get(f"{prefix}{foreign(pk)}/").status_code == 404
    assert client.get(f"{prefix}{pk}\N{ARABIC-INDIC DIGIT ONE}/").status_code == 404
    before = snapshot()
    assert client.patch(f"{prefix}{foreign(pk)}/", {}).status_code == 404
    assert snapshot() == before


def test_a_claim_through_other_digits_changes_nothing(api, bob, w):
    before = snapshot()
    response = api(bob).post(f"/api/gifts/{foreign(w['gift'].pk)}/claim/")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "param", "key"),
    [("/api/gifts/", "list", "list"), ("/api/gift-lists/", "family", "family")],
)
def test_a_filter_in_other_digits_is_a_400(api, bob, w, path, param, key):
    client = api(bob)
    assert client.get(path, {param: w[key].pk}).status_code == 200
    for value in (
        foreign(w[key].pk),
        f"{w[key].pk}\N{SUPERSCRIPT TWO}",
        "\N{SUPERSCRIPT THREE}",
    ):
        response = client.get(path, {param: value})
        assert response.status_code == 400
        assert param in response.json()


def test_a_body_id_in_other_digits_is_a_field_error(api, bob, w):
    before = snapshot()
    body = {"list": foreign(w["list"].pk), "title": "Kite"}
    response = api(bob).post("/api/gifts/", body, format="json")
    assert response.status_code == 400
    assert "list" in response.json()
    assert snapshot() == before
    ok = api(bob).post("/api/gifts/", body | {"list": str(w["list"].pk)}, format="json")
    assert ok.status_code == 201


# -- JSON -------------------------------------------------------------------------


def json_post(client: APIClient, path: str, body: str, method: str = "post"):
    return getattr(client, method)(path, data=body, content_type="application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/families/"),
        ("patch", "/api/families/{family}/"),
        ("post", "/api/families/{family}/invitations/"),
        ("post", "/api/gift-lists/"),
        ("patch", "/api/gift-lists/{list}/"),
        ("post", "/api/gifts/"),
        ("patch", "/api/gifts/{gift}/"),
    ],
)
@pytest.mark.parametrize(
    ("body", "reason"),
    [(DEEP, "deeper than 32"), ('{"name": "\\ud800", "title": "x"}', "surrogate")],
)
def test_json_the_api_refuses_is_a_400_not_a_500(
    api, alice, w, method, path, body, reason
):
    before = snapshot()
    path = path.format(**{key: value.pk for key, value in w.items()})
    response = json_post(api(alice), path, body, method)
    assert response.status_code == 400, response.content
    assert reason in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DEEP, "deeper than 32"),
        ('{"username": "\\ud800", "password": "x"}', "surrogate"),
    ],
)
def test_the_anonymous_token_endpoint_refuses_bad_json_with_a_400(alice, body, reason):
    response = json_post(APIClient(), "/api/auth/token/", body)
    assert response.status_code == 400, response.content
    assert reason in response.json()["detail"]


def test_json_within_the_depth_limit_is_read(api, alice):
    body = '{"name": "Deep", "x": ' + "[" * 31 + "]" * 31 + "}"  # 32 levels
    assert json_post(api(alice), "/api/families/", body).status_code == 201


# -- session cookies -----------------------------------------------------------------

# A quoted cookie spells any byte in octal: Django reads this key as "abcdefgh\0",
# which PostgreSQL refuses in a query.
NUL_SESSION = 'sessionid="abcdefgh\\000"'


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/families/", 401),
        ("/api/realtime/events/?topics=family:1", 401),
        ("/", 302),
    ],
)
def test_a_session_key_holding_a_nul_is_no_session(db, path, status):
    """It was a 500 on every page on PostgreSQL; now the visitor is signed out."""
    response = APIClient().get(path, HTTP_COOKIE=NUL_SESSION)
    assert response.status_code == status
