"""Two or three people on one gift list at once, in real Chromium against a real
daphne process: who is here, who is typing a gift idea, who is editing a gift;
the owner's page never hears what the members do; and the author's own
changes, coming back as echoes, neither flicker nor flash.
"""

import json
import re
import uuid

from playwright.sync_api import expect

from .people import (
    LIVE,
    activity,
    badge,
    editing_marker,
    gift_row,
    hold_gift_events,
    lose_stops,
    page_root,
    present,
    present_named,
    record_frames,
    rows_seen,
    texts_shown,
    typing_line,
    wait_until,
    wait_until_shown,
    watch_rows,
    watch_texts,
)

TYPING = "bob is typing a gift idea…"


def unique(title: str) -> str:
    return f"{title} {uuid.uuid4().hex[:6]}"


def test_everyone_on_the_list_is_shown_until_they_leave(people, alices_list):
    """Alice, Bob and Carol each see all three, themselves marked and last; a
    second tab of Bob's that closes changes nothing; Carol closing her browser
    without a word takes her off the others' pages."""
    url = f"/lists/{alices_list}/"
    alice, bob, carol = people("alice"), people("bob"), people("carol")
    page_a, page_b, page_c = alice.open(url), bob.open(url), carol.open(url)
    for page in (page_a, page_b, page_c):
        expect(present(page)).to_have_count(3, timeout=LIVE)
    expect(present(page_b).last).to_have_attribute("title", "bob (you)")
    expect(present(page_b).last).to_have_attribute("data-me", "true")
    expect(present_named(page_b, "carol")).to_have_attribute("title", "carol")
    expect(present_named(page_b, "alice")).to_have_text(re.compile("^A"))
    expect(present_named(page_a, "bob")).to_have_attribute("data-me", "false")

    second = bob.open(url)
    expect(present(second)).to_have_count(3)
    second.close()
    carol.close()
    for page in (page_a, page_b):
        expect(present_named(page, "carol")).to_have_count(0, timeout=LIVE)
        # Bob's leaving tab came first: had it taken him away, it would show.
        expect(present_named(page, "bob")).to_have_count(1)
        expect(present(page)).to_have_count(2)


def test_typing_shows_to_members_only_and_stops_with_the_gift(people, alices_list):
    """Bob fills in the add form: Carol sees that he is typing until he adds the
    gift (her page would believe it for a minute, so only his stop ends it);
    Alice, whose list it is, is never told: no client event reaches her."""
    url = f"/lists/{alices_list}/"
    alice, bob, carol = people("alice"), people("bob"), people("carol")
    page_a = alice.page()
    frames = record_frames(page_a)
    alice.open(url, page=page_a)
    watch_texts(page_a, "#typing")
    page_b = bob.open(url)
    page_c = carol.open(f"{url}?typing=60000")
    expect(page_root(page_c)).to_have_attribute("data-typing-for", "60000")
    for page in (page_a, page_c):
        expect(present(page)).to_have_count(3, timeout=LIVE)
    expect(badge(page_b)).to_have_attribute("data-status", "open")

    kite = unique("Kite")
    page_b.get_by_label("Title").fill(kite)
    expect(typing_line(page_c)).to_have_text(TYPING, timeout=LIVE)
    page_b.get_by_role("button", name="Add gift").click()
    expect(typing_line(page_c)).to_be_hidden(timeout=LIVE)
    expect(gift_row(page_c, kite)).to_be_visible(timeout=LIVE)

    # Bob typed before he added the gift: had his typing reached Alice, it
    # would have come before the gift.
    expect(gift_row(page_a, kite)).to_be_visible(timeout=LIVE)
    assert frames.of_type("client_event") == []
    assert texts_shown(page_a, "#typing") == [""]
    expect(page_a.locator(".gift-editing")).to_have_count(0)


def test_a_typist_gone_silent_times_out_on_the_others_pages(people, alices_list):
    """Bob types, then empties the form, and his page's "stopped" is lost on the
    way, as if his network died just then: Carol's page ends the indicator by
    itself (after 1.5 s on this page), while Bob is still present."""
    url = f"/lists/{alices_list}/"
    bob, carol = people("bob"), people("carol")
    page_b = bob.page()
    lost = lose_stops(page_b)
    bob.open(url, page=page_b)
    page_c = carol.open(f"{url}?typing=1500")
    expect(page_root(page_c)).to_have_attribute("data-typing-for", "1500")
    watch_texts(page_c, "#typing")
    expect(present_named(page_c, "bob")).to_be_visible(timeout=LIVE)
    expect(present_named(page_b, "carol")).to_be_visible(timeout=LIVE)

    page_b.get_by_label("Title").fill(unique("Yo-yo"))
    wait_until_shown(page_c, "#typing", TYPING)
    page_b.get_by_label("Title").fill("")
    wait_until(page_b, lambda: lost.lost, "bob's page never said it stopped typing")
    expect(typing_line(page_c)).to_be_hidden()
    assert texts_shown(page_c, "#typing") == ["", TYPING, ""]
    expect(present_named(page_c, "bob")).to_be_visible()


