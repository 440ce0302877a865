"""The staff event inspector: follow any topic, see its raw events arrive with
their seq and trace id."""

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.api import Api

from .people import LIVE, badge, present, present_named


def test_staff_follow_a_topic_and_see_raw_events(people, server):
    bob = Api.login(server.http_url, "bob")
    list_id = bob.list_id("Bob's holidays")
    topic = f"gift-list:{list_id}"
    carol = people("carol")
    page = carol.page()
    page.goto("/inspector/")
    expect(page.get_by_role("heading", name="Event inspector")).to_be_visible()
    expect(badge(page)).to_have_text("Live")

    page.get_by_label("Topic").fill(topic)
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.locator(f'#followed li[data-topic="{topic}"]')).to_have_attribute(
        "data-live", "true"
    )

    trace = f"inspect-{uuid.uuid4().hex}"
    title = f"Compass {uuid.uuid4().hex[:6]}"
    bob.client.post(
        "/api/gifts/",
        json={"list": list_id, "title": title},
        headers={"X-Request-ID": trace},
    ).raise_for_status()

    row = page.locator(f'#events tr[data-topic="{topic}"]').first
    expect(row).to_be_visible(timeout=LIVE)
    expect(row.locator("td.event-name")).to_have_text("ADDED")
    expect(row.locator("td.seq")).to_have_text(re.compile(r"^\d+$"))
    expect(row.locator("td.trace")).to_have_text(trace)
    page.get_by_text("Raw event").first.click()
    raw = page.locator("#events pre").first
    expect(raw).to_contain_text(f'"title": "{title}"')
    expect(raw).to_contain_text(f'"trace_id": "{trace}"')
    expect(page.locator("#event-count")).to_have_text("(1)")

    page.get_by_label("Topic").fill("not a topic")
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.locator("#messages")).to_contain_text('"not a topic" is not a topic')

    page.get_by_label("Topic").fill("nosuchkind:1")
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Refused nosuchkind:1")
    expect(page.locator('#followed li[data-topic="nosuchkind:1"]')).to_have_count(0)

    page.get_by_role("button", name=f"Stop following {topic}").click()
    expect(page.locator("#followed li")).to_have_count(0)


def test_staff_inspecting_a_list_are_not_shown_on_it(people, alices_list):
    """Carol follows Alice's list in the inspector while Bob has it open: she is
    not among the people on it. Alice arrives after her and is shown: had
    Carol been counted present, Bob would have heard of her first."""
    bob, carol, alice = people("bob"), people("carol"), people("alice")
    url = f"/lists/{alices_list}/"
    page_b = bob.open(url)
    expect(present(page_b)).to_have_count(1)
    inspector = carol.page()
    topic = f"gift-list:{alices_list}"
    inspector.goto(f"/inspector/?topic={topic}")
    live = inspector.locator(f'#followed li[data-topic="{topic}"]')
    expect(live).to_have_attribute("data-live", "true")

    alice.open(url)
    expect(present_named(page_b, "alice")).to_be_visible(timeout=LIVE)
    expect(present_named(page_b, "carol")).to_have_count(0)
    expect(present(page_b)).to_have_count(2)
