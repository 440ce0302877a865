// How a WebSocket signs in. Pages signed in by the session cookie send nothing.
// A client with a long-lived API token trades it for a single-use ticket before
// each connection, so the token itself never travels in a URL; when no ticket can
// be had, the token goes in a first `auth` message instead.

export const SIGNED_OUT = Symbol("signed out");

/** The headers that sign an HTTP request in with the client's token, if any. */
export function authHeaders(options) {
  return options.token ? { Authorization: `Token ${options.token}` } : {};
}

/** An absolute URL for `path`; `ws` turns http(s) into ws(s). */
export function absoluteUrl(env, path, scheme) {
  const base = env.location ? env.location.href : "http://localhost/";
  const url = new URL(path, base);
  if (scheme === "ws") url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url;
}

/** {url, auth} for the next WebSocket, or SIGNED_OUT when the token is refused. */
export async function webSocketTarget(options, env) {
  const url = absoluteUrl(env, options.url, "ws");
  if (!options.token) return { url: url.toString(), auth: null };
  const ticket = options.ticketUrl ? await fetchTicket(options, env) : null;
  if (ticket === SIGNED_OUT) return SIGNED_OUT;
  if (ticket) {
    url.searchParams.set("token", ticket);
    return { url: url.toString(), auth: null };
  }
  return { url: url.toString(), auth: options.token };
}

async function fetchTicket(options, env) {
  try {
    // The Token header authenticates before the session does, so no CSRF token.
    const response = await env.fetch(absoluteUrl(env, options.ticketUrl), {
      method: "POST",
      credentials: "same-origin",
      headers: authHeaders(options),
    });
    if (response.status === 401 || response.status === 403) return SIGNED_OUT;
    return response.ok ? (await response.json()).ticket : null;
  } catch {
    return null; // no ticket now: sign in with an auth message instead
  }
}
