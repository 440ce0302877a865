// here.js: who is on the list's page right now, as initials in circles, each
// named in its tooltip and for screen readers; the user is shown too, last,
// marked "(you)". Fed by the realtime client's presence of the list's topic.

import { el } from "../dom.js";

// Avatar colours, picked by user id so a person keeps theirs on every page.
const HUES = [12, 48, 140, 200, 262, 320];

function initialsOf(entry) {
  if (entry.initials) return String(entry.initials).slice(0, 2);
  return String(entry.name || "?").slice(0, 1).toUpperCase();
}

/** The people in `entries`, others by name, then the user. */
export function ordered(entries, me) {
  const name = (entry) => String(entry.name || "");
  const others = entries.filter((entry) => String(entry.user_id) !== me);
  others.sort((a, b) => name(a).localeCompare(name(b)));
  const mine = entries.filter((entry) => String(entry.user_id) === me);
  return [...others, ...mine];
}

/** "alice", or "bob (you)". */
export function labelOf(entry, me) {
  const name = entry.name || "someone";
  return String(entry.user_id) === me ? `${name} (you)` : name;
}

/** Keep `section` (with its <ul> `list`) showing who is here; hidden when nobody is known. */
export function presenceBar(section, list, { me }) {
  function render(entries) {
    section.hidden = entries.length === 0;
    list.replaceChildren(
      ...ordered(entries, me).map((entry) => {
        const label = labelOf(entry, me);
        const hue = HUES[Number.parseInt(entry.user_id, 10) % HUES.length] ?? HUES[0];
        return el(
          "li",
          {
            className: "avatar",
            title: label,
            style: `--hue: ${hue}`,
            dataset: { userId: entry.user_id, name: entry.name || "", me: String(entry.user_id) === me },
          },
          el("span", { "aria-hidden": "true" }, initialsOf(entry)),
          el("span", { className: "visually-hidden" }, label),
        );
      }),
    );
  }
  return { render };
}
