"""OpenAPI descriptions of the realtime endpoints, when drf-spectacular is there.

drf-spectacular is optional (the ``openapi`` extra): without it the decorators
below leave the views as they are.
"""

from typing import Any

try:
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import (
        OpenApiParameter,
        extend_schema,
        inline_serializer,
    )
except ImportError:  # pragma: no cover - exercised by installs without the extra

    class OpenApiTypes:  # type: ignore[no-redef]
        """Placeholders for the types the views name."""

        STR = str
        OBJECT = dict

    def OpenApiParameter(*args: Any, **kwargs: Any) -> None:  # type: ignore[no-redef]
        return None

    def inline_serializer(*args: Any, **kwargs: Any) -> None:  # type: ignore[no-redef]
        return None

    def extend_schema(*args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]
        return lambda view: view


try:
    from drf_spectacular.extensions import OpenApiAuthenticationExtension
    from drf_spectacular.plumbing import build_bearer_security_scheme_object
except ImportError:  # pragma: no cover - exercised by installs without the extra
    pass
else:

    class RealtimeTokenScheme(OpenApiAuthenticationExtension):
        """``Authorization: Token <token>`` of the realtime API views, described
        as DRF's token authentication is."""

        target_class = "realtime.auth.drf.RealtimeTokenAuthentication"
        name = "realtimeTokenAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
            from realtime.auth.drf import TOKEN_KEYWORD

            return build_bearer_security_scheme_object(
                header_name="Authorization", token_prefix=TOKEN_KEYWORD
            )


__all__ = ["OpenApiParameter", "OpenApiTypes", "extend_schema", "inline_serializer"]
