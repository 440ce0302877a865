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
    "log_format": s.LOG_FORMAT, "cache": s.CACHES["default"],
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


def test_redis_urls_shard_the_layer_and_keep_the_cache_on_the_first_shard():
    found = loaded(
        DJANGO_DEBUG="1",
        REDIS_URLS="redis://one.example:6379/0, redis://two.example:6379/0",
        REALTIME_CHANNEL_LAYER="pubsub",
    )
    hosts = found["layer_config"]["hosts"]
    assert [host["address"] for host in hosts] == [
        "redis://one.example:6379/0",
        "redis://two.example:6379/0",
    ]
    assert all(host["max_connections"] >= 1000 for host in hosts)
    assert found["cache"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert found["cache"]["LOCATION"] == "redis://one.example:6379/0"


def test_redis_url_and_redis_urls_together_are_refused_with_a_clear_message():
    result = settings_with(
        DJANGO_DEBUG="1",
        REDIS_URL="redis://one.example:6379/0",
        REDIS_URLS="redis://one.example:6379/0,redis://two.example:6379/0",
    )
    assert result.returncode != 0
    assert "REDIS_URL and REDIS_URLS are both set" in result.stderr


def test_redis_sentinels_follow_the_named_masters_for_the_layer_and_the_cache():
    found = loaded(
        DJANGO_DEBUG="1",
        REDIS_SENTINELS="s1.example:26379,s2.example:26380,s3.example",
        REDIS_SENTINEL_MASTER="shard-a,shard-b",
        REDIS_SENTINEL_PASSWORD="sentinel-secret",
    )
    hosts = found["layer_config"]["hosts"]
    sentinels = [["s1.example", 26379], ["s2.example", 26380], ["s3.example", 26379]]
    assert [host["master_name"] for host in hosts] == ["shard-a", "shard-b"]
    assert all(host["sentinels"] == sentinels for host in hosts)
    assert hosts[0]["sentinel_kwargs"] == {"password": "sentinel-secret"}
    assert found["cache"]["BACKEND"] == "config.cache.SentinelRedisCache"
    assert found["cache"]["OPTIONS"]["master_name"] == "shard-a"
    alone = settings_with(DJANGO_DEBUG="1", REDIS_SENTINELS="s1.example:26379")
    assert alone.returncode != 0
    assert "REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together" in alone.stderr
    both = settings_with(
        DJANGO_DEBUG="1",
        REDIS_SENTINELS="s1.example:26379",
        REDIS_SENTINEL_MASTER="shard-a",
        REDIS_URL="redis://one.example:6379/0",
    )
    assert both.returncode != 0
    assert "REDIS_SENTINELS is set together with REDIS_URL" in both.stderr
    nonsense = settings_with(
        DJANGO_DEBUG="1", REDIS_SENTINELS="s1:port", REDIS_SENTINEL_MASTER="a"
    )
    assert nonsense.returncode != 0
    assert "REDIS_SENTINELS must be host:port pairs" in nonsense.stderr


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


# What a production site behind a TLS-terminating proxy sets (docs/deploy.md).
PRODUCTION = {
    "DJANGO_SECRET_KEY": "dGVzdC1vbmx5LXNlY3JldC1rZXktZm9yLWNoZWNrLWRlcGxveS0xMjM0NTY3",
    "DJANGO_ALLOWED_HOSTS": "gifts.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://gifts.example.com",
    "DATABASE_URL": "postgres://app:secret@db.example:5432/gifts",
    "REDIS_URL": "redis://cache.example:6379/0",
    "DJANGO_SECURE": "1",
}

PRINT_SECURITY = """
import json
from config import settings as s
names = ["SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SESSION_COOKIE_SECURE",
         "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER"]
print(json.dumps({name: getattr(s, name, None) for name in names}))
"""


def run_with(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """``python *args`` in the repository with only ``env`` of the site's
    variables set."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "REALTIME_"))
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    return run_with(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env
    )


def security_settings(**env: str) -> dict:
    result = run_with(["-c", PRINT_SECURITY], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_production_configuration_passes_check_deploy_without_a_warning():
    result = check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_django_secure_check_deploy_asks_for_https():
    result = check_deploy(**(PRODUCTION | {"DJANGO_SECURE": ""}))
    assert result.returncode != 0
    for check in ("W004", "W008", "W012", "W016"):  # HSTS, redirect, cookies
        assert f"security.{check}" in result.stderr


def test_django_secure_turns_on_https_and_leaves_health_checks_on_http():
    assert security_settings(**PRODUCTION) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^readyz$", "^metrics$"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 365 * 86400,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_the_https_switches_can_each_be_turned_down():
    found = security_settings(
        **PRODUCTION,
        DJANGO_HSTS_SECONDS="3600",
        DJANGO_HSTS_INCLUDE_SUBDOMAINS="0",
        DJANGO_HSTS_PRELOAD="0",
        DJANGO_SECURE_PROXY_SSL_HEADER="1",
    )
    assert found["SECURE_HSTS_SECONDS"] == 3600
    assert not found["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert not found["SECURE_HSTS_PRELOAD"]
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_make_serve_adds_its_default_redis_only_when_none_is_named(monkeypatch):
    from scripts.serve import DEFAULT_REDIS_URL, serving_env

    monkeypatch.setenv("DJANGO_SECRET_KEY", "a-key-for-this-test")
    for name in ("REDIS_URL", "REDIS_URLS", "REDIS_SENTINELS"):
        monkeypatch.delenv(name, raising=False)
    assert serving_env()["REDIS_URL"] == DEFAULT_REDIS_URL
    # With shards named, a default REDIS_URL would make the settings refuse
    # to start (both set).
    monkeypatch.setenv("REDIS_URLS", "redis://one.example:6379/0")
    assert "REDIS_URL" not in serving_env()
    monkeypatch.delenv("REDIS_URLS")
    monkeypatch.setenv("REDIS_SENTINELS", "s1.example:26379")
    assert "REDIS_URL" not in serving_env()
