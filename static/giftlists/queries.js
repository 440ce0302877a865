// queries.js: the site's server state in TanStack Query: one key and one read per
// resource, and the small glue a page without a framework needs (watching a
// query, knowing when it was read after its topic's baseline).

import { QueryClient, QueryObserver, hashKey } from "./query-core.js";

/** Query keys: every cached resource of the site is named here. */
export const keys = {
  giftList: (listId) => ["gift-list", String(listId)],
  gifts: (listId) => ["gifts", { list: String(listId) }],
  family: (familyId) => ["family", String(familyId)],
  families: () => ["families"],
  familyLists: (familyId) => ["gift-lists", { family: String(familyId) }],
};

/** How each resource is read; `http` is {api, apiAll} (http.js, or a fake). */
export function reads(http) {
  return {
    giftList: (listId) => ({
      queryKey: keys.giftList(listId),
      queryFn: () => http.api("GET", `/api/gift-lists/${listId}/`),
    }),
    gifts: (listId) => ({
      queryKey: keys.gifts(listId),
      queryFn: () => http.apiAll(`/api/gifts/?list=${listId}`),
    }),
    family: (familyId) => ({
      queryKey: keys.family(familyId),
      queryFn: () => http.api("GET", `/api/families/${familyId}/`),
    }),
    families: () => ({
      queryKey: keys.families(),
      queryFn: () => http.apiAll("/api/families/"),
    }),
    familyLists: (familyId) => ({
      queryKey: keys.familyLists(familyId),
      queryFn: () => http.apiAll(`/api/gift-lists/?family=${familyId}`),
    }),
  };
}

/**
 * The pages' QueryClient. Live events keep the cache current, so nothing is
 * refetched for going stale, regaining focus or the network (the realtime client
 * resumes and says what to read again); a refused read is not retried, since a
 * 404 means the resource is gone.
 */
export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: Infinity,
        refetchOnWindowFocus: false,
        refetchOnReconnect: false,
        retry: false,
      },
      mutations: { retry: false },
    },
  });
}

/** Read `options` now and call `onResult(result)` on every change; returns stop. */
export function watch(queryClient, options, onResult) {
  const observer = new QueryObserver(queryClient, options);
  const stop = observer.subscribe(onResult);
  onResult(observer.getCurrentResult());
  return stop;
}

/**
 * Call `done` once `topic` has its baseline and every query of `queryKeys` has
 * been read from the server after it (events patch the cache; only a read says
 * that nothing from before the baseline is missing). Returns stop.
 */
export function onceReadAfterBaseline(client, queryClient, topic, queryKeys, done) {
  const waiting = new Set(queryKeys.map((queryKey) => hashKey(queryKey)));
  let baselined = false;
  const offBaseline = client.on("baseline", (followed) => {
    if (followed === topic) baselined = true;
  });
  const offCache = queryClient.getQueryCache().subscribe(({ type, query, action }) => {
    if (!baselined || type !== "updated" || action.type !== "success" || action.manual) return;
    if (!waiting.delete(query.queryHash) || waiting.size) return;
    stop();
    done();
  });
  const stop = () => {
    offBaseline();
    offCache();
  };
  return stop;
}
