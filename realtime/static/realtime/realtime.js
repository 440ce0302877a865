// realtime.js: the browser client of the realtime protocol (docs/protocol.md).
//
// One connection per page, shared by every component: topics are followed by
// reference count, events are delivered once and in order by (topic, seq)
// whichever transport brought them, and the last seq seen of each topic is the
// resume position after a reconnect. The transports (transports/) only carry
// messages; this client chooses between them: WebSocket first; after repeated
// failures Server-Sent Events, then polling, while it keeps trying to return to
// the WebSocket.
//
// Beside the events: who else is here (presence.js), short-lived messages
// between followers (client-events.js), and the page's own changes known when
// they come back (echoes.js), all of PROTOCOL.md section 7.
//
// No dependencies; every clock, socket, fetch and transport is injectable.

import { backoffDelay } from "./backoff.js";
import {
  ClientEventHandlers,
  NOT_CONNECTED,
  NOT_SUBSCRIBED,
  RealtimeError,
  Requests,
  WEBSOCKET_REQUIRED,
} from "./client-events.js";
import { parseCursor } from "./cursor.js";
import { CONNECTION_HEADER, withConnectionHeader } from "./echoes.js";
import { Presence } from "./presence.js";
import { SIGNED_OUT, webSocketTarget } from "./tickets.js";
import { TopicTable } from "./topics.js";
import { Timers } from "./timers.js";
import { PollingTransport } from "./transports/polling.js";
import { SseTransport } from "./transports/sse.js";
import { WebSocketTransport } from "./transports/websocket.js";

export { backoffDelay } from "./backoff.js";
export { RealtimeError } from "./client-events.js";
export { CONNECTION_HEADER } from "./echoes.js";
export { Presence } from "./presence.js";
export { formatCursor, parseCursor } from "./cursor.js";
export { SseParser } from "./sse-parser.js";

export const Status = Object.freeze({
  CONNECTING: "connecting",
  OPEN: "open",
  RECONNECTING: "reconnecting",
  FALLBACK_SSE: "fallback-sse",
  FALLBACK_POLL: "fallback-poll",
  OFFLINE: "offline",
  SIGNED_OUT: "signed-out",
});

const DEFAULTS = {
  url: "/ws/",
  sseUrl: "/realtime/sse/",
  pollUrl: "/api/realtime/events/",
  // Pages signed in by the session cookie need neither of these (tickets.js).
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
  presence: true, // be shown present where topics have presence (WebSocket)
  publishTimeout: 10000, // ms to wait for a client event's `published`
};

const TRANSPORT_NAMES = { sse: "Server-Sent Events", polling: "polling" };

const TRANSPORTS = {
  websocket: (context, sink) => new WebSocketTransport(context, sink),
  sse: (context, sink) => new SseTransport(context, sink),
  polling: (context, sink) => new PollingTransport(context, sink),
};

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
    transports: TRANSPORTS,
  };
}

/** The page's one realtime connection. */
export class RealtimeClient {
  constructor(options = {}, environment = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.env = { ...defaultEnvironment(), ...environment };
    this.env.transports = { ...TRANSPORTS, ...environment.transports };
    this.table = new TopicTable();
    this.listeners = new Map(); // kind -> Set of listeners
    this.timers = new Timers(this.env);
    this.status = Status.CONNECTING;
    this.started = false;
    this.transport = null; // the transport in use, if any
    this.probe = null; // a WebSocket tried while on a fallback
    this.probing = false; // its ticket is being fetched
    this.generation = 0; // bumped whenever a pending connection attempt is void
    this.attempt = 0; // WebSocket attempts since the last stable connection
    this.wsFailures = 0; // WebSocket attempts in a row that never got a welcome
    this.sseFailures = 0; // SSE streams in a row that never said `subscribed`
    this.connectionId = null; // from `welcome`: names this connection for echoes
    this.presences = new Map(); // topic -> Presence, for followed topics
    this.clientEvents = new ClientEventHandlers();
    this.requests = new Requests(this.env, this.options.publishTimeout);
    this.fetch = this.fetch.bind(this); // handed around as a plain function
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.setStatus(Status.OFFLINE);
    this.onVisible = () => {
      if (this.env.document?.visibilityState === "visible") this.reconnectNow();
    };
  }

