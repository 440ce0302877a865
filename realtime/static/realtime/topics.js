// The topics a page follows: handlers counted per topic, and the last seq seen
// of each, which is both the duplicate filter and the resume cursor.

export class TopicTable {
  constructor() {
    this.handlers = new Map(); // topic -> Set of {handler}; its size is the count
    this.positions = new Map(); // topic -> last seq seen, for followed topics only
    this.baselines = []; // topics whose position became known, not yet announced
  }

  /** Add a handler; `fresh` says the topic was not followed before. */
  add(topic, handler) {
    let entries = this.handlers.get(topic);
    const fresh = !entries;
    if (fresh) {
      entries = new Set();
      this.handlers.set(topic, entries);
    }
    const entry = { handler };
    entries.add(entry);
    // Returns true when that was the topic's last handler.
    const remove = () => {
      if (!entries.delete(entry) || entries.size || this.handlers.get(topic) !== entries) {
        return false;
      }
      this.handlers.delete(topic);
      this.positions.delete(topic);
      return true;
    };
    return { fresh, remove };
  }

  topics() {
    return [...this.handlers.keys()];
  }

  has(topic) {
    return this.handlers.has(topic);
  }

  get size() {
    return this.handlers.size;
  }

  /** Handlers of an event not seen before (and the position moves to it), else null. */
  accept(event) {
    const entries = this.handlers.get(event.topic);
    if (!entries) return null; // no longer followed
    const last = this.positions.get(event.topic);
    if (last !== undefined && event.seq <= last) return null; // seen already
    this.place(event.topic, event.seq);
    return [...entries].map((entry) => entry.handler);
  }

  /** Where a followed topic stands, as the server says (it may move back). */
  place(topic, seq) {
    if (!this.handlers.has(topic)) return;
    if (!this.positions.has(topic)) this.baselines.push(topic);
    this.positions.set(topic, seq);
  }

  /** Move a followed topic forward, never back (SSE ids, polling cursors). */
  advance(topic, seq) {
    const last = this.positions.get(topic);
    if (last === undefined || seq > last) this.place(topic, seq);
  }

  /** Topics whose position became known since the last call, once each. */
  takeBaselines() {
    const topics = this.baselines.filter((topic) => this.positions.has(topic));
    this.baselines = [];
    return topics;
  }
}
