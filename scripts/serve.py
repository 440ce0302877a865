"""``make serve``: a production-style launch on this machine.

Prepares the site (secret key, database, migrations, static files), then runs
``WEB_CONCURRENCY`` server processes behind one port. Every knob is an
environment variable; docs/deploy.md explains the choices and their numbers.

    ASGI_SERVER       uvicorn (default) or daphne
    WEB_CONCURRENCY   server processes (default 2)
    HOST, PORT        where to listen (default 127.0.0.1:8000)
    DATABASE_URL      default postgres://postgres@127.0.0.1:5432/giftlists
    REDIS_URL         default redis://127.0.0.1:6379/0, unless REDIS_URLS (several
                      shards, comma-separated) or REDIS_SENTINELS and
                      REDIS_SENTINEL_MASTER (Redis Sentinel) are set
    REALTIME_CHANNEL_LAYER  pubsub (default here) or core
    DJANGO_SECRET_KEY default: generated once into .secret_key (git-ignored)
    DATABASE_POOL_SIZE  PostgreSQL connections per process (default 20 here)
    ACCESS_LOG        1: each server's access log, through the site's logging
                      (credentials redacted); default off
    WS_MAX_SIZE       largest WebSocket message the servers read (256 KiB)
    DJANGO_TRUSTED_PROXIES  addresses whose X-Forwarded-* headers are believed
                      (default loopback; "none": no proxy)

``--skip-prepare`` only starts the servers (the benchmark prepares its own
database); ``--app`` serves another ASGI application (the benchmark's floor).
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET_KEY_FILE = ROOT / ".secret_key"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/giftlists"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Any of these names the Redis servers; the default applies when none is set.
REDIS_CHOICES = ("REDIS_URL", "REDIS_URLS", "REDIS_SENTINELS")
DEFAULT_APP = "config.asgi:application"
SERVERS = ("uvicorn", "daphne")
# Seconds a stopping server waits for open requests and sockets to finish.
GRACEFUL_SHUTDOWN = 10
# Pending connections the kernel queues per listening socket: a reconnect storm
# after a restart opens thousands at once.
BACKLOG = 4096
# The largest WebSocket message the servers read, in bytes. The site refuses
# frames over REALTIME["MAX_MESSAGE_BYTES"] (64 KiB) with a message_too_large
# error and keeps the connection; a frame over this is refused by the server
# itself from its header (close 1009), before its payload is buffered. 4x the
# site's limit: headroom for the friendly error, a 64th of uvicorn's default
# (16 MiB) and a quarter of daphne's (1 MiB) that a client could make a process
# hold per connection.
WS_MAX_SIZE = 256 * 1024
# Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, unless
# DJANGO_TRUSTED_PROXIES says otherwise: loopback, where a proxy on the same
# machine connects from. Believing none there would make every request look
# local (and /metrics answers local clients); believing anyone lets a client
# write its own address.
TRUSTED_PROXIES = "127.0.0.1,::1"


def secret_key() -> str:
    """``DJANGO_SECRET_KEY``, else the key in ``.secret_key`` (made on first run)."""
    key = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if key:
        return key
    if not SECRET_KEY_FILE.exists():
        SECRET_KEY_FILE.write_text(secrets.token_urlsafe(50) + "\n")
        SECRET_KEY_FILE.chmod(0o600)
        print(f"Generated a secret key into {SECRET_KEY_FILE.name} (git-ignored).")
    return SECRET_KEY_FILE.read_text().strip()


def serving_env() -> dict[str, str]:
    """The environment of every process: DEBUG off, PostgreSQL and Redis."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["DJANGO_DEBUG"] = "0"
    env["DJANGO_SECRET_KEY"] = secret_key()
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not any(env.get(name, "").strip() for name in REDIS_CHOICES):
        env["REDIS_URL"] = DEFAULT_REDIS_URL
    # The layer chosen by measurement (docs/deploy.md); core stays a setting.
    env.setdefault("REALTIME_CHANNEL_LAYER", "pubsub")
    # Reuse database connections: opening one per request or handshake costs
    # more than the work itself (docs/deploy.md). Django serves each request
    # in a new thread, so on PostgreSQL only a pool reuses them across requests.
    env.setdefault("DATABASE_CONN_MAX_AGE", "60")
    env.setdefault("DATABASE_POOL_SIZE", "20")
    return env


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        return
    import psycopg
    from psycopg import sql

    name = parsed.path.lstrip("/")
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name!r}.")


def prepare(env: dict[str, str]) -> None:
    """Database, migrations and static files, as the servers will see them."""
    ensure_database(env["DATABASE_URL"])
    for args in (["migrate", "--no-input"], ["collectstatic", "--no-input", "-v0"]):
        subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True
        )


