// query.js: the pages' small query cache.
//
// Each key holds server state (what the REST API said, patched by live events)
// and, on top of it, optimistic changes that are still waiting for the server.
// Readers see both; a refused change is rolled back by dropping its layer, so
// whatever arrived meanwhile from the server stays.
//
// A refetch may read the database before or after events that arrive while it is
// in flight, so every change applied during a fetch is replayed, in order, onto
// its result: events carry whole entities, and replaying them is harmless.

export class QueryCache {
  constructor() {
    this.entries = new Map();
  }

  entry(key) {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        data: undefined,
        error: null,
        fetcher: null,
        ticket: 0, // the number of the latest request; older answers are dropped
        replay: null, // changes applied since the oldest request in flight began
        layers: [], // optimistic changes, oldest first
        listeners: new Set(),
      };
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** The data as the page shows it: server state with optimistic layers on top. */
  get(key) {
    const entry = this.entry(key);
    let data = entry.data;
    if (data === undefined) return data;
    for (const layer of entry.layers) data = layer.change(data);
    return data;
  }

  error(key) {
    return this.entry(key).error;
  }

  /** Load `key` with `fetcher` (remembered for refetches); resolves to the data. */
  async fetch(key, fetcher) {
    const entry = this.entry(key);
    if (fetcher) entry.fetcher = fetcher;
    if (!entry.fetcher) throw new Error(`no fetcher for ${key}`);
    const ticket = ++entry.ticket;
    if (!entry.replay) entry.replay = [];
    try {
      const fetched = await entry.fetcher();
      if (ticket !== entry.ticket) return this.get(key);
      let data = fetched;
      for (const change of entry.replay) data = change(data);
      entry.replay = null;
      entry.data = data;
      entry.error = null;
      this.notify(key);
      return this.get(key);
    } catch (error) {
      if (ticket === entry.ticket) {
        entry.replay = null;
        entry.error = error;
        this.notify(key);
      }
      throw error;
    }
  }

  /** Refetch `key` with its remembered fetcher; errors are kept, not thrown. */
  refetch(key) {
    if (!this.entry(key).fetcher) return Promise.resolve(undefined);
    return this.fetch(key).catch(() => undefined);
  }

  /** Change the server state of `key` (a live event, a server answer). */
  update(key, change) {
    const entry = this.entry(key);
    if (entry.replay) entry.replay.push(change);
    if (entry.data === undefined) return;
    const next = change(entry.data);
    if (next === entry.data) return;
    entry.data = next;
    this.notify(key);
  }

  /** Show `change` until the returned function is called (on success or refusal). */
  optimistic(key, change) {
    const entry = this.entry(key);
    const layer = { change };
    entry.layers.push(layer);
    this.notify(key);
    return () => {
      const index = entry.layers.indexOf(layer);
      if (index < 0) return;
      entry.layers.splice(index, 1);
      this.notify(key);
    };
  }

  subscribe(key, listener) {
    const entry = this.entry(key);
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
  }

  notify(key) {
    for (const listener of [...this.entry(key).listeners]) {
      try {
        listener(this.get(key));
      } catch (error) {
        console.error("query listener failed", error);
      }
    }
  }
}
