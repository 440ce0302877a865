// The gift-list page's server state without a browser: its queries, its live
// sync and its mutations on the vendored @tanstack/query-core, a realtime client
// on a fake transport, and a REST API the test answers by hand.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { RealtimeClient } from "../../realtime/static/realtime/realtime.js";
import { FakeClock, fakeTransports, flush } from "../../realtime/tests/js/fakes.mjs";
import "./static-files.mjs";

const { busyGifts, giftMutations } = await import("../../static/giftlists/gift-list/mutations.js");
const { syncGiftList } = await import("../../static/giftlists/gift-list/sync.js");
const { ApiError } = await import("../../static/giftlists/http.js");
const { createQueryClient, keys, reads, watch } = await import("../../static/giftlists/queries.js");

const LIST = "7";
const TOPIC = `gift-list:${LIST}`;

/** A REST API whose answers wait for the test: `next(method, path)` is the call. */
function heldApi() {
  const calls = [];
  const api = (method, url, body) =>
    new Promise((resolve, reject) => {
      calls.push({ method, url, body, resolve, reject });
    });
  const next = (method, url) => {
    const index = calls.findIndex((call) => call.method === method && call.url === url);
    assert.ok(index >= 0, `no ${method} ${url} waiting: ${calls.map((c) => `${c.method} ${c.url}`)}`);
    return calls.splice(index, 1)[0];
  };
  const apiAll = (url) => api("GET", url);
  return { http: { api, apiAll }, calls, next };
}

function gift(id, fields = {}) {
  return {
    id,
    list: Number(LIST),
    title: `Gift ${id}`,
    status: "wanted",
    claimed_by: null,
    claimed_by_username: null,
    updated_at: "2026-12-01T10:00:00Z",
    ...fields,
  };
}

function giftEvent(seq, kind, payload, userId = "9") {
  return {
    type: "event",
    topic: TOPIC,
    seq,
    event: kind,
    data: {
      entity_type: "gift",
      entity_id: String(payload.id),
      payload,
      user_id: userId,
      tenant_id: "1",
      timestamp: "2026-12-01T10:00:01Z",
    },
    trace_id: null,
  };
}

const settle = async () => {
  await flush();
  await new Promise((resolve) => setTimeout(resolve, 0));
  await flush();
};

/** One person's page: its query client, its live sync and its mutations. */
async function openPage(me, name, initial) {
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
      location: { href: "http://testserver/" },
    },
  );
  const server = heldApi();
  const queryClient = createQueryClient();
  const page = { listId: LIST, familyId: "1", me, myName: name, isOwner: false };
  syncGiftList(client, queryClient, page);
  client.subscribe(TOPIC);
  const stop = watch(queryClient, reads(server.http).gifts(LIST), () => {});
  server.next("GET", `/api/gifts/?list=${LIST}`).resolve(initial);
  client.start();
  await flush();
  const socket = fakes.last("websocket");
  socket.welcome();
  socket.receive({ type: "subscribed", topics: [TOPIC], seqs: { [TOPIC]: 0 } });
  // The baseline reads the gifts again.
  await settle();
  server.next("GET", `/api/gifts/?list=${LIST}`).resolve(initial);
  await settle();
  const shown = () => queryClient.getQueryData(keys.gifts(LIST));
  const mutations = giftMutations(queryClient, server.http, page);
  const close = () => {
    stop();
    client.stop();
    queryClient.clear();
  };
  return { client, queryClient, server, socket, shown, mutations, close };
}

const titles = (gifts) => gifts.map((g) => `${g.title}:${g.status}:${g.claimed_by_username ?? "-"}`);

