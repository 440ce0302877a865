// The gift-list page's live signals without a browser: typing and editing sent
// throttled and repeated, heard with an expiry; who is here, in order; the
// page's timings. A realtime client on a fake transport, and a fake clock.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { RealtimeClient } from "../../realtime/static/realtime/realtime.js";
import { FakeClock, fakeTransports, flush } from "../../realtime/tests/js/fakes.mjs";
import "./static-files.mjs";

const { editingSender, signalsHeard, typingSender, typingText, editingText } = await import(
  "../../static/giftlists/gift-list/signals.js"
);
const { labelOf, ordered } = await import("../../static/giftlists/gift-list/here.js");
const { timingsOf } = await import("../../static/giftlists/gift-list/timings.js");

const TOPIC = "gift-list:7";

/** A page's client, welcomed and following the list. */
async function live() {
  const clock = new FakeClock();
  const fakes = fakeTransports();
  const client = new RealtimeClient(
    {},
    {
      transports: fakes.transports,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      now: clock.now,
      window: null,
      document: null,
      location: { href: "http://testserver/lists/7/" },
    },
  );
  client.subscribe(TOPIC);
  client.start();
  await flush();
  const socket = fakes.last("websocket");
  socket.welcome();
  const published = () => socket.sent.filter((m) => m.type === "publish").map((m) => [m.event, m.data]);
  const hear = (event, data, userId) => socket.receive({ type: "client_event", topic: TOPIC, event, data, user_id: userId });
  return { client, clock, socket, published, hear };
}

describe("sending", () => {
  test("typing is said at once, then at most once per interval, and taken back once", async () => {
    const page = await live();
    const typing = typingSender(page.client, TOPIC, { every: 2000, now: page.clock.now });
    typing.typed();
    typing.typed();
    await page.clock.tick(1999);
    typing.typed();
    const early = page.published();
    await page.clock.tick(1);
    typing.typed();
    typing.stopped();
    typing.stopped();
    assert.deepEqual(early, [["typing", { active: true }]]);
    assert.deepEqual(page.published(), [
      ["typing", { active: true }],
      ["typing", { active: true }],
      ["typing", { active: false }],
    ]);
  });

  test("editing is said again while the form is open, and ends with a stop", async () => {
    const page = await live();
    const editing = editingSender(page.client, TOPIC, { every: 5000, timers: page.clock });
    editing.start(88);
    await page.clock.tick(10000);
    assert.deepEqual(editing.editing(), ["88"]);
    editing.stop(88);
    await page.clock.tick(10000);
    assert.deepEqual(page.published(), [
      ["editing", { gift: "88", active: true }],
      ["editing", { gift: "88", active: true }],
      ["editing", { gift: "88", active: true }],
      ["editing", { gift: "88", active: false }],
    ]);
    assert.deepEqual(editing.editing(), []);
  });

  test("on a fallback, or refused, nothing is sent and nothing is thrown", async () => {
    const page = await live();
    const typing = typingSender(page.client, TOPIC, { every: 2000, now: page.clock.now });
    typing.typed();
    page.socket.receive({ type: "error", code: "rate_limited", message: "slow down", id: "c1" });
    await flush();
    page.socket.end();
    typing.stopped(); // not connected: dropped without a word
    assert.equal(page.client.canPublish, false);
    assert.equal(page.published().length, 1);
  });
});

describe("hearing", () => {
  async function heard() {
    const page = await live();
    let changes = 0;
    const signals = signalsHeard(page.client, TOPIC, {
      me: "2",
      typingFor: 6000,
      editingFor: 15000,
      timers: page.clock,
      onChange: () => changes++,
    });
    return { ...page, signals, changes: () => changes };
  }

  test("typing holds while repeated, and expires on its own when the sender goes silent", async () => {
    const page = await heard();
    page.hear("typing", { active: true }, "3");
    await page.clock.tick(5000);
    page.hear("typing", { active: true }, "3"); // repeated: holds 6 s more
    await page.clock.tick(5000);
    assert.deepEqual(page.signals.typists(), ["3"]);
    await page.clock.tick(1000);
    assert.deepEqual(page.signals.typists(), []);
    assert.equal(page.changes(), 2); // shown once, gone once
  });

  test("a stop ends it at once; the user's own other tabs are no news", async () => {
    const page = await heard();
    page.hear("typing", { active: true }, "3");
    page.hear("typing", { active: true }, "2");
    page.hear("typing", { active: false }, "3");
    assert.deepEqual(page.signals.typists(), []);
  });

  test("editing is per gift and per person, and ends when they leave", async () => {
    const page = await heard();
    page.hear("editing", { gift: "88", active: true }, "3");
    page.hear("editing", { gift: 88, active: true }, "4");
    page.hear("editing", { gift: "89", active: true }, "4");
    page.hear("editing", { gift: { bad: 1 } }, "5"); // not a gift id: ignored
    assert.deepEqual(page.signals.editorsOf("88"), ["3", "4"]);
    page.signals.forget("4");
    assert.deepEqual(page.signals.editorsOf("88"), ["3"]);
    assert.deepEqual(page.signals.editorsOf("89"), []);
    await page.clock.tick(15000);
    assert.deepEqual(page.signals.editorsOf("88"), []);
  });

  test("what the page says of them", () => {
    assert.equal(typingText([]), "");
    assert.equal(typingText(["bob"]), "bob is typing a gift idea…");
    assert.equal(typingText(["bob", "carol", "dan"]), "bob, carol and dan are typing gift ideas…");
    assert.equal(editingText(["carol"]), "carol is editing this gift");
    assert.equal(editingText(["carol", "dan"]), "carol and dan are editing this gift");
  });
});

describe("who is here", () => {
  test("others by name, then the user, marked", () => {
    const entries = [
      { user_id: "2", name: "bob" },
      { user_id: "3", name: "carol" },
      { user_id: "1", name: "alice" },
    ];
    assert.deepEqual(ordered(entries, "2").map((e) => labelOf(e, "2")), ["alice", "carol", "bob (you)"]);
  });
});

describe("timings", () => {
  test("the template's, then the query's where in range", () => {
    const dataset = { typingEvery: "2000", typingFor: "6000", editingEvery: "5000", editingFor: "15000" };
    assert.deepEqual(timingsOf(dataset, ""), { typingEvery: 2000, typingFor: 6000, editingEvery: 5000, editingFor: 15000 });
    const tuned = timingsOf(dataset, "?typing=1500&editing=10");
    assert.equal(tuned.typingFor, 1500);
    assert.equal(tuned.editingFor, 15000); // below the least allowed
    assert.equal(timingsOf({ typingFor: "soon" }, "").typingFor, 6000);
  });
});
