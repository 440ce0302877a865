// The Server-Sent Events transport (PROTOCOL.md section 5), read with fetch so it
// can send the Authorization header and the cursor itself. One stream per topic
// set: a change of topics starts a new stream from the current positions.
// The transport interface is described in websocket.js.

import { formatCursor } from "../cursor.js";
import { SseParser } from "../sse-parser.js";
import { absoluteUrl, authHeaders } from "../tickets.js";

// What an EventSource waits before reconnecting when the stream names no
// `retry:`; the server's own default (SSE_RETRY) is the same.
export const DEFAULT_RETRY = 3000;

export class SseTransport {
  constructor(context, sink) {
    this.kind = "sse";
    this.context = context;
    this.sink = sink;
    this.abort = null;
    this.opened = false; // a stream said `subscribed`
    this.closed = false;
  }

  open() {
    this.connect();
  }

  follow() {
    if (this.closed) return;
    this.stopStream();
    this.connect();
  }

  close() {
    this.closed = true;
    this.stopStream();
  }

  stopStream() {
    if (this.abort) this.abort.abort();
    this.abort = null;
  }

  url() {
    const { env, options } = this.context;
    const url = absoluteUrl(env, options.sseUrl);
    url.searchParams.set("topics", this.context.topics().join(","));
    const positions = this.context.positions();
    if (positions.size) url.searchParams.set("cursor", formatCursor(positions));
    return url;
  }

  connect() {
    if (this.closed || !this.context.topics().length) return; // nothing to follow yet
    const abort = new AbortController();
    this.abort = abort;
    let subscribed = false;
    const parser = new SseParser((message) => {
      if (abort.signal.aborted) return;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (message.event === "subscribed" && !subscribed) {
        subscribed = true;
        if (!this.opened) {
          this.opened = true;
          this.sink.open(data); // the stream's `subscribed`, as the welcome's stand-in
        }
      }
      if (abort.signal.aborted) return;
      this.sink.message(data);
      if (message.id && !abort.signal.aborted) this.sink.cursor(message.id);
    });
    const ended = (status) => {
      if (abort.signal.aborted || this.closed) return;
      this.closed = true;
      this.abort = null;
      this.sink.close({
        code: status,
        opened: subscribed,
        signedOut: status === 401,
        retryAfter: parser.retry ?? DEFAULT_RETRY,
      });
    };
    this.read(abort, parser).then(ended, () => ended(0));
  }

  /** Stream the response into the parser; resolves to the HTTP status (0: ended). */
  async read(abort, parser) {
    const { env, options } = this.context;
    const response = await env.fetch(this.url(), {
      headers: { Accept: "text/event-stream", ...authHeaders(options) },
      credentials: "same-origin",
      cache: "no-store",
      signal: abort.signal,
    });
    if (!response.ok || !response.body) return response.status;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 0;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  }
}
