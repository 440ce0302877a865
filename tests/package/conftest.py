"""Fixtures of the fresh-project test: the built distribution, a virtualenv with
it installed, a new project made live from the docs, and daphne serving it.

Everything lives in temporary directories removed afterwards, and on a Redis
prefix of its own whose keys are deleted afterwards.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.e2e.servers import redis_reachable, redis_url

from . import quickstart
from .fresh import Dist, Project, Server, Venv, build

USERS = ("alice", "mallory")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failing test shows what the fresh project's server logged."""
    report = yield
    server = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(server, Server):
        report.sections.append(("fresh project's daphne log", server.log()))
    return report


@pytest.fixture(scope="session")
def scratch() -> Iterator[Path]:
    """One temporary directory for the whole run, removed at its end."""
    path = Path(tempfile.mkdtemp(prefix="fresh-project-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def dist(scratch: Path) -> Dist:
    """The wheel and sdist built from this checkout."""
    outdir = scratch / "dist"
    outdir.mkdir()
    return build(outdir)


@pytest.fixture(scope="session")
def venv(dist: Dist, scratch: Path) -> Venv:
    """A new virtualenv with the wheel (and its ``redis`` extra) and daphne."""
    return Venv.create(scratch / "venv", f"{dist.wheel}[redis]", "daphne")


@pytest.fixture(scope="session")
def shared_redis() -> str:
    """The Redis URL; a machine without Redis skips, except in CI, where it fails."""
    if not redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {redis_url()}")
        pytest.skip(f"Redis is not reachable at {redis_url()}")
    return redis_url()


@pytest.fixture(scope="module")
def project(venv: Venv, scratch: Path, shared_redis: str) -> Iterator[Project]:
    """``mysite`` and ``notes`` made live by the quick start, migrated, with users."""
    parent = Path(tempfile.mkdtemp(prefix="project-", dir=scratch))
    prefix = f"fresh{uuid.uuid4().hex[:12]}"
    project = Project.start(venv, parent)
    quickstart.apply(project.path, quickstart.snippets(), shared_redis, prefix)
    project.manage("makemigrations", "notes")
    project.manage("migrate", "--no-input")
    for username in USERS:
        project.create_user(username)
    yield project
    shutil.rmtree(parent, ignore_errors=True)
    client = redis.Redis.from_url(shared_redis)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module")
def tokens(project: Project) -> dict[str, str]:
    """Each user's DRF token, as ``drf_create_token`` prints it."""
    return {username: project.token(username) for username in USERS}


@pytest.fixture(scope="module")
def server(project: Project) -> Iterator[Server]:
    """daphne from the fresh virtualenv, serving ``mysite.asgi:application``."""
    process = Server(project, project.path.parent / "daphne.log").start()
    yield process
    process.stop()
