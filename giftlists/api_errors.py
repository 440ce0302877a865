"""How domain errors become HTTP responses.

=============================  ====  =====================================
exception                      HTTP  body
=============================  ====  =====================================
``TransitionNotAllowed``       409   ``{"detail": ..., "code": ...}``
``NotPermitted``              403   ``{"detail": ..., "code": ...}``
other ``DomainError``          400   ``{"detail": ..., "code": ...}``
Django ``ValidationError``     400   DRF-style field errors
=============================  ====  =====================================
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response

from .exceptions import DomainError, NotPermitted, TransitionNotAllowed


def status_for(exc: DomainError) -> int:
    """The HTTP status code a domain error is answered with."""
    if isinstance(exc, TransitionNotAllowed):
        return status.HTTP_409_CONFLICT
    if isinstance(exc, NotPermitted):
        return status.HTTP_403_FORBIDDEN
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
