"""How the realtime HTTP endpoints (polling, tickets) authenticate, whatever the
project's ``REST_FRAMEWORK`` settings say: ``Authorization: Token <token>``
through the realtime token backend (DRF tokens and tickets), else the session
(with DRF's CSRF check for unsafe methods). The SSE stream does the same."""

from typing import Any

from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from realtime.auth.credentials import Authenticated, authenticate_token_sync

TOKEN_KEYWORD = "Token"  # noqa: S105 (the scheme name, not a secret)


class RealtimeTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>``, checked by ``TOKEN_AUTHENTICATOR``."""

    def authenticate(self, request: Request) -> tuple[Any, Authenticated] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != TOKEN_KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid token header.")
        try:
            token = parts[1].decode()
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        found = authenticate_token_sync(token)
        if found is None:
            raise AuthenticationFailed("Invalid token.")
        return found.user, found  # request.auth: what the request stands on

    def authenticate_header(self, request: Request) -> str:
        return TOKEN_KEYWORD


class RealtimeAuthMixin:
    """The authentication and permission of every realtime API view."""

    authentication_classes = [RealtimeTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
