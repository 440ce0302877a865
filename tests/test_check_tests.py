"""``scripts/check_tests.py`` refuses asserts on elapsed time, names their file
and line, and lets deadline-bounded waits and ordinary asserts through."""

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from scripts.check_tests import ROOT, TEST_DIRECTORIES, timed_asserts

TIMED = [
    """
    import time
    began = time.monotonic()
    assert time.monotonic() - began < 5
    """,
    """
    from time import perf_counter
    def test():
        start = perf_counter()
        elapsed = perf_counter() - start
        assert elapsed < 0.1, "too slow"
    """,
    """
    import time
    class Timer:
        def start(self):
            self.began = time.time()
        def check(self, bound):
            assert time.time() - self.began <= bound
    """,
    """
    import time
    began = time.monotonic()
    assert time.monotonic() < began + 15
    """,
]

ACCEPTED = [
    """
    import time
    def wait_until(condition, timeout):
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not met in time"
            time.sleep(0.05)
    """,
    """
    import time
    took = time.monotonic()
    took = 3
    assert took < 5
    assert {"seq": 1} == {"seq": 1}
    """,
]


@pytest.mark.parametrize("source", TIMED)
def test_an_assert_on_elapsed_time_is_refused_at_its_line(source):
    source = textwrap.dedent(source)
    found = timed_asserts(source, "tests/example.py")

    assert len(found) == 1
    line = source.splitlines()[found[0].line - 1]
    assert line.strip().startswith("assert ")
    assert str(found[0]).startswith(f"tests/example.py:{found[0].line}: ")


@pytest.mark.parametrize("source", ACCEPTED)
def test_deadline_guards_and_ordinary_asserts_pass(source):
    assert timed_asserts(textwrap.dedent(source)) == []


def test_the_command_fails_naming_the_file_and_line(tmp_path: Path):
    timed = tmp_path / "test_timed.py"
    timed.write_text(textwrap.dedent(TIMED[0]))
    (tmp_path / "test_fine.py").write_text(textwrap.dedent(ACCEPTED[0]))

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_tests.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"{timed}:4: timed assertion")


def test_it_checks_every_directory_pytest_collects():
    with (ROOT / "pyproject.toml").open("rb") as file:
        testpaths = tomllib.load(file)["tool"]["pytest"]["ini_options"]["testpaths"]
    # The realtime package's own tests run in a pytest call of their own.
    assert sorted(TEST_DIRECTORIES) == sorted([*testpaths, "realtime/tests"])
