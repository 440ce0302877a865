// TanStack Query adapter: keep a QueryClient's cache in step with realtime events.

import { applyToList } from "./apply.js";

/**
 * Invalidate the query keys a topic maps to whenever one of its events arrives,
 * or when the server says the topic must be refetched (`resync`).
 *
 * `queryKeysFor(topic, event)` returns the query keys to invalidate (`event` is
 * null on resync). `patch(queryClient, event)` may update the cache from the
 * payload instead and return true to skip the refetch. Returns a disconnect
 * function.
 */
export function connectQueryClient(realtime, queryClient, { queryKeysFor, patch } = {}) {
  const invalidate = (topic, event) => {
    for (const queryKey of queryKeysFor(topic, event)) {
      queryClient.invalidateQueries({ queryKey });
    }
  };
  const offEvent = realtime.on("event", (event) => {
    if (patch && patch(queryClient, event)) return;
    invalidate(event.topic, event);
  });
  const offResync = realtime.on("resync", (topic) => invalidate(topic, null));
  return () => {
    offEvent();
    offResync();
  };
}

/**
 * A `patch` for queries that hold a list of one entity type: events of that type
 * are applied to the cached list in place of a refetch.
 */
export function patchListQuery(queryKeyFor, entityType) {
  return (queryClient, event) => {
    if (event.data.entity_type !== entityType) return false;
    const queryKey = queryKeyFor(event.topic, event);
    if (queryClient.getQueryData(queryKey) === undefined) return false;
    queryClient.setQueryData(queryKey, (list) => applyToList(list, event));
    return true;
  };
}
