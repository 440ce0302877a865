"""The home page follows the user's families: lists added, renamed and deleted
by others appear without a reload."""

import uuid

from playwright.sync_api import expect

from tests.e2e.api import Api

from .people import LIVE, badge


def test_lists_of_my_families_appear_change_and_go_live(people, server):
    alice = Api.login(server.http_url, "alice")
    family = alice.results("/api/families/")[0]
    bob = people("bob")
    page = bob.open("/")
    expect(badge(page)).to_have_text("Live")
    section = page.locator(f'section[data-family-id="{family["id"]}"]')
    expect(section.get_by_role("link", name="Alice's birthday")).to_be_visible()

    title = f"Graduation {uuid.uuid4().hex[:6]}"
    created = alice.post(
        "/api/gift-lists/", json={"family": family["id"], "title": title}
    )
    link = section.get_by_role("link", name=title)
    expect(link).to_be_visible(timeout=LIVE)
    expect(link).to_have_attribute("href", f"/lists/{created['id']}/")
    expect(section.locator(f'li[data-list-id="{created["id"]}"]')).to_contain_text(
        "by alice"
    )

    renamed = f"{title} party"
    alice.patch(f"/api/gift-lists/{created['id']}/", json={"title": renamed})
    expect(section.get_by_role("link", name=renamed)).to_be_visible(timeout=LIVE)

    alice.call("DELETE", f"/api/gift-lists/{created['id']}/", expect=204)
    expect(section.locator(f'li[data-list-id="{created["id"]}"]')).to_have_count(
        0, timeout=LIVE
    )
    expect(section.get_by_role("link", name="Alice's birthday")).to_be_visible()
