// TanStack Query adapter: keep a QueryClient's cache in step with realtime events.

import { applyToList } from "./apply.js";

/**
 * Keep the queries a topic maps to in step with it: each event of the topic is
 * applied by `patch` where it can be, else the queries are refetched; a
 * `resync` (events were lost) and a `baseline` (from now on none is missed, so
 * what was read before may be stale) refetch them too.
 *
 * `queryKeysFor(topic, event)` returns the query keys (`event` is null on resync
 * and baseline). `patch(queryClient, event)` may update the cache from the
 * payload and return true to skip the refetch. Returns a disconnect function.
 *
 * A read in flight when an event arrives may have been answered before the
 * change: it is dropped and the query read again, so a refetch racing live
 * events ends with them.
 *
 * Echoes (`event.echo`: this page's own write, sent through `client.fetch`) are
 * the mutation's business: with `echoes: "skip"` (the default) an echo is
 * neither patched nor refetched, so it cannot undo a newer optimistic guess or
 * add a row the mutation adds; the mutation's answer (`onSuccess`) and its
 * `onSettled` invalidation bring the server's word. Only a read in flight is
 * still dropped and read again, as it may predate the write. `echoes: "apply"`
 * treats them as any other event (for writes that are not mutations).
 */
export function connectQueryClient(realtime, queryClient, { queryKeysFor, patch, echoes = "skip" } = {}) {
  const refetchAll = (topic, event) => {
    for (const queryKey of queryKeysFor(topic, event)) refetchQuery(queryClient, queryKey);
  };
  const rereadInFlight = (event) => {
    for (const queryKey of queryKeysFor(event.topic, event)) {
      if (queryClient.isFetching({ queryKey }) > 0) refetchQuery(queryClient, queryKey);
    }
  };
  const offEvent = realtime.on("event", (event) => {
    if (event.echo === true && echoes === "skip") return rereadInFlight(event);
    if (!patch || !patch(queryClient, event)) return refetchAll(event.topic, event);
    rereadInFlight(event);
  });
  const offResync = realtime.on("resync", (topic) => refetchAll(topic, null));
  const offBaseline = realtime.on("baseline", (topic) => refetchAll(topic, null));
  return () => {
    offEvent();
    offResync();
    offBaseline();
  };
}

/**
 * Invalidate the queries under `queryKey` and read the active ones again, from
 * now: a read already in flight is dropped rather than joined (TanStack joins a
 * first read that has no data yet, which may predate the change).
 */
export async function refetchQuery(queryClient, queryKey) {
  const first = queryClient
    .getQueryCache()
    .findAll({ queryKey, fetchStatus: "fetching" })
    .some((query) => query.state.data === undefined);
  if (first) await queryClient.cancelQueries({ queryKey });
  return queryClient.invalidateQueries({ queryKey }, { cancelRefetch: true });
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
