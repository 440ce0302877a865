"""daphne's command line, as ``make serve`` and the tests run daphne.

Three things differ from ``python -m daphne``:

- its access log is written through Python logging (logger ``daphne.access``),
  so the site's ``LOGGING`` formats it and redacts credentials from it;
  daphne writes it straight to stdout, around every filter;
- proxy headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only
  from the proxies in ``DJANGO_TRUSTED_PROXIES`` (scripts/serve.py), as
  uvicorn's ``--forwarded-allow-ips`` does: daphne's own ``--proxy-headers``
  believes them from any client and takes the left-most address, the one the
  client wrote, so a client could pass for 127.0.0.1. Do not combine it
  with ``--proxy-headers``;
- a connection that breaks the protocol, a frame over
  ``--websocket-max-frame-size`` included, gets a close frame with its code
  (1009 for that one) rather than a dropped TCP connection (autobahn's
  ``failByDrop``): the client learns why, as uvicorn's clients do. The
  refused frame's payload is read and discarded, never buffered.

Usage: ``python -m scripts.run_daphne [daphne's options] config.asgi:application``
"""

import logging
import os
import sys
from typing import Any

# First: daphne.server installs Twisted's asyncio reactor when imported.
from daphne import cli, server
from daphne.access import AccessLogGenerator
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from scripts.serve import trusted_proxies

access_logger = logging.getLogger("daphne.access")


class LoggedAccessLog(AccessLogGenerator):
    """daphne's access log entries as records of the ``daphne.access`` logger."""

    def __init__(self) -> None:
        super().__init__(stream=None)

    def write_entry(
        self,
        host: Any,
        date: Any,
        request: str,
        status: Any = None,
        length: Any = None,
        ident: Any = None,
        user: Any = None,
    ) -> None:
        access_logger.info('%s "%s" %s %s', host, request, status or "-", length or "-")


class Server(server.Server):
    """daphne's server, with its access log (when on) through logging, and
    close frames for protocol failures."""

    def __init__(self, *args: Any, action_logger: Any = None, **kwargs: Any) -> None:
        logged = LoggedAccessLog() if action_logger is not None else None
        super().__init__(*args, action_logger=logged, **kwargs)

    def listen_success(self, port: Any) -> None:
        # run() has made the WebSocket factory by now, and no connection yet:
        # each connection copies the factory's options when it opens.
        self.ws_factory.setProtocolOptions(failByDrop=False)
        super().listen_success(port)


class CommandLineInterface(cli.CommandLineInterface):
    """daphne's command line with the server above, and the application
    behind the trusted proxies' headers."""

    server_class = Server

    def load_asgi_app(self, asgi_app_path: str) -> Any:
        application = super().load_asgi_app(asgi_app_path)
        proxies = trusted_proxies(os.environ)
        if not proxies:
            return application
        return ProxyHeadersMiddleware(application, trusted_hosts=proxies)


if __name__ == "__main__":
    CommandLineInterface().run(sys.argv[1:])
