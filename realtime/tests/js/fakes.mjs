// Test doubles for realtime.js: a clock, WebSockets and fetch under the test's control.

export class FakeClock {
  constructor() {
    this.time = 0;
    this.nextId = 1;
    this.timers = new Map();
    this.setTimeout = (callback, ms = 0) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.time + Math.max(0, ms), callback });
      return id;
    };
    this.clearTimeout = (id) => this.timers.delete(id);
    this.now = () => this.time;
  }

  /** Advance time, running every timer that falls due, in order. */
  async tick(ms) {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= end);
      if (!due.length) break;
      due.sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
      const [id, timer] = due[0];
      this.timers.delete(id);
      this.time = Math.max(this.time, timer.at);
      timer.callback();
      await flush();
    }
    this.time = end;
    await flush();
  }

  /** Milliseconds until the named kind of timer would fire (for backoff checks). */
  pending() {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }
}

/** Let promise callbacks (ticket fetches, stream reads) run. */
export async function flush() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function fakeWebSocketClass() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.readyState = 1;
      this.closedWith = null;
      sockets.push(this);
    }

    send(text) {
      this.sent.push(JSON.parse(text));
    }

    close(code) {
      this.closedWith = code;
      this.readyState = 3;
    }

    // The server's side.
    opened() {
      this.onopen?.({});
    }

    receive(message) {
      this.onmessage?.({ data: JSON.stringify(message) });
    }

    welcome(heartbeat = 30) {
      this.receive({
        type: "welcome",
        connection_id: "c1",
        user_id: "1",
        heartbeat_interval: heartbeat,
      });
    }

    drop(code = 1006) {
      this.readyState = 3;
      this.onclose?.({ code });
    }

    sentOfType(type) {
      return this.sent.filter((message) => message.type === type);
    }
  }
  FakeWebSocket.sockets = sockets;
  return FakeWebSocket;
}

/** A fetch whose answers the test scripts: a list of handlers, by URL path. */
export function fakeFetch() {
  const calls = [];
  const routes = [];
  const fetch = async (url, init = {}) => {
    const parsed = new URL(url);
    calls.push({ url: parsed, init });
    const route = routes.find((r) => parsed.pathname === r.path);
    if (!route) throw new TypeError("network error");
    return route.respond(parsed, init);
  };
  fetch.calls = calls;
  fetch.route = (path, respond) => routes.unshift({ path, respond });
  return fetch;
}

/** An SSE response whose stream the test writes to; `end()` closes it. */
export function sseResponse() {
  let controller;
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    start(c) {
      controller = c;
    },
  });
  const response = new Response(body, {
    status: 200,
    headers: { "Content-Type": "text/event-stream" },
  });
  response.write = (text) => controller.enqueue(encoder.encode(text));
  response.end = () => controller.close();
  return response;
}

export function jsonResponse(body, status = 200) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

export function event(topic, seq, extra = {}) {
  return {
    type: "event",
    topic,
    seq,
    event: "UPDATED",
    data: {
      entity_type: "gift",
      entity_id: String(seq),
      payload: { id: seq, ...extra },
      user_id: "1",
      tenant_id: null,
      timestamp: "2026-11-28T00:00:00.000000Z",
    },
    trace_id: null,
  };
}

export function fakeWindow() {
  const listeners = new Map();
  return {
    addEventListener: (kind, fn) => listeners.set(kind, fn),
    removeEventListener: (kind) => listeners.delete(kind),
    fire: (kind) => listeners.get(kind)?.(),
  };
}

/**
 * Transports the test drives by hand, for the client's own decisions: each one
 * records what the client asked of it and reports what the test says.
 */
export function fakeTransports() {
  const made = [];
  const factory = (kind) => (context, sink) => {
    const transport = new FakeTransport(kind, context, sink);
    made.push(transport);
    return transport;
  };
  return {
    made,
    last: (kind) => made.filter((t) => !kind || t.kind === kind).at(-1),
    transports: { websocket: factory("websocket"), sse: factory("sse"), polling: factory("polling") },
  };
}

class FakeTransport {
  constructor(kind, context, sink) {
    this.kind = kind;
    this.context = context;
    this.sink = sink;
    this.opened = false;
    this.closed = false;
    this.follows = [];
    this.sent = [];
  }

  open() {
    this.started = true;
  }

  follow(added, removed) {
    this.follows.push([added, removed]);
  }

  close() {
    this.closed = true;
  }

  send(message) {
    if (this.closed || !this.opened || this.kind !== "websocket") return false;
    this.sent.push(message);
    return true;
  }

  // What the transport reports.
  welcome(info = { connection_id: "c1", heartbeat_interval: 30 }) {
    this.opened = true;
    this.sink.open(info);
  }

  receive(message) {
    this.sink.message(message);
  }

  reach(cursor) {
    this.sink.cursor(cursor);
  }

  end(info = {}) {
    this.closed = true;
    this.sink.close({ code: 1006, opened: this.opened, signedOut: false, retryAfter: 3000, ...info });
  }
}
