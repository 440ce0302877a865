"""Invalid input gets a 400 with DRF field errors, and writes nothing."""

import pytest

from .helpers import snapshot

TOO_BIG_ID = 2**63  # one past the largest 64-bit primary key


def gift_body(w, **overrides):
    return {"list": w["list"].pk, "title": "Kite"} | overrides


@pytest.fixture
def w(gift_list, other_list, wanted_gift, family, other_family):
    return {
        "list": gift_list,
        "other_list": other_list,
        "gift": wanted_gift,
        "family": family,
        "other_family": other_family,
    }


BAD_GIFTS = {
    "price not a number": ({"price": "abc"}, "price"),
    "negative price": ({"price": "-1.00"}, "price"),
    "price too large": ({"price": "123456789.00"}, "price"),
    "price too precise": ({"price": "1.234"}, "price"),
    "empty title": ({"title": ""}, "title"),
    "blank title": ({"title": "   "}, "title"),
    "title too long": ({"title": "x" * 201}, "title"),
    "title with NUL": ({"title": "a\x00b"}, "title"),
    "notes with NUL": ({"notes": "a\x00b"}, "notes"),
    "invalid url": ({"url": "not a url"}, "url"),
    "url too long": ({"url": "https://example.com/" + "a" * 500}, "url"),
    "list not an id": ({"list": "abc"}, "list"),
    "list does not exist": ({"list": 987654321}, "list"),
    "list id out of range": ({"list": TOO_BIG_ID}, "list"),
    "list null": ({"list": None}, "list"),
    "title a list": ({"title": ["a", "b"]}, "title"),
}


