"""daphne's command line, as ``make serve`` and the tests run daphne.

Two things differ from ``python -m daphne``:

- its access log is written through Python logging (logger ``daphne.access``),
  so the site's ``LOGGING`` formats it and redacts credentials from it;
  daphne writes it straight to stdout, around every filter;
- a connection that breaks the protocol, a frame over
  ``--websocket-max-frame-size`` included, gets a close frame with its code
  (1009 for that one) rather than a dropped TCP connection (autobahn's
  ``failByDrop``): the client learns why, as uvicorn's clients do. The
  refused frame's payload is read and discarded, never buffered.

Usage: ``python -m scripts.run_daphne [daphne's options] config.asgi:application``
"""

import logging
import sys
from typing import Any

# First: daphne.server installs Twisted's asyncio reactor when imported.
from daphne import cli, server
from daphne.access import AccessLogGenerator

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
    """daphne's command line with the server above."""

    server_class = Server


if __name__ == "__main__":
    CommandLineInterface().run(sys.argv[1:])
