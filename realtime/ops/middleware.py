"""Request middleware that gives every request a trace id and an acting user."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from realtime.ops.context import request_context, trace_id_from_headers

TRACE_RESPONSE_HEADER = "X-Request-ID"


class RequestContextMiddleware:
    """Bind the trace id and the request for the events and logs of a request.

    The user is read lazily from the request when an event is built, so users that
    DRF authenticates later (token auth) are seen too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trace_id = trace_id_from_headers(
            request.headers.get("traceparent"), request.headers.get("X-Request-ID")
        )
        request.trace_id = trace_id
        with request_context(request, trace_id):
            response = self.get_response(request)
        response[TRACE_RESPONSE_HEADER] = trace_id
        return response
