// Named one-shot timers on an injectable clock: setting a name again replaces it,
// and clearAll() leaves nothing behind when a connection ends.

export class Timers {
  constructor(env) {
    this.env = env;
    this.pending = new Map();
  }

  set(name, ms, callback) {
    this.clear(name);
    this.pending.set(
      name,
      this.env.setTimeout(() => {
        this.pending.delete(name);
        callback();
      }, ms),
    );
  }

  clear(...names) {
    for (const name of names) {
      if (!this.pending.has(name)) continue;
      this.env.clearTimeout(this.pending.get(name));
      this.pending.delete(name);
    }
  }

  clearAll() {
    this.clear(...this.pending.keys());
  }
}
