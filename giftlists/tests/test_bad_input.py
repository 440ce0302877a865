"""Input that is not what it looks like: JSON nested a thousand deep, lone
surrogates. Each gets a 4xx and writes nothing."""

import pytest
from rest_framework.test import APIClient

from .helpers import snapshot

DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def w(gift_list, wanted_gift, family):
    return {"gift": wanted_gift, "list": gift_list, "family": family}


# -- JSON -------------------------------------------------------------------------


def json_post(client: APIClient, path: str, body: str, method: str = "post"):
    return getattr(client, method)(path, data=body, content_type="application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/families/"),
        ("patch", "/api/families/{family}/"),
        ("post", "/api/families/{family}/members/"),
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
