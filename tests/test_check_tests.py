"""``scripts/check_tests.py`` refuses asserts on elapsed time and "nothing
arrived" checks that wait, names their file and line, and lets deadline-bounded
waits, barrier-bounded silence checks and ordinary asserts through."""

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from scripts.check_tests import ROOT, TEST_DIRECTORIES, timed_asserts, timed_silences

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


# Lines in a test that check that nothing arrived.
SILENT_FOR_A_WHILE = [
    "await client.assert_silent()",
    "await client.assert_silent(timeout=0.05)",
    "assert await client.communicator.receive_nothing()",
    "assert await client.communicator.receive_nothing(0.3)",
    "assert await communicator.receive_nothing(timeout=0.1, interval=0.01)",
]

SILENT_UP_TO_A_SIGNAL = [
    "assert await client.communicator.receive_nothing(timeout=0)",
    "assert await client.communicator.receive_nothing(0)",
    "await client.nothing_before(lambda message: message['topic'] == 'room:b')",
]


def in_a_test(line: str) -> str:
    """``line`` as the third line of a module: the last of a test function."""
    return (
        "async def test_quiet(client):\n"
        "    await client.subscribe('room:a')\n"
        f"    {line}\n"
    )


@pytest.mark.parametrize("line", SILENT_FOR_A_WHILE)
def test_a_silence_check_that_waits_is_refused_at_its_line(line):
    found = timed_silences(in_a_test(line), "tests/example.py")

    assert [timed.line for timed in found] == [3]
    assert str(found[0]).startswith("tests/example.py:3: timed silence `")
    assert "nothing_before" in str(found[0])  # what to do instead


@pytest.mark.parametrize("line", SILENT_UP_TO_A_SIGNAL)
def test_a_silence_check_ended_by_a_signal_passes(line):
    assert timed_silences(in_a_test(line)) == []


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


def test_the_command_names_each_timed_check_of_a_file_in_line_order(tmp_path: Path):
    timed = tmp_path / "test_timed.py"
    timed.write_text(in_a_test(SILENT_FOR_A_WHILE[0]) + textwrap.dedent(TIMED[0]))

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_tests.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{timed}:3", f"{timed}:7"]
    assert "timed silence" in lines[0] and "timed assertion" in lines[1]


def test_it_checks_every_directory_pytest_collects():
    with (ROOT / "pyproject.toml").open("rb") as file:
        testpaths = tomllib.load(file)["tool"]["pytest"]["ini_options"]["testpaths"]
    # The realtime package's own tests run in a pytest call of their own.
    assert sorted(TEST_DIRECTORIES) == sorted([*testpaths, "realtime/tests"])
