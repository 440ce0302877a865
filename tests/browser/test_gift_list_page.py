"""The gift-list page in real Chromium against a real daphne process: live
changes from other people and the admin, optimistic changes and their rollback,
and the owner who never sees claims.
"""

import re
import uuid

from playwright.sync_api import expect

from .people import (
    LIVE,
    activity,
    badge,
    gift_row,
    hold_gift_events,
    hold_next_read,
    wait_until,
)


def unique(title: str) -> str:
    return f"{title} {uuid.uuid4().hex[:6]}"


def test_two_people_see_each_others_changes_live(people, alices_list):
    """Bob adds, Alice edits, Bob claims, Alice deletes: each sees the other's
    change without reloading, highlighted, and Alice never learns of the claim."""
    alice, bob = people("alice"), people("bob")
    page_a = alice.open(f"/lists/{alices_list}/")
    page_b = bob.open(f"/lists/{alices_list}/")
    expect(badge(page_a)).to_have_text("Live")
    expect(badge(page_b)).to_have_attribute("data-status", "open")
    kite = unique("Kite")

    page_b.get_by_label("Title").fill(kite)
    page_b.get_by_label("Price").fill("12.50")
    page_b.get_by_role("button", name="Add gift").click()
    expect(gift_row(page_b, kite)).to_contain_text("Still wanted")
    row_a = gift_row(page_a, kite)
    expect(row_a).to_be_visible(timeout=LIVE)
    expect(row_a).to_have_class(re.compile(r"\bflash\b"))
    expect(row_a).to_contain_text("12.50")
    expect(activity(page_a)).to_contain_text(f"bob added {kite}")

    red_kite = unique("Red kite")
    page_a.get_by_role("button", name=f"Edit {kite}").click()
    editor = page_a.get_by_role("form", name=f"Edit {kite}")
    editor.get_by_label("Title").fill(red_kite)
    editor.get_by_role("button", name="Save").click()
    expect(gift_row(page_b, red_kite)).to_be_visible(timeout=LIVE)
    expect(activity(page_b)).to_contain_text(f"alice edited {red_kite}")

    page_b.get_by_role("button", name=f"Claim {red_kite}").click()
    expect(gift_row(page_b, red_kite)).to_contain_text("Claimed by you")
    expect(page_b.get_by_role("button", name=f"Unclaim {red_kite}")).to_be_enabled()

    page_a.get_by_role("button", name=f"Delete {red_kite}").click()
    # Asked first, in the row, the same words whether or not it was claimed.
    expect(gift_row(page_a, red_kite)).to_contain_text(
        "anyone who claimed it will be told"
    )
    expect(gift_row(page_b, red_kite)).to_be_visible()
    page_a.get_by_role("button", name=f"Yes, delete {red_kite}").click()
    expect(gift_row(page_a, red_kite)).to_have_count(0)
    expect(gift_row(page_b, red_kite)).to_have_count(0, timeout=LIVE)
    expect(activity(page_b)).to_contain_text(f"alice removed {red_kite}")
    # Events arrive in order: once Alice's page has heard of her own delete it
    # would have heard of Bob's claim before it, had the claim reached her.
    expect(activity(page_a)).to_contain_text(f"You removed {red_kite}")
    expect(activity(page_a)).not_to_contain_text("claimed")
    # The feed may also show the list's earlier past (the event log's).
    mine = re.compile(f"{re.escape(kite)}|{re.escape(red_kite)}")
    expect(page_a.locator("#activity li").filter(has_text=mine)).to_have_count(3)


