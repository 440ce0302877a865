// realtime.js: the browser client of the realtime protocol (docs/protocol.md).
//
// One connection per page, shared by every component: topics are subscribed by
// reference count, events are deduplicated by (topic, seq) whichever transport
// brought them, and the last seq seen of each topic is the resume position after
// a reconnect. WebSocket first; after repeated failures Server-Sent Events, then
// polling, while it keeps trying to return to WebSocket.
//
// No dependencies; every clock, socket and fetch is injectable for tests.

export const Status = Object.freeze({
  CONNECTING: "connecting",
  OPEN: "open",
  RECONNECTING: "reconnecting",
  FALLBACK_SSE: "fallback-sse",
  FALLBACK_POLL: "fallback-poll",
  OFFLINE: "offline",
  SIGNED_OUT: "signed-out",
});

// Close code the server uses for bad credentials: retrying cannot help.
const CLOSE_UNAUTHENTICATED = 4401;
// Close code this client uses when it gives up on a silent connection.
const CLOSE_DEAD = 4000;
const SIGNED_OUT = Symbol("signed out");

const DEFAULTS = {
  url: "/ws/",
  sseUrl: "/realtime/sse/",
  pollUrl: "/api/realtime/events/",
  // Pages signed in by the session cookie need neither of these. A client with a
  // long-lived API token trades it for a single-use ticket at `ticketUrl` before
  // each connection, so the token itself never travels in a URL.
  token: null,
  ticketUrl: "/api/realtime/ticket/",
  backoffBase: 500, // ms; the first retry waits up to this long
  backoffCap: 30000, // ms; no retry waits longer
  stableAfter: 10000, // ms open before the backoff starts again from zero
  pongTimeout: 10000, // ms to wait for a pong before the socket counts as dead
  welcomeTimeout: 15000, // ms from opening a socket to its welcome
  failuresBeforeFallback: 3, // failed WebSocket attempts in a row, then SSE
  sseFailuresBeforePoll: 2, // failed SSE attempts in a row, then polling
  pollInterval: 10000, // ms between polls
  retryWebSocketEvery: 30000, // ms between attempts to leave a fallback
};

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base * 2^n)). */
export function backoffDelay(attempt, base, cap, random = Math.random) {
  return random() * Math.min(cap, base * 2 ** attempt);
}

/** Cursor text `topic@seq,topic@seq` of a Map of positions. */
export function formatCursor(positions) {
  return [...positions].map(([topic, seq]) => `${topic}@${seq}`).join(",");
}

/** A Map of positions from cursor text; malformed parts are ignored. */
export function parseCursor(text) {
  const positions = new Map();
  for (const part of (text || "").split(",")) {
    const at = part.lastIndexOf("@");
    const seq = Number(part.slice(at + 1));
    if (at > 0 && Number.isInteger(seq) && seq >= 0) positions.set(part.slice(0, at), seq);
  }
  return positions;
}

/** Split a Server-Sent Events text stream into {event, data, id} messages. */
export class SseParser {
  constructor(onMessage) {
    this.onMessage = onMessage;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.event = "message";
    this.data = [];
    this.id = null;
  }