  // -- public API ---------------------------------------------------------------

  /**
   * Listen to "status" (the new status), "event" (every event delivered),
   * "baseline" (topic: its position is known; from now on none of its events is
   * missed, so data read before may be read again), "resync" (topic: events were
   * lost; refetch it), "error" (a server error message) or "forbidden" (topic).
   * With three arguments, `on(topic, event, handler)`: the topic's client events
   * of that name, as `handler(data, message)` (`message.user_id` sent it).
   * Returns the function that stops listening.
   */
  on(kind, listener, handler) {
    if (typeof listener === "string") return this.clientEvents.add(kind, listener, handler);
    if (!this.listeners.has(kind)) this.listeners.set(kind, new Set());
    this.listeners.get(kind).add(listener);
    return () => this.listeners.get(kind).delete(listener);
  }

  /** Follow a topic; returns the function that stops following it. */
  subscribe(topic, handler = () => {}) {
    const { fresh, remove } = this.table.add(topic, handler);
    if (fresh) this.transport?.follow([topic], []);
    return () => {
      if (!remove()) return;
      this.transport?.follow([], [topic]);
      this.presences.get(topic)?.clear();
    };
  }

  /** Who is present in a topic (filled while the topic is followed). */
  presence(topic) {
    if (!this.presences.has(topic)) this.presences.set(topic, new Presence(topic));
    return this.presences.get(topic);
  }

  /**
   * Send a client event to the topic's other followers. Resolves on the
   * server's `published`; rejects with a RealtimeError whose `code` is the
   * server's (`forbidden`, `rate_limited`, ...) or the client's own: only a
   * welcomed WebSocket can publish (`websocket_required` on SSE or polling,
   * `not_connected` between connections), for a followed topic.
   */
  publish(topic, event, data = {}) {
    const transport = this.transport;
    if (transport && transport.kind !== "websocket") {
      const on = TRANSPORT_NAMES[transport.kind] || transport.kind;
      return refuse(WEBSOCKET_REQUIRED, `only the WebSocket can publish; this client is on ${on}`);
    }
    if (!transport || this.status !== Status.OPEN) {
      return refuse(NOT_CONNECTED, "not connected: client events are not kept for later");
    }
    if (!this.table.has(topic)) return refuse(NOT_SUBSCRIBED, `follow ${topic} before publishing to it`);
    return this.requests.send((message) => transport.send(message), {
      type: "publish",
      topic,
      event,
      data,
    });
  }

  /** Whether publish() can send now (a welcomed WebSocket). */
  get canPublish() {
    return this.transport?.kind === "websocket" && this.status === Status.OPEN;
  }

  /**
   * fetch(), with the connection named in X-Realtime-Connection on writes to
   * this origin while connected, so that their events come back as echoes.
   */
  fetch(input, init) {
    return this.env.fetch(input, withConnectionHeader(this.env, this.connectionId, input, init));
  }

  /** The header naming this connection, for an HTTP client of the page's own. */
  connectionHeaders() {
    return this.connectionId ? { [CONNECTION_HEADER]: this.connectionId } : {};
  }

  /** Connect, and keep connected until stop(). */
  start() {
    if (this.started) return this;
    this.started = true;
    this.env.window?.addEventListener("online", this.onOnline);
    this.env.window?.addEventListener("offline", this.onOffline);
    this.env.document?.addEventListener("visibilitychange", this.onVisible);
    this.connectWebSocket();
    return this;
  }

  stop() {
    this.started = false;
    this.generation += 1;
    this.timers.clearAll();
    this.drop("transport");
    this.drop("probe");
    this.env.window?.removeEventListener("online", this.onOnline);
    this.env.window?.removeEventListener("offline", this.onOffline);
    this.env.document?.removeEventListener("visibilitychange", this.onVisible);
  }

  /** Reconnect at once (back online, page visible again), skipping the wait. */
  reconnectNow() {
    if (!this.started || this.status === Status.SIGNED_OUT) return;
    const kind = this.transport?.kind;
    if (kind === "websocket" && this.status === Status.OPEN) return;
    this.attempt = 0;
    if (kind && kind !== "websocket") return this.tryReturnToWebSocket();
    this.timers.clear("reconnect");
    this.drop("transport");
    this.connectWebSocket();
  }

