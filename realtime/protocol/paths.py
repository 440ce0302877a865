"""Where the endpoints of PROTOCOL.md live (the polling and ticket paths come
from the project's ``include("realtime.urls")`` under ``api/``)."""

WEBSOCKET_PATH = "/ws/"
SSE_PATH = "/realtime/sse/"
