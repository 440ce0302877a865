"""The admin's gift and list tables show every column on a 1280-pixel screen:
none is cut off behind a sideways scroll."""

import pytest
from playwright.sync_api import expect

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