  topics() {
    return this.table.topics();
  }

  /** The last seq seen of each followed topic. */
  get positions() {
    return this.table.positions;
  }

  emit(kind, ...args) {
    for (const listener of this.listeners.get(kind) || []) {
      try {
        listener(...args);
      } catch (error) {
        console.error("realtime listener failed", error);
      }
    }
  }

  // -- what the transports say ----------------------------------------------------

  /** A transport of its own, whose reports count only while it is in use. */
  makeTransport(kind, extra = {}) {
    const context = {
      env: this.env,
      options: this.options,
      topics: () => this.table.topics(),
      positions: () => this.table.positions,
      ...extra,
    };
    const current = () => transport === this.transport;
    const sink = {
      open: (info) => this.opened(transport, info),
      message: (message) => current() && this.receive(message),
      cursor: (text) => current() && this.reached(text),
      close: (info) => this.closed(transport, info),
    };
    const transport = this.env.transports[kind](context, sink);
    return transport;
  }

  use(transport, status) {
    this.drop("transport");
    this.transport = transport;
    if (status) this.setStatus(status);
    transport.open();
  }

  drop(slot) {
    const transport = this[slot];
    this[slot] = null;
    transport?.close();
    if (transport && slot === "transport") this.lost();
  }

  /**
   * The connection in use ended: its id names nothing any more, its requests
   * get no reply, and nobody is known present until a new state says so.
   */
  lost() {
    this.connectionId = null;
    this.requests.failAll();
    for (const presence of this.presences.values()) presence.clear();
  }

  opened(transport, info) {
    if (transport === this.probe) {
      // Welcomed: leave the fallback and make the probe the connection.
      this.probe = null;
      this.timers.clear("sse-retry", "return");
      this.drop("transport");
      this.transport = transport;
      this.attempt = 0;
    }
    if (transport !== this.transport) return;
    this.connectionId = info.connection_id ?? null;
    if (transport.kind === "websocket") {
      this.wsFailures = 0;
      this.sseFailures = 0;
      this.openedAt = this.env.now();
      this.setStatus(Status.OPEN);
    } else if (transport.kind === "sse") {
      this.sseFailures = 0;
    }
  }

  closed(transport, info) {
    if (transport === this.probe) {
      this.probe = null;
      if (info.signedOut) return this.signedOut();
      return this.timers.set("return", this.options.retryWebSocketEvery, () =>
        this.tryReturnToWebSocket(),
      );
    }
    if (transport !== this.transport || !this.started) return;
    this.transport = null;
    this.lost();
    if (info.signedOut) return this.signedOut();
    if (transport.kind === "websocket") return this.webSocketClosed(info);
    if (transport.kind === "sse") return this.sseClosed(info);
    return this.outage(); // polling ends only when the server is away
  }

  /** One protocol message from the transport in use. */
  receive(message) {
    // Only requests carry ids: a reply (even a late one) is never a topic's news.
    if (message.id !== undefined && message.id !== null) {
      this.requests.settle(message);
      return;
    }
    if (message.type === "event") this.deliver(message);
    else if (message.type === "subscribed") this.subscribed(message);
    else if (message.type === "error") this.serverError(message);
    else if (this.table.has(message.topic)) this.receiveSection7(message);
    this.announceBaselines();
  }

  /** Presence and client events of a followed topic. */
  receiveSection7(message) {
    if (message.type === "presence_state") {
      this.presence(message.topic).syncState(message.present);
    } else if (message.type === "presence_diff") {
      this.presence(message.topic).syncDiff(message.joins, message.leaves);
    } else if (message.type === "client_event") {
      this.clientEvents.dispatch(message);
    }
  }

  /** An event from any transport: deliver it once, in order, to its handlers. */
  deliver(event) {
    const handlers = this.table.accept(event);
    if (!handlers) return;
    for (const handler of handlers) {
      try {
        handler(event);
      } catch (error) {
        console.error("realtime handler failed", error);
      }
    }
    this.emit("event", event);
  }

