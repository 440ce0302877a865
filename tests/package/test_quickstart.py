"""The quick start's promises that need no server: every step is marked, and
the wiring it asks of a project stays small."""

from .quickstart import DOCS, code_lines, snippets

# The wiring a project writes: settings, asgi.py, urls.py and its realtime.py.
WIRING_STEPS = ("settings", "asgi", "urls", "app")
MOST_WIRING_LINES = 15


def test_the_documented_wiring_is_at_most_15_lines_and_says_how_many():
    steps = snippets()
    counted = sum(len(code_lines(steps[name])) for name in WIRING_STEPS)
    assert counted <= MOST_WIRING_LINES
    assert f"the whole wiring: {counted} lines" in DOCS.read_text()
