// notices.js: what happened to the signed-in person's own claims, told on their
// own topic (user:<me>) and nowhere else: a gift they claimed or bought was
// deleted. Recent notices come from the event log on load, new ones live; each
// stays until dismissed (this browser remembers the last one dismissed).

import { el } from "./dom.js";
import { recentEvents } from "./history.js";

const GIFT_REMOVED = "GIFT_REMOVED";

/** "alice deleted “Kite” from “Birthday”, which you had claimed." */
export function noticeText(event) {
  const gift = event.data.payload;
  const had = gift.status === "purchased" ? "bought" : "claimed";
  return `${gift.list_owner} deleted “${gift.title}” from “${gift.list_title}”, which you had ${had}.`;
}

/** Show `me`'s notices in `region` (role="status"); `client` must start after. */
export function bindNotices(client, http, region, me, storage = window.localStorage) {
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
  recentEvents(http, topic, 10)
    .then((events) => events.forEach(add))
    .catch(() => {}); // the past is a courtesy: live notices still arrive
}
