// The polling transport (PROTOCOL.md section 5): a GET per interval with the
// current cursor, at once again while the server says there is `more`.
// The transport interface is described in websocket.js.

import { formatCursor, parseCursor } from "../cursor.js";
import { Timers } from "../timers.js";
import { absoluteUrl, authHeaders } from "../tickets.js";

export class PollingTransport {
  constructor(context, sink) {
    this.kind = "polling";
    this.context = context;
    this.options = context.options;
    this.sink = sink;
    this.timers = new Timers(context.env);
    this.polling = false; // a request is in flight
    this.again = false; // topics changed during it: poll once more at once
    this.opened = false;
    this.closed = false;
  }

  open() {
    this.soon(0);
  }

  follow() {
    if (this.polling) this.again = true;
    else this.soon(0);
  }

  close() {
    this.closed = true;
    this.timers.clearAll();
  }

  soon(ms) {
    if (!this.closed) this.timers.set("poll", ms, () => this.poll());
  }

  url() {
    const url = absoluteUrl(this.context.env, this.options.pollUrl);
    url.searchParams.set("topics", this.context.topics().join(","));
    const positions = this.context.positions();
    if (positions.size) url.searchParams.set("cursor", formatCursor(positions));
    return url;
  }

  async poll() {
    if (this.closed) return;
    if (!this.context.topics().length) return this.soon(this.options.pollInterval);
    this.polling = true;
    this.again = false;
    let more = false;
    try {
      const response = await this.context.env.fetch(this.url(), {
        headers: { Accept: "application/json", ...authHeaders(this.options) },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (this.closed) return;
      if (response.status === 401) return this.end({ signedOut: true });
      // Even plain HTTP fails: the server is away, not just its streams.
      if (response.status >= 500) return this.end({ outage: true });
      if (response.ok) more = this.page(await response.json());
      else this.sink.message(await response.json().catch(() => ({ code: "http_error" })));
    } catch {
      return this.end({ outage: true });
    } finally {
      this.polling = false;
    }
    if (this.closed) return;
    this.soon(more || this.again ? 0 : this.options.pollInterval);
  }

  /** Hand one page to the client; true when the server has more waiting. */
  page(page) {
    if (this.closed) return false;
    if (!this.opened) {
      this.opened = true;
      this.sink.open({});
    }
    if (page.recovered === false) {
      // Said as the other transports say it, so the client has one rule:
      // these topics continue from now and must be refetched.
      const cursor = parseCursor(page.cursor);
      const topics = page.unrecovered || [];
      const seqs = Object.fromEntries(topics.filter((t) => cursor.has(t)).map((t) => [t, cursor.get(t)]));
      this.sink.message({ type: "subscribed", topics, seqs, recovered: false, unrecovered: topics });
    }
    for (const event of page.events || []) {
      if (this.closed) return false;
      this.sink.message(event);
    }
    if (!this.closed && page.cursor) this.sink.cursor(page.cursor);
    return Boolean(page.more);
  }

  end(info) {
    if (this.closed) return;
    this.close();
    this.sink.close({ code: 0, opened: this.opened, signedOut: false, outage: false, ...info });
  }
}
