"""A small REST client for end-to-end tests (token auth over real HTTP)."""

from typing import Any

import httpx

DEMO_PASSWORDS = {
    "alice": "giftlists-alice",
    "bob": "giftlists-bob",
    "carol": "giftlists-carol",
}


class Api:
    """Calls the REST API of a running server as one user."""

    def __init__(self, base_url: str, token: str) -> None:
        self.token = token
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=30
        )

    @classmethod
    def login(cls, base_url: str, username: str, password: str | None = None) -> "Api":
        response = httpx.post(
            f"{base_url}/api/auth/token/",
            data={
                "username": username,
                "password": password or DEMO_PASSWORDS[username],
            },
            timeout=30,
        )
        response.raise_for_status()
        return cls(base_url, response.json()["token"])

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == expect, (response.status_code, response.text)
        return response.json() if response.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, expect: int = 201, **kwargs: Any) -> Any:
        return self.call("POST", path, expect=expect, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.call("PATCH", path, **kwargs)

    def results(self, path: str) -> list[dict[str, Any]]:
        """All rows of a paginated list endpoint's first page."""
        return self.get(path)["results"]

    def invite_and_accept(self, family_id: int, guest: "Api") -> None:
        """Invite ``guest`` to the family by link and have them accept: they
        belong to it afterwards (201 on joining, 200 if they still did)."""
        token = self.post(f"/api/families/{family_id}/invitations/")["token"]
        response = guest.client.post(f"/api/invitations/{token}/accept/")
        assert response.status_code in (200, 201), response.text

    def list_id(self, title: str) -> int:
        """The id of the gift list with this title (the demo's are unique)."""
        return next(
            row["id"]
            for row in self.results("/api/gift-lists/")
            if row["title"] == title
        )
