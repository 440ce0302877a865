// The WebSocket transport (PROTOCOL.md section 2): one socket, signed in by
// cookie, ticket or `auth` message; it subscribes the client's topics with their
// resume positions once welcomed, and proves the socket alive with pings.
//
// Every transport has this shape (the client knows no other):
//   new Transport(context, sink)
//     context: {env, options, topics(), positions()} (+ {url, auth} here)
//     sink:    {open(info), message(msg), cursor(text), close(info)}
//   open()                  start; sink.open once it carries events
//   follow(added, removed)  the client's topics changed
//   send(message)           WebSocket only: false when it cannot send now
//   close()                 end quietly: the sink hears nothing more
// sink.close({code, opened, signedOut, retryAfter, outage}) says it ended by
// itself; what to do next (retry, fall back, sign out) is the client's choice.

import { Timers } from "../timers.js";

// The server's close code for bad credentials: retrying cannot help.
export const CLOSE_UNAUTHENTICATED = 4401;
// The close code this client uses when it gives up on a silent socket.
export const CLOSE_DEAD = 4000;
const OPEN = 1; // WebSocket.OPEN, without needing the browser's constant

export class WebSocketTransport {
  constructor(context, sink) {
    this.kind = "websocket";
    this.context = context;
    this.options = context.options;
    this.sink = sink;
    this.timers = new Timers(context.env);
    this.socket = null;
    this.opened = false; // welcomed
    this.closed = false;
  }

  open() {
    const socket = new this.context.env.WebSocket(this.context.url);
    this.socket = socket;
    // A socket that never welcomes (a proxy that swallows the upgrade) is dead.
    this.timers.set("welcome", this.options.welcomeTimeout, () => this.fail(CLOSE_DEAD));
    socket.onopen = () => {
      if (this.context.auth) this.send({ type: "auth", token: this.context.auth });
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => this.ended(event.code);
    socket.onerror = () => {}; // a close always follows
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!message || typeof message !== "object") return;
    if (message.type === "welcome") this.welcomed(message);
    else if (message.type === "pong") this.timers.clear("pong");
    else this.sink.message(message);
  }

  welcomed(welcome) {
    if (this.opened) return;
    this.timers.clear("welcome");
    this.opened = true;
    this.heartbeatEvery = Math.max(1, welcome.heartbeat_interval || 30) * 1000;
    this.scheduleHeartbeat();
    this.sink.open(welcome);
    if (!this.closed) this.subscribe(this.context.topics());
  }

  follow(added, removed) {
    if (!this.opened || this.closed) return;
    this.subscribe(added);
    if (removed.length) this.send({ type: "unsubscribe", topics: removed });
  }

  /** Subscribe with `since` wherever a position is known: the server replays. */
  subscribe(topics) {
    if (!topics.length) return;
    const positions = this.context.positions();
    const since = {};
    for (const topic of topics) {
      if (positions.has(topic)) since[topic] = positions.get(topic);
    }
    const message = { type: "subscribe", topics };
    if (Object.keys(since).length) message.since = since;
    // Followed without being shown present (a staff inspector, a dashboard).
    if (this.options.presence === false) message.presence = false;
    this.send(message);
  }

  send(message) {
    if (this.closed || !this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  scheduleHeartbeat() {
    this.timers.set("heartbeat", this.heartbeatEvery, () => {
      this.send({ type: "ping" });
      // No pong: the connection is dead even if the browser has not noticed.
      this.timers.set("pong", this.options.pongTimeout, () => this.fail(CLOSE_DEAD));
      this.scheduleHeartbeat();
    });
  }

  close(code = 1000) {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearAll();
    const socket = this.socket;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(code);
    } catch {
      // already closing: nothing to do
    }
  }

  /** This side gives up on the socket; the client hears it as any other end. */
  fail(code) {
    if (this.closed) return;
    this.close(code);
    this.sink.close({ code, opened: this.opened, signedOut: false });
  }

  ended(code) {
    if (this.closed) return;
    this.close(code);
    this.sink.close({ code, opened: this.opened, signedOut: code === CLOSE_UNAUTHENTICATED });
  }
}
