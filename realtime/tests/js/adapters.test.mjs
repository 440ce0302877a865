// The cache adapters against the real @tanstack/query-core and swr packages.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { QueryClient, QueryObserver } from "@tanstack/query-core";
import { mutate as globalMutate } from "swr";
import { initCache } from "swr/_internal";

import { applyToList } from "../../static/realtime/adapters/apply.js";
import { connectSWR } from "../../static/realtime/adapters/swr.js";
import {
  connectQueryClient,
  patchListQuery,
} from "../../static/realtime/adapters/tanstack.js";
import { RealtimeClient } from "../../static/realtime/realtime.js";
import { event } from "./fakes.mjs";

function gift(kind, id, title, topic = "gift-list:1") {
  const e = event(topic, id, { title });
  e.event = kind;
  return e;
}

const gifts = [
  { id: 1, title: "Kite" },
  { id: 2, title: "Book" },
];

describe("applyToList", () => {
  test("adds, replaces and removes rows by id", () => {
    const added = applyToList(gifts, gift("ADDED", 3, "Scarf"));
    assert.deepEqual(added.map((g) => g.id), [1, 2, 3]);
    const updated = applyToList(added, gift("STATUS_CHANGED", 2, "Big book"));
    assert.equal(updated[1].title, "Big book");
    const deleted = applyToList(updated, { ...gift("DELETED", 1), data: { payload: { id: 1 } } });
    assert.deepEqual(deleted.map((g) => g.id), [2, 3]);
  });

  test("leaves the list untouched when nothing applies", () => {
    assert.equal(applyToList(gifts, gift("UPDATED", 9, "unknown")), gifts);
    assert.equal(applyToList(gifts, gift("CUSTOM_THING", 1, "x")), gifts);
  });
});

describe("TanStack Query", () => {
  test("an event invalidates the queries its topic maps to", async () => {
    const realtime = new RealtimeClient();
    const queryClient = new QueryClient();
    queryClient.setQueryData(["gifts", 1], gifts);
    queryClient.setQueryData(["gifts", 2], gifts);
    connectQueryClient(realtime, queryClient, {
      queryKeysFor: (topic) => [["gifts", Number(topic.split(":")[1])]],
    });
    realtime.emit("event", gift("UPDATED", 1, "Red kite"));
    assert.equal(queryClient.getQueryState(["gifts", 1]).isInvalidated, true);
    assert.equal(queryClient.getQueryState(["gifts", 2]).isInvalidated, false);
  });

  test("resync invalidates too", () => {
    const realtime = new RealtimeClient();
    const queryClient = new QueryClient();
    queryClient.setQueryData(["gifts", 1], gifts);
    connectQueryClient(realtime, queryClient, { queryKeysFor: () => [["gifts", 1]] });
    realtime.emit("resync", "gift-list:1");
    assert.equal(queryClient.getQueryState(["gifts", 1]).isInvalidated, true);
  });

  test("a patcher updates the cached list from the payload without a refetch", () => {
    const realtime = new RealtimeClient();
    const queryClient = new QueryClient();
    queryClient.setQueryData(["gifts", 1], gifts);
    const disconnect = connectQueryClient(realtime, queryClient, {
      queryKeysFor: () => [["gifts", 1]],
      patch: patchListQuery(() => ["gifts", 1], "gift"),
    });
    realtime.emit("event", gift("ADDED", 3, "Scarf"));
    assert.deepEqual(
      queryClient.getQueryData(["gifts", 1]).map((g) => g.title),
      ["Kite", "Book", "Scarf"],
    );
    assert.equal(queryClient.getQueryState(["gifts", 1]).isInvalidated, false);
    disconnect();
    realtime.emit("event", gift("ADDED", 4, "Hat"));
    assert.equal(queryClient.getQueryData(["gifts", 1]).length, 3);
  });
});

