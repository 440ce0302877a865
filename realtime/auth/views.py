"""``POST /api/realtime/ticket/``: a connection ticket for the signed-in user."""

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime.auth.credentials import Authenticated, Binding
from realtime.auth.drf import RealtimeAuthMixin
from realtime.auth.tickets import issue_ticket
from realtime.conf import realtime_settings
from realtime.ops.openapi import extend_schema, inline_serializer
from realtime.transports.json_answers import JsonRefusals
from realtime.transports.parsers import PARSER_CLASSES


def binding_of(request: Request) -> Binding:
    """What the request stands on: its token (or the ticket's), or its session."""
    if isinstance(request.auth, Authenticated):
        return request.auth.binding
    return Binding(session_key=request.session.session_key)


class TicketView(JsonRefusals, RealtimeAuthMixin, APIView):
    """Issue a single-use ticket to put in ``/ws/?token=`` instead of a token."""

    parser_classes = PARSER_CLASSES

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "ConnectionTicket",
            {
                "ticket": serializers.CharField(),
                "expires_in": serializers.IntegerField(),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        return Response(
            {
                "ticket": issue_ticket(request.user, binding_of(request)),
                "expires_in": realtime_settings.TICKET_TTL,
            },
            status=201,
        )
