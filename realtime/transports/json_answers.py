"""The realtime API views (polling, tickets) answer every refusal in JSON with
a ``code``, whatever the request's ``Accept`` or ``?format=`` asks for and
whatever DRF exception refused it: a browser's ``text/html`` would otherwise
get DRF's HTML page, ``text/event-stream`` a 406 and ``?format=xml`` a 404."""

from typing import Any

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from realtime.protocol import codes
from realtime.transports.http import Refusal

# DRF's refusals and the code each answers with (docs/fallbacks.md, "Refusals").
CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, codes.UNAUTHENTICATED),
    (exceptions.AuthenticationFailed, codes.UNAUTHENTICATED),
    (exceptions.PermissionDenied, codes.FORBIDDEN),
    (exceptions.MethodNotAllowed, codes.METHOD_NOT_ALLOWED),
    (exceptions.ParseError, codes.INVALID_JSON),
    (exceptions.UnsupportedMediaType, codes.INVALID_MESSAGE),
    (exceptions.Throttled, codes.RATE_LIMITED),
]


class JsonAnswers(DefaultContentNegotiation):
    """Every answer in JSON, whatever ``Accept`` or ``?format=`` asks."""

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class JsonRefusals:
    """Mixed into an ``APIView``: JSON only, and each DRF refusal with its code."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonAnswers

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)  # type: ignore[misc]
        for kind, code in CODES:
            if isinstance(exc, kind):
                detail = str(exc.detail)
                response.data = Refusal(response.status_code, code, detail).body()
                break
        return response
