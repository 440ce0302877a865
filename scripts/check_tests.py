"""Refuse timed assertions in the tests: ``assert`` on how long something took,
and "nothing arrived" checked by waiting a while.

A test that asserts ``time.monotonic() - began < BOUND`` passes or fails with the
machine's load, not with the behaviour it names. Tests wait for a condition with
a deadline instead (the deadline ends the wait; it is not what the test proves),
so this check accepts ``assert time.monotonic() < deadline`` as a polling loop's
guard and refuses an ``assert`` that compares a difference of clock readings, or
a name holding one, with anything.

Likewise a test that waits 0.3 s and sees nothing passes on a slow machine
whether or not something was on its way. Tests end such a check at a barrier, a
later message that would have come after the unwanted one
(``SocketClient.nothing_before``), so this check refuses every call of
``assert_silent(...)`` and every ``receive_nothing(...)`` whose timeout is not a
literal 0 (channels' own default is 0.1 s); with 0, it only looks at what has
already come, after a signal that nothing more will.

Usage: ``python scripts/check_tests.py [PATH ...]`` (default: every test
directory). Exits 1 and prints ``file:line: ...`` for each timed check.
"""

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_DIRECTORIES = ("realtime/tests", "giftlists/tests", "tests")

# Functions that read a clock, called as ``time.<name>()`` or ``loop.time()``.
CLOCKS = frozenset(
    {
        "monotonic",
        "monotonic_ns",
        "perf_counter",
        "perf_counter_ns",
        "process_time",
        "process_time_ns",
        "time",
        "time_ns",
    }
)


@dataclass(frozen=True)
class TimedAssert:
    """One ``assert`` on elapsed time, where it is and what it says."""

    path: str
    line: int
    source: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: timed assertion `assert {self.source}`: "
            "it passes or fails with the machine's speed; wait for the condition "
            "with a deadline instead of asserting how long it took"
        )


class _Checker(ast.NodeVisitor):
    """Walks one module in source order, one scope of names per function."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.from_time: set[str] = set()  # clocks imported bare: from time import ...
        self.scopes: list[dict[str, str]] = [{}]  # name -> "clock" or "elapsed"
        self.found: list[TimedAssert] = []

    # Names and what they hold.

    def kind_of_name(self, key: str) -> str | None:
        for scope in reversed(self.scopes):
            if key in scope:
                return scope[key]
        return None

    def is_clock_call(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        function = node.func
        if isinstance(function, ast.Attribute):
            return function.attr in CLOCKS
        return isinstance(function, ast.Name) and function.id in self.from_time

    def holds(self, node: ast.AST, kind: str) -> bool:
        """Whether ``node`` (a name or attribute) was assigned a value of ``kind``."""
        if isinstance(node, ast.Name | ast.Attribute):
            return self.kind_of_name(ast.unparse(node)) == kind
        return False

    def reads_clock(self, node: ast.AST) -> bool:
        """A clock reading, or a value computed from one (``began + 5``)."""
        return any(
            self.is_clock_call(part) or self.holds(part, "clock")
            for part in ast.walk(node)
        )

    def is_elapsed(self, node: ast.AST) -> bool:
        """Whether ``node`` contains a difference of clock readings."""
        for part in ast.walk(node):
            if self.holds(part, "elapsed"):
                return True
            if (
                isinstance(part, ast.BinOp)
                and isinstance(part.op, ast.Sub)
                and (self.reads_clock(part.left) or self.reads_clock(part.right))
            ):
                return True
        return False

    def kind_of_value(self, node: ast.AST) -> str | None:
        if self.is_elapsed(node):
            return "elapsed"
        if self.reads_clock(node):
            return "clock"
        return None

    def bind(self, target: ast.AST, value: ast.AST | None) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.bind(element, None)
            return
        if isinstance(target, ast.Name | ast.Attribute):
            kind = None if value is None else self.kind_of_value(value)
            # ``self.began`` outlives the method that sets it: module-wide.
            scope = self.scopes[0 if isinstance(target, ast.Attribute) else -1]
            key = ast.unparse(target)
            if kind is None:
                scope.pop(key, None)
            else:
                scope[key] = kind

    # The statements that matter.

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "time":
            for alias in node.names:
                if alias.name in CLOCKS:
                    self.from_time.add(alias.asname or alias.name)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scopes.append({})
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            self.bind(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.generic_visit(node)
        self.bind(node.target, node.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.generic_visit(node)
        self.bind(node.target, node.value)

    def visit_Assert(self, node: ast.Assert) -> None:
        if any(self.is_timed(compare) for compare in ast.walk(node.test)):
            self.found.append(
                TimedAssert(self.path, node.lineno, ast.unparse(node.test))
            )
        self.generic_visit(node)

    def is_timed(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Compare):
            return False
        sides = [node.left, *node.comparators]
        if any(self.is_elapsed(side) for side in sides):
            return True
        # ``clock < began + BOUND`` is ``clock - began < BOUND`` rearranged.
        return any(self.reads_clock(side) for side in sides) and any(
            isinstance(side, ast.BinOp)
            and isinstance(side.op, ast.Add)
            and self.reads_clock(side)
            for side in sides
        )


def timed_asserts(source: str, path: str = "<string>") -> list[TimedAssert]:
    """Every ``assert`` on elapsed time in one module's source."""
    checker = _Checker(path)
    checker.visit(ast.parse(source, filename=path))
    return checker.found


@dataclass(frozen=True)
class TimedSilence:
    """One "nothing arrived" check that ends after a wait, where it is."""

    path: str
    line: int
    source: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: timed silence `{self.source}`: waiting a "
            "while for nothing passes on a slow machine either way; end the check "
            "at a later message instead (SocketClient.nothing_before)"
        )


def _is_zero(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and type(node.value) in (int, float)
        and node.value == 0
    )


def _waits(call: ast.Call) -> bool:
    """Whether a call of ``assert_silent`` or ``receive_nothing`` waits."""
    function = call.func
    if isinstance(function, ast.Attribute):
        name = function.attr
    elif isinstance(function, ast.Name):
        name = function.id
    else:
        return False
    if name == "assert_silent":
        return True
    if name != "receive_nothing":
        return False
    timeouts = [k.value for k in call.keywords if k.arg == "timeout"] + call.args[:1]
    return not timeouts or not _is_zero(timeouts[0])


def timed_silences(source: str, path: str = "<string>") -> list[TimedSilence]:
    """Every call in one module's source that checks for silence by waiting."""
    calls = [
        node
        for node in ast.walk(ast.parse(source, filename=path))
        if isinstance(node, ast.Call) and _waits(node)
    ]
    return [
        TimedSilence(path, call.lineno, ast.unparse(call))
        for call in sorted(calls, key=lambda call: (call.lineno, call.col_offset))
    ]


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.py"))
        else:
            yield path


def main(arguments: list[str]) -> int:
    paths = [Path(argument).resolve() for argument in arguments] or [
        ROOT / directory for directory in TEST_DIRECTORIES
    ]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        print(f"check_tests: no such path: {', '.join(missing)}", file=sys.stderr)
        return 2
    found: list[TimedAssert | TimedSilence] = []
    for path in python_files(paths):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        source = path.read_text(encoding="utf-8")
        in_file = timed_asserts(source, str(shown)) + timed_silences(source, str(shown))
        found += sorted(in_file, key=lambda timed: timed.line)
    for timed in found:
        print(timed, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