@pytest.mark.parametrize("case", list(BAD_GIFTS))
def test_bad_gift_is_refused_with_a_field_error(api, bob, w, case):
    overrides, field = BAD_GIFTS[case]
    before = snapshot()

    response = api(bob).post("/api/gifts/", gift_body(w, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("missing", ["list", "title"])
def test_gift_without_a_required_field_is_refused(api, bob, w, missing):
    body = gift_body(w)
    del body[missing]
    before = snapshot()

    response = api(bob).post("/api/gifts/", body, format="json")

    assert response.status_code == 400
    assert missing in response.json()
    assert snapshot() == before


def test_gift_on_a_list_of_another_family_is_a_field_error(api, bob, w):
    before = snapshot()

    response = api(bob).post(
        "/api/gifts/", gift_body(w, list=w["other_list"].pk), format="json"
    )

    assert response.status_code == 400
    assert "list" in response.json()
    assert snapshot() == before


BAD_LIST_PATCHES = {
    "empty title": ({"title": ""}, "title"),
    "title too long": ({"title": "x" * 201}, "title"),
    "bad date": ({"occasion_date": "2026-13-45"}, "occasion_date"),
    "not a date": ({"occasion_date": "soon"}, "occasion_date"),
    "move to another family": (None, "family"),
}


@pytest.mark.parametrize("case", list(BAD_LIST_PATCHES))
def test_bad_gift_list_patch_is_refused(api, alice, w, case, carol):
    body, field = BAD_LIST_PATCHES[case]
    client = api(alice)
    if body is None:
        # Staff see every family, so the move is refused for being a move.
        client = api(carol)
        body = {"family": w["other_family"].pk}
    before = snapshot()

    response = client.patch(f"/api/gift-lists/{w['list'].pk}/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_gift_list_patch_may_repeat_its_family(api, alice, w):
    response = api(alice).patch(
        f"/api/gift-lists/{w['list'].pk}/",
        {"family": w["family"].pk, "title": "Alice at 40"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Alice at 40"


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Wedding"},
        {"family": "abc", "title": "Wedding"},
        {"family": None, "title": "Wedding"},
        {"family": "other", "title": "Wedding"},
        {"family": "own", "title": ""},
        {"family": "own", "title": "Wedding", "occasion_date": "31/12/2026"},
    ],
    ids=[
        "no family",
        "family not an id",
        "family null",
        "other family",
        "no title",
        "bad date",
    ],
)
def test_bad_gift_list_is_refused(api, bob, w, body):
    body = dict(body)
    if body.get("family") == "own":
        body["family"] = w["family"].pk
    elif body.get("family") == "other":
        body["family"] = w["other_family"].pk
    before = snapshot()

    response = api(bob).post("/api/gift-lists/", body, format="json")

    assert response.status_code == 400
    assert response.json()
    assert snapshot() == before


def test_moving_a_gift_to_another_list_is_refused(api, alice, family, w):
    from giftlists import services

    second = services.create_gift_list(alice, family, "Second")
    before = snapshot()

    response = api(alice).patch(
        f"/api/gifts/{w['gift'].pk}/", {"list": second.pk}, format="json"
    )

    assert response.status_code == 400
    assert "list" in response.json()
    assert snapshot() == before


def test_status_and_claimer_cannot_be_patched(api, alice, bob, w):
    response = api(alice).patch(
        f"/api/gifts/{w['gift'].pk}/",
        {"status": "purchased", "claimed_by": bob.pk, "title": "Box kite"},
        format="json",
    )

    assert response.status_code == 200
    w["gift"].refresh_from_db()
    assert w["gift"].title == "Box kite"
    assert (w["gift"].status, w["gift"].claimed_by) == ("wanted", None)


def test_bad_gift_patch_writes_nothing(api, alice, w):
    before = snapshot()

    response = api(alice).patch(
        f"/api/gifts/{w['gift'].pk}/",
        {"title": "New", "price": "abc"},
        format="json",
    )

    assert response.status_code == 400
    assert "price" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("name", ["", "x" * 121, None])
def test_bad_family_name_is_refused(api, bob, name):
    before = snapshot()

    response = api(bob).post("/api/families/", {"name": name}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()
    assert snapshot() == before


BAD_INVITATIONS = {
    "already a member": ({"username": "bob"}, "username"),
    "not a username": ({"username": "bob smith"}, "username"),
    "username too long": ({"username": "x" * 151}, "username"),
    "username a list": ({"username": ["bob"]}, "username"),
    "username with NUL": ({"username": "a\x00b"}, "username"),
    "body a list": (["bob"], "non_field_errors"),
}


@pytest.mark.parametrize("case", list(BAD_INVITATIONS))
def test_bad_invitation_is_a_field_error(api, alice, family, case):
    body, field = BAD_INVITATIONS[case]
    before = snapshot()

    response = api(alice).post(
        f"/api/families/{family.pk}/invitations/", body, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert snapshot() == before


def test_inviting_a_member_by_name_says_they_are_one(api, alice, family):
    response = api(alice).post(
        f"/api/families/{family.pk}/invitations/", {"username": "bob"}, format="json"
    )

    assert response.json() == {"username": ["bob is already a member of this family."]}


@pytest.mark.parametrize("token", ["nope", "x" * 500, "%E2%98%83", "a.b"])
def test_odd_invitation_tokens_are_a_404(api, dave, family, token):
    before = snapshot()

    response = api(dave).post(f"/api/invitations/{token}/accept/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "param"),
    [("/api/gifts/", "list"), ("/api/gift-lists/", "family")],
)
@pytest.mark.parametrize("value", ["abc", "-1", "0", "1.5", str(TOO_BIG_ID)])
def test_bad_filter_value_is_a_400_naming_the_parameter(api, bob, path, param, value):
    response = api(bob).get(path, {param: value})

    assert response.status_code == 400
    assert param in response.json()


def test_filters_select_one_list_or_family(api, bob, w, family):
    from giftlists import services

    services.create_gift_list(bob, family, "Bob's")
    client = api(bob)

    gifts = client.get("/api/gifts/", {"list": w["list"].pk}).json()["results"]
    lists = client.get("/api/gift-lists/", {"family": family.pk}).json()["results"]
    other = client.get("/api/gifts/", {"list": w["other_list"].pk}).json()

    assert [g["id"] for g in gifts] == [w["gift"].pk]
    assert {item["title"] for item in lists} == {"Alice's birthday", "Bob's"}
    assert other["count"] == 0


@pytest.mark.parametrize("pk", ["abc", "0", str(TOO_BIG_ID), "99999999999999999999"])
def test_odd_ids_in_the_path_are_404(api, bob, w, pk):
    assert api(bob).get(f"/api/gifts/{pk}/").status_code == 404
    assert api(bob).post(f"/api/gifts/{pk}/claim/").status_code == 404


def test_malformed_json_is_a_400(api, bob, w):
    before = snapshot()

    response = api(bob).post(
        "/api/gifts/", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert "detail" in response.json()
    assert snapshot() == before
