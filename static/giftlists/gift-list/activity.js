// activity.js: the feed of what happened to the list, newest first.

import { el } from "../dom.js";

// The feed keeps this many entries: enough to see what just happened.
const ACTIVITY_LIMIT = 30;

/** "bob claimed Kite", "You removed Lamp"; `nameOf(userId)` names the actor. */
export function describe({ event, title }, { me, nameOf }) {
  const actor = event.data.user_id;
  const name = actor === null || actor === undefined ? null : nameOf(actor);
  const who = name ? (String(actor) === me ? "You" : name) : "Someone";
  if (event.data.entity_type === "gift-list") {
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

function timeOf(timestamp) {
  const time = new Date(timestamp);
  if (Number.isNaN(time.getTime())) return null;
  const text = time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return el("time", { dateTime: timestamp }, text);
}

/** The feed in `list` (an <ol>), `empty` shown while it has nothing. */
export function activityFeed(list, empty, { me }) {
  const entries = []; // {event, title}, newest first
  let nameOf = () => null;

  function render(names = nameOf) {
    nameOf = names;
    empty.hidden = entries.length > 0;
    list.replaceChildren(
      ...entries.map((entry) =>
        el(
          "li",
          { dataset: { event: entry.event.event } },
          el("span", {}, describe(entry, { me, nameOf })),
          " ",
          timeOf(entry.event.data.timestamp),
        ),
      ),
    );
  }

  function add(event, title) {
    entries.unshift({ event, title });
    entries.length = Math.min(entries.length, ACTIVITY_LIMIT);
    render();
  }

  return { add, render };
}
