"""Real server processes for end-to-end tests: a fresh database, migrated and
seeded, and daphne (or uvicorn) processes serving it on free loopback ports.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

from scripts.serve import UVICORN_OPTIONS, WS_MAX_SIZE

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Starting a process (imports, migrations checked) takes a few seconds here.
START_TIMEOUT = 60
# The servers the suites run on: uvicorn is what ``make serve`` runs, daphne
# the other one it offers (scripts/serve.py).
SERVER_KINDS = ("uvicorn", "daphne")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or os.environ.get(
        "TEST_REDIS_URL", DEFAULT_REDIS_URL
    )


def redis_reachable() -> bool:
    parsed = urlparse(redis_url())
    try:
        with socket.create_connection(
            (parsed.hostname, parsed.port or 6379), timeout=2
        ):
            return True
    except OSError:
        return False


@dataclass
class Database:
    """A database of the test's own: a SQLite file, or a new PostgreSQL database."""

    url: str
    drop: callable = None

    @classmethod
    def create(cls, tmp_path: Path) -> "Database":
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith(("postgres://", "postgresql://")):
            return cls(f"sqlite:///{tmp_path / 'e2e.sqlite3'}")
        import psycopg

        parsed = urlparse(base)
        name = f"e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin_url = urlunparse(parsed._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return cls(urlunparse(parsed._replace(path=f"/{name}")), drop)


@dataclass
class Site:
    """The environment every process of one test site shares."""

    database: Database
    redis: str | None
    prefix: str = field(default_factory=lambda: f"e2e{uuid.uuid4().hex[:10]}")
    extra_env: dict = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key
            not in {
                "DATABASE_URL",
                "REDIS_URL",
                "REDIS_URLS",
                "REDIS_SENTINELS",
                "REDIS_SENTINEL_MASTER",
                "DJANGO_SETTINGS_MODULE",
            }
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_DEBUG="1",
            DJANGO_SECRET_KEY="e2e-secret-" + self.prefix,
            DATABASE_URL=self.database.url,
            REDIS_PREFIX=self.prefix,
            PYTHONUNBUFFERED="1",
        )
        if self.redis:
            env["REDIS_URL"] = self.redis
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, input_text: str | None = None) -> str:
        """Run ``manage.py`` against this site's database; return its output."""
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def prepare(self) -> None:
        self.manage("migrate", "--no-input")
        self.manage("seed_demo")


@contextmanager
def prepared_site(
    tmp_path: Path, redis: str | None, **extra_env: str
) -> Iterator[Site]:
    """A migrated, seeded site on a database of its own, dropped afterwards."""
    site = Site(Database.create(tmp_path), redis=redis, extra_env=extra_env)
    try:
        site.prepare()
        yield site
    finally:
        if site.database.drop:
            site.database.drop()


class Server:
    """One ASGI server process on a free port."""

    # Answered once the site is loaded (any status will do).
    ready_path = "/accounts/login/"

    def __init__(
        self,
        site: Site,
        log_path: Path,
        kind: str = "daphne",
        access_log: bool = False,
        args: tuple[str, ...] = (),
    ) -> None:
        self.site = site
        self.port = free_port()
        self.log_path = log_path
        self.kind = kind
        self.access_log = access_log
        self.args = args
        self.process: subprocess.Popen | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def command(self) -> list[str]:
        # The servers' own frame limit, as make serve sets it.
        size = str(WS_MAX_SIZE)
        if self.kind == "uvicorn":
            # uvicorn as make serve runs it: uvloop, httptools, the sans-I/O
            # WebSocket protocol, no permessage-deflate.
            return [
                PYTHON, "-m", "uvicorn", "config.asgi:application", *UVICORN_OPTIONS,
                "--host", "127.0.0.1", "--port", str(self.port), "--ws-max-size", size,
                *([] if self.access_log else ["--no-access-log"]), *self.args,
            ]  # fmt: skip
        # daphne as make serve runs it: its access log through logging, proxy
        # headers from loopback only.
        return [
            PYTHON, "-m", "scripts.run_daphne", "-b", "127.0.0.1",
            "-p", str(self.port), "--websocket-max-message-size", size,
            "--websocket-max-frame-size", size, *self.args, "config.asgi:application",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return self.site.env()

    def start(self) -> "Server":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.environment(), stdout=log, stderr=log
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            with suppress(httpx.HTTPError):
                if httpx.get(self.http_url + self.ready_path, timeout=2).status_code:
                    return self
            time.sleep(0.2)
        raise RuntimeError(
            f"server did not answer in time:\n{self.log_path.read_text()}"
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL: the process dies without cleaning anything up."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Served(Server):
    """``scripts/serve.py``, what ``make serve`` runs, serving a site: DEBUG off,
    JSON logs, one process of ``kind`` on a free port, ``env`` on top."""

    def __init__(
        self, site: Site, log_path: Path, kind: str = "uvicorn", **env: str
    ) -> None:
        super().__init__(site, log_path, kind=kind)
        self.extra_env = env

    # Pages need collected static files with DEBUG off; /healthz does not.
    ready_path = "/healthz"

    def command(self) -> list[str]:
        return [PYTHON, "scripts/serve.py", "--skip-prepare"]

    def environment(self) -> dict[str, str]:
        env = self.site.env()
        env.update(
            ASGI_SERVER=self.kind,
            WEB_CONCURRENCY="1",
            HOST="127.0.0.1",
            PORT=str(self.port),
            # Empty, not absent: serve.py would default to the local Redis.
            REDIS_URL=self.site.redis or "",
            **self.extra_env,
        )
        return env

    def server_pids(self) -> list[int]:
        """The processes that serve requests: serve.py itself for uvicorn (it
        becomes uvicorn), its children for daphne."""
        pid = self.process.pid
        with suppress(OSError):
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            if children:
                return [int(child) for child in children]
        return [pid]

    def stop(self) -> None:
        servers = self.server_pids() if self.process else []
        super().stop()
        for pid in servers:  # daphne's, should serve.py have been killed
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
