// live.js: what every page shares: the realtime connection, its status badge,
// the REST helper (session cookie, CSRF header), and the message region.

import { RealtimeClient } from "../realtime/realtime.js";

/**
 * The realtime client, plus a "baseline" notice: emitted with a topic the first
 * time the client learns where that topic stands (a subscribed reply, an SSE
 * stream's first cursor, or a first poll). From then on no event of the topic is
 * missed, so a page that read the topic's data over REST before that moment
 * reads it again once.
 */
export class LiveClient extends RealtimeClient {
  subscribed(reply) {
    this.noticeBaselines(() => super.subscribed(reply));
  }

  advanceTo(cursorText) {
    this.noticeBaselines(() => super.advanceTo(cursorText));
  }

  deliver(event) {
    this.noticeBaselines(() => super.deliver(event));
  }

  noticeBaselines(step) {
    const unknown = this.topics().filter((topic) => !this.positions.has(topic));
    step();
    for (const topic of unknown) {
      if (this.positions.has(topic)) this.emit("baseline", topic);
    }
  }
}

// Query parameters that tune the client, with the range each may take. They let
// a test (or someone on a bad network) shorten the fallback timings of one page:
// /lists/1/?fallback=1&poll=1000
const TUNING = {
  poll: ["pollInterval", 200, 600000],
  fallback: ["failuresBeforeFallback", 1, 1000],
  ssefail: ["sseFailuresBeforePoll", 1, 1000],
  retryws: ["retryWebSocketEvery", 500, 3600000],
  backoff: ["backoffCap", 100, 300000],
};

/** Client options from a query string; unknown or out-of-range values are ignored. */
export function optionsFromQuery(search) {
  const params = new URLSearchParams(search);
  const options = {};
  for (const [name, [option, min, max]] of Object.entries(TUNING)) {
    const value = Number(params.get(name));
    if (params.has(name) && Number.isInteger(value) && value >= min && value <= max) {
      options[option] = value;
    }
  }
  if (options.backoffCap !== undefined) {
    options.backoffBase = Math.min(500, options.backoffCap);
  }
  return options;
}

/** Start the page's one connection. */
export function connect(extra = {}) {
  return new LiveClient({ ...optionsFromQuery(window.location.search), ...extra }).start();
}

const STATUS_TEXT = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  "fallback-sse": "Live (event stream)",
  "fallback-poll": "Live (polling)",
  offline: "Offline",
  "signed-out": "Signed out",
};

/** Keep `element` showing the client's status, as text and (by CSS) colour. */
export function bindStatusBadge(client, element) {
  const show = (status) => {
    element.dataset.status = status;
    element.textContent = STATUS_TEXT[status] || status;
    element.title = `Connection: ${status}`;
  };
  show(client.status);
  client.on("status", show);
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** A refused REST call: `message` is what the server said, fit to show. */
export class ApiError extends Error {
  constructor(status, body) {
    super(describeRefusal(status, body));
    this.status = status;
    this.body = body;
    this.code = body && typeof body === "object" ? body.code : undefined;
  }
}

function describeRefusal(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = [];
    for (const [field, errors] of Object.entries(body)) {
      const text = Array.isArray(errors) ? errors.join(" ") : String(errors);
      parts.push(field === "non_field_errors" ? text : `${field}: ${text}`);
    }
    if (parts.length) return parts.join("; ");
  }
  if (status === 0) return "The server could not be reached.";
  return `The server answered ${status}.`;
}

/** One REST call with the session cookie; JSON in and out; throws ApiError. */
export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Every row of a paginated list endpoint, following `next` links. */
export async function apiAll(url) {
  const rows = [];
  let next = url;
  while (next) {
    const page = await api("GET", next);
    rows.push(...page.results);
    next = page.next;
  }
  return rows;
}

/** Show a message in the page's live region (announced by screen readers). */
export function announce(region, text, kind = "error") {
  region.replaceChildren();
  if (!text) return;
  const message = el("p", { className: `message message-${kind}` }, text);
  const dismiss = el("button", { type: "button", className: "link-button" }, "Dismiss");
  dismiss.addEventListener("click", () => region.replaceChildren());
  message.append(" ", dismiss);
  region.append(message);
}

/** A small element builder: el("li", {className: "x", dataset: {...}}, ...children). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node && !name.startsWith("aria")) node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replay the highlight animation on `node` (CSS class `flash`). */
export function flash(node) {
  node.classList.remove("flash");
  // Reading layout restarts the animation when the class comes back at once.
  void node.offsetWidth;
  node.classList.add("flash");
  node.addEventListener("animationend", () => node.classList.remove("flash"), { once: true });
}

/** "Just now", "5 min ago", or the time of day. */
export function when(timestamp) {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return "";
  const seconds = (Date.now() - date.getTime()) / 1000;
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
