"""The polling endpoint: ``GET /api/realtime/events/?topics=...&cursor=...``.

The fallback of last resort for clients that can hold neither a WebSocket nor
an SSE stream. It authenticates as the REST API does, authorizes topics as the
WebSocket does, and reads the same log with the same cursor.
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime.auth.drf import RealtimeAuthMixin
from realtime.conf import realtime_settings
from realtime.log.pages import read_page
from realtime.ops.openapi import OpenApiParameter, OpenApiTypes, extend_schema
from realtime.transports.http import Refusal, authorize_all, parse_since, parse_topics
from realtime.transports.json_answers import JsonRefusals
from realtime.transports.parsers import PARSER_CLASSES


class EventsView(JsonRefusals, RealtimeAuthMixin, APIView):
    """The events after a cursor that the user may see, and the next cursor."""

    parser_classes = PARSER_CLASSES

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "topics",
                OpenApiTypes.STR,
                required=True,
                description="Comma-separated topics, e.g. gift-list:17,family:5",
            ),
            OpenApiParameter(
                "cursor",
                OpenApiTypes.STR,
                description="Resume after topic@seq,...; absent: start now",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        """``{"events", "cursor", "recovered", "more"}``, or a 4xx refusal."""
        try:
            topics = parse_topics(request.query_params.get("topics"))
            since = parse_since(request.query_params.get("cursor"))
            grants = authorize_all(request.user, topics)
        except Refusal as refusal:
            return Response(refusal.body(), status=refusal.status)
        page = read_page(grants, since, realtime_settings.POLL_PAGE_SIZE)
        body: dict[str, Any] = {
            "events": page.events,
            "cursor": page.cursor(),
            "recovered": not page.unrecovered,
            "more": page.more,
        }
        if page.unrecovered:
            body["unrecovered"] = page.unrecovered
        return Response(body)
