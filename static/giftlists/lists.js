// lists.js: a family's gift lists as the home and family pages show them, and
// the dates they show, written the way the server writes them (UTC, "1 March 2027").

import { el, flash } from "./dom.js";

const DATE = { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" };

/** "1 March 2027" for an ISO date or date-time; "" when it is none. */
export function longDate(text) {
  if (!text) return "";
  const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleDateString("en-GB", DATE);
}

function listItem(giftList) {
  const when = longDate(giftList.occasion_date);
  return el(
    "li",
    { dataset: { listId: giftList.id } },
    el("a", { href: `/lists/${giftList.id}/` }, giftList.title),
    " ",
    el("span", { className: "meta" }, `by ${giftList.owner_username}${when ? `, ${when}` : ""}`),
  );
}

/** Whitespace-insensitive text, to tell whether a rendered row changed. */
export const squash = (text) => text.replace(/\s+/g, " ").trim();

function fill(ul, lists, highlights) {
  const shown = new Map([...ul.children].map((item) => [item.dataset.listId, item]));
  const sorted = [...lists].sort((a, b) => a.title.localeCompare(b.title));
  const items = sorted.map((giftList) => {
    const id = String(giftList.id);
    const fresh = listItem(giftList);
    const old = shown.get(id);
    const item = old && squash(old.textContent) === squash(fresh.textContent) ? old : fresh;
    if (highlights.delete(id)) flash(item);
    return item;
  });
  ul.replaceChildren(...items);
  return items.length;
}

/**
 * Show `lists` in `section`, in title order: current ones in its `ul.lists`
 * (`p.empty` when none), archived ones apart in `.archived` (hidden when none);
 * unchanged rows stay, rows whose id is in `highlights` flash.
 */
export function renderLists(section, lists, highlights) {
  const ul = section.querySelector("ul.lists");
  const archive = section.querySelector(".archived");
  const current = archive ? lists.filter((giftList) => !giftList.archived) : lists;
  const count = fill(ul, current, highlights);
  ul.hidden = count === 0;
  section.querySelector("p.empty").hidden = count > 0;
  if (archive) {
    const old = lists.filter((giftList) => giftList.archived);
    fill(archive.querySelector("ul"), old, highlights);
    archive.hidden = old.length === 0;
  }
}