  feed(chunk) {
    this.buffer += chunk;
    let newline;
    while ((newline = this.buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith("\r\n", newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      this.line(line);
    }
  }

  line(line) {
    if (line === "") {
      if (this.data.length) {
        this.onMessage({ event: this.event, data: this.data.join("\n"), id: this.id });
      }
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment: keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id") this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

function defaultEnvironment() {
  const g = globalThis;
  return {
    WebSocket: g.WebSocket,
    fetch: g.fetch ? g.fetch.bind(g) : undefined,
    setTimeout: g.setTimeout.bind(g),
    clearTimeout: g.clearTimeout.bind(g),
    now: () => Date.now(),
    random: Math.random,
    location: g.location,
    window: typeof window === "undefined" ? null : window,
    document: typeof document === "undefined" ? null : document,
  };
}

/** The page's one realtime connection. */
export class RealtimeClient {
  constructor(options = {}, environment = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.env = { ...defaultEnvironment(), ...environment };
    this.handlers = new Map(); // topic -> Set of handlers (the reference count)
    this.positions = new Map(); // topic -> last seq seen
    this.listeners = new Map(); // "status" | "event" | "resync" | "error" -> Set
    this.status = Status.CONNECTING;
    this.started = false;
    this.transport = null; // "ws" | "sse" | "poll" | null
    this.socket = null;
    this.attempt = 0; // WebSocket attempts since the last stable connection
    this.wsFailures = 0; // WebSocket attempts in a row that never got a welcome
    this.sseFailures = 0;
    this.timers = {};
    this.sseAbort = null;
    this.probe = null; // a WebSocket tried while on a fallback
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.setStatus(Status.OFFLINE);
    this.onVisible = () => {
      if (this.env.document && this.env.document.visibilityState === "visible") {
        this.reconnectNow();
      }
    };
  }

  // -- public API ---------------------------------------------------------------

  /** Listen to "status", "event", "resync" (topic: refetch it) or "error". */
  on(kind, listener) {
    if (!this.listeners.has(kind)) this.listeners.set(kind, new Set());
    this.listeners.get(kind).add(listener);
    return () => this.listeners.get(kind).delete(listener);
  }

  /** Follow a topic; returns the function that stops following it. */
  subscribe(topic, handler = () => {}) {
    let set = this.handlers.get(topic);
    const fresh = !set;
    if (fresh) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    const entry = { handler };
    set.add(entry);
    if (fresh) this.topicsChanged([topic], []);
    return () => {
      if (!set.delete(entry) || set.size) return;
      this.handlers.delete(topic);
      this.positions.delete(topic);
      this.topicsChanged([], [topic]);
    };
  }

  /** Connect, and keep connected until stop(). */
  start() {
    if (this.started) return this;
    this.started = true;
    const w = this.env.window;
    if (w) {
      w.addEventListener("online", this.onOnline);
      w.addEventListener("offline", this.onOffline);
    }
    if (this.env.document) this.env.document.addEventListener("visibilitychange", this.onVisible);
    this.connectWebSocket();
    return this;
  }

  stop() {
    this.started = false;
    for (const name of Object.keys(this.timers)) this.clearTimer(name);
    this.closeSocket();
    this.closeProbe();
    this.stopSse();
    this.transport = null;
    const w = this.env.window;
    if (w) {
      w.removeEventListener("online", this.onOnline);
      w.removeEventListener("offline", this.onOffline);
    }
    if (this.env.document) {
      this.env.document.removeEventListener("visibilitychange", this.onVisible);
    }
  }

  /** Reconnect at once (back online, page visible again), skipping the wait. */
  reconnectNow() {
    if (!this.started || this.status === Status.SIGNED_OUT) return;
    if (this.transport === "ws" && this.status === Status.OPEN) return;
    this.attempt = 0;
    if (this.transport === "ws" || this.transport === null) {
      this.clearTimer("reconnect");
      this.closeSocket();
      this.connectWebSocket();
    } else {
      this.tryReturnToWebSocket();
    }
  }

  topics() {
    return [...this.handlers.keys()];
  }

  // -- shared plumbing ----------------------------------------------------------

  emit(kind, ...args) {
    for (const listener of this.listeners.get(kind) || []) {
      try {
        listener(...args);
      } catch (error) {
        console.error("realtime listener failed", error);
      }
    }
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", status);
  }

  setTimer(name, ms, callback) {
    this.clearTimer(name);
    this.timers[name] = this.env.setTimeout(() => {
      delete this.timers[name];
      callback();
    }, ms);
  }

  clearTimer(name) {
    if (this.timers[name] !== undefined) {
      this.env.clearTimeout(this.timers[name]);
      delete this.timers[name];
    }
  }

  absoluteUrl(path, scheme) {
    const base = this.env.location ? this.env.location.href : "http://localhost/";
    const url = new URL(path, base);
    if (scheme === "ws") url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url;
  }

  authHeaders() {
    return this.options.token ? { Authorization: `Token ${this.options.token}` } : {};
  }

  /** An event from any transport: deliver it once, in order, to its handlers. */
  deliver(event) {
    const set = this.handlers.get(event.topic);
    if (!set) return; // no longer followed
    const last = this.positions.get(event.topic);
    if (last !== undefined && event.seq <= last) return; // seen already
    this.positions.set(event.topic, event.seq);
    for (const { handler } of [...set]) {
      try {
        handler(event);
      } catch (error) {
        console.error("realtime handler failed", error);
      }
    }
    this.emit("event", event);
  }

  /** A subscribed reply (WebSocket or SSE): baselines, and topics to refetch. */
  subscribed(reply) {
    for (const [topic, seq] of Object.entries(reply.seqs || {})) {
      if (this.handlers.has(topic) && !this.positions.has(topic)) {
        this.positions.set(topic, seq);
      }
    }
    if (reply.recovered === false) {
      const lost = reply.unrecovered || reply.topics || [];
      for (const topic of lost) {
        if (reply.seqs && topic in reply.seqs) this.positions.set(topic, reply.seqs[topic]);
        this.emit("resync", topic);
      }
    }
  }

  /** Advance positions to a cursor the server says this client has reached. */
  advanceTo(cursorText) {
    for (const [topic, seq] of parseCursor(cursorText)) {
      const last = this.positions.get(topic);
      if (this.handlers.has(topic) && (last === undefined || seq > last)) {
        this.positions.set(topic, seq);
      }
    }
  }

  serverError(message) {
    this.emit("error", message);
    if (message.code === "forbidden" && message.topic) this.emit("forbidden", message.topic);
  }

  topicsChanged(added, removed) {
    if (this.transport === "ws" && this.socket && this.welcomed) {
      if (added.length) this.sendSubscribe(added);
      if (removed.length) this.send({ type: "unsubscribe", topics: removed });
    } else if (this.transport === "sse") {
      this.startSse();
    } else if (this.transport === "poll") {
      this.pollSoon(0);
    }
  }

  // -- WebSocket ----------------------------------------------------------------

  /**
   * Where to connect and how to sign in; null when signed out. With a token, a
   * fresh ticket goes in the URL; if none can be had, the token goes in a first
   * "auth" message, never in the URL. Without one, the session cookie signs in.
   */
  async connection() {
    const url = this.absoluteUrl(this.options.url, "ws");
    if (!this.options.token) return { url: url.toString(), auth: null };
    const ticket = this.options.ticketUrl ? await this.fetchTicket() : null;
    if (ticket === SIGNED_OUT) return null;
    if (ticket) {
      url.searchParams.set("token", ticket);
      return { url: url.toString(), auth: null };
    }
    return { url: url.toString(), auth: this.options.token };
  }

  async fetchTicket() {
    try {
      const response = await this.env.fetch(this.absoluteUrl(this.options.ticketUrl), {
        method: "POST",
        credentials: "same-origin",
        headers: { ...this.authHeaders(), "X-CSRFToken": csrfToken(this.env.document) },
      });
      if (response.status === 401 || response.status === 403) return SIGNED_OUT;
      return response.ok ? (await response.json()).ticket : null;
    } catch {
      return null; // no ticket now: sign in with an auth message instead
    }
  }

  connectWebSocket() {
    if (!this.started) return;
    this.transport = "ws";
    this.welcomed = false;
    this.connection().then((target) => {
      if (!this.started || this.transport !== "ws") return;
      if (target === null) return this.signedOut();
      const socket = new this.env.WebSocket(target.url);
      this.socket = socket;
      this.openSocket(socket, "welcome-ws", target.auth, {
        onWelcome: (welcome) => this.onWelcome(welcome),
        onClose: (code) => this.onSocketClosed(code),
      });
    });
  }

  /** Wire a socket; `handlers.onClose` runs once, however the socket ends. */
  openSocket(socket, welcomeTimer, authToken, handlers) {
    let closed = false;
    socket.handlers = handlers;
    socket.finish = (code) => {
      if (closed) return;
      closed = true;
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.handlers.onClose(code);
    };
    this.setTimer(welcomeTimer, this.options.welcomeTimeout, () => {
      if (socket.welcomed) return;
      try {
        socket.close(CLOSE_DEAD);
      } catch {}
      socket.finish(CLOSE_DEAD);
    });
    socket.onmessage = (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data.type === "welcome") {
        this.clearTimer(welcomeTimer);
        socket.welcomed = true;
        socket.handlers.onWelcome(data);
      } else if (socket === this.socket) {
        this.onSocketMessage(data);
      }
    };
    socket.onopen = () => {
      if (authToken) socket.send(JSON.stringify({ type: "auth", token: authToken }));
    };
    socket.onclose = (event) => socket.finish(event.code);
    socket.onerror = () => {}; // a close always follows
  }

  onWelcome(welcome) {
    this.welcomed = true;
    this.wsFailures = 0;
    this.sseFailures = 0;
    this.openedAt = this.env.now();
    this.heartbeatEvery = Math.max(1, welcome.heartbeat_interval || 30) * 1000;
    this.setStatus(Status.OPEN);
    this.scheduleHeartbeat();
    if (this.handlers.size) this.sendSubscribe(this.topics());
  }

  sendSubscribe(topics) {
    const since = {};
    for (const topic of topics) {
      if (this.positions.has(topic)) since[topic] = this.positions.get(topic);
    }
    const message = { type: "subscribe", topics };
    if (Object.keys(since).length) message.since = since;
    this.send(message);
  }

  send(message) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  onSocketMessage(data) {
    if (data.type === "event") this.deliver(data);
    else if (data.type === "subscribed") this.subscribed(data);
    else if (data.type === "pong") this.clearTimer("pong");
    else if (data.type === "error") this.serverError(data);
  }

  scheduleHeartbeat() {
    this.setTimer("heartbeat", this.heartbeatEvery, () => {
      if (this.transport !== "ws" || !this.socket) return;
      this.send({ type: "ping" });
      this.setTimer("pong", this.options.pongTimeout, () => {
        // No pong: the connection is dead even if the browser has not noticed.
        this.closeSocket(CLOSE_DEAD, false);
      });
      this.scheduleHeartbeat();
    });
  }

  /** Close the socket; `silent` skips the reconnect logic (the caller decides). */
  closeSocket(code = 1000, silent = true) {
    this.clearTimer("heartbeat");
    this.clearTimer("pong");
    this.clearTimer("welcome-ws");
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    if (silent && socket.handlers) socket.handlers = { onWelcome() {}, onClose() {} };
    try {
      socket.close(code);
    } catch {}
    if (socket.finish) socket.finish(code);
  }

  onSocketClosed(code) {
    const wasWelcomed = this.welcomed;
    this.socket = null;
    this.welcomed = false;
    this.clearTimer("heartbeat");
    this.clearTimer("pong");
    if (!this.started || this.transport !== "ws") return;
    if (code === CLOSE_UNAUTHENTICATED) return this.signedOut();
    if (wasWelcomed && this.env.now() - this.openedAt >= this.options.stableAfter) {
      this.attempt = 0;
    }
    if (!wasWelcomed) this.wsFailures += 1;
    if (this.wsFailures >= this.options.failuresBeforeFallback) return this.startFallback();
    this.scheduleReconnect();
  }

  /** Reconnect the WebSocket after a full-jitter backoff that grows per attempt. */
  scheduleReconnect() {
    const delay = backoffDelay(
      this.attempt,
      this.options.backoffBase,
      this.options.backoffCap,
      this.env.random,
    );
    this.attempt += 1;
    this.setStatus(Status.RECONNECTING);
    this.setTimer("reconnect", delay, () => this.connectWebSocket());
  }

  signedOut() {
    this.stop();
    this.setStatus(Status.SIGNED_OUT);
  }

  // -- fallbacks ----------------------------------------------------------------

  startFallback() {
    this.closeSocket();
    if (this.env.fetch) this.startSse();
    this.setTimer("return", this.options.retryWebSocketEvery, () => this.tryReturnToWebSocket());
  }

  /** While on a fallback, try a WebSocket; switch back when it is welcomed. */
  tryReturnToWebSocket() {
    if (!this.started || this.transport === "ws" || this.probe) return;
    this.connection().then((target) => {
      if (!this.started || this.transport === "ws" || this.probe) return;
      if (target === null) return this.signedOut();
      const probe = new this.env.WebSocket(target.url);
      this.probe = probe;
      this.openSocket(probe, "welcome-probe", target.auth, {
        onWelcome: (welcome) => {
          // Welcomed: leave the fallback and make the probe the connection.
          this.probe = null;
          this.stopSse();
          this.clearTimer("poll");
          this.clearTimer("return");
          this.transport = "ws";
          this.socket = probe;
          probe.handlers = { onWelcome: () => {}, onClose: (code) => this.onSocketClosed(code) };
          this.attempt = 0;
          this.onWelcome(welcome);
        },
        onClose: () => {
          if (this.probe === probe) this.probe = null;
          if (this.started && this.transport !== "ws") {
            this.setTimer("return", this.options.retryWebSocketEvery, () =>
              this.tryReturnToWebSocket(),
            );
          }
        },
      });
    });
  }

  closeProbe() {
    const probe = this.probe;
    this.probe = null;
    if (probe) {
      probe.handlers = { onWelcome() {}, onClose() {} };
      try {
        probe.close(1000);
      } catch {}
      if (probe.finish) probe.finish(1000);
    }
  }

  fallbackUrl(path) {
    const url = this.absoluteUrl(path);
    url.searchParams.set("topics", this.topics().join(","));
    const known = new Map([...this.positions].filter(([topic]) => this.handlers.has(topic)));
    if (known.size) url.searchParams.set("cursor", formatCursor(known));
    return url;
  }

  stopSse() {
    if (this.sseAbort) this.sseAbort.abort();
    this.sseAbort = null;
    this.clearTimer("sse-retry");
  }

  startSse() {
    this.stopSse();
    this.transport = "sse";
    this.setStatus(Status.FALLBACK_SSE);
    if (!this.handlers.size) return; // nothing to follow yet
    const abort = new AbortController();
    this.sseAbort = abort;
    let subscribed = false;
    const parser = new SseParser((message) => {
      if (abort.signal.aborted) return;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (message.event === "subscribed") {
        subscribed = true;
        this.sseFailures = 0;
        this.subscribed(data);
      } else if (message.event === "error" || data.type === "error") {
        this.serverError(data);
      } else if (data.type === "event") {
        this.deliver(data);
      }
      if (message.id) this.advanceTo(message.id);
    });
    const ended = (status) => {
      if (abort.signal.aborted || this.transport !== "sse") return;
      this.sseAbort = null;
      if (status === 401) return this.signedOut();
      if (!subscribed) this.sseFailures += 1;
      if (this.sseFailures >= this.options.sseFailuresBeforePoll) return this.startPolling();
      this.setTimer("sse-retry", parser.retry || 3000, () => this.startSse());
    };
    this.env
      .fetch(this.fallbackUrl(this.options.sseUrl), {
        headers: { Accept: "text/event-stream", ...this.authHeaders() },
        credentials: "same-origin",
        cache: "no-store",
        signal: abort.signal,
      })
      .then(async (response) => {
        if (!response.ok || !response.body) return ended(response.status);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
        ended(0);
      })
      .catch(() => ended(0));
  }

  startPolling() {
    this.stopSse();
    this.transport = "poll";
    this.setStatus(Status.FALLBACK_POLL);
    this.pollSoon(0);
  }

  pollSoon(ms) {
    this.setTimer("poll", ms, () => this.poll());
  }

  async poll() {
    if (!this.started || this.transport !== "poll") return;
    if (!this.handlers.size) return this.pollSoon(this.options.pollInterval);
    let more = false;
    try {
      const response = await this.env.fetch(this.fallbackUrl(this.options.pollUrl), {
        headers: { Accept: "application/json", ...this.authHeaders() },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (this.transport !== "poll") return;
      if (response.status === 401) return this.signedOut();
      if (response.status >= 500) return this.outage();
      if (response.ok) {
        const page = await response.json();
        for (const event of page.events || []) this.deliver(event);
        if (page.recovered === false) {
          for (const topic of page.unrecovered || []) this.emit("resync", topic);
        }
        this.advanceTo(page.cursor);
        more = Boolean(page.more);
      } else {
        this.serverError(await response.json().catch(() => ({ code: "http_error" })));
      }
    } catch {
      return this.outage();
    }
    if (this.transport === "poll") this.pollSoon(more ? 0 : this.options.pollInterval);
  }

  /**
   * Even plain HTTP fails: the server is away, not just its WebSockets. Go back
   * to reconnecting the WebSocket with backoff (the badge says "reconnecting"),
   * and fall back again only if WebSockets keep failing once it is back.
   */
  outage() {
    if (!this.started) return;
    this.stopSse();
    this.clearTimer("poll");
    this.clearTimer("return");
    this.closeProbe();
    this.transport = "ws";
    this.wsFailures = 0;
    this.scheduleReconnect();
  }
}

function csrfToken(doc) {
  const match = doc && doc.cookie ? doc.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) : null;
  return match ? decodeURIComponent(match[1]) : "";
}