def test_the_owner_sees_no_claims_and_members_see_who_claimed(people, alices_list):
    """Seeded: Bob claimed the skillet, Carol bought the headphones."""
    alice, bob = people("alice"), people("bob")
    page_a = alice.open(f"/lists/{alices_list}/")
    page_b = bob.open(f"/lists/{alices_list}/")

    skillet_a = gift_row(page_a, "Cast-iron skillet")
    expect(skillet_a).to_be_visible()
    expect(
        skillet_a.get_by_role("button", name="Edit Cast-iron skillet")
    ).to_be_visible()
    expect(page_a.locator("#gifts")).not_to_contain_text(
        re.compile("Claimed|Bought|wanted")
    )
    expect(
        page_a.get_by_role("button", name=re.compile("^(Claim|Unclaim|Mark) "))
    ).to_have_count(0)

    expect(gift_row(page_b, "Cast-iron skillet")).to_contain_text("Claimed by you")
    expect(gift_row(page_b, "Noise-cancelling headphones")).to_contain_text(
        "Bought by carol"
    )
    expect(gift_row(page_b, "Board game night set")).to_contain_text("Still wanted")
    expect(
        page_b.get_by_role("button", name=re.compile("^(Edit|Delete) "))
    ).to_have_count(0)


def test_claim_buy_and_unclaim_reach_other_members_with_names(people, api, alices_list):
    """Carol follows Bob's claim, unclaim and purchase, named in her feed."""
    lamp = unique("Lamp")
    api["alice"].post("/api/gifts/", json={"list": alices_list, "title": lamp})
    bob, carol = people("bob"), people("carol")
    page_b = bob.open(f"/lists/{alices_list}/")
    page_c = carol.open(f"/lists/{alices_list}/")
    row_c = gift_row(page_c, lamp)

    page_b.get_by_role("button", name=f"Claim {lamp}").click()
    expect(row_c).to_contain_text("Claimed by bob", timeout=LIVE)
    expect(row_c.get_by_role("button")).to_have_count(0)
    page_b.get_by_role("button", name=f"Unclaim {lamp}").click()
    expect(row_c).to_contain_text("Still wanted", timeout=LIVE)
    page_b.get_by_role("button", name=f"Mark bought: {lamp}").click()
    expect(gift_row(page_b, lamp)).to_contain_text("Bought by you")
    expect(row_c).to_contain_text("Bought by bob", timeout=LIVE)
    feed = activity(page_c)
    expect(feed).to_contain_text(f"bob bought {lamp}")
    expect(feed).to_contain_text(f"bob unclaimed {lamp}")
    expect(feed).to_contain_text(f"bob claimed {lamp}")


def test_an_admin_edit_appears_on_an_open_page(people, api, alices_list):
    """Carol changes a gift through the real admin form; Bob's page shows it."""
    scarf = unique("Scarf")
    gift = api["alice"].post("/api/gifts/", json={"list": alices_list, "title": scarf})
    bob, carol = people("bob"), people("carol")
    page_b = bob.open(f"/lists/{alices_list}/")
    expect(gift_row(page_b, scarf)).to_be_visible()

    admin = carol.page()
    admin.goto(f"/admin/giftlists/gift/{gift['id']}/change/")
    wool = unique("Wool scarf")
    admin.get_by_label("Title:").fill(wool)
    admin.get_by_label("Notes:").fill("Dark green, please")
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text("was changed successfully")

    row = gift_row(page_b, wool)
    expect(row).to_be_visible(timeout=LIVE)
    expect(row).to_contain_text("Dark green, please")
    expect(activity(page_b)).to_contain_text(f"carol edited {wool}")


def test_a_refused_claim_rolls_back_with_a_message(people, api, alices_list):
    """Carol claims over the API while Bob's page has not heard of it yet (its
    socket holds the event back); Bob's click shows his claim at once, the
    server answers 409, and the page takes it back and says why."""
    puzzle = unique("Puzzle")
    gift = api["alice"].post("/api/gifts/", json={"list": alices_list, "title": puzzle})
    bob = people("bob")
    bob.expect_errors(r"status of 409 \(Conflict\).*/api/gifts/\d+/claim/")
    page = bob.page()
    held = hold_gift_events(page, gift["id"])
    # Hold the claim's answer too, to see the optimistic state before the 409.
    answers = []
    page.route(
        re.compile(r"/api/gifts/\d+/claim/$"), lambda route: answers.append(route)
    )
    bob.open(f"/lists/{alices_list}/", page=page)
    expect(badge(page)).to_have_text("Live")
    row = gift_row(page, puzzle)
    expect(row).to_contain_text("Still wanted")

    api["carol"].post(f"/api/gifts/{gift['id']}/claim/", expect=200)
    wait_until(
        page, lambda: held.messages, "the claim's event never reached the socket"
    )
    page.get_by_role("button", name=f"Claim {puzzle}").click()
    expect(row).to_contain_text("Claimed by you")
    wait_until(page, lambda: answers, "the claim request was never sent")
    answers[0].continue_()

    expect(page.locator("#messages")).to_contain_text(
        f"Could not claim {puzzle}: This gift is already claimed."
    )
    expect(row).not_to_contain_text("Claimed by you")
    expect(row).to_contain_text("Claimed by carol")

    held.release()
    expect(activity(page)).to_contain_text(f"carol claimed {puzzle}", timeout=LIVE)
    expect(row).to_contain_text("Claimed by carol")
    expect(page.get_by_role("button", name=f"Claim {puzzle}")).to_have_count(0)