def trusted_proxies(env: dict[str, str]) -> list[str]:
    """``DJANGO_TRUSTED_PROXIES``: addresses or networks, comma-separated, whose
    proxy headers are believed; ``none`` for no proxy; unset: loopback."""
    value = env.get("DJANGO_TRUSTED_PROXIES", "").strip() or TRUSTED_PROXIES
    if value.lower() == "none":
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


def ws_max_size(env: dict[str, str]) -> int:
    """``WS_MAX_SIZE``: the largest WebSocket message the servers read."""
    return int(env.get("WS_MAX_SIZE", "").strip() or WS_MAX_SIZE)


def access_log(env: dict[str, str]) -> bool:
    """``ACCESS_LOG``: whether the servers write an access log (default off:
    Django's request log and the realtime log lines say enough)."""
    return env.get("ACCESS_LOG", "").strip().lower() in {"1", "true", "yes", "on"}


def server_command(
    kind: str, app: str, host: str, port: int, workers: int, env: dict[str, str]
) -> list:
    """The command line of one server kind; daphne's is per process (``{fd}``)."""
    size, proxies = str(ws_max_size(env)), trusted_proxies(env)
    if kind == "uvicorn":
        return [
            PYTHON, "-m", "uvicorn", app, "--host", host, "--port", str(port),
            "--workers", str(workers), *UVICORN_OPTIONS, "--ws-max-size", size,
            "--access-log" if access_log(env) else "--no-access-log",
            *(
                ["--proxy-headers", "--forwarded-allow-ips", ",".join(proxies)]
                if proxies
                else ["--no-proxy-headers"]
            ),
        ]  # fmt: skip
    return [
        # scripts/run_daphne.py: daphne, with its access log through logging
        # and proxy headers believed from DJANGO_TRUSTED_PROXIES only (daphne's
        # own --proxy-headers believes any client).
        PYTHON, "-m", "scripts.run_daphne", "--fd", "{fd}",
        "--websocket-max-message-size", size, "--websocket-max-frame-size", size,
        # Verbosity 1 turns daphne's access log on, 0 off (and nothing else
        # here: the site's LOGGING sets every level).
        "-v", "1" if access_log(env) else "0",
        # Daphne closes WebSockets after a day by default; clients resume anyway,
        # but there is no reason to cut healthy connections.
        "--websocket_timeout", "-1",
        # A vanished client is gone (and has left presence) within 20 s.
        "--ping-interval", "10", "--ping-timeout", "10", app,
    ]  # fmt: skip


# uvicorn, tuned for many idle WebSockets that each receive small JSON events.
UVICORN_OPTIONS = [
    "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio",
    # permessage-deflate costs a zlib compressor and decompressor per connection
    # (tens of KiB each) and a compression per delivery; events are small.
    "--ws-per-message-deflate", "false",
    # Protocol pings every 10 s, closed after 10 s without a pong: a client
    # whose network vanished is gone, and has left presence, within 20 s
    # (PROTOCOL.md section 7 allows 30; uvicorn's defaults take up to 40).
    "--ws-ping-interval", "10", "--ws-ping-timeout", "10",
    # The realtime application answers lifespan: at shutdown a process gives
    # back its places in the connection caps and its presence at once.
    "--lifespan", "on",
    "--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN),
    "--backlog", str(BACKLOG),
]  # fmt: skip


def run_daphne(app: str, host: str, port: int, workers: int, env: dict) -> int:
    """N daphne processes sharing one listening socket, restarted if one dies."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(BACKLOG)
    listener.set_inheritable(True)
    fd = listener.fileno()

    def start() -> subprocess.Popen:
        command = [
            part.replace("{fd}", str(fd))
            for part in server_command("daphne", app, host, port, workers, env)
        ]
        return subprocess.Popen(command, cwd=ROOT, env=env, pass_fds=[fd])  # noqa: S603

    children = [start() for _ in range(workers)]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for index, child in enumerate(children):
            if child.poll() is not None and not stopping:
                print(f"daphne {child.pid} exited ({child.returncode}); restarting")
                children[index] = start()
        time.sleep(1)
    deadline = time.monotonic() + GRACEFUL_SHUTDOWN
    for child in children:
        try:
            child.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-prepare", action="store_true")
    parser.add_argument("--app", default=DEFAULT_APP)
    args = parser.parse_args(argv)
    kind = os.environ.get("ASGI_SERVER", "uvicorn").strip() or "uvicorn"
    if kind not in SERVERS:
        parser.error(f"ASGI_SERVER must be one of {', '.join(SERVERS)}, not {kind!r}")
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    env = serving_env()
    if not args.skip_prepare:
        prepare(env)
    print(
        f"Serving on http://{host}:{port}/ with {workers} {kind} process(es), "
        f"channel layer {env['REALTIME_CHANNEL_LAYER']}.",
        flush=True,
    )
    if kind == "daphne":
        return run_daphne(args.app, host, port, workers, env)
    command = server_command(kind, args.app, host, port, workers, env)
    os.chdir(ROOT)
    os.execve(command[0], command, env)  # noqa: S606
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
