"""A JSON parser for DRF that refuses what the WebSocket refuses: nesting deeper
than ``MAX_JSON_DEPTH`` and lone surrogates, with a 400 instead of a 500.

DRF's own ``JSONParser`` lets ``RecursionError`` escape (a body of a thousand
``[`` is a 500 on every endpoint, sign-in included). The realtime API views use
this parser whatever the project's settings; a project can make it its default::

    REST_FRAMEWORK = {
        "DEFAULT_PARSER_CLASSES": [
            "realtime.transports.parsers.BoundedJSONParser",
            "rest_framework.parsers.FormParser",
            "rest_framework.parsers.MultiPartParser",
        ],
    }
"""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from realtime.conf import realtime_settings
from realtime.protocol import json_input


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing deep nesting and lone surrogates (400)."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        depth = realtime_settings.MAX_JSON_DEPTH
        try:
            value = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON parse error - {json_input.too_deep(depth)}"
            ) from None
        try:
            json_input.check(value, depth)
        except json_input.JsonRefused as refused:
            raise ParseError(f"JSON parse error - {refused}") from None
        return value


#: The parsers of the realtime API views: DRF's defaults, with bounded JSON.
PARSER_CLASSES = [BoundedJSONParser, FormParser, MultiPartParser]
