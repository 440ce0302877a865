// gift-list.js: one gift list, read over REST into TanStack Query and kept live
// by realtime.js through the query adapter (gift-list/sync.js).
//
// The user's own changes are mutations that show at once and are taken back,
// with a message, if the server refuses (gift-list/mutations.js); they are
// sent through the realtime client's fetch, so their events come back marked
// as echoes and the adapter leaves them to the mutation (no second apply, no
// flash). The list's owner is never shown claims: the API and the events are
// already redacted for them, and this page adds no claim controls either.
//
// Who is here (gift-list/here.js) comes from the topic's presence; who is
// typing a gift idea or editing a gift from client events (gift-list/signals.js),
// which only members hear.

import { announce } from "./dom.js";
import { activityFeed } from "./gift-list/activity.js";
import { bindAddForm, bindTyping, editForm } from "./gift-list/forms.js";
import { presenceBar } from "./gift-list/here.js";
import { busyGifts, giftMutations } from "./gift-list/mutations.js";
import { giftRows } from "./gift-list/rows.js";
import { editingSender, signalsHeard, typingSender, typingText } from "./gift-list/signals.js";
import { syncGiftList, topicsOf } from "./gift-list/sync.js";
import { timingsOf } from "./gift-list/timings.js";
import { recentEvents } from "./history.js";
import { createApi } from "./http.js";
import { bindStatusBadge, connection } from "./live.js";
import { NOTICES_KEPT, bindNotices } from "./notices.js";
import { createQueryClient, keys, onceReadAfterBaseline, reads, watch } from "./queries.js";

/** What the server rendered into the page's root element. */
function pageOf(root) {
  const { listId, familyId, userId, username, owner, currency, archived } = root.dataset;
  return {
    listId,
    familyId,
    me: userId,
    myName: username,
    isOwner: owner === "true",
    currency: currency || "EUR",
    archived: archived === "true",
  };
}

function elements() {
  const byId = (id) => document.getElementById(id);
  return {
    title: byId("list-title"),
    badge: byId("connection"),
    messages: byId("messages"),
    gifts: byId("gifts"),
    loading: byId("gifts-loading"),
    empty: byId("gifts-empty"),
    addForm: byId("add-gift"),
    activity: byId("activity"),
    activityEmpty: byId("activity-empty"),
    presence: byId("presence"),
    present: byId("present"),
    typing: byId("typing"),
    notices: byId("notices"),
    description: byId("list-description"),
  };
}

// The feed starts with this many of the list's latest events from the log.
const ACTIVITY_PAST = 30;

const timers = {
  setTimeout: (callback, ms) => window.setTimeout(callback, ms),
  clearTimeout: (id) => window.clearTimeout(id),
};

/** Call `onError(error)` once for each new error a watched query reports. */
function errorsOf(onError) {
  let seen = 0;
  return (result) => {
    if (result.errorUpdateCount <= seen) return;
    seen = result.errorUpdateCount;
    onError(result.error);
  };
}

