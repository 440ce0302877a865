// history.js: the recent past of a topic, read from the realtime event log through
// the polling endpoint, so it follows the same per-viewer rules as live events
// (the list's owner gets the owner's view: no claims, no purchases).

const EVENTS = "/api/realtime/events/";

/** The log's events of `topic` that the user may see, the last `count` at most. */
export async function recentEvents(http, topic, count = 30) {
  const query = (cursor) =>
    `${EVENTS}?topics=${encodeURIComponent(topic)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  const now = await http.api("GET", query());
  const position = Number(String(now.cursor).split("@").pop()) || 0;
  // Older events may be pruned: ask for fewer until the log can answer.
  for (let wanted = count; wanted >= 1; wanted = Math.floor(wanted / 2)) {
    const from = Math.max(0, position - wanted);
    const page = await http.api("GET", query(`${topic}@${from}`));
    if (page.recovered !== false) return page.events.filter((event) => event.seq <= position);
    if (from === 0) break;
  }
  return [];
}
