// home.js: "my families and their lists", live.
//
// The server renders the page; from then on TanStack Query holds the families
// and each family's lists, kept in step with family:<id> (lists added, renamed or
// deleted; members joining or leaving) and user:<me> (joining another family)
// through the query adapter, and the page is redrawn from the cache.

import { applyToList } from "../realtime/adapters/apply.js";
import { connectQueryClient } from "../realtime/adapters/tanstack.js";
import { announce, el, flash } from "./dom.js";
import { api, apiAll } from "./http.js";
import { bindStatusBadge, connection } from "./live.js";
import { bindNotices } from "./notices.js";
import { renderLists } from "./lists.js";
import { createQueryClient, keys, onceReadAfterBaseline, reads, watch } from "./queries.js";

const FAMILY = "family:";

const membersText = (family) => `Members: ${family.members.map((m) => m.username).join(", ")}`;

/** Where a family's archived lists go, apart from the current ones. */
const archivedBlock = () =>
  el("details", { className: "archived", hidden: true }, el("summary", {}, "Archived lists"), el("ul", { className: "lists" }));

const hidden = (text) => el("span", { className: "visually-hidden" }, text);

function newSection(family) {
  return el(
    "section",
    { className: "family", "aria-labelledby": `family-${family.id}`, dataset: { familyId: family.id } },
    el("h2", { id: `family-${family.id}` }, el("a", { href: `/families/${family.id}/` }, family.name)),
    el("p", { className: "members" }, membersText(family)),
    el("ul", { className: "lists", hidden: true }),
    el("p", { className: "empty" }, "No lists yet."),
    archivedBlock(),
    el(
      "p",
      { className: "family-actions" },
      el("a", { href: `/families/${family.id}/lists/new/` }, "New list", hidden(` in ${family.name}`)),
      " ",
      el("a", { href: `/families/${family.id}/` }, "Members and invitations", hidden(` of ${family.name}`)),
    ),
  );
}

/** The page's queries follow its topics; returns the disconnect function. */
function syncHome(client, queryClient, me) {
  const familiesKey = keys.families();
  const queryKeysFor = (topic, event) => {
    const kind = event && event.data.entity_type;
    if (topic === `user:${me}`) return [familiesKey];
    if (!topic.startsWith(FAMILY)) return [];
    const listsKey = keys.familyLists(topic.slice(FAMILY.length));
    if (!event) return [familiesKey, listsKey];
    if (kind === "gift-list") return [listsKey];
    if (kind === "family" || kind === "membership") return [familiesKey];
    return [];
  };
  const patch = (queryClient, event) => {
    const kind = event.data.entity_type;
    const key = kind === "gift-list" ? queryKeysFor(event.topic, event)[0] : familiesKey;
    if (kind !== "gift-list" && kind !== "family") return false;
    if (queryClient.getQueryData(key) === undefined) return false;
    queryClient.setQueryData(key, (rows) => applyToList(rows, event));
    return true;
  };
  return connectQueryClient(client, queryClient, { queryKeysFor, patch });
}

function mount(root, { client, queryClient, http }) {
  const me = root.dataset.userId;
  const container = document.getElementById("families");
  const noFamily = document.getElementById("no-family");
  const messages = document.getElementById("messages");
  const read = reads(http);
  const followed = new Map(); // family id -> stop following it
  const highlights = new Set(); // list ids changed by an event, to flash when shown

  const sectionOf = (familyId) =>
    container.querySelector(`section[data-family-id="${CSS.escape(String(familyId))}"]`);

  function onFamilyEvent(event) {
    const { entity_type: kind, payload } = event.data;
    if (kind === "gift-list" && event.event !== "DELETED") highlights.add(String(payload.id));
  }

  function follow(familyId) {
    const id = String(familyId);
    if (followed.has(id)) return;
    const stopTopic = client.subscribe(`${FAMILY}${id}`, onFamilyEvent);
    const stopLists = watch(queryClient, read.familyLists(id), (result) => {
      const section = sectionOf(id);
      if (section && result.data) renderLists(section, result.data, highlights);
    });
    followed.set(id, () => {
      stopTopic();
      stopLists();
    });
  }

  function unfollow(familyId) {
    const id = String(familyId);
    followed.get(id)?.();
    followed.delete(id);
  }

  function renderFamilies(families) {
    const wanted = new Set(families.map((family) => String(family.id)));
    for (const section of container.querySelectorAll("section[data-family-id]")) {
      if (wanted.has(section.dataset.familyId)) continue;
      section.remove();
      unfollow(section.dataset.familyId);
    }
    for (const family of families) {
      let section = sectionOf(family.id);
      if (!section) {
        section = newSection(family);
        container.append(section);
        flash(section);
      }
      section.querySelector("h2 a").textContent = family.name;
      const [inFamily, ofFamily] = section.querySelectorAll(".family-actions .visually-hidden");
      inFamily.textContent = ` in ${family.name}`;
      ofFamily.textContent = ` of ${family.name}`;
      section.querySelector(".members").textContent = membersText(family);
      follow(family.id);
    }
    noFamily.hidden = families.length > 0;
  }

  syncHome(client, queryClient, me);
  bindStatusBadge(client, document.getElementById("connection"));

  // The families the server rendered are followed at once, before any read.
  const shown = [...container.querySelectorAll("section[data-family-id]")].map((s) => s.dataset.familyId);
  shown.forEach(follow);
  let errors = 0;
  watch(queryClient, read.families(), (result) => {
    if (result.data) renderFamilies(result.data);
    if (result.errorUpdateCount > errors) {
      errors = result.errorUpdateCount;
      announce(messages, `Could not load your families: ${result.error.message}`);
    }
  });
  client.subscribe(`user:${me}`);
  bindNotices(client, http, document.getElementById("notices"), me);

  const unsynced = new Set(shown);
  const synced = () => {
    if (!unsynced.size) root.dataset.synced = "true";
  };
  for (const id of shown) {
    const topic = `${FAMILY}${id}`;
    onceReadAfterBaseline(client, queryClient, topic, [keys.families(), keys.familyLists(id)], () => {
      unsynced.delete(id);
      synced();
    });
  }
  synced();

  client.on("forbidden", (topic) => {
    if (!topic.startsWith(FAMILY)) return;
    const id = topic.slice(FAMILY.length);
    queryClient.setQueryData(keys.families(), (families) =>
      families?.filter((family) => String(family.id) !== id),
    );
    unfollow(id);
    sectionOf(id)?.remove();
  });
  client.start();
}

mount(document.getElementById("home-app"), {
  client: connection(),
  queryClient: createQueryClient(),
  http: { api, apiAll },
});
