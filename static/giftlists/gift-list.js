// gift-list.js: one gift list, loaded over REST and kept live by realtime.js.
//
// Server state lives in a QueryCache (list, gifts, family members); live events
// patch it with applyToList, a "resync" or a fresh baseline refetches it, and
// the user's own changes are optimistic layers that a refusal rolls back with a
// message. The list's owner is never shown claims: the API and the events are
// already redacted for them, and this page adds no claim controls either.

import { applyToList } from "../realtime/adapters/apply.js";
import { QueryCache } from "./query.js";
import { announce, api, apiAll, bindStatusBadge, connect, el, flash } from "./live.js";

const root = document.getElementById("gift-list-app");
const listId = root.dataset.listId;
const familyId = root.dataset.familyId;
const me = root.dataset.userId;
const myName = root.dataset.username;
const isOwner = root.dataset.owner === "true";
const listTopic = `gift-list:${listId}`;
const familyTopic = `family:${familyId}`;

const LIST = "list";
const GIFTS = "gifts";
const MEMBERS = "members";
// The activity feed keeps this many entries: enough to see what just happened.
const ACTIVITY_LIMIT = 30;

const ui = {
  title: document.getElementById("list-title"),
  badge: document.getElementById("connection"),
  messages: document.getElementById("messages"),
  gifts: document.getElementById("gifts"),
  loading: document.getElementById("gifts-loading"),
  empty: document.getElementById("gifts-empty"),
  addForm: document.getElementById("add-gift"),
  activity: document.getElementById("activity"),
  activityEmpty: document.getElementById("activity-empty"),
};

const cache = new QueryCache();
const rows = new Map(); // gift id -> { node, signature }
const editing = new Set(); // gift ids whose row shows the edit form
const busy = new Set(); // gift ids with a change waiting for the server
const toFlash = new Set(); // gift ids changed by the event being applied
const pendingAdds = []; // { title } of gifts added here whose event has not come yet
const activity = []; // { event, title }, newest first
const titles = new Map(); // gift id -> last known title, for events that carry none
let nextTemporaryId = 1;
let closed = false; // the list is gone or no longer ours to see

// -- loading ----------------------------------------------------------------------

const fetchers = {
  [LIST]: () => api("GET", `/api/gift-lists/${listId}/`),
  [GIFTS]: () => apiAll(`/api/gifts/?list=${listId}`),
  [MEMBERS]: () => api("GET", `/api/families/${familyId}/`),
};

function load(key) {
  return cache.fetch(key, fetchers[key]).catch((error) => {
    if (error.status === 404) return listGone("This list is no longer available to you.");
    announce(ui.messages, `Could not load the ${key === GIFTS ? "gifts" : key}: ${error.message}`);
  });
}

// -- rendering --------------------------------------------------------------------

function userName(id) {
  if (id === null || id === undefined || id === "") return null;
  if (String(id) === me) return myName;
  const family = cache.get(MEMBERS);
  const member = family && family.members.find((m) => String(m.id) === String(id));
  return member ? member.username : null;
}

function stateText(gift) {
  if (gift.status === "wanted") return "Still wanted";
  const mine = String(gift.claimed_by) === me;
  const who = mine ? "you" : gift.claimed_by_username || userName(gift.claimed_by) || "someone";
  return gift.status === "purchased" ? `Bought by ${who}` : `Claimed by ${who}`;
}

function safeUrl(url) {
  return /^https?:\/\//i.test(url || "") ? url : null;
}

function actionButton(action, text, label, disabled, extraClass = "") {
  return el(
    "button",
    { type: "button", className: `small ${extraClass}`.trim(), dataset: { action }, "aria-label": label, disabled },
    text,
  );
}

function giftButtons(gift, isBusy) {
  if (gift.pending || closed) return [];
  const title = gift.title;
  if (isOwner) {
    return [
      actionButton("edit", "Edit", `Edit ${title}`, isBusy, "secondary"),
      actionButton("delete", "Delete", `Delete ${title}`, isBusy, "danger"),
    ];
  }
  if (gift.status === "wanted") {
    return [
      actionButton("claim", "Claim", `Claim ${title}`, isBusy),
      actionButton("purchase", "Bought it", `Mark ${title} as bought`, isBusy, "secondary"),
    ];
  }
  if (gift.status === "claimed" && String(gift.claimed_by) === me) {
    return [
      actionButton("purchase", "Mark bought", `Mark ${title} as bought`, isBusy),
      actionButton("unclaim", "Unclaim", `Unclaim ${title}`, isBusy, "secondary"),
    ];
  }
  return [];
}

