"""A brand-new Django project on the built package: the distribution, a virtualenv
of its own, ``startproject`` with the documented lines, and daphne serving it.
"""

import os
import re
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.servers import free_port

from . import quickstart

ROOT = quickstart.ROOT
DISTRIBUTION = "django-realtime-layer"
# Building, creating a virtualenv and installing into it each take a while on a
# loaded two-core machine; these bound a hang, not the normal case.
BUILD_TIMEOUT = 300
INSTALL_TIMEOUT = 400
COMMAND_TIMEOUT = 120
START_TIMEOUT = 60
# The project's environment must not leak in: the fresh project has its own
# settings module, database and layer, and its own interpreter.
_NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_URLS",
    "REDIS_PREFIX",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
}


def run(command: list, cwd: Path, env: dict | None = None, timeout: int = 120) -> str:
    """Run ``command``; its stdout, or a failure that shows all it printed."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


@dataclass
class Dist:
    """The wheel and sdist ``python -m build`` made from the checkout."""

    wheel: Path
    sdist: Path


def build(outdir: Path) -> Dist:
    """Build the checkout's sdist, and the wheel from it, as a release would."""
    run(
        [sys.executable, "-m", "build", "--outdir", outdir, ROOT],
        ROOT,
        None,
        BUILD_TIMEOUT,
    )
    wheels = list(outdir.glob("*.whl"))
    sdists = list(outdir.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(outdir.iterdir())
    return Dist(wheels[0], sdists[0])


class Venv:
    """A virtualenv of its own, holding only what a user would install."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bin = path / "bin"

    @classmethod
    def create(cls, path: Path, *requirements: str) -> "Venv":
        run([sys.executable, "-m", "venv", path], path.parent)
        venv = cls(path)
        run(
            [venv.bin / "python", "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", *requirements],
            path.parent, venv.env(), INSTALL_TIMEOUT,
        )  # fmt: skip
        return venv

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env.update(
            VIRTUAL_ENV=str(self.path),
            PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            PYTHONUNBUFFERED="1",
            **extra,
        )
        return env


class Project:
    """``mysite`` with a ``notes`` app, made live by the documented steps."""

    def __init__(self, venv: Venv, path: Path) -> None:
        self.venv = venv
        self.path = path

    @classmethod
    def start(cls, venv: Venv, parent: Path) -> "Project":
        run([venv.bin / "django-admin", "startproject", "mysite"], parent, venv.env())
        project = cls(venv, parent / "mysite")
        project.manage("startapp", "notes")
        return project

    def manage(self, *args: str) -> str:
        return run(
            [self.venv.bin / "python", "manage.py", *args],
            self.path,
            self.venv.env(),
            COMMAND_TIMEOUT,
        )

    def shell(self, code: str) -> str:
        """Run ``code`` in ``manage.py shell``: a process apart from the server."""
        return self.manage("shell", "-c", code)

    def token(self, username: str) -> str:
        """DRF's ``drf_create_token`` prints the user's token."""
        output = self.manage("drf_create_token", username)
        match = re.search(r"\b[0-9a-f]{40}\b", output)
        assert match, output
        return match.group(0)

    def create_user(self, username: str) -> None:
        self.shell(
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user({username!r}, password='fresh-pass-1')"
        )

    def create_board(self, name: str, *members: str) -> int:
        """A new board with these members; its id."""
        output = self.shell(
            "from django.contrib.auth.models import User\n"
            "from notes.models import Board\n"
            f"board = Board.objects.create(name={name!r})\n"
            f"board.members.set(User.objects.filter(username__in={list(members)!r}))\n"
            "print(board.pk)\n"
        )
        return int(output.split()[-1])

    def add_note(self, board: int, text: str) -> int:
        """A note created and committed by another process; its id."""
        output = self.shell(
            "from notes.models import Note\n"
            f"print(Note.objects.create(board_id={board}, text={text!r}).pk)\n"
        )
        return int(output.split()[-1])


class Server:
    """daphne, from the fresh virtualenv, serving the fresh project."""

    def __init__(self, project: Project, log_path: Path) -> None:
        self.project = project
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def start(self) -> "Server":
        venv = self.project.venv
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [venv.bin / "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                 "mysite.asgi:application"],
                cwd=self.project.path, env=venv.env(), stdout=log, stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.log()}")
            # Any answer will do: whether the routes are right is for the tests.
            with suppress(httpx.HTTPError):
                httpx.get(f"{self.http_url}/", timeout=2)
                return self
            time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer in time:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
