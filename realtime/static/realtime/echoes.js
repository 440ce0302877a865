// Echoes (PROTOCOL.md section 7): a REST write that names this page's connection
// in X-Realtime-Connection gets its events marked `"echo": true` on that
// connection only, so the page can tell its own changes when they come back.

export const CONNECTION_HEADER = "X-Realtime-Connection";

// Reads cause no events; only writes need to name the connection.
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * `init` for fetch(input, init) with the connection header added: only for
 * writes to this page's own origin (the id means nothing elsewhere, and a
 * custom header would make a cross-origin request preflighted).
 */
export function withConnectionHeader(env, connectionId, input, init) {
  if (!connectionId) return init;
  const request = typeof input === "object" && input !== null && "url" in input ? input : null;
  const method = String(init?.method || request?.method || "GET").toUpperCase();
  if (SAFE_METHODS.has(method)) return init;
  const base = env.location ? env.location.href : "http://localhost/";
  const target = new URL(request ? request.url : String(input), base);
  if (target.origin !== new URL(base).origin) return init;
  const headers = init?.headers ?? request?.headers;
  return { ...init, headers: withHeader(headers, CONNECTION_HEADER, connectionId) };
}

function withHeader(headers, name, value) {
  if (typeof Headers !== "undefined" && headers instanceof Headers) {
    const copy = new Headers(headers);
    copy.set(name, value);
    return copy;
  }
  if (Array.isArray(headers)) {
    return [...headers.filter(([key]) => key.toLowerCase() !== name.toLowerCase()), [name, value]];
  }
  return { ...(headers || {}), [name]: value };
}
