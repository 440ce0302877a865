// live.js: what every page shares of the realtime connection: starting it with
// the page's tuning, and the status badge.

import { RealtimeClient } from "../realtime/realtime.js";

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

/**
 * The page's one connection, not yet started (listeners first, then start()).
 * `options` are the page's own (`{presence: false}`: follow without being shown).
 */
export function connection(search = window.location.search, options = {}) {
  return new RealtimeClient({ ...options, ...optionsFromQuery(search) });
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
  return client.on("status", show);
}