function fillGift(node, gift) {
  const isBusy = busy.has(String(gift.id));
  node.dataset.giftId = gift.id;
  node.dataset.status = isOwner ? "wanted" : gift.status;
  node.classList.toggle("pending", Boolean(gift.pending) || isBusy);
  const href = safeUrl(gift.url);
  const title = href
    ? el("a", { className: "gift-title", href, target: "_blank", rel: "noopener noreferrer" }, gift.title)
    : el("span", { className: "gift-title" }, gift.title);
  const price = gift.price ? el("span", { className: "gift-price" }, gift.price) : null;
  const notes = gift.notes ? el("p", { className: "gift-notes" }, gift.notes) : null;
  const state = gift.pending
    ? el("p", { className: "gift-state" }, "Saving…")
    : isOwner
      ? null
      : el("p", { className: "gift-state" }, stateText(gift));
  const buttons = giftButtons(gift, isBusy);
  const parts = [
    el("div", { className: "gift-main" }, title, price),
    notes,
    state,
    buttons.length ? el("div", { className: "gift-actions" }, buttons) : null,
  ];
  node.replaceChildren(...parts.filter(Boolean));
}

function renderGifts(gifts) {
  if (gifts === undefined) return;
  ui.loading.hidden = true;
  ui.gifts.setAttribute("aria-busy", "false");
  ui.empty.hidden = gifts.length > 0;
  const seen = new Set();
  let previous = null;
  for (const gift of gifts) {
    const id = String(gift.id);
    seen.add(id);
    if (!gift.pending) titles.set(id, gift.title);
    let row = rows.get(id);
    if (!row) {
      row = { node: el("li", { className: "gift", tabIndex: -1 }), signature: null };
      rows.set(id, row);
    }
    const signature = JSON.stringify([gift, busy.has(id), closed]);
    if (row.signature !== signature && !editing.has(id)) {
      const hadFocus = row.node.contains(document.activeElement);
      fillGift(row.node, gift);
      row.signature = signature;
      if (hadFocus) (row.node.querySelector("button") || row.node).focus();
    }
    const wanted = previous ? previous.nextSibling : ui.gifts.firstChild;
    if (wanted !== row.node) ui.gifts.insertBefore(row.node, wanted);
    previous = row.node;
    if (toFlash.has(id)) flash(row.node);
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.node.remove();
      rows.delete(id);
      editing.delete(id);
    }
  }
}

function renderList(giftList) {
  if (!giftList) return;
  ui.title.textContent = giftList.title;
  document.title = `${giftList.title} · Gift lists`;
}

