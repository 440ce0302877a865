// SWR adapter: revalidate (or patch) SWR keys when realtime events arrive.

import { applyToList } from "./apply.js";

/**
 * Call SWR's `mutate(key)` for every key a topic maps to when one of its events
 * arrives, when it must be refetched (`resync`), or when the client starts to
 * follow it without a miss (`baseline`: a read before it may be stale): SWR then
 * revalidates those keys.
 * With `patchEntityType`, events of that type update a cached list from their
 * payload first (still revalidating unless `revalidate` is false).
 *
 * Echoes (`event.echo`: this page's own write, sent through `client.fetch`) are
 * left to the page's own `mutate(key, write, {optimisticData, ...})` with
 * `echoes: "skip"` (the default): no patch, no revalidation, so an echo cannot
 * undo a newer optimistic value; SWR itself drops a revalidation that started
 * before a mutation, and the mutation's result (`populateCache`) or its
 * revalidation brings the server's word. `echoes: "apply"` treats them as any
 * other event.
 *
 * `mutate` is SWR's global `mutate` or the one from `useSWRConfig()`;
 * `keysFor(topic, event)` returns the keys (`event` is null on resync and baseline).
 * Returns a disconnect function.
 */
export function connectSWR(realtime, mutate, { keysFor, patchEntityType, revalidate = true, echoes = "skip" }) {
  const offEvent = realtime.on("event", (event) => {
    if (event.echo === true && echoes === "skip") return;
    for (const key of keysFor(event.topic, event)) {
      if (patchEntityType && event.data.entity_type === patchEntityType) {
        mutate(key, (list) => applyToList(list, event), { revalidate });
      } else {
        mutate(key);
      }
    }
  });
  const refresh = (topic) => {
    for (const key of keysFor(topic, null)) mutate(key);
  };
  const offResync = realtime.on("resync", refresh);
  const offBaseline = realtime.on("baseline", refresh);
  return () => {
    offEvent();
    offResync();
    offBaseline();
  };
}