def test_a_member_who_leaves_the_family_loses_the_page_live(people, api, alices_list):
    """Bob leaves the family in another tab (over the API); the open page says
    he no longer has access and offers no controls."""
    family = api["bob"].get(f"/api/gift-lists/{alices_list}/")["family"]
    members = api["bob"].get(f"/api/families/{family}/")["members"]
    bob_id = next(member["id"] for member in members if member["username"] == "bob")
    bob = people("bob")
    # What the page refetches on hearing of the change may already be refused.
    bob.expect_errors(r"status of 404 \(Not Found\).*/api/")
    page = bob.open(f"/lists/{alices_list}/")
    expect(
        page.get_by_role("button", name="Claim Board game night set")
    ).to_be_visible()
    try:
        api["bob"].call(
            "DELETE", f"/api/families/{family}/members/{bob_id}/", expect=204
        )
        expect(page.locator("#messages")).to_contain_text(
            "You no longer have access to this list.", timeout=LIVE
        )
        expect(page.locator("#gifts button")).to_have_count(0)
        expect(page.locator("#add-gift")).to_be_hidden()
    finally:
        api["alice"].invite_and_accept(family, api["bob"])


def test_events_during_an_optimistic_claim_and_its_rollback_stay(
    people, api, alices_list
):
    """Bob's claim shows at once and waits; Alice's changes arrive meanwhile;
    the server refuses the claim (Carol was first, her event held back), and
    the page takes back only Bob's guess. The read that follows was answered
    before Alice's next change, and the page ends with that change all the
    same: nothing the events said is lost to a rollback or an older read.
    (Carol's event stays held: released after later ones, the page would rightly
    drop it as out of order, which a real server never sends.)"""
    suffix = uuid.uuid4().hex[:6]
    puzzle, lamp = f"Puzzle {suffix}", f"Lamp {suffix}"
    target = api["alice"].post(
        "/api/gifts/", json={"list": alices_list, "title": puzzle}
    )
    lamp_gift = api["alice"].post(
        "/api/gifts/", json={"list": alices_list, "title": lamp}
    )
    bob = people("bob")
    bob.expect_errors(r"status of 409 \(Conflict\).*/api/gifts/\d+/claim/")
    page = bob.page()
    held_events = hold_gift_events(page, target["id"])
    claims = []
    page.route(
        re.compile(r"/api/gifts/\d+/claim/$"), lambda route: claims.append(route)
    )
    read = hold_next_read(page, re.compile(r"/api/gifts/\?list=\d+$"))
    bob.open(f"/lists/{alices_list}/", page=page)
    row = gift_row(page, puzzle)
    expect(row).to_contain_text("Still wanted")

    api["carol"].post(f"/api/gifts/{target['id']}/claim/", expect=200)
    wait_until(
        page, lambda: held_events.messages, "carol's claim never reached the socket"
    )
    page.get_by_role("button", name=f"Claim {puzzle}").click()
    expect(row).to_contain_text("Claimed by you")
    wait_until(page, lambda: claims, "the claim request was never sent")

    # While the guess shows, Alice adds a gift and renames another.
    yoyo = f"Yo-yo {suffix}"
    api["alice"].post("/api/gifts/", json={"list": alices_list, "title": yoyo})
    api["alice"].patch(f"/api/gifts/{lamp_gift['id']}/", json={"title": f"{lamp} v2"})
    expect(gift_row(page, yoyo)).to_be_visible(timeout=LIVE)
    expect(gift_row(page, f"{lamp} v2")).to_be_visible(timeout=LIVE)
    expect(row).to_contain_text("Claimed by you")

    read.armed = True  # the read after the refusal is answered, then held
    claims[0].continue_()
    expect(page.locator("#messages")).to_contain_text(
        f"Could not claim {puzzle}: This gift is already claimed."
    )
    expect(row).not_to_contain_text("Claimed by you")
    expect(gift_row(page, yoyo)).to_be_visible()
    expect(gift_row(page, f"{lamp} v2")).to_be_visible()
    wait_until(page, lambda: read.held, "the page never read the list again")

    # Alice renames the lamp after that read was answered, then the old answer
    # reaches the page; a later gift is the barrier that shows it was taken in.
    api["alice"].patch(f"/api/gifts/{lamp_gift['id']}/", json={"title": f"{lamp} v3"})
    expect(gift_row(page, f"{lamp} v3")).to_be_visible(timeout=LIVE)
    read.release()
    barrier = f"Barrier {suffix}"
    api["alice"].post("/api/gifts/", json={"list": alices_list, "title": barrier})
    expect(gift_row(page, barrier)).to_be_visible(timeout=LIVE)
    expect(gift_row(page, f"{lamp} v3")).to_be_visible()
    expect(gift_row(page, f"{lamp} v2")).to_have_count(0)
    expect(row).to_contain_text("Claimed by carol")

    expect(gift_row(page, yoyo)).to_be_visible()
    expect(page.get_by_role("button", name=f"Claim {puzzle}")).to_have_count(0)


