"""What an operator sees: health, readiness, metrics, and logs without tokens."""

import logging

import pytest
from channels.layers import get_channel_layer
from django.test import Client, override_settings

from realtime.ops.logging import RedactTokensFilter, redact_tokens

from .conftest import make_user_sync

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_answers_while_the_process_is_up():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_database_and_channel_layer():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "channel_layer": "ok"}


def test_readyz_is_503_naming_the_channel_layer_when_it_fails(monkeypatch):
    async def down(group, message):
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(get_channel_layer(), "group_send", down)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"] == "ConnectionError"
    assert response.json()["checks"]["database"] == "ok"


def test_metrics_are_served_to_loopback_and_count_published_events(publish_now):
    from asgiref.sync import async_to_sync

    async_to_sync(publish_now)("room:a")
    body = Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()
    assert "realtime_events_published_total" in body
    assert "realtime_connections_open" in body
    assert "realtime_publish_to_deliver_seconds_bucket" in body


def test_metrics_are_refused_to_strangers_and_need_the_token_when_set():
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 403
    with override_settings(REALTIME={"METRICS_TOKEN": "s3cret"}):
        local = Client(REMOTE_ADDR="127.0.0.1")
        assert local.get("/metrics").status_code == 403
        assert (
            local.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
        )


def test_staff_may_read_metrics_from_anywhere():
    staff = make_user_sync("root", is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(staff)
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /ws/?token=abc123 101", "GET /ws/?token=[redacted] 101"),
        ("/ws/?x=1&token=tk_Zz-9&y=2", "/ws/?x=1&token=[redacted]&y=2"),
        ('"WSCONNECT /ws/?TOKEN=abc"', '"WSCONNECT /ws/?TOKEN=[redacted]"'),
        ("no credentials here", "no credentials here"),
    ],
)
def test_tokens_are_redacted_from_text(text, expected):
    assert redact_tokens(text) == expected


def test_log_records_lose_their_tokens_before_any_handler_writes_them():
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/ws/?token=0123456789abcdef", "1.1", 101),
        None,
    )  # fmt: skip
    assert RedactTokensFilter().filter(record)
    assert "0123456789abcdef" not in record.getMessage()
    assert "token=[redacted]" in record.getMessage()


def test_a_project_without_a_channel_layer_is_told_at_start_up():
    from django.core.checks import run_checks

    with override_settings(CHANNEL_LAYERS={}):
        errors = [message.id for message in run_checks()]
    assert "realtime.E002" in errors
    assert "realtime.E002" not in [message.id for message in run_checks()]
