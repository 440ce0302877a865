"""Settings come from the environment: the embedded defaults need no service,
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis, and the site
refuses to start insecurely."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[1]

PRINT_SETTINGS = """
import json
from config import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST"),
    "options": db.get("OPTIONS", {}), "conn_max_age": db.get("CONN_MAX_AGE"),
    "layer": s.CHANNEL_LAYERS["default"]["BACKEND"],
    "layer_config": s.CHANNEL_LAYERS["default"].get("CONFIG"),
    "debug": s.DEBUG, "hosts": s.ALLOWED_HOSTS, "realtime": s.REALTIME,
    "log_format": s.LOG_FORMAT,
}))
"""


def settings_with(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "REALTIME_"))
    }
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def loaded(**env: str) -> dict:
    result = settings_with(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_sqlite_in_wal_mode_and_the_in_memory_layer():
    found = loaded(DJANGO_DEBUG="1")
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(ROOT / "db.sqlite3")
    assert "journal_mode=WAL" in found["options"]["init_command"]
    assert found["layer"] == "channels.layers.InMemoryChannelLayer"


def test_database_url_and_redis_url_switch_to_postgresql_and_redis():
    found = loaded(
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://app:secret@db.example:5433/gifts",
        REDIS_URL="redis://cache.example:6380/2",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["name"], found["host"]) == ("gifts", "db.example")
    assert found["layer"] == "channels_redis.core.RedisChannelLayer"
    host = found["layer_config"]["hosts"][0]
    assert host["address"] == "redis://cache.example:6380/2"
    # No socket timeout (redis-py would enforce it with a cancellation-losing
    # wait_for); a pool large enough for mass disconnects.
    assert "socket_timeout" not in host and host["max_connections"] >= 1000


def test_a_pool_size_pools_postgresql_connections_and_leaves_sqlite_alone():
    pooled = loaded(
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://app:secret@db.example:5433/gifts",
        DATABASE_POOL_SIZE="12",
        DATABASE_CONN_MAX_AGE="60",
    )
    assert pooled["options"]["pool"]["max_size"] == 12
    assert pooled["conn_max_age"] == 0  # Django refuses a pool with persistence
    plain = loaded(DJANGO_DEBUG="1", DATABASE_POOL_SIZE="12")
    assert "pool" not in plain["options"]


def test_pubsub_layer_is_a_setting_and_nonsense_is_refused():
    found = loaded(
        DJANGO_DEBUG="1", REDIS_URL="redis://x:6379/0", REALTIME_CHANNEL_LAYER="pubsub"
    )
    assert found["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    result = settings_with(
        DJANGO_DEBUG="1", REDIS_URL="redis://x", REALTIME_CHANNEL_LAYER="kafka"
    )
    assert result.returncode != 0
    assert "REALTIME_CHANNEL_LAYER must be one of" in result.stderr


def test_debug_off_without_a_secret_key_refuses_to_start_with_a_clear_message():
    result = settings_with(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    found = loaded(DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="gifts.example")
    assert found["debug"] is False and found["hosts"] == ["gifts.example"]


@override_settings(DEBUG=False, ALLOWED_HOSTS=["*"])
def test_wildcard_allowed_hosts_with_debug_off_fails_the_system_check():
    with pytest.raises(SystemCheckError, match=r"realtime\.E001"):
        call_command("check")


@override_settings(DEBUG=False, ALLOWED_HOSTS=["gifts.example"])
def test_listed_hosts_pass_the_system_check():
    call_command("check", "--fail-level", "ERROR")


def test_realtime_and_logging_knobs_come_from_the_environment():
    found = loaded(
        DJANGO_SECRET_KEY="x" * 50,
        REALTIME_METRICS_TOKEN="scrape-me",
        REALTIME_EVENT_RETENTION_HOURS="2",
        REALTIME_SSE_KEEPALIVE_SECONDS="5",
    )
    assert found["realtime"] == {
        "STAFF_BYPASS_POLICIES": True,  # PROTOCOL.md section 6
        "AUTODISCOVER": True,
        "METRICS_TOKEN": "scrape-me",
        "EVENT_RETENTION": 7200.0,
        "SSE_KEEPALIVE": 5.0,
    }
    # Measuring a REST write without realtime: no app registers anything.
    disabled = loaded(DJANGO_DEBUG="1", REALTIME_DISABLED="1")
    assert disabled["realtime"]["AUTODISCOVER"] is False
    assert found["log_format"] == "json"  # DEBUG off: logs for collectors
    assert loaded(DJANGO_DEBUG="1")["log_format"] == "text"
