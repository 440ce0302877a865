"""Two new people and no admin: one signs up, creates a family and copies an
invitation link; the other signs up through the link and joins; the first sees
them arrive without reloading, and every page fits a phone's screen and
passes axe (no serious or critical violation)."""

import re

from playwright.sync_api import Page, expect

from .accessibility import assert_accessible
from .people import DESKTOP, LIVE, PHONE, fill_sign_up


def assert_fits(page: Page) -> None:
    """Nothing scrolls sideways, and axe finds nothing serious or critical."""
    assert_accessible(page)


def member_row(page: Page, username: str):
    return page.locator("#members li").filter(
        has=page.locator(".member-name", has_text=re.compile(f"^{username}$"))
    )


def test_a_new_family_invites_a_new_person_who_joins_live(newcomers):
    ana = newcomers(
        "ana", viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"]
    )
    ben = newcomers("ben", viewport=PHONE, is_mobile=True, has_touch=True)
    family_name = f"The {ana.username.capitalize()}s"

    # Ana signs up from the login page and creates a family.
    page = ana.page()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Create an account").click()
    fill_sign_up(page, ana.username)
    page.get_by_role("link", name="Create a family").click()
    page.get_by_label("Name").fill(family_name)
    page.get_by_role("button", name="Create the family").click()
    expect(page.get_by_role("heading", name=family_name, level=1)).to_be_visible()
    expect(member_row(page, ana.username)).to_contain_text("admin")

    # She makes an invitation link and copies it.
    page.get_by_role("button", name="Create an invitation link").click()
    expect(page.locator("#family-app")).to_have_attribute("data-synced", "true")
    link = page.get_by_label("Invitation link").input_value()
    assert re.fullmatch(rf"{ana.server.http_url}/invitations/[\w-]+/", link)
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status").filter(has_text="Link copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == link

    # Ben opens it on his phone: he has no account, signs up, comes back, joins.
    phone = ben.page()
    phone.goto(copied)
    expect(
        phone.get_by_text("to see your invitation and join the family")
    ).to_be_visible()
    assert_fits(phone)
    phone.get_by_role("link", name="Create an account").click()
    assert_fits(phone)
    fill_sign_up(phone, ben.username)
    expect(phone).to_have_url(copied)
    expect(phone.get_by_text(f"{ana.username} invites you to join")).to_be_visible()
    assert_fits(phone)
    phone.get_by_role("button", name=f"Join {family_name}").click()
    expect(phone.get_by_text(f"Welcome to {family_name}!")).to_be_visible()
    expect(phone.get_by_role("link", name=family_name, exact=True)).to_be_visible()
    assert_fits(phone)

    # Ana's family page shows him without a reload.
    expect(member_row(page, ben.username)).to_be_visible(timeout=LIVE)
    expect(member_row(page, ben.username)).to_contain_text("joined")
    expect(member_row(page, ben.username).get_by_role("link")).to_have_accessible_name(
        f"Remove {ben.username}"
    )

    # Ben sees the family on his phone; Ana removes him and his page says so.
    ben.expect_errors(r"status of 404 \(Not Found\).*/api/")
    family = ben.open(
        phone.get_by_role("link", name=family_name, exact=True).get_attribute("href")
    )
    expect(member_row(family, ana.username)).to_contain_text("admin")
    assert_fits(family)
    page.set_viewport_size(PHONE)
    assert_fits(page)
    member_row(page, ben.username).get_by_role("link").click()
    assert_fits(page)
    page.get_by_role("button", name=f"Remove {ben.username}").click()
    expect(page.get_by_text(f"{ben.username} is no longer a member")).to_be_visible()
    expect(
        family.get_by_text("You are no longer a member of this family.")
    ).to_be_visible(timeout=LIVE)
    expect(family.locator("#members")).to_have_count(0)


def test_every_account_and_family_page_fits_a_phone(newcomers):
    dana = newcomers("dana", viewport=PHONE, is_mobile=True, has_touch=True)
    page = dana.page()
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"):
        page.goto(path)
        assert_fits(page)
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_fits(page)
    page.goto("/accounts/reset/MQ/not-a-token/")
    expect(
        page.get_by_role("heading", name="This link no longer works")
    ).to_be_visible()
    assert_fits(page)

    page.goto("/accounts/signup/")
    fill_sign_up(page, dana.username)
    assert_fits(page)
    page.get_by_role("link", name="Create a family").click()
    assert_fits(page)
    page.get_by_label("Name").fill("A family with a rather long name for a phone")
    page.get_by_role("button", name="Create the family").click()
    expect(page.locator("#family-app")).to_have_attribute("data-synced", "true")
    assert_fits(page)
    page.get_by_label("Only for this username").fill("someone-with-a-long-name")
    page.get_by_role("button", name="Create an invitation link").click()
    expect(page.get_by_label("Invitation link")).to_be_visible()
    assert_fits(page)
    family_url = page.get_by_role("link", name="New list").get_attribute("href")
    page.get_by_role("link", name="New list").click()
    assert_fits(page)
    page.get_by_label("Title").fill("Dana's name day")
    page.get_by_label("Occasion date").fill("2027-07-26")
    page.get_by_role("button", name="Create the list").click()
    expect(page.get_by_role("heading", name="Dana's name day")).to_be_visible()
    assert_fits(page)
    page.goto(family_url.replace("lists/new/", "leave/"))
    expect(page.get_by_role("heading", name=re.compile("^Leave "))).to_be_visible()
    assert_fits(page)
    page.goto("/accounts/password_change/")
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    assert_fits(page)
    page.goto("/")
    assert_fits(page)
