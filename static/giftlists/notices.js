// notices.js: what happened to the signed-in person's own claims, told on their
// own topic (user:<me>) and nowhere else: a gift they claimed or bought was
// deleted. Recent notices come from the event log on load, new ones live; each
// stays until dismissed (this browser remembers the last one dismissed).

import { el } from "./dom.js";
import { recentEvents } from "./history.js";

const GIFT_REMOVED = "GIFT_REMOVED";
/** How many of the newest events of `user:<me>` a page looks through for notices. */
export const NOTICES_KEPT = 10;

/** "alice deleted “Kite” from “Birthday”, which you had claimed." */
export function noticeText(event) {
  const gift = event.data.payload;
  const had = gift.status === "purchased" ? "bought" : "claimed";
  return `${gift.list_owner} deleted “${gift.title}” from “${gift.list_title}”, which you had ${had}.`;
}

/** The browser's storage, or one that forgets (storage may be switched off). */
function browserStorage() {
  try {
    const storage = window.localStorage;
    const probe = "giftlists:probe";
    storage.setItem(probe, "1");
    storage.removeItem(probe);
    return storage;
  } catch {
    const kept = new Map();
    return { getItem: (key) => kept.get(key) ?? null, setItem: (key, value) => kept.set(key, value) };
  }
}

/**
 * Show `me`'s notices in `region` (role="status"); `client` must start after.
 * With `past: false` the caller reads the log itself and hands the notices it
 * finds to the returned `add(event)`.
 */
export function bindNotices(client, http, region, me, { past = true, storage = browserStorage() } = {}) {
  const topic = `user:${me}`;
  const storeKey = `giftlists:notices-seen:${me}`;
  const shown = new Map(); // seq -> event
  const seen = () => Number(storage.getItem(storeKey)) || 0;

  function render() {
    const items = [...shown.values()]
      .filter((event) => event.seq > seen())
      .sort((a, b) => a.seq - b.seq)
      .map((event) => {
        const dismiss = el(
          "button",
          { type: "button", className: "link-button", "aria-label": `Dismiss: ${event.data.payload.title}` },
          "Dismiss",
        );
        dismiss.addEventListener("click", () => {
          storage.setItem(storeKey, String(Math.max(seen(), event.seq)));
          render();
        });
        return el("p", { className: "message message-info notice", dataset: { seq: event.seq } }, noticeText(event), " ", dismiss);
      });
    region.replaceChildren(...items);
  }

  function add(event) {
    if (event.event !== GIFT_REMOVED || typeof event.seq !== "number") return;
    shown.set(event.seq, event);
    render();
  }

  client.subscribe(topic, add);
  if (past) {
    recentEvents(http, { [topic]: NOTICES_KEPT })
      .then((events) => events.forEach(add))
      .catch(() => {}); // the past is a courtesy: live notices still arrive
  }
  return { topic, add };
}
