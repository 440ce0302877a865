"""What staff see: the admin's tables show every column on a 1280-pixel
screen, none cut off behind a sideways scroll; on a phone, the header's links
(two more than others have) stay on one row under the name."""

import pytest
from playwright.sync_api import expect

from .people import PHONE

SCREEN = {"width": 1280, "height": 800}

TABLE_FITS = """() => {
    const results = document.querySelector("#changelist .results");
    return results.scrollWidth <= results.clientWidth
        && document.scrollingElement.scrollWidth <= window.innerWidth;
}"""


@pytest.mark.parametrize("model", ["gift", "giftlist", "family"])
def test_every_column_of_a_changelist_is_on_screen(people, alices_list, model):
    carol = people("carol", viewport=SCREEN)
    page = carol.page()

    page.goto(f"/admin/giftlists/{model}/")

    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    assert page.evaluate(TABLE_FITS), f"the {model} table is cut at 1280 pixels"


def test_a_staff_header_keeps_its_links_on_one_row_on_a_phone(people):
    carol = people("carol", viewport=PHONE, is_mobile=True, has_touch=True)
    page = carol.page()

    page.goto("/")

    links = page.locator(".nav-links > li")
    expect(links).to_have_count(4)
    boxes = [links.nth(i).bounding_box() for i in range(4)]
    # On one row every link starts above the bottom of every other.
    lowest_top = max(box["y"] for box in boxes)
    highest_bottom = min(box["y"] + box["height"] for box in boxes)
    assert lowest_top < highest_bottom, f"the header's links wrap: {boxes}"