  /** A subscribed reply, asked for or not: positions, and topics to refetch. */
  subscribed(reply) {
    for (const [topic, seq] of Object.entries(reply.seqs || {})) {
      if (!this.table.positions.has(topic)) this.table.place(topic, seq);
    }
    if (reply.recovered !== false) return;
    for (const topic of reply.unrecovered || reply.topics || []) {
      if (reply.seqs && topic in reply.seqs) this.table.place(topic, reply.seqs[topic]);
      if (this.table.has(topic)) this.emit("resync", topic);
    }
  }

  /** The server says this client has reached a cursor (SSE ids, polling). */
  reached(cursorText) {
    for (const [topic, seq] of parseCursor(cursorText)) this.table.advance(topic, seq);
    this.announceBaselines();
  }

  announceBaselines() {
    for (const topic of this.table.takeBaselines()) this.emit("baseline", topic);
  }

  serverError(message) {
    this.emit("error", message);
    if (message.code === "forbidden" && message.topic) this.emit("forbidden", message.topic);
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", status);
  }

  // -- choosing a transport ---------------------------------------------------------

  async connectWebSocket() {
    if (!this.started) return;
    const generation = ++this.generation;
    const target = await webSocketTarget(this.options, this.env);
    if (!this.started || generation !== this.generation) return;
    if (target === SIGNED_OUT) return this.signedOut();
    this.use(this.makeTransport("websocket", target));
  }

  webSocketClosed(info) {
    if (info.opened && this.env.now() - this.openedAt >= this.options.stableAfter) {
      this.attempt = 0;
    }
    if (!info.opened) this.wsFailures += 1;
    if (this.wsFailures >= this.options.failuresBeforeFallback) return this.startFallback();
    this.scheduleReconnect();
  }

  /** Reconnect the WebSocket after a full-jitter backoff that grows per attempt. */
  scheduleReconnect() {
    const { backoffBase, backoffCap } = this.options;
    const delay = backoffDelay(this.attempt, backoffBase, backoffCap, this.env.random);
    this.attempt += 1;
    this.setStatus(Status.RECONNECTING);
    this.timers.set("reconnect", delay, () => this.connectWebSocket());
  }

  startFallback() {
    if (this.env.fetch) this.startSse();
    this.timers.set("return", this.options.retryWebSocketEvery, () => this.tryReturnToWebSocket());
  }

  startSse() {
    this.use(this.makeTransport("sse"), Status.FALLBACK_SSE);
  }

  sseClosed(info) {
    if (!info.opened) this.sseFailures += 1;
    if (this.sseFailures >= this.options.sseFailuresBeforePoll) {
      return this.use(this.makeTransport("polling"), Status.FALLBACK_POLL);
    }
    this.timers.set("sse-retry", info.retryAfter, () => this.startSse());
  }

  /** While on a fallback, try a WebSocket; it takes over once welcomed. */
  async tryReturnToWebSocket() {
    if (!this.started || this.transport?.kind === "websocket" || this.probe || this.probing) {
      return;
    }
    this.probing = true;
    const generation = this.generation;
    const target = await webSocketTarget(this.options, this.env).finally(() => {
      this.probing = false;
    });
    if (!this.started || generation !== this.generation) return;
    if (this.transport?.kind === "websocket" || this.probe) return;
    if (target === SIGNED_OUT) return this.signedOut();
    this.probe = this.makeTransport("websocket", target);
    this.probe.open();
  }

  /**
   * Even plain HTTP fails: the server is away, not just its WebSockets. Go back
   * to reconnecting the WebSocket with backoff (the badge says "reconnecting"),
   * and fall back again only if WebSockets keep failing once it is back.
   */
  outage() {
    this.generation += 1; // a WebSocket tried meanwhile would come too early
    this.timers.clear("sse-retry", "return");
    this.drop("transport");
    this.drop("probe");
    this.wsFailures = 0;
    this.scheduleReconnect();
  }

  signedOut() {
    this.stop();
    this.setStatus(Status.SIGNED_OUT);
  }
}

function refuse(code, message) {
  return Promise.reject(new RealtimeError(code, message));
}