function describe({ event, title }) {
  const actor = event.data.user_id;
  const name = actor === null || actor === undefined ? null : userName(actor);
  const who = name ? (String(actor) === me ? "You" : name) : "Someone";
  const entity = event.data.entity_type;
  if (entity === "gift-list") {
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

function renderActivity() {
  ui.activityEmpty.hidden = activity.length > 0;
  ui.activity.replaceChildren(
    ...activity.map((entry) => {
      const time = new Date(entry.event.data.timestamp);
      const stamp = Number.isNaN(time.getTime())
        ? null
        : el(
            "time",
            { dateTime: entry.event.data.timestamp },
            time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
          );
      return el("li", { dataset: { event: entry.event.event } }, el("span", {}, describe(entry)), " ", stamp);
    }),
  );
}

cache.subscribe(GIFTS, renderGifts);
cache.subscribe(LIST, renderList);
cache.subscribe(MEMBERS, () => {
  renderActivity();
  renderGifts(cache.get(GIFTS));
});

// -- live events ------------------------------------------------------------------

function giftTitle(id) {
  return titles.get(String(id)) || null;
}

function onListEvent(event) {
  const { data } = event;
  if (data.entity_type === "gift") {
    const id = String(data.payload.id);
    if (data.payload.title) titles.set(id, data.payload.title);
    const title = giftTitle(id) || `gift ${id}`;
    if (event.event === "ADDED" && String(data.user_id) === me) confirmPendingAdd(data.payload);
    if (event.event !== "DELETED") toFlash.add(id);
    cache.update(GIFTS, (gifts) => applyToList(gifts, event));
    toFlash.delete(id);
    recordActivity(event, title);
  } else if (data.entity_type === "gift-list") {
    if (event.event === "DELETED") {
      listGone("This list has been deleted.");
    } else {
      cache.update(LIST, () => data.payload);
      recordActivity(event, data.payload.title);
    }
  }
}

function onFamilyEvent(event) {
  if (event.data.entity_type === "membership" || event.data.entity_type === "family") {
    cache.refetch(MEMBERS);
  }
}

function recordActivity(event, title) {
  activity.unshift({ event, title });
  activity.length = Math.min(activity.length, ACTIVITY_LIMIT);
  if (event.data.user_id && !userName(event.data.user_id)) cache.refetch(MEMBERS);
  renderActivity();
}

function listGone(text) {
  if (closed) return;
  closed = true;
  announce(ui.messages, text, "info");
  ui.addForm.hidden = true;
  root.dataset.closed = "true";
  renderGifts(cache.get(GIFTS));
}

// -- the user's own changes ---------------------------------------------------------

function patchGift(id, fields) {
  return (gifts) => gifts.map((gift) => (String(gift.id) === id ? { ...gift, ...fields } : gift));
}

function serverSaid(kind, row) {
  return (gifts) => applyToList(gifts, { event: kind, data: { payload: row } });
}

/**
 * Show `optimistic` at once, then ask the server; its answer replaces the guess,
 * or its refusal rolls the guess back with a message and a refetch.
 */
async function change({ id, what, optimistic, request, settle }) {
  if (id) busy.add(id);
  const release = cache.optimistic(GIFTS, optimistic);
  try {
    const result = await request();
    if (id) busy.delete(id);
    cache.update(GIFTS, (gifts) => settle(gifts, result));
    return true;
  } catch (error) {
    announce(ui.messages, `Could not ${what}: ${error.message}`);
    cache.refetch(GIFTS);
    return false;
  } finally {
    if (id) busy.delete(id);
    release();
  }
}

function transition(id, verb, fields, what) {
  return change({
    id,
    what,
    optimistic: patchGift(id, fields),
    request: () => api("POST", `/api/gifts/${id}/${verb}/`),
    settle: (gifts, row) => serverSaid("UPDATED", row)(gifts),
  });
}

const actions = {
  claim(id, title) {
    return transition(
      id,
      "claim",
      { status: "claimed", claimed_by: Number(me), claimed_by_username: myName },
      `claim ${title}`,
    );
  },
  unclaim(id, title) {
    return transition(
      id,
      "unclaim",
      { status: "wanted", claimed_by: null, claimed_by_username: null },
      `unclaim ${title}`,
    );
  },
  purchase(id, title) {
    return transition(
      id,
      "purchase",
      { status: "purchased", claimed_by: Number(me), claimed_by_username: myName },
      `mark ${title} as bought`,
    );
  },
  delete(id, title) {
    return change({
      id,
      what: `delete ${title}`,
      optimistic: (gifts) => gifts.filter((gift) => String(gift.id) !== id),
      request: () => api("DELETE", `/api/gifts/${id}/`),
      settle: (gifts) => serverSaid("DELETED", { id })(gifts),
    });
  },
  edit(id) {
    const row = rows.get(id);
    const gift = (cache.get(GIFTS) || []).find((g) => String(g.id) === id);
    if (!row || !gift) return;
    editing.add(id);
    row.node.replaceChildren(editForm(gift));
    row.node.querySelector("input").focus();
  },
};

function field(id, label, input) {
  return el("div", { className: "field" }, el("label", { htmlFor: id }, label), input);
}

function editForm(gift) {
  const id = String(gift.id);
  const prefix = `edit-${id}`;
  const form = el(
    "form",
    { className: "edit-gift", "aria-label": `Edit ${gift.title}` },
    field(`${prefix}-title`, "Title", el("input", { id: `${prefix}-title`, name: "title", required: true, maxLength: 200, value: gift.title })),
    el(
      "div",
      { className: "field-row" },
      field(`${prefix}-price`, "Price", el("input", { id: `${prefix}-price`, name: "price", type: "number", min: "0", step: "0.01", value: gift.price || "" })),
      field(`${prefix}-url`, "Link", el("input", { id: `${prefix}-url`, name: "url", type: "url", maxLength: 500, value: gift.url || "" })),
    ),
    field(`${prefix}-notes`, "Notes", el("textarea", { id: `${prefix}-notes`, name: "notes", rows: 2, value: gift.notes || "" })),
    el(
      "div",
      { className: "gift-actions" },
      el("button", { type: "submit", className: "small" }, "Save"),
      el("button", { type: "button", className: "small secondary", dataset: { action: "cancel" } }, "Cancel"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    const fields = {
      title: values.title.trim(),
      price: values.price === "" ? null : values.price,
      url: values.url.trim(),
      notes: values.notes,
    };
    stopEditing(id);
    change({
      id,
      what: `save ${fields.title || gift.title}`,
      optimistic: patchGift(id, fields),
      request: () => api("PATCH", `/api/gifts/${id}/`, fields),
      settle: (gifts, row) => serverSaid("UPDATED", row)(gifts),
    });
  });
  return form;
}

function stopEditing(id) {
  editing.delete(id);
  const row = rows.get(id);
  if (row) row.signature = null;
  renderGifts(cache.get(GIFTS));
}

ui.gifts.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const row = button.closest("li[data-gift-id]");
  const id = row.dataset.giftId;
  if (button.dataset.action === "cancel") return stopEditing(id);
  const action = actions[button.dataset.action];
  if (action && !busy.has(id)) action(id, giftTitle(id) || "this gift");
});

function confirmPendingAdd(payload) {
  const index = pendingAdds.findIndex((pending) => pending.title === payload.title);
  if (index < 0) return;
  // The event shows the real row now; the next render drops the placeholder.
  pendingAdds.splice(index, 1);
}

ui.addForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = Object.fromEntries(new FormData(ui.addForm));
  const body = { list: Number(listId), title: values.title.trim() };
  if (values.price !== "") body.price = values.price;
  if (values.url.trim()) body.url = values.url.trim();
  ui.addForm.reset();
  ui.addForm.querySelector("input").focus();
  const temporary = { ...body, id: `new-${nextTemporaryId++}`, status: "wanted", pending: true };
  const pending = { title: body.title };
  pendingAdds.push(pending);
  const added = await change({
    what: `add ${body.title}`,
    optimistic: (gifts) => (pendingAdds.includes(pending) ? [...gifts, temporary] : gifts),
    request: () => api("POST", "/api/gifts/", body),
    settle: (gifts, row) => serverSaid("ADDED", row)(gifts),
  });
  const index = pendingAdds.indexOf(pending);
  if (index >= 0) pendingAdds.splice(index, 1);
  if (!added && !ui.addForm.elements.title.value) {
    // Give the refused gift back to the form, so nothing typed is lost.
    ui.addForm.elements.title.value = body.title;
    ui.addForm.elements.price.value = body.price || "";
    ui.addForm.elements.url.value = body.url || "";
  }
});

// -- the connection ------------------------------------------------------------------

const client = connect();
bindStatusBadge(client, ui.badge);
const following = {
  [listTopic]: client.subscribe(listTopic, onListEvent),
  [familyTopic]: client.subscribe(familyTopic, onFamilyEvent),
};
client.on("baseline", async (topic) => {
  if (topic === familyTopic) return load(MEMBERS);
  if (topic !== listTopic) return;
  // Events are followed from here on: read once more what may have changed since
  // the first read, so nothing falls between the two.
  await Promise.all([load(LIST), load(GIFTS)]);
  root.dataset.synced = "true";
});
client.on("resync", (topic) => {
  if (topic === listTopic) {
    load(LIST);
    load(GIFTS);
  } else if (topic === familyTopic) {
    load(MEMBERS);
  }
});
client.on("forbidden", (topic) => {
  // Refused topics are dropped, so no transport keeps asking for them.
  if (following[topic]) following[topic]();
  delete following[topic];
  if (topic === listTopic) listGone("You no longer have access to this list.");
});
client.on("status", (status) => {
  if (status === "signed-out") {
    announce(ui.messages, "You have been signed out. Reload the page to log in again.", "info");
  }
});

load(LIST);
load(GIFTS);
load(MEMBERS);
