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

/**
 * The polling endpoint over a log: `logs[topic]` is [count, pruned]: `count`
 * events, the oldest `pruned` of them gone.
 */
function fakeLog(logs) {
  const asked = [];
  const api = async (method, url) => {
    asked.push(url);
    const params = new URL(url, "http://x").searchParams;
    const topics = params.get("topics").split(",");
    const now = topics.map((topic) => `${topic}@${logs[topic][0]}`).join(",");
    const cursor = params.get("cursor");
    if (!cursor) return { events: [], cursor: now, recovered: true };
    const events = [];
    const unrecovered = [];
    for (const part of cursor.split(",")) {
      const [topic, at] = part.split("@");
      const [count, pruned] = logs[topic];
      if (Number(at) < pruned) unrecovered.push(topic);
      else for (let seq = Number(at) + 1; seq <= count; seq++) events.push({ topic, seq, event: "ADDED" });
    }
    const answer = { events, cursor: now, recovered: unrecovered.length === 0 };
    if (unrecovered.length) answer.unrecovered = unrecovered;
    return answer;
  };
  return { http: { api }, asked };
}

const seqsOf = (events, topic) => events.filter((event) => event.topic === topic).map((event) => event.seq);

describe("the recent past", () => {
  test("the last events of each topic, as many as asked for, in two reads", async () => {
    const { http, asked } = fakeLog({ "gift-list:7": [50, 0], "user:3": [12, 0] });
    const events = await recentEvents(http, { "gift-list:7": 30, "user:3": 10 });
    assert.deepEqual(
      seqsOf(events, "gift-list:7"),
      Array.from({ length: 30 }, (_, i) => 21 + i),
    );
    assert.deepEqual(seqsOf(events, "user:3"), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(asked.length, 2);
  });

  test("a short log is read from its start", async () => {
    const { http } = fakeLog({ "gift-list:7": [4, 0] });
    const events = await recentEvents(http, { "gift-list:7": 30 });
    assert.deepEqual(seqsOf(events, "gift-list:7"), [1, 2, 3, 4]);
  });

  test("when a topic's older events are pruned, fewer of its newest", async () => {
    const { http } = fakeLog({ "gift-list:7": [50, 40], "user:3": [5, 0] });
    const events = await recentEvents(http, { "gift-list:7": 30, "user:3": 10 });
    assert.deepEqual(seqsOf(events, "gift-list:7"), [44, 45, 46, 47, 48, 49, 50]);
    assert.deepEqual(seqsOf(events, "user:3"), [1, 2, 3, 4, 5]);
  });

  test("a log pruned of all it had gives nothing, after a few tries", async () => {
    const { http, asked } = fakeLog({ "gift-list:7": [50, 50] });
    assert.deepEqual(await recentEvents(http, { "gift-list:7": 30 }), []);
    assert.equal(asked.length, 6);
  });
});