def hold_claims(page) -> list:
    """The page's claim requests, held until the test continues them."""
    claims: list = []
    page.route(
        re.compile(r"/api/gifts/\d+/claim/$"), lambda route: claims.append(route)
    )
    return claims


def test_two_people_claiming_at_once_end_with_one_winner(people, api, alices_list):
    """Bob and Carol click Claim on the same gift, their requests in flight
    together: the server takes one; the winner's page says so, the other's takes
    its guess back, names the winner and says why."""
    robot = unique("Robot")
    gift = api["alice"].post("/api/gifts/", json={"list": alices_list, "title": robot})
    names = ("bob", "carol")
    pages, held = {}, {}
    for name in names:
        person = people(name)
        person.expect_errors(r"status of 409 \(Conflict\).*/api/gifts/\d+/claim/")
        page = person.page()
        held[name] = hold_claims(page)
        pages[name] = person.open(f"/lists/{alices_list}/", page=page)
        expect(gift_row(pages[name], robot)).to_contain_text("Still wanted")
    for name in names:
        pages[name].get_by_role("button", name=f"Claim {robot}").click()
        expect(gift_row(pages[name], robot)).to_contain_text("Claimed by you")
        wait_until(
            pages[name],
            lambda sent=held[name]: sent,
            f"{name}'s claim was never sent",
        )
    for name in names:
        held[name][0].continue_()

    wait_until(
        pages["bob"],
        lambda: api["bob"].get(f"/api/gifts/{gift['id']}/")["claimed_by_username"],
        "nobody's claim was taken",
    )
    winner = api["bob"].get(f"/api/gifts/{gift['id']}/")["claimed_by_username"]
    loser = next(name for name in names if name != winner)
    expect(gift_row(pages[winner], robot)).to_contain_text("Claimed by you")
    expect(pages[winner].get_by_role("button", name=f"Unclaim {robot}")).to_be_enabled()
    expect(pages[loser].locator("#messages")).to_contain_text(
        f"Could not claim {robot}: This gift is already claimed."
    )
    expect(gift_row(pages[loser], robot)).to_contain_text(
        f"Claimed by {winner}", timeout=LIVE
    )
    expect(pages[loser].get_by_role("button", name=f"Claim {robot}")).to_have_count(0)
    expect(pages[winner].locator("#messages")).to_be_empty()
