"""Screenshots of the pages for docs/screenshots/, taken by the browser tests
that visit them and written only when ``UPDATE_SCREENSHOTS=1``:

    UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_story.py tests/browser/test_screens.py
"""

import os
from pathlib import Path

from playwright.sync_api import Page

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def snap(page: Page, name: str, size: str) -> None:
    """Save the whole page as ``docs/screenshots/<name>-<size>.png``, if asked."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=DOCS / f"{name}-{size}.png", full_page=True, animations="disabled"
    )