function mount(root, { client, queryClient, http }) {
  const page = pageOf(root);
  const ui = elements();
  const read = reads(http);
  const topics = topicsOf(page);
  const giftsKey = keys.gifts(page.listId);
  const actions = giftMutations(queryClient, http, page);
  const rows = giftRows(ui.gifts, page);
  const feed = activityFeed(ui.activity, ui.activityEmpty, page);
  const titles = new Map(); // gift id -> last title shown, for events that carry none
  const timings = timingsOf(root.dataset, window.location.search);
  Object.assign(root.dataset, timings); // what this page uses, tuned or not
  const here = client.presence(topics.list);
  const bar = presenceBar(ui.presence, ui.present, page);
  // Only members hear what others are doing; the owner's page does not listen.
  const heard = page.isOwner
    ? null
    : signalsHeard(client, topics.list, {
        me: page.me,
        typingFor: timings.typingFor,
        editingFor: timings.editingFor,
        timers,
        onChange: () => {
          renderTyping();
          renderGifts();
        },
      });
  const typing = typingSender(client, topics.list, { every: timings.typingEvery, now: () => Date.now() });
  const editing = editingSender(client, topics.list, { every: timings.editingEvery, timers });
  let closed = false; // the list is gone, or no longer ours to see

  const gifts = () => queryClient.getQueryData(giftsKey);
  const giftOf = (id) => (gifts() || []).find((gift) => String(gift.id) === String(id));
  const nameOf = (id) => {
    if (id === null || id === undefined || id === "") return null;
    if (String(id) === page.me) return page.myName;
    const family = queryClient.getQueryData(keys.family(page.familyId));
    const member = family && family.members.find((m) => String(m.id) === String(id));
    return member ? member.username : null;
  };
  // Whoever sent a signal: present, so presence has their name.
  const whoIs = (id) => here.state[id]?.name || nameOf(id) || "Someone";

  function renderGifts() {
    const shown = gifts();
    if (shown === undefined) return;
    ui.loading.hidden = true;
    ui.gifts.setAttribute("aria-busy", "false");
    ui.empty.hidden = shown.length > 0;
    for (const gift of shown) if (!gift.pending) titles.set(String(gift.id), gift.title);
    // A gift deleted while its form is open: nobody edits it any more.
    for (const id of editing.editing()) if (!giftOf(id)) editing.stop(id);
    const editorsOf = (id) => (heard ? heard.editorsOf(id).map(whoIs) : []);
    const frozen = closed || page.archived; // an archived list is read-only
    rows.update({ gifts: shown, busy: busyGifts(queryClient, page.listId), closed: frozen, nameOf, editorsOf });
  }

  function renderTyping() {
    const text = heard && !closed ? typingText(heard.typists().map(whoIs)) : "";
    ui.typing.textContent = text;
    ui.typing.hidden = !text;
  }

  function listGone(text) {
    if (closed) return;
    closed = true;
    announce(ui.messages, text, "info");
    ui.addForm.hidden = true;
    root.dataset.closed = "true";
    typing.stopped();
    heard?.stop();
    renderTyping();
    renderGifts();
  }

  const refused = (what) => (error) => {
    if (error.status === 404) return listGone("This list is no longer available to you.");
    announce(ui.messages, `Could not load the ${what}: ${error.message}`);
  };

  // -- reading -------------------------------------------------------------------

  // Each resource is first read once its topic's baseline is known: read
  // before it, it could miss a change made in between, and the baseline would
  // have it read a second time. (Registered before the adapter's baseline
  // handler, so that handler's refetch is the one and only first read.)
  const baselined = new Set();
  client.on("baseline", (topic) => baselined.add(topic));
  const afterBaseline = (topic, options) => ({ ...options, enabled: () => baselined.has(topic) });

  const giftErrors = errorsOf(refused("gifts"));
  watch(queryClient, afterBaseline(topics.list, read.gifts(page.listId)), (result) => {
    giftErrors(result);
    renderGifts();
  });
  const listErrors = errorsOf(refused("list"));
  watch(queryClient, afterBaseline(topics.list, read.giftList(page.listId)), (result) => {
    listErrors(result);
    if (!result.data) return;
    ui.title.textContent = result.data.title;
    document.title = `${result.data.title} · Gift lists`;
    ui.description.textContent = result.data.description || "";
    ui.description.hidden = !result.data.description;
    const archived = Boolean(result.data.archived);
    if (archived !== page.archived) {
      // Archived (or restored) while the page is open: read-only from now on.
      page.archived = archived;
      ui.addForm.hidden = archived || closed;
      const said = archived ? "This list was archived: it is read-only now." : "This list was restored.";
      announce(ui.messages, `${said} Reload the page to see it as it is.`, "info");
      renderGifts();
    }
  });
  // Members only name people; losing the family is said by the list's own reads.
  const familyErrors = errorsOf((error) => {
    if (error.status !== 404) announce(ui.messages, `Could not load the members: ${error.message}`);
  });
  watch(queryClient, afterBaseline(topics.family, read.family(page.familyId)), (result) => {
    familyErrors(result);
    feed.render(nameOf);
    renderGifts();
  });
  queryClient.getMutationCache().subscribe(renderGifts);

  // -- the user's own changes ------------------------------------------------------

  const tell = (what) => (error) => announce(ui.messages, `Could not ${what}: ${error.message}`);

  function act(action, id) {
    const gift = giftOf(id);
    const title = gift ? gift.title : "this gift";
    if (action === "claim") actions.claim(id).catch(tell(`claim ${title}`));
    else if (action === "unclaim") actions.unclaim(id).catch(tell(`unclaim ${title}`));
    else if (action === "purchase") actions.purchase(id).catch(tell(`mark ${title} as bought`));
    else if (action === "delete") rows.confirmDelete(id, true);
    else if (action === "keep") rows.confirmDelete(id, false);
    else if (action === "confirm-delete") {
      rows.confirmDelete(id, false);
      actions.remove(id).catch(tell(`delete ${title}`));
    }
    else if (action === "edit" && gift) {
      const done = () => {
        editing.stop(id);
        rows.stopEditing(id);
      };
      const form = editForm(gift, {
        onSave: (fields) => {
          done();
          actions.edit(id, fields).catch(tell(`save ${fields.title || title}`));
        },
        onCancel: done,
      });
      rows.edit(id, form);
      editing.start(id);
    }
  }

  ui.gifts.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    const row = button && button.closest("li[data-gift-id]");
    if (!row || busyGifts(queryClient, page.listId).has(row.dataset.giftId)) return;
    act(button.dataset.action, row.dataset.giftId);
  });

  bindAddForm(ui.addForm, {
    listId: page.listId,
    onAdd: (body) => {
      const added = actions.add(body);
      added.catch(tell(`add ${body.title}`));
      return added;
    },
  });
  bindTyping(ui.addForm, typing);

  // -- live --------------------------------------------------------------------------

  syncGiftList(client, queryClient, page);
  bindStatusBadge(client, ui.badge);
  here.onSync((entries) => bar.render(entries));
  // Whoever left is no longer typing or editing, whatever they last said.
  here.onLeave((userId) => heard?.forget(userId));
  onceReadAfterBaseline(client, queryClient, topics.list, [keys.giftList(page.listId), giftsKey], () => {
    root.dataset.synced = "true";
  });

  /** Into the feed, with the gift's title (a deletion carries none: the last known). */
  function record(event) {
    const { data } = event;
    if (data.entity_type === "gift") {
      const id = String(data.payload.id);
      if (data.payload.title) titles.set(id, data.payload.title);
      feed.add(event, data.payload.title || titles.get(id) || "a gift");
    } else if (data.entity_type === "gift-list" && event.event !== "DELETED") {
      feed.add(event, data.payload.title);
    }
  }

  // Runs before the adapter patches the cache: the gift's title is still there.
  function onListEvent(event) {
    const { data } = event;
    if (data.entity_type === "gift") {
      // The user's own change is on screen already: no flash when it comes back.
      if (event.event !== "DELETED" && !event.echo) rows.highlight(String(data.payload.id));
    } else if (data.entity_type === "gift-list" && event.event === "DELETED") {
      return listGone("This list has been deleted.");
    }
    record(event);
    if (data.user_id && !nameOf(data.user_id)) {
      queryClient.invalidateQueries({ queryKey: keys.family(page.familyId) });
    }
  }

  const following = {
    [topics.list]: client.subscribe(topics.list, onListEvent),
    [topics.family]: client.subscribe(topics.family),
  };
  client.on("forbidden", (topic) => {
    // Refused topics are dropped, so no transport keeps asking for them.
    following[topic]?.();
    delete following[topic];
    if (topic === topics.list) listGone("You no longer have access to this list.");
  });
  client.on("status", (status) => {
    if (status === "signed-out") {
      announce(ui.messages, "You have been signed out. Reload the page to log in again.", "info");
    }
  });
  const notices = bindNotices(client, http, ui.notices, page.me, { past: false });
  client.start();
  // The feed's recent past, as this user may see it (the owner: no claims),
  // and the user's notices, in one read of the log.
  recentEvents(http, { [topics.list]: ACTIVITY_PAST, [notices.topic]: NOTICES_KEPT })
    .then((events) => events.forEach((event) => (event.topic === topics.list ? record : notices.add)(event)))
    .catch((error) => announce(ui.messages, `Could not load the recent activity: ${error.message}`));
}

const client = connection();
mount(document.getElementById("gift-list-app"), {
  client,
  queryClient: createQueryClient(),
  http: createApi(client.fetch),
});
