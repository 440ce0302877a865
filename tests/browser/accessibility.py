"""axe-core, run inside the page in Chromium: no serious or critical violation,
and nothing wider than the screen.

axe-core comes from npm (``package.json``); the tests read it from
``node_modules/axe-core/axe.min.js`` (``AXE_JS`` may point at another copy).
Missing, the tests that need it skip here and fail in CI.
"""

import os
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: The impacts a page must not have: axe's two highest.
BLOCKING = ("serious", "critical")

_VIOLATIONS = """async (blocking) => {
    const results = await axe.run(document, { resultTypes: ["violations"] });
    return results.violations
        .filter((violation) => blocking.includes(violation.impact))
        .map((violation) => ({
            id: violation.id,
            impact: violation.impact,
            help: violation.help,
            where: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
        }));
}"""


@cache
def axe_source() -> str:
    path = Path(os.environ.get("AXE_JS") or AXE)
    if not path.exists():
        message = f"axe-core is not installed at {path} (npm ci installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path.read_text(encoding="utf-8")


def violations(page: Page) -> list[dict]:
    """axe's serious and critical violations on the page as it is now."""
    # Evaluated through the DevTools protocol: the site's CSP does not apply.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return page.evaluate(_VIOLATIONS, list(BLOCKING))


def scrolls_sideways(page: Page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth")


def assert_accessible(page: Page) -> None:
    """No serious or critical axe violation, and no sideways scrolling."""
    found = violations(page)
    assert found == [], f"{page.url} at {page.viewport_size}: {found}"
    assert not scrolls_sideways(page), (
        f"{page.url} scrolls sideways at {page.viewport_size}"
    )
