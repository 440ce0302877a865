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


__all__ = ["OpenApiParameter", "OpenApiTypes", "extend_schema", "inline_serializer"]
