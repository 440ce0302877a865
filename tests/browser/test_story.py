"""The whole story, with two new people and no admin, at desktop and phone sizes:
Ana signs up, creates a family and a list, adds gifts and copies an invitation
link; Ben signs up through it, joins, sees Ana's list live and claims a gift;
Ana sees Ben on her list but never his claim; Ana deletes the claimed gift and
Ben is told. Every page either of them opens passes axe (no serious or critical
violation) and fits the screen."""

import re

import pytest
from playwright.sync_api import Page, expect

from .accessibility import assert_accessible, axe_source
from .people import (
    LIVE,
    PHONE,
    activity,
    fill_sign_up,
    gift_row,
    present_named,
)
from .screenshots import snap

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True},
}


def checked(page: Page, shot: str | None = None) -> Page:
    """The page as it is now passes axe and fits the screen; ``shot`` names
    its screenshot in docs/screenshots/ (taken with ``UPDATE_SCREENSHOTS=1``)."""
    assert_accessible(page)
    if shot:
        snap(page, shot, "phone" if page.viewport_size["width"] < 600 else "desktop")
    return page


def synced(page: Page, shot: str | None = None) -> Page:
    expect(page.locator("[data-synced]")).to_have_attribute("data-synced", "true")
    return checked(page, shot)


def notices(page: Page):
    return page.locator("#notices")


