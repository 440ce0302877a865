// history.js: the recent past of topics, read from the realtime event log through
// the polling endpoint, so it follows the same per-viewer rules as live events
// (a list's owner gets the owner's view: no claims, no purchases).

const EVENTS = "/api/realtime/events/";
// Asking again for fewer events, when older ones were pruned, ends after this
// many tries (30 -> 15 -> 7 -> 3 -> 1).
const TRIES = 5;

const url = (topics, cursor) =>
  `${EVENTS}?topics=${encodeURIComponent(topics.join(","))}` +
  (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");

function positionsOf(cursor) {
  const positions = {};
  for (const part of String(cursor || "").split(",")) {
    const at = part.lastIndexOf("@");
    if (at > 0) positions[part.slice(0, at)] = Number(part.slice(at + 1)) || 0;
  }
  return positions;
}

/**
 * The log's events that the user may see, the last `counts[topic]` at most of
 * each topic, in log order: two requests for any number of topics, a few more
 * when a topic's older events were pruned (then fewer of its newest come).
 */
export async function recentEvents(http, counts) {
  const topics = Object.keys(counts);
  const positions = positionsOf((await http.api("GET", url(topics))).cursor);
  const wanted = { ...counts };
  const events = [];
  for (let tries = 0; tries < TRIES; tries++) {
    const asking = topics.filter((topic) => wanted[topic] >= 1);
    if (!asking.length) break;
    const from = (topic) => Math.max(0, (positions[topic] || 0) - wanted[topic]);
    const cursor = asking.map((topic) => `${topic}@${from(topic)}`).join(",");
    const page = await http.api("GET", url(asking, cursor));
    const unrecovered = new Set(page.unrecovered || []);
    for (const event of page.events) {
      if (!unrecovered.has(event.topic) && event.seq <= (positions[event.topic] || 0)) events.push(event);
    }
    for (const topic of asking) {
      const retry = unrecovered.has(topic) && from(topic) > 0;
      wanted[topic] = retry ? Math.floor(wanted[topic] / 2) : 0;
    }
  }
  return events;
}
