// http.js: the pages' one way to the REST API: the session cookie, the CSRF
// header on every unsafe request, JSON in and out, refusals as ApiError.

/** Django's CSRF token: the page's meta tag, else the csrftoken cookie. */
export function csrfToken(doc = document) {
  const meta = doc.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const match = doc.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
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

/**
 * The REST calls of a page: `fetcher` is the fetch they go through; a live page
 * passes its realtime client's `fetch`, which names the connection on writes
 * so their events come back marked as echoes (realtime.js).
 */
export function createApi(fetcher = (...args) => fetch(...args)) {
  /** One REST call with the session cookie; JSON in and out; throws ApiError. */
  async function api(method, url, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    let response;
    try {
      response = await fetcher(url, {
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
  async function apiAll(url) {
    const rows = [];
    let next = url;
    while (next) {
      const page = await api("GET", next);
      rows.push(...page.results);
      next = page.next;
    }
    return rows;
  }

  return { api, apiAll };
}

/** The REST calls through the browser's own fetch (pages without a live write). */
export const { api, apiAll } = createApi();
