"""How domain errors become HTTP responses.

=============================  ====  =====================================
exception                      HTTP  body
=============================  ====  =====================================
``TransitionNotAllowed``       409   ``{"detail": ..., "code": ...}``
``NotPermitted``               403   ``{"detail": ..., "code": ...}``
``InvitationNotFound``         404   ``{"detail": ..., "code": ...}``
``InvitationGone``             410   ``{"detail": ..., "code": ...}``
other ``DomainError``          400   ``{"detail": ..., "code": ...}``
Django ``ValidationError``     400   DRF-style field errors
=============================  ====  =====================================
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response

from .exceptions import (
    DomainError,
    InvitationGone,
    InvitationNotFound,
    NotPermitted,
    TransitionNotAllowed,
)

_STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (TransitionNotAllowed, status.HTTP_409_CONFLICT),
    (NotPermitted, status.HTTP_403_FORBIDDEN),
    (InvitationNotFound, status.HTTP_404_NOT_FOUND),
    (InvitationGone, status.HTTP_410_GONE),
]


def status_for(exc: DomainError) -> int:
    """The HTTP status code a domain error is answered with."""
    for error, code in _STATUS_BY_ERROR:
        if isinstance(exc, error):
            return code
    return status.HTTP_400_BAD_REQUEST


def response_for(exc: Exception) -> Response | None:
    """A response for a domain or Django validation error, else ``None``."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message, "code": exc.code}, status_for(exc))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {
                field: list(messages) for field, messages in exc.message_dict.items()
            }
        else:
            body = {"non_field_errors": list(exc.messages)}
        return Response(body, status.HTTP_400_BAD_REQUEST)
    return None


class DomainErrorsMixin:
    """Answers domain errors raised by services as ``response_for`` says."""

    def handle_exception(self, exc: Exception) -> Response:
        response = response_for(exc)
        if response is not None:
            return response
        return super().handle_exception(exc)  # type: ignore[misc]