def test_members_see_who_is_editing_a_gift_until_they_stop_or_leave(
    people, api, alices_list
):
    """Alice opens a gift's edit form: Bob and Carol see it on the gift's row
    until she saves. She opens it again and closes her tab abruptly: the marker
    leaves with her (their pages would believe it for a minute)."""
    url = f"/lists/{alices_list}/"
    lamp = unique("Lamp")
    api["alice"].post("/api/gifts/", json={"list": alices_list, "title": lamp})
    alice, bob, carol = people("alice"), people("bob"), people("carol")
    page_a = alice.open(url)
    members = [bob.open(f"{url}?editing=60000"), carol.open(f"{url}?editing=60000")]
    for page in (page_a, *members):
        expect(present(page)).to_have_count(3, timeout=LIVE)
    for page in members:
        expect(page_root(page)).to_have_attribute("data-editing-for", "60000")

    page_a.get_by_role("button", name=f"Edit {lamp}").click()
    for page in members:
        marker = editing_marker(gift_row(page, lamp))
        expect(marker).to_have_text("alice is editing this gift", timeout=LIVE)
    expect(
        gift_row(members[0], "Board game night set").locator(".gift-editing")
    ).to_have_count(0)
    editor = page_a.get_by_role("form", name=f"Edit {lamp}")
    editor.get_by_label("Title").fill(f"{lamp} v2")
    editor.get_by_role("button", name="Save").click()
    for page in members:
        row = gift_row(page, f"{lamp} v2")
        expect(row).to_be_visible(timeout=LIVE)
        expect(editing_marker(row)).to_have_count(0, timeout=LIVE)

    page_a.get_by_role("button", name=f"Edit {lamp} v2").click()
    for page in members:
        expect(editing_marker(gift_row(page, f"{lamp} v2"))).to_be_visible(timeout=LIVE)
    page_a.close()
    for page in members:
        expect(present_named(page, "alice")).to_have_count(0, timeout=LIVE)
        expect(editing_marker(gift_row(page, f"{lamp} v2"))).to_have_count(0)


def test_own_changes_coming_back_neither_flicker_nor_flash(people, api, alices_list):
    """Bob claims a gift and unclaims it before the claim's event is back (held
    on its way); that event, marked as his echo, arrives while his unclaim
    shows: the row says "Still wanted" from then on, never flashes, and his
    feed still lists both changes."""
    puzzle = unique("Puzzle")
    gift = api["alice"].post("/api/gifts/", json={"list": alices_list, "title": puzzle})
    bob = people("bob")
    page = bob.page()
    held = hold_gift_events(page, gift["id"])
    unclaims: list = []
    page.route(
        re.compile(r"/api/gifts/\d+/unclaim/$"), lambda route: unclaims.append(route)
    )
    bob.open(f"/lists/{alices_list}/", page=page)
    row = gift_row(page, puzzle)
    expect(row).to_contain_text("Still wanted")
    watch_rows(page, puzzle)

    page.get_by_role("button", name=f"Claim {puzzle}").click()
    expect(page.get_by_role("button", name=f"Unclaim {puzzle}")).to_be_enabled()
    wait_until(
        page, lambda: held.messages, "the claim's event never reached the socket"
    )
    assert json.loads(held.messages[0]).get("echo") is True
    page.get_by_role("button", name=f"Unclaim {puzzle}").click()
    expect(row).to_contain_text("Still wanted")
    wait_until(page, lambda: unclaims, "the unclaim request was never sent")

    held.release()
    expect(activity(page)).to_contain_text(f"You claimed {puzzle}", timeout=LIVE)
    expect(row).to_contain_text("Still wanted")
    unclaims[0].continue_()
    expect(activity(page)).to_contain_text(f"You unclaimed {puzzle}", timeout=LIVE)
    expect(page.get_by_role("button", name=f"Claim {puzzle}")).to_be_enabled()

    seen = rows_seen(page)
    assert all(len(rows) == 1 for rows in seen), seen
    assert not any(flashing for rows in seen for _, flashing in rows), seen
    states = [rows[0][0] for rows in seen]
    shown = [
        state for i, state in enumerate(states) if i == 0 or state != states[i - 1]
    ]
    assert shown == ["Still wanted", "Claimed by you", "Still wanted"], seen


def test_a_gift_added_here_shows_once_and_flashes_for_the_others(people, alices_list):
    """Bob adds a gift: his page shows one row for it from the click on (the
    placeholder, then the gift) and does not flash it when it comes back;
    Carol's page flashes it, as news."""
    url = f"/lists/{alices_list}/"
    bob, carol = people("bob"), people("carol")
    page_b, page_c = bob.open(url), carol.open(url)
    scarf = unique("Scarf")
    watch_rows(page_b, scarf)
    watch_rows(page_c, scarf)

    page_b.get_by_label("Title").fill(scarf)
    page_b.get_by_role("button", name="Add gift").click()
    expect(activity(page_b)).to_contain_text(f"You added {scarf}", timeout=LIVE)
    expect(gift_row(page_b, scarf)).to_contain_text("Still wanted")
    expect(gift_row(page_c, scarf)).to_be_visible(timeout=LIVE)
    wait_until(
        page_c,
        lambda: any(flashing for rows in rows_seen(page_c) for _, flashing in rows),
        "carol's page never flashed bob's gift",
    )
    seen = rows_seen(page_b)
    assert max(len(rows) for rows in seen) == 1, seen
    assert not any(flashing for rows in seen for _, flashing in rows), seen
