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
