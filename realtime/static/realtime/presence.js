// Who else follows a topic (PROTOCOL.md section 7), after Phoenix's Presence:
// the server sends a topic's whole `presence_state`, then `presence_diff`s of
// users whose first connection arrived or last one left. Both are merged by
// user id and are idempotent: a join of someone present updates their entry,
// a leave of someone absent changes nothing. A new state (a reconnect, a new
// stream) replaces what was known, and the client empties the list when its
// connection ends, since nobody can be known present then.

/** One topic's present users, kept by RealtimeClient.presence(topic). */
export class Presence {
  constructor(topic) {
    this.topic = topic;
    this.entries = new Map(); // user id -> entry {user_id, name, connections, ...}
    this.listeners = { sync: new Set(), join: new Set(), leave: new Set() };
  }

  /** Everyone present, by user id (a copy). */
  get state() {
    return Object.fromEntries(this.entries);
  }

  /** The entries in arrival order, or `chooser(userId, entry)` of each. */
  list(chooser = (_id, entry) => entry) {
    return [...this.entries].map(([id, entry]) => chooser(id, entry));
  }

  has(userId) {
    return this.entries.has(String(userId));
  }

  /** `handler(list)` after every change, and once now. Returns stop. */
  onSync(handler) {
    this.listeners.sync.add(handler);
    call(handler, this.list());
    return () => this.listeners.sync.delete(handler);
  }

  /** `handler(userId, entry)` when a user arrives. Returns stop. */
  onJoin(handler) {
    this.listeners.join.add(handler);
    return () => this.listeners.join.delete(handler);
  }

  /** `handler(userId, entry)` when a user's last connection leaves. Returns stop. */
  onLeave(handler) {
    this.listeners.leave.add(handler);
    return () => this.listeners.leave.delete(handler);
  }

  // -- fed by the client --------------------------------------------------------

  /** A `presence_state`: it replaces everything known before. */
  syncState(present) {
    const next = new Map(Object.entries(present || {}).map(([id, entry]) => [String(id), entry]));
    const joins = {};
    const leaves = {};
    for (const [id, entry] of this.entries) if (!next.has(id)) leaves[id] = entry;
    for (const [id, entry] of next) if (!this.entries.has(id)) joins[id] = entry;
    this.entries = next;
    this.announce(joins, leaves);
    this.synced();
  }

  /** A `presence_diff`, merged by user id. */
  syncDiff(joins, leaves) {
    const joined = {};
    const left = {};
    let changed = false;
    for (const id of Object.keys(leaves || {})) {
      if (!this.entries.has(id)) continue; // gone already: no news
      left[id] = this.entries.get(id);
      this.entries.delete(id);
      changed = true;
    }
    for (const [id, entry] of Object.entries(joins || {})) {
      if (!this.entries.has(id)) joined[id] = entry;
      this.entries.set(id, entry); // present already: its entry may be newer
      changed = true;
    }
    this.announce(joined, left);
    if (changed) this.synced();
  }

  /** Nobody is known present (the connection ended, the topic was dropped). */
  clear() {
    if (this.entries.size) this.syncState({});
  }

  announce(joins, leaves) {
    for (const [id, entry] of Object.entries(leaves)) {
      for (const handler of this.listeners.leave) call(handler, id, entry);
    }
    for (const [id, entry] of Object.entries(joins)) {
      for (const handler of this.listeners.join) call(handler, id, entry);
    }
  }

  synced() {
    const list = this.list();
    for (const handler of this.listeners.sync) call(handler, list);
  }
}

function call(handler, ...args) {
  try {
    handler(...args);
  } catch (error) {
    console.error("realtime presence handler failed", error);
  }
}