@pytest.mark.parametrize("size", list(SIZES))
def test_two_new_people_share_a_list_and_the_surprise_holds(newcomers, size):
    axe_source()  # skips here, before anyone signs up, when axe-core is missing
    ana = newcomers(
        "ana", permissions=["clipboard-read", "clipboard-write"], **SIZES[size]
    )
    ben = newcomers("ben", **SIZES[size])
    family_name = f"The {ana.username.capitalize()}s"
    list_title = f"{ana.username}'s birthday"
    lego, kite, socks = "Lego set", "Red kite", "Warm socks"

    # Ana signs up, creates a family, and a list in it.
    page = ana.page()
    page.goto("/accounts/login/")
    checked(page, "login")
    page.get_by_role("link", name="Create an account").click()
    checked(page, "signup")
    fill_sign_up(page, ana.username)
    checked(page, "home-new")
    page.get_by_role("link", name="Create a family").click()
    checked(page, "family-new")
    page.get_by_label("Name").fill(family_name)
    page.get_by_role("button", name="Create the family").click()
    synced(page)
    page.get_by_role("link", name="New list").click()
    checked(page, "list-new")
    page.get_by_label("Title").fill(list_title)
    page.get_by_label("Occasion date").fill("2027-05-04")
    page.get_by_label("Description").fill("Anything blue. No more mugs!")
    page.get_by_role("button", name="Create the list").click()
    expect(page.get_by_role("heading", name=list_title)).to_be_visible()
    synced(page)
    list_url = page.url
    expect(page.locator("#list-description")).to_have_text(
        "Anything blue. No more mugs!"
    )

    # She adds gifts, one with a price and notes, shown in the family's euros.
    page.get_by_label("Title").fill(lego)
    page.get_by_label("Price (EUR)").fill("49.90")
    page.get_by_label("Notes").fill("The space station one")
    page.get_by_role("button", name="Add gift").click()
    expect(gift_row(page, lego)).to_contain_text("€49.90")
    expect(gift_row(page, lego)).to_contain_text("The space station one")
    page.get_by_label("Title").fill(kite)
    page.get_by_role("button", name="Add gift").click()
    expect(gift_row(page, kite)).to_be_visible()
    checked(page, "list-owner")

    # She makes an invitation link on the family page and copies it.
    family = ana.page()
    family.goto(page.get_by_role("link", name=family_name).get_attribute("href"))
    synced(family)
    family.get_by_role("button", name="Create an invitation link").click()
    synced(family, "family")
    family.get_by_role("button", name="Copy link").click()
    expect(family.get_by_role("status").filter(has_text="Link copied")).to_be_visible()
    link = family.evaluate("navigator.clipboard.readText()")
    assert link == family.get_by_label("Invitation link").input_value()
    # Reloading that page sends nothing again: no second link is made.
    posts: list[str] = []
    family.on("request", lambda r: posts.append(r.url) if r.method == "POST" else 0)
    family.reload()
    synced(family)
    assert posts == []
    expect(family.get_by_label("Invitation link")).to_have_count(0)
    family.close()

    # Ben opens it, signs up through it, comes back to it and joins.
    phone = ben.page()
    phone.goto(link)
    checked(phone, "invitation-signed-out")
    phone.get_by_role("link", name="Create an account").click()
    fill_sign_up(phone, ben.username)
    expect(phone).to_have_url(link)
    checked(phone, "invitation")
    phone.get_by_role("button", name=f"Join {family_name}").click()
    expect(phone.get_by_text(f"Welcome to {family_name}!")).to_be_visible()
    synced(phone, "home")
    phone.get_by_role("link", name=list_title).click()
    synced(phone)

    # Ana sees him arrive on her list; he sees her list live.
    expect(present_named(page, ben.username)).to_be_visible(timeout=LIVE)
    expect(gift_row(phone, lego)).to_contain_text("Still wanted")
    page.get_by_label("Title").fill(socks)
    page.get_by_role("button", name="Add gift").click()
    expect(gift_row(phone, socks)).to_be_visible(timeout=LIVE)
    expect(activity(phone)).to_contain_text(f"{ana.username} added {socks}")

    # Ben claims the Lego set; Ana's page shows no trace of it, even after a
    # later change of hers has reached her (events arrive in order).
    phone.get_by_role("button", name=f"Claim {lego}").click()
    expect(gift_row(phone, lego)).to_contain_text("Claimed by you")
    checked(phone, "list-member")
    page.get_by_role("button", name=f"Edit {kite}").click()
    editor = page.get_by_role("form", name=f"Edit {kite}")
    editor.get_by_label("Notes").fill("A big one")
    checked(page, "gift-edit")
    editor.get_by_role("button", name="Save").click()
    expect(gift_row(phone, kite)).to_contain_text("A big one", timeout=LIVE)
    expect(activity(page)).to_contain_text(f"You edited {kite}")
    for shown in (gift_row(page, lego), activity(page)):
        expect(shown).not_to_contain_text(re.compile("claim|bought", re.I))
        expect(shown).not_to_contain_text(ben.username)

    # Ana deletes the Lego set, after saying yes; Ben is told, on his page.
    page.get_by_role("button", name=f"Delete {lego}").click()
    checked(page, "gift-delete")
    page.get_by_role("button", name=f"Yes, delete {lego}").click()
    expect(gift_row(page, lego)).to_have_count(0)
    expect(gift_row(phone, lego)).to_have_count(0, timeout=LIVE)
    told = (
        f"{ana.username} deleted “{lego}” from “{list_title}”, which you had claimed."
    )
    expect(notices(phone)).to_have_text(re.compile(re.escape(told)), timeout=LIVE)
    expect(phone.get_by_role("status").filter(has_text=told)).to_be_visible()
    checked(phone, "notice")

    # Reloaded, the feeds keep their past from the event log, each as its
    # reader may see it, and the notice stays until Ben dismisses it.
    phone.reload()
    synced(phone)
    expect(activity(phone)).to_contain_text(f"You claimed {lego}")
    expect(activity(phone)).to_contain_text(f"{ana.username} removed {lego}")
    expect(activity(phone).locator("time").first).to_have_text("just now")
    expect(notices(phone)).to_contain_text(told)
    phone.get_by_role("button", name=f"Dismiss: {lego}").click()
    expect(notices(phone)).to_be_empty()
    page.reload()
    synced(page)
    expect(activity(page)).to_contain_text(f"You removed {lego}")
    expect(activity(page)).to_contain_text(f"You added {kite}")
    expect(activity(page)).not_to_contain_text(re.compile("claim|bought", re.I))
    expect(notices(page)).to_be_empty()

    # Managing the list is Ana's alone: Ben is told so, on a page of the site.
    ben.expect_errors(r"status of 403 \(Forbidden\).*/edit/")
    phone.goto(f"{list_url}edit/")
    expect(phone.get_by_text("Only the list's owner may edit it.")).to_be_visible()
    checked(phone, "forbidden")

    # Ana's own pages for managing the list pass too.
    for path, shot in (("edit/", "list-edit"), ("delete/", "list-delete")):
        page.goto(f"{list_url}{path}")
        checked(page, shot)
    page.goto("/accounts/password_change/")
    checked(page, "password-change")
    page.goto("/accounts/password_reset/")
    checked(page, "password-reset")
    # The occasion over, she archives the list: read-only, and shown apart.
    page.goto(list_url)
    synced(page)
    page.get_by_role("button", name="Archive the list").click()
    expect(page.get_by_text("Archived: this occasion is over")).to_be_visible()
    synced(page, "list-archived")
    expect(page.locator("#add-gift")).to_be_hidden()
    expect(page.get_by_role("button", name=f"Edit {kite}")).to_have_count(0)
    phone.goto("/")
    synced(phone)
    phone.get_by_text("Archived lists").click()
    expect(phone.locator("details.archived")).to_contain_text(list_title)
    checked(phone)
