"""``manage.py validate_ws_event FILE|-``: check events against the JSON Schema.

The input is one JSON event, or JSON lines (one event per line). Every invalid
event is reported with its line and reason; the exit status is 1 if any was
invalid, 0 otherwise.
"""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from realtime.protocol.events import validation_errors


def read_events(text: str) -> list[tuple[str, Any]]:
    """(where, parsed-or-error) pairs: the whole text as one event, else each line."""
    try:
        return [("event", json.loads(text))]
    except ValueError:
        pass
    events: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append((f"line {number}", json.loads(line)))
        except ValueError as error:
            events.append((f"line {number}", ValueError(f"not JSON: {error}")))
    return events


class Command(BaseCommand):
    help = (
        "Validate realtime events (one JSON object, or JSON lines) against the schema."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="a file of events, or - for standard input")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        if file == "-":
            text = sys.stdin.read()
        else:
            try:
                with open(file, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as error:
                raise CommandError(f"cannot read {file}: {error.strerror}") from None
        events = read_events(text)
        if not events:
            raise CommandError("no events found in the input")
        invalid = 0
        for where, event in events:
            problems = (
                [str(event)]
                if isinstance(event, ValueError)
                else validation_errors(event)
            )
            if problems:
                invalid += 1
                for problem in problems:
                    self.stderr.write(f"{where}: {problem}")
        if invalid:
            self.stderr.write(f"{invalid} of {len(events)} event(s) invalid")
            sys.exit(1)
        self.stdout.write(f"{len(events)} event(s) valid")
