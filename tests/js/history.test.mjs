// The list page's words without a browser: prices in the family's currency, how
// long ago something happened, what a notice says, and reading a topic's recent
// past from the event log (older events may have been pruned).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import "./static-files.mjs";

const { formatPrice } = await import("../../static/giftlists/gift-list/rows.js");
const { timeAgo } = await import("../../static/giftlists/gift-list/activity.js");
const { noticeText } = await import("../../static/giftlists/notices.js");
const { recentEvents } = await import("../../static/giftlists/history.js");

describe("words", () => {
  test("a price is written in the family's currency", () => {
    assert.match(formatPrice("12.50", "EUR"), /12[.,]50/);
    assert.match(formatPrice("12.50", "EUR"), /€/);
    assert.match(formatPrice("3", "GBP"), /£/);
    assert.equal(formatPrice(null, "EUR"), "");
    assert.equal(formatPrice("12.50", "NOPE!"), "12.50 NOPE!");
  });

  test("times are said in words", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    assert.equal(timeAgo("2026-12-01T11:59:40Z", now), "just now");
    assert.equal(timeAgo("2026-12-01T11:58:00Z", now), "2 min ago");
    assert.equal(timeAgo("2026-12-01T09:00:00Z", now), "3 h ago");
    assert.equal(timeAgo("2026-11-30T09:00:00Z", now), "yesterday");
    assert.equal(timeAgo("2026-11-27T09:00:00Z", now), "4 days ago");
    assert.equal(timeAgo("not a time", now), "");
  });

  test("a notice says who deleted what, and what the reader had done", () => {
    const payload = { title: "Kite", status: "purchased", list_title: "Birthday", list_owner: "ana" };
    const text = noticeText({ data: { payload } });
    assert.equal(text, "ana deleted “Kite” from “Birthday”, which you had bought.");
  });
});

/** An event log of `count` events on `topic`, the oldest `pruned` of them gone. */
function fakeLog(topic, count, pruned = 0) {
  const asked = [];
  const api = async (method, url) => {
    asked.push(url);
    const cursor = new URL(url, "http://x").searchParams.get("cursor");
    if (!cursor) return { events: [], cursor: `${topic}@${count}`, recovered: true };
    const from = Number(cursor.split("@").pop());
    if (from < pruned) return { events: [], cursor: `${topic}@${count}`, recovered: false };
    const events = [];
    for (let seq = from + 1; seq <= count; seq++) events.push({ topic, seq, event: "ADDED" });
    return { events, cursor: `${topic}@${count}`, recovered: true };
  };
  return { http: { api }, asked };
}

describe("the recent past", () => {
  test("the last events, as many as asked for", async () => {
    const { http } = fakeLog("gift-list:7", 50);
    const events = await recentEvents(http, "gift-list:7", 30);
    assert.deepEqual(
      events.map((event) => event.seq),
      Array.from({ length: 30 }, (_, i) => 21 + i),
    );
  });

  test("a short log is read from its start", async () => {
    const { http } = fakeLog("gift-list:7", 4);
    const events = await recentEvents(http, "gift-list:7", 30);
    assert.deepEqual(events.map((event) => event.seq), [1, 2, 3, 4]);
  });

  test("when the older events are pruned, fewer of the newest", async () => {
    const { http } = fakeLog("gift-list:7", 50, 40);
    const events = await recentEvents(http, "gift-list:7", 30);
    assert.deepEqual(events.map((event) => event.seq), [44, 45, 46, 47, 48, 49, 50]);
  });
});
