// expiring.js: things said by others that hold only while they keep saying
// them ("bob is typing"): each entry vanishes `ms` after it was last set, so
// an indicator ends even when its sender vanished without a word.

/** Keyed entries that expire; `onChange()` after any entry comes or goes. */
export class Expiring {
  constructor(timers, onChange = () => {}) {
    this.timers = timers; // {setTimeout, clearTimeout}
    this.onChange = onChange;
    this.entries = new Map(); // key -> {value, timer}
  }

  /** Set (or refresh) `key` for `ms` from now. */
  set(key, value, ms) {
    const known = this.entries.get(key);
    if (known) this.timers.clearTimeout(known.timer);
    const timer = this.timers.setTimeout(() => this.delete(key), ms);
    this.entries.set(key, { value, timer });
    if (!known || known.value !== value) this.onChange();
  }

  delete(key) {
    const known = this.entries.get(key);
    if (!known) return;
    this.timers.clearTimeout(known.timer);
    this.entries.delete(key);
    this.onChange();
  }

  /** Delete every entry whose value `matches`. */
  deleteWhere(matches) {
    for (const [key, { value }] of [...this.entries]) if (matches(value, key)) this.delete(key);
  }

  get(key) {
    return this.entries.get(key)?.value;
  }

  values() {
    return [...this.entries.values()].map((entry) => entry.value);
  }

  clear() {
    this.deleteWhere(() => true);
  }
}
