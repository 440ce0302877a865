"""The event envelope, its JSON Schema, and ``manage.py validate_ws_event``."""

import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from realtime.protocol.events import build_event, validation_errors


def sample(**changes):
    event = build_event(
        topic="gift-list:17",
        seq=42,
        event="ADDED",
        entity_type="gift",
        entity_id=88,
        payload={"id": 88, "title": "Lego set", "status": "wanted"},
        user_id=3,
        tenant_id=5,
        timestamp=datetime(2026, 11, 27, 23, 59, 1, 123456, tzinfo=UTC),
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    )
    event.update(changes)
    return event


def test_builder_makes_the_protocol_example():
    assert sample() == {
        "type": "event",
        "topic": "gift-list:17",
        "seq": 42,
        "event": "ADDED",
        "data": {
            "entity_type": "gift",
            "entity_id": "88",
            "payload": {"id": 88, "title": "Lego set", "status": "wanted"},
            "user_id": "3",
            "tenant_id": "5",
            "timestamp": "2026-11-27T23:59:01.123456Z",
        },
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    }
    assert validation_errors(sample()) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"seq": 0},
        {"seq": "1"},
        {"topic": "Bad Topic"},
        {"event": "added"},
        {"type": "evt"},
        {"trace_id": 5},
        {"extra": True},
    ],
)
def test_schema_refuses_broken_events(changes):
    assert validation_errors(sample(**changes))


def test_schema_refuses_payload_without_id():
    event = sample()
    event["data"]["payload"] = {"title": "x"}
    assert validation_errors(event)


def run_validate(argument, stdin_text=None, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    if stdin_text is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin_text))
    code = 0
    try:
        call_command("validate_ws_event", argument, stdout=out, stderr=err)
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_validate_command_accepts_a_valid_event_file(tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(sample(), indent=2))
    code, out, _ = run_validate(str(path))
    assert code == 0 and "1 event(s) valid" in out


def test_validate_command_reports_each_invalid_line_and_fails(tmp_path, monkeypatch):
    lines = [json.dumps(sample()), json.dumps(sample(seq=-1)), "{not json", ""]
    code, _, err = run_validate("-", "\n".join(lines), monkeypatch)
    assert code == 1
    assert "line 2: seq" in err
    assert "line 3: not JSON" in err
    assert "2 of 3 event(s) invalid" in err


def test_validate_command_explains_a_missing_file(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cannot read"):
        call_command("validate_ws_event", str(tmp_path / "missing.json"))
