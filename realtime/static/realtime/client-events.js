// Client events (PROTOCOL.md section 7): short-lived messages between a topic's
// followers ("typing", "editing"). Sending is a request with an id, answered by
// `published` or an `error` with that id; nothing is logged or replayed, so a
// request whose connection ends is simply refused, never resent.

/** A refused request: `code` is the server's error code or one of the client's. */
export class RealtimeError extends Error {
  constructor(code, message, reply = null) {
    super(message);
    this.name = "RealtimeError";
    this.code = code;
    this.reply = reply;
  }
}

// The client's own refusals, next to the server's codes.
export const NOT_CONNECTED = "not_connected";
export const WEBSOCKET_REQUIRED = "websocket_required";
export const NOT_SUBSCRIBED = "not_subscribed";
export const CONNECTION_LOST = "connection_lost";
export const TIMEOUT = "timeout";

/** Requests waiting for their reply, by id; each one times out on its own. */
export class Requests {
  constructor(env, timeout) {
    this.env = env;
    this.timeout = timeout;
    this.pending = new Map(); // id -> {resolve, reject, timer}
    this.next = 0;
  }

  /** Send `message` with a fresh id through `send`; resolves with the reply. */
  send(send, message) {
    const id = `c${++this.next}`;
    return new Promise((resolve, reject) => {
      if (!send({ ...message, id })) {
        reject(new RealtimeError(NOT_CONNECTED, "the connection cannot send now"));
        return;
      }
      // The server answers every message, but not one it refuses before reading
      // it (the connection's own rate limit), so a reply is not waited for forever.
      const timer = this.env.setTimeout(() => {
        this.pending.delete(id);
        reject(new RealtimeError(TIMEOUT, "no reply from the server"));
      }, this.timeout);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  /** A reply with an id: settle its request. False when it answers none of ours. */
  settle(reply) {
    const request = reply.id === undefined ? undefined : this.pending.get(reply.id);
    if (!request) return false;
    this.pending.delete(reply.id);
    this.env.clearTimeout(request.timer);
    if (reply.type === "error") {
      request.reject(new RealtimeError(reply.code, reply.message || reply.code, reply));
    } else {
      request.resolve(reply);
    }
    return true;
  }

  /** The connection ended: no reply will come to anything still waiting. */
  failAll() {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) {
      this.env.clearTimeout(request.timer);
      request.reject(new RealtimeError(CONNECTION_LOST, "the connection ended before the reply"));
    }
  }
}

/** Handlers of received client events, by topic and event name. */
export class ClientEventHandlers {
  constructor() {
    this.handlers = new Map(); // "topic event" -> Set of handlers
  }

  add(topic, event, handler) {
    const key = `${topic} ${event}`;
    if (!this.handlers.has(key)) this.handlers.set(key, new Set());
    const set = this.handlers.get(key);
    set.add(handler);
    return () => {
      set.delete(handler);
      if (!set.size && this.handlers.get(key) === set) this.handlers.delete(key);
    };
  }

  /** `handler(data, message)` for each handler of the message's topic and event. */
  dispatch(message) {
    const set = this.handlers.get(`${message.topic} ${message.event}`);
    for (const handler of set ? [...set] : []) {
      try {
        handler(message.data || {}, message);
      } catch (error) {
        console.error("realtime client event handler failed", error);
      }
    }
  }
}