describe("the gift-list page's cache", () => {
  test("a refused claim takes back only its guess: events that came meanwhile stay", async () => {
    const bob = await openPage("2", "bob", [gift(1), gift(2)]);
    const claim = bob.mutations.claim(1);
    const refusal = claim.catch((error) => error);
    await settle();
    assert.deepEqual(titles(bob.shown()), ["Gift 1:claimed:bob", "Gift 2:wanted:-"]);
    assert.deepEqual([...busyGifts(bob.queryClient, LIST)], ["1"]);

    // Meanwhile: alice renames gift 2 and adds gift 3.
    bob.socket.receive(giftEvent(1, "UPDATED", gift(2, { title: "Big kite" })));
    bob.socket.receive(giftEvent(2, "ADDED", gift(3)));
    bob.server.next("POST", "/api/gifts/1/claim/").reject(
      new ApiError(409, { detail: "This gift is already claimed." }),
    );
    const error = await refusal;
    assert.equal(error.message, "This gift is already claimed.");
    assert.deepEqual(titles(bob.shown()), ["Gift 1:wanted:-", "Big kite:wanted:-", "Gift 3:wanted:-"]);
    assert.deepEqual([...busyGifts(bob.queryClient, LIST)], []);

    // The list is read again; what it says is the truth (carol had claimed it).
    await settle();
    bob.server
      .next("GET", `/api/gifts/?list=${LIST}`)
      .resolve([gift(1, { status: "claimed", claimed_by: 3, claimed_by_username: "carol" }), gift(2, { title: "Big kite" }), gift(3)]);
    await settle();
    assert.deepEqual(titles(bob.shown()), ["Gift 1:claimed:carol", "Big kite:wanted:-", "Gift 3:wanted:-"]);
    bob.close();
  });

  test("a newer row from the server is kept when the guess is taken back", async () => {
    const bob = await openPage("2", "bob", [gift(1)]);
    const refusal = bob.mutations.claim(1).catch((error) => error);
    await settle();
    const carols = gift(1, { status: "claimed", claimed_by: 3, claimed_by_username: "carol", updated_at: "2026-12-01T10:00:05Z" });
    bob.socket.receive(giftEvent(1, "STATUS_CHANGED", carols));
    bob.server.next("POST", "/api/gifts/1/claim/").reject(new ApiError(409, { detail: "This gift is already claimed." }));
    await refusal;
    assert.deepEqual(titles(bob.shown()), ["Gift 1:claimed:carol"]);
    bob.close();
  });

  test("a refetch racing live events ends with them", async () => {
    const bob = await openPage("2", "bob", [gift(1)]);
    bob.queryClient.invalidateQueries({ queryKey: keys.gifts(LIST) });
    const stale = bob.server.next("GET", `/api/gifts/?list=${LIST}`); // read before the event
    bob.socket.receive(giftEvent(1, "ADDED", gift(2)));
    bob.socket.receive(giftEvent(2, "DELETED", { id: 1 }));
    assert.deepEqual(titles(bob.shown()), ["Gift 2:wanted:-"]);
    stale.resolve([gift(1)]);
    await settle();
    assert.deepEqual(titles(bob.shown()), ["Gift 2:wanted:-"]);
    bob.server.next("GET", `/api/gifts/?list=${LIST}`).resolve([gift(2)]);
    await settle();
    assert.deepEqual(titles(bob.shown()), ["Gift 2:wanted:-"]);
    bob.close();
  });

  test("the answer to a change does not undo a newer event", async () => {
    const bob = await openPage("2", "bob", [gift(1)]);
    const saved = bob.mutations.edit(1, { title: "Kite" });
    await settle();
    bob.socket.receive(giftEvent(1, "UPDATED", gift(1, { title: "Kite", notes: "red", updated_at: "2026-12-01T10:00:09Z" })));
    bob.server.next("PATCH", "/api/gifts/1/").resolve(gift(1, { title: "Kite", updated_at: "2026-12-01T10:00:05Z" }));
    await saved;
    assert.equal(bob.shown()[0].notes, "red");
    bob.close();
  });

  test("a gift added here shows once: its placeholder gives way to its event", async () => {
    const bob = await openPage("2", "bob", []);
    const added = bob.mutations.add({ list: 7, title: "Scarf" });
    await settle();
    assert.deepEqual(bob.shown().map((g) => [g.title, Boolean(g.pending)]), [["Scarf", true]]);
    bob.socket.receive(giftEvent(1, "ADDED", gift(5, { title: "Scarf" }), "2"));
    assert.deepEqual(bob.shown().map((g) => [g.id, Boolean(g.pending)]), [[5, false]]);
    bob.server.next("POST", "/api/gifts/").resolve(gift(5, { title: "Scarf" }));
    await added;
    assert.deepEqual(bob.shown().map((g) => g.id), [5]);
    bob.close();
  });

  test("an echo of the user's claim that comes back after their unclaim does not undo it", async () => {
    const bob = await openPage("2", "bob", [gift(1)]);
    const claimed = gift(1, { status: "claimed", claimed_by: 2, claimed_by_username: "bob", updated_at: "2026-12-01T10:00:02Z" });
    const claim = bob.mutations.claim(1);
    await settle();
    bob.server.next("POST", "/api/gifts/1/claim/").resolve(claimed);
    await claim;
    const unclaim = bob.mutations.unclaim(1);
    await settle();
    assert.deepEqual(titles(bob.shown()), ["Gift 1:wanted:-"]);
    bob.socket.receive({ ...giftEvent(1, "STATUS_CHANGED", claimed, "2"), echo: true });
    assert.deepEqual(titles(bob.shown()), ["Gift 1:wanted:-"]); // no flicker back
    const wanted = gift(1, { updated_at: "2026-12-01T10:00:03Z" });
    bob.server.next("POST", "/api/gifts/1/unclaim/").resolve(wanted);
    await unclaim;
    bob.socket.receive({ ...giftEvent(2, "STATUS_CHANGED", wanted, "2"), echo: true });
    assert.deepEqual(titles(bob.shown()), ["Gift 1:wanted:-"]);
    bob.close();
  });

  test("an echo of a gift added here, before its answer, does not show it twice", async () => {
    const bob = await openPage("2", "bob", []);
    const added = bob.mutations.add({ list: 7, title: "Scarf " });
    await settle();
    // The server stored it under another title than the placeholder's guess.
    bob.socket.receive({ ...giftEvent(1, "ADDED", gift(5, { title: "Scarf" }), "2"), echo: true });
    assert.deepEqual(bob.shown().map((g) => [g.title, Boolean(g.pending)]), [["Scarf ", true]]);
    bob.server.next("POST", "/api/gifts/").resolve(gift(5, { title: "Scarf" }));
    await added;
    assert.deepEqual(bob.shown().map((g) => [g.id, g.title]), [[5, "Scarf"]]);
    bob.close();
  });

  test("two people claim at once: one wins, the other is told and sees the winner", async () => {
    const bob = await openPage("2", "bob", [gift(1)]);
    const carol = await openPage("3", "carol", [gift(1)]);
    const bobs = bob.mutations.claim(1);
    const carols = carol.mutations.claim(1).catch((error) => error);
    await settle();
    assert.equal(bob.shown()[0].claimed_by_username, "bob");
    assert.equal(carol.shown()[0].claimed_by_username, "carol");

    // The server takes bob's claim first and refuses carol's.
    const won = gift(1, { status: "claimed", claimed_by: 2, claimed_by_username: "bob", updated_at: "2026-12-01T10:00:02Z" });
    bob.server.next("POST", "/api/gifts/1/claim/").resolve(won);
    carol.server.next("POST", "/api/gifts/1/claim/").reject(new ApiError(409, { detail: "This gift is already claimed." }));
    await bobs;
    const error = await carols;
    assert.equal(error.message, "This gift is already claimed.");
    for (const page of [bob, carol]) page.socket.receive(giftEvent(1, "STATUS_CHANGED", won, "2"));
    await settle();
    for (const page of [bob, carol]) {
      // Each page reads the list again once its change is settled.
      page.server.next("GET", `/api/gifts/?list=${LIST}`).resolve([won]);
    }
    await settle();
    assert.deepEqual(titles(bob.shown()), ["Gift 1:claimed:bob"]);
    assert.deepEqual(titles(carol.shown()), ["Gift 1:claimed:bob"]);
    bob.close();
    carol.close();
  });
});
