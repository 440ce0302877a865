"""The pages at desktop and phone widths: nothing wider than the screen, every
control labelled; the screenshots in docs/screenshots/ come from this test
(``UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screens.py``)."""

import os
import shutil
from pathlib import Path

from playwright.sync_api import Page, expect

from .accessibility import violations
from .people import (
    DESKTOP,
    LIVE,
    PHONE,
    activity,
    badge,
    editing_marker,
    gift_row,
    present,
    typing_line,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def save(page: Page, name: str, tmp_path: Path) -> Path:
    shot = tmp_path / name
    page.screenshot(path=shot, full_page=True, animations="disabled")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS / name)
    return shot


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def unlabelled_controls(page: Page) -> list[str]:
    """Inputs and buttons without an accessible name."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), textarea, button')]
            .filter((node) => !(node.labels && node.labels.length)
                && !node.getAttribute('aria-label') && !node.textContent.trim())
            .map((node) => node.outerHTML)"""
    )


def test_the_gift_list_page_on_desktop_and_phone(people, api, alices_list, tmp_path):
    desktop = people("bob", viewport=DESKTOP)
    phone = people("carol", viewport=PHONE, is_mobile=True, has_touch=True)
    page_d = desktop.open(f"/lists/{alices_list}/")
    page_p = phone.open(f"/lists/{alices_list}/")
    gift = api["alice"].post(
        "/api/gifts/",
        json={
            "list": alices_list,
            "title": "Watercolour paint set",
            "price": "32.00",
            "url": "https://example.com/paints",
            "notes": "The 24-colour one, not the travel box.",
        },
    )
    expect(activity(page_p)).to_contain_text("alice added Watercolour paint set")
    api["carol"].post(f"/api/gifts/{gift['id']}/claim/", expect=200)
    expect(gift_row(page_d, "Watercolour paint set")).to_contain_text(
        "Claimed by carol", timeout=LIVE
    )
    expect(activity(page_d)).to_contain_text("carol claimed Watercolour paint set")
    expect(activity(page_p)).to_contain_text("You claimed Watercolour paint set")

    for page in (page_d, page_p):
        expect(badge(page)).to_have_text("Live")
        assert fits_the_screen(page), "the page is wider than the screen"
        assert unlabelled_controls(page) == []
        assert violations(page) == []
    save(page_d, "gift-list-desktop.png", tmp_path)
    save(page_p, "gift-list-phone.png", tmp_path)


def test_the_gift_list_page_with_people_at_work(people, alices_list, tmp_path):
    """Bob (desktop) and Carol (phone) on Alice's list with Alice: everyone's
    initials in the page head, each sees the other typing a gift idea, and both
    see Alice editing a gift (held on screen: ?typing= and ?editing=)."""
    url = f"/lists/{alices_list}/?typing=600000&editing=300000"
    alice = people("alice")
    desktop = people("bob", viewport=DESKTOP)
    phone = people("carol", viewport=PHONE, is_mobile=True, has_touch=True)
    page_a = alice.open(url)
    page_d, page_p = desktop.open(url), phone.open(url)
    for page in (page_a, page_d, page_p):
        expect(present(page)).to_have_count(3, timeout=LIVE)

    page_d.get_by_label("Title").fill("Kite")
    page_p.get_by_label("Title").fill("Pottery class")
    page_a.get_by_role("button", name="Edit Board game night set").click()
    expect(typing_line(page_d)).to_have_text("carol is typing a gift idea…")
    expect(typing_line(page_p)).to_have_text("bob is typing a gift idea…")
    for page in (page_d, page_p):
        row = gift_row(page, "Board game night set")
        expect(editing_marker(row)).to_have_text("alice is editing this gift")
        assert fits_the_screen(page), "the page is wider than the screen"
        assert unlabelled_controls(page) == []
        assert violations(page) == []
    save(page_d, "gift-list-together.png", tmp_path)
    save(page_p, "gift-list-together-phone.png", tmp_path)


def test_the_inspector(people, api, alices_list, alices_family, tmp_path):
    carol = people("carol", viewport=DESKTOP)
    page = carol.page()
    page.goto(f"/inspector/?topic=gift-list:{alices_list}&topic=family:{alices_family}")
    expect(page.locator('#followed li[data-live="true"]')).to_have_count(2)
    gift = api["alice"].post(
        "/api/gifts/",
        json={"list": alices_list, "title": "Sketchbook", "price": "9.50"},
    )
    api["bob"].post(f"/api/gifts/{gift['id']}/claim/", expect=200)
    api["bob"].post(f"/api/gifts/{gift['id']}/purchase/", expect=200)
    expect(page.locator("#events tr[data-seq]")).to_have_count(3, timeout=LIVE)
    page.locator("#events details").first.locator("summary").click()
    assert fits_the_screen(page)
    assert unlabelled_controls(page) == []
    save(page, "inspector.png", tmp_path)