/** A query function whose answers the test gives, one per call, in order. */
function scriptedReads() {
  const calls = [];
  const queryFn = () =>
    new Promise((resolve) => {
      calls.push(resolve);
    });
  return { calls, queryFn };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("TanStack Query and reads racing events", () => {
  function watched(queryFn) {
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const observer = new QueryObserver(queryClient, { queryKey: ["gifts", 1], queryFn });
    const stop = observer.subscribe(() => {});
    return { queryClient, stop };
  }

  test("a baseline reads the topic's queries again", async () => {
    const realtime = new RealtimeClient();
    const reads = scriptedReads();
    const { queryClient, stop } = watched(reads.queryFn);
    connectQueryClient(realtime, queryClient, { queryKeysFor: () => [["gifts", 1]] });
    reads.calls[0](gifts);
    await settle();
    realtime.emit("baseline", "gift-list:1");
    assert.equal(reads.calls.length, 2);
    stop();
  });

  test("an event patched during a refetch outlives the refetch's older answer", async () => {
    const realtime = new RealtimeClient();
    const reads = scriptedReads();
    const { queryClient, stop } = watched(reads.queryFn);
    connectQueryClient(realtime, queryClient, {
      queryKeysFor: () => [["gifts", 1]],
      patch: patchListQuery(() => ["gifts", 1], "gift"),
    });
    reads.calls[0](gifts);
    await settle();
    queryClient.invalidateQueries({ queryKey: ["gifts", 1] }); // a refetch begins
    realtime.emit("event", gift("ADDED", 3, "Scarf")); // committed after its read
    assert.deepEqual(queryClient.getQueryData(["gifts", 1]).map((g) => g.id), [1, 2, 3]);
    assert.equal(reads.calls.length, 3); // read again, after the event
    reads.calls[1](gifts); // the older answer comes last
    reads.calls[2]([...gifts, { id: 3, title: "Scarf" }]);
    await settle();
    assert.deepEqual(queryClient.getQueryData(["gifts", 1]).map((g) => g.id), [1, 2, 3]);
    await settle();
    assert.deepEqual(queryClient.getQueryData(["gifts", 1]).map((g) => g.id), [1, 2, 3]);
    stop();
  });

  test("an event during the first read drops that read and reads again", async () => {
    const realtime = new RealtimeClient();
    const reads = scriptedReads();
    const { queryClient, stop } = watched(reads.queryFn);
    connectQueryClient(realtime, queryClient, {
      queryKeysFor: () => [["gifts", 1]],
      patch: patchListQuery(() => ["gifts", 1], "gift"),
    });
    realtime.emit("event", gift("ADDED", 3, "Scarf")); // no data to patch yet
    await settle();
    assert.equal(reads.calls.length, 2);
    reads.calls[0](gifts); // read before the event: dropped
    await settle();
    assert.equal(queryClient.getQueryData(["gifts", 1]), undefined);
    reads.calls[1]([...gifts, { id: 3, title: "Scarf" }]);
    await settle();
    assert.deepEqual(queryClient.getQueryData(["gifts", 1]).map((g) => g.id), [1, 2, 3]);
    stop();
  });
});

/** A claim or unclaim event of gift 1, as this page's own write sends it back. */
function echoOf(status, seq = 1) {
  const e = event("gift-list:1", seq, { id: 1, title: "Kite", status });
  e.event = "STATUS_CHANGED";
  e.data.entity_id = "1";
  e.echo = true;
  return e;
}

describe("TanStack Query and echoes", () => {
  const patched = (realtime, queryClient, options = {}) =>
    connectQueryClient(realtime, queryClient, {
      queryKeysFor: () => [["gifts", 1]],
      patch: patchListQuery(() => ["gifts", 1], "gift"),
      ...options,
    });

  test("an echo neither patches nor refetches: the newer guess on screen stays", async () => {
    const realtime = new RealtimeClient();
    const queryClient = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
    queryClient.setQueryData(["gifts", 1], [{ id: 1, title: "Kite", status: "wanted" }]);
    patched(realtime, queryClient);
    const shown = [];
    const observer = new QueryObserver(queryClient, { queryKey: ["gifts", 1], enabled: false });
    // Each status once in a row: a second equal write may or may not notify.
    const stop = observer.subscribe(({ data }) => {
      if (shown.at(-1) !== data[0].status) shown.push(data[0].status);
    });
    // Claim, answered; then unclaim, still waiting, its guess on screen.
    const guess = (status) => queryClient.setQueryData(["gifts", 1], (list) => [{ ...list[0], status }]);
    guess("claimed");
    guess("claimed"); // the claim's answer
    guess("wanted"); // the unclaim's guess
    realtime.emit("event", echoOf("claimed")); // the claim comes back late
    assert.deepEqual(shown, ["claimed", "wanted"]); // never claimed again
    assert.equal(queryClient.getQueryState(["gifts", 1]).isInvalidated, false);
    stop();
  });

  test("an echo during a read still drops that read and reads again", async () => {
    const realtime = new RealtimeClient();
    const reads = scriptedReads();
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const observer = new QueryObserver(queryClient, { queryKey: ["gifts", 1], queryFn: reads.queryFn });
    const stop = observer.subscribe(() => {});
    patched(realtime, queryClient);
    reads.calls[0](gifts);
    await settle();
    queryClient.invalidateQueries({ queryKey: ["gifts", 1] }); // read before the write
    realtime.emit("event", echoOf("claimed"));
    assert.equal(reads.calls.length, 3);
    reads.calls[1]([{ id: 1, title: "Kite", status: "wanted" }]); // the older answer: dropped
    reads.calls[2]([{ id: 1, title: "Kite", status: "claimed" }]);
    await settle();
    assert.equal(queryClient.getQueryData(["gifts", 1])[0].status, "claimed");
    stop();
  });

  test('echoes: "apply" treats them as any other event', () => {
    const realtime = new RealtimeClient();
    const queryClient = new QueryClient();
    queryClient.setQueryData(["gifts", 1], [{ id: 1, title: "Kite", status: "wanted" }]);
    patched(realtime, queryClient, { echoes: "apply" });
    realtime.emit("event", echoOf("claimed"));
    assert.equal(queryClient.getQueryData(["gifts", 1])[0].status, "claimed");
  });
});

describe("SWR", () => {
  test("an event revalidates its keys through SWR's mutate", async () => {
    const realtime = new RealtimeClient();
    const revalidated = [];
    const mutate = (...args) => {
      revalidated.push(args);
      return globalMutate(...args);
    };
    connectSWR(realtime, mutate, { keysFor: (topic) => [`/api/gifts/?list=${topic.split(":")[1]}`] });
    realtime.emit("event", gift("UPDATED", 1, "Red kite"));
    realtime.emit("resync", "gift-list:2");
    assert.deepEqual(revalidated, [["/api/gifts/?list=1"], ["/api/gifts/?list=2"]]);
  });

  test("with patchEntityType the real SWR cache holds the patched list", async () => {
    const [cache, mutate] = initCache(new Map());
    await mutate("/api/gifts/?list=1", gifts, { revalidate: false });
    const realtime = new RealtimeClient();
    connectSWR(realtime, mutate, {
      keysFor: () => ["/api/gifts/?list=1"],
      patchEntityType: "gift",
      revalidate: false,
    });
    realtime.emit("event", gift("STATUS_CHANGED", 2, "Signed book"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      cache.get("/api/gifts/?list=1").data.map((g) => g.title),
      ["Kite", "Signed book"],
    );
  });
});

describe("SWR and echoes", () => {
  const key = "/api/gifts/?list=1";
  const kite = (status) => [{ id: 1, title: "Kite", status }];

  /** An optimistic claim through SWR's mutate, answered when the test says. */
  async function claiming(echoes) {
    const [cache, mutate] = initCache(new Map());
    await mutate(key, kite("wanted"), { revalidate: false });
    const realtime = new RealtimeClient();
    const calls = [];
    const counted = (...args) => {
      calls.push(args[0]);
      return mutate(...args);
    };
    connectSWR(realtime, counted, { keysFor: () => [key], patchEntityType: "gift", revalidate: false, echoes });
    let answer;
    const write = new Promise((resolve) => {
      answer = resolve;
    });
    const done = mutate(key, write, {
      optimisticData: kite("claimed"),
      populateCache: (row, list) => list.map((gift) => (gift.id === row.id ? row : gift)),
      revalidate: false,
    });
    const shown = () => cache.get(key).data[0].status;
    return { realtime, calls, answer, done, shown };
  }

  test("an echo during the page's own mutation leaves it alone", async () => {
    const page = await claiming(undefined);
    const echo = echoOf("claimed");
    echo.data.payload.note = "from the echo";
    page.realtime.emit("event", echo);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(page.calls, []);
    assert.equal(page.shown(), "claimed");
    page.answer({ id: 1, title: "Kite", status: "claimed", note: "from the answer" });
    await page.done;
    assert.equal(page.shown(), "claimed");
  });

  test('with echoes: "apply" an earlier write\'s echo undoes the guess and outlives the answer', async () => {
    // What skipping avoids: SWR patches the list as it was before the guess,
    // and drops the mutation's own answer as overtaken.
    const page = await claiming("apply");
    page.realtime.emit("event", echoOf("wanted")); // an unclaim sent just before
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(page.calls, [key]);
    assert.equal(page.shown(), "wanted");
    page.answer({ id: 1, title: "Kite", status: "claimed" });
    await page.done;
    assert.equal(page.shown(), "wanted");
  });
});
