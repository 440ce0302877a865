"""daphne's command line, as ``make serve`` and the tests run daphne.

Its access log is written through Python logging (logger ``daphne.access``),
so the site's ``LOGGING`` formats it and redacts credentials from it; daphne
writes it straight to stdout, around every filter.

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
    """daphne's server, with its access log (when on) through logging."""

    def __init__(self, *args: Any, action_logger: Any = None, **kwargs: Any) -> None:
        logged = LoggedAccessLog() if action_logger is not None else None
        super().__init__(*args, action_logger=logged, **kwargs)


class CommandLineInterface(cli.CommandLineInterface):
    """daphne's command line with the server above."""

    server_class = Server


if __name__ == "__main__":
    CommandLineInterface().run(sys.argv[1:])
