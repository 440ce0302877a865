// activity.js: the feed of what happened to the list, newest first: its recent
// past from the event log when the page opens, then each event as it arrives.

import { el } from "../dom.js";

// The feed keeps this many entries: enough to see what just happened.
const ACTIVITY_LIMIT = 30;

/** "bob claimed Kite", "You removed Lamp"; `nameOf(userId)` names the actor. */
export function describe({ event, title }, { me, nameOf }) {
  const actor = event.data.user_id;
  const name = actor === null || actor === undefined ? null : nameOf(actor);
  const who = name ? (String(actor) === me ? "You" : name) : "Someone";
  if (event.data.entity_type === "gift-list") {
    if (event.event === "ADDED") return `${who} created the list`;
    if (event.event === "UPDATED") return `${who} updated the list`;
    return `${who} changed the list (${event.event})`;
  }
  switch (event.event) {
    case "ADDED":
      return `${who} added ${title}`;
    case "UPDATED":
      return `${who} edited ${title}`;
    case "DELETED":
      return `${who} removed ${title}`;
    case "STATUS_CHANGED": {
      const verb = { claimed: "claimed", purchased: "bought", wanted: "unclaimed" }[
        event.data.payload.status
      ];
      return `${who} ${verb || "changed"} ${title}`;
    }
    default:
      return `${who}: ${event.event} ${title}`;
  }
}

/** "just now", "2 min ago", "3 h ago", "4 days ago": how long before `now`. */
export function timeAgo(timestamp, now = Date.now()) {
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return "";
  const minutes = Math.floor((now - then) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? "yesterday" : `${days} days ago`;
}

function timeOf(timestamp) {
  const time = new Date(timestamp);
  if (Number.isNaN(time.getTime())) return null;
  const exact = time.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  return el("time", { dateTime: timestamp, title: exact }, timeAgo(timestamp));
}

// How often "2 min ago" is brought up to date.
const REFRESH_MS = 30000;

/** The feed in `list` (an <ol>), `empty` shown while it has nothing. */
export function activityFeed(list, empty, { me }) {
  const entries = []; // {event, title}, newest first
  const seqs = new Set(); // events shown already: the log's and the live ones meet
  let nameOf = () => null;
  window.setInterval(() => render(), REFRESH_MS);

  function render(names = nameOf) {
    nameOf = names;
    empty.hidden = entries.length > 0;
    list.replaceChildren(
      ...entries.map((entry) =>
        el(
          "li",
          { dataset: { event: entry.event.event } },
          el("span", {}, describe(entry, { me, nameOf })),
          " · ",
          timeOf(entry.event.data.timestamp),
        ),
      ),
    );
  }

  function add(event, title) {
    if (typeof event.seq === "number") {
      if (seqs.has(event.seq)) return;
      seqs.add(event.seq);
    }
    entries.unshift({ event, title });
    // Newest first by seq: the log's past may arrive after a live event.
    entries.sort((a, b) => (b.event.seq ?? Infinity) - (a.event.seq ?? Infinity));
    entries.length = Math.min(entries.length, ACTIVITY_LIMIT);
    render();
  }

  return { add, render };
}
