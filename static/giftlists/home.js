// home.js: keeps "my families and their lists" live.
//
// The page is rendered by the server; this follows family:<id> for each family
// shown (lists added, renamed or deleted; members joining or leaving) and
// user:<me> (being added to another family), and patches the page in place.

import { announce, api, apiAll, bindStatusBadge, connect, el, flash } from "./live.js";

const root = document.getElementById("home-app");
const me = root.dataset.userId;
const families = document.getElementById("families");
const noFamily = document.getElementById("no-family");
const messages = document.getElementById("messages");

const client = connect();
bindStatusBadge(client, document.getElementById("connection"));
const following = new Map(); // family id -> unsubscribe

function section(familyId) {
  return families.querySelector(`section[data-family-id="${CSS.escape(String(familyId))}"]`);
}

function occasion(text) {
  if (!text) return "";
  const date = new Date(`${text}T00:00:00`);
  if (Number.isNaN(date.getTime())) return "";
  return `, ${date.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" })}`;
}

function squash(text) {
  return text.replace(/\s+/g, " ").trim();
}

function listItem(giftList) {
  return el(
    "li",
    { dataset: { listId: giftList.id } },
    el("a", { href: `/lists/${giftList.id}/` }, giftList.title),
    " ",
    el("span", { className: "meta" }, `by ${giftList.owner_username}${occasion(giftList.occasion_date)}`),
  );
}

function showEmpty(familySection) {
  const list = familySection.querySelector("ul.lists");
  const empty = list.children.length === 0;
  list.hidden = empty;
  familySection.querySelector("p.empty").hidden = !empty;
}

/** Put a list into its family's section, in title order; highlight it. */
function placeList(giftList) {
  const familySection = section(giftList.family);
  if (!familySection) return;
  const list = familySection.querySelector("ul.lists");
  const old = list.querySelector(`li[data-list-id="${giftList.id}"]`);
  const item = listItem(giftList);
  if (old) old.remove();
  const after = [...list.children].find(
    (li) => li.querySelector("a").textContent.localeCompare(giftList.title) > 0,
  );
  list.insertBefore(item, after || null);
  showEmpty(familySection);
  flash(item);
}

function removeList(listId) {
  const item = families.querySelector(`li[data-list-id="${CSS.escape(String(listId))}"]`);
  if (!item) return;
  const familySection = item.closest("section");
  item.remove();
  showEmpty(familySection);
}

async function refreshFamily(familyId) {
  try {
    const family = await api("GET", `/api/families/${familyId}/`);
    const familySection = section(familyId);
    if (!familySection) return;
    familySection.querySelector("h2").textContent = family.name;
    familySection.querySelector(".members").textContent =
      `Members: ${family.members.map((member) => member.username).join(", ")}`;
  } catch (error) {
    if (error.status === 404) dropFamily(familyId);
  }
}

function dropFamily(familyId) {
  const familySection = section(familyId);
  if (familySection) familySection.remove();
  const stop = following.get(String(familyId));
  if (stop) stop();
  following.delete(String(familyId));
  noFamily.hidden = families.children.length > 0;
}

async function addFamily(familyId) {
  if (section(familyId)) return;
  try {
    const [family, lists] = await Promise.all([
      api("GET", `/api/families/${familyId}/`),
      apiAll(`/api/gift-lists/?family=${familyId}`),
    ]);
    if (section(familyId)) return;
    const familySection = el(
      "section",
      { className: "family", "aria-labelledby": `family-${family.id}`, dataset: { familyId: family.id } },
      el("h2", { id: `family-${family.id}` }, family.name),
      el("p", { className: "members" }, `Members: ${family.members.map((m) => m.username).join(", ")}`),
      el("ul", { className: "lists" }),
      el("p", { className: "empty" }, "No lists yet."),
    );
    families.append(familySection);
    noFamily.hidden = true;
    lists.sort((a, b) => a.title.localeCompare(b.title)).forEach(placeList);
    showEmpty(familySection);
    flash(familySection);
    follow(familyId);
  } catch (error) {
    announce(messages, `Could not load a family you were added to: ${error.message}`);
  }
}

function onFamilyEvent(familyId, event) {
  const { entity_type: kind, payload } = event.data;
  if (kind === "gift-list") {
    if (event.event === "DELETED") removeList(payload.id);
    else placeList(payload);
  } else if (kind === "family") {
    if (event.event === "DELETED") dropFamily(familyId);
    else refreshFamily(familyId);
  } else if (kind === "membership") {
    refreshFamily(familyId);
  }
}

/** Bring a server-rendered section up to date: what changed before we followed it. */
async function syncFamily(familyId) {
  const familySection = section(familyId);
  if (!familySection) return;
  try {
    const lists = await apiAll(`/api/gift-lists/?family=${familyId}`);
    const shown = new Set(lists.map((giftList) => String(giftList.id)));
    for (const item of familySection.querySelectorAll("li[data-list-id]")) {
      if (!shown.has(item.dataset.listId)) removeList(item.dataset.listId);
    }
    for (const giftList of lists) {
      const item = familySection.querySelector(`li[data-list-id="${giftList.id}"]`);
      if (!item || squash(item.textContent) !== squash(listItem(giftList).textContent)) {
        placeList(giftList);
      }
    }
    await refreshFamily(familyId);
  } catch (error) {
    if (error.status === 404) dropFamily(familyId);
  }
}

function follow(familyId) {
  const key = String(familyId);
  if (following.has(key)) return;
  following.set(
    key,
    client.subscribe(`family:${key}`, (event) => onFamilyEvent(key, event)),
  );
}

for (const familySection of families.querySelectorAll("section[data-family-id]")) {
  follow(familySection.dataset.familyId);
}

client.subscribe(`user:${me}`, (event) => {
  if (event.data.entity_type === "membership" && event.event === "ADDED") {
    addFamily(event.data.payload.family);
  }
});

const unsynced = new Set(following.keys());
client.on("baseline", async (topic) => {
  if (!topic.startsWith("family:")) return;
  const familyId = topic.slice("family:".length);
  await syncFamily(familyId);
  unsynced.delete(familyId);
  if (!unsynced.size) root.dataset.synced = "true";
});
if (!unsynced.size) root.dataset.synced = "true";

client.on("resync", (topic) => {
  // Too much happened while away to replay: the server's page is the truth.
  if (topic.startsWith("family:") || topic.startsWith("user:")) window.location.reload();
});
client.on("forbidden", (topic) => {
  if (topic.startsWith("family:")) dropFamily(topic.slice("family:".length));
});
