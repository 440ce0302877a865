"""Refuse timed assertions in the tests: ``assert`` on how long something took.

A test that asserts ``time.monotonic() - began < BOUND`` passes or fails with the
machine's load, not with the behaviour it names. Tests wait for a condition with
a deadline instead (the deadline ends the wait; it is not what the test proves),
so this check accepts ``assert time.monotonic() < deadline`` as a polling loop's
guard and refuses an ``assert`` that compares a difference of clock readings, or
a name holding one, with anything.

Usage: ``python scripts/check_tests.py [PATH ...]`` (default: every test
directory). Exits 1 and prints ``file:line: ...`` for each timed assertion.
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
    found: list[TimedAssert] = []
    for path in python_files(paths):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        found += timed_asserts(path.read_text(encoding="utf-8"), str(shown))
    for timed in found:
        print(timed, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
