"""The WebSocket handshake's Origin check.

Browsers always send ``Origin``; a foreign one means another site's page is trying
to use the visitor's cookies (cross-site WebSocket hijacking) and is refused.
Scripts and services send none: they are let through and must authenticate.
"""

from typing import Any

from channels.security.websocket import AllowedHostsOriginValidator


class BrowserOriginValidator:
    """Refuse handshakes whose Origin is not an allowed host; allow no Origin."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.validator = AllowedHostsOriginValidator(application)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        has_origin = any(name == b"origin" for name, _ in scope.get("headers", []))
        if not has_origin:
            return await self.application(scope, receive, send)
        return await self.validator(scope, receive, send)
