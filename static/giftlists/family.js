// family.js: one family's page, live: its members and its lists.
//
// The server renders the page and every change is a plain form; this module
// keeps the members and lists in step with family:<id> (someone joins, leaves
// or is removed; a list is added, renamed or deleted) through TanStack Query,
// tells you when you are no longer a member, and copies invitation links.

import { applyToList } from "../realtime/adapters/apply.js";
import { connectQueryClient } from "../realtime/adapters/tanstack.js";
import { announce, el, flash } from "./dom.js";
import { api, apiAll } from "./http.js";
import { longDate, renderLists, squash } from "./lists.js";
import { bindNotices } from "./notices.js";
import { bindStatusBadge, connection } from "./live.js";
import { createQueryClient, keys, onceReadAfterBaseline, reads, watch } from "./queries.js";

function memberItem(member, { familyId, me, canRemove }) {
  const isMe = String(member.id) === me;
  return el(
    "li",
    { dataset: { userId: member.id } },
    el("span", { className: "member-name" }, member.username),
    isMe && [" ", el("span", { className: "meta" }, "(you)")],
    member.is_admin && [" ", el("span", { className: "tag" }, "admin")],
    " ",
    el("span", { className: "meta" }, `joined ${longDate(member.joined_at)}`),
    canRemove &&
      !isMe && [
        " ",
        el(
          "a",
          { className: "member-action", href: `/families/${familyId}/members/${member.id}/remove/` },
          "Remove",
          el("span", { className: "visually-hidden" }, ` ${member.username}`),
        ),
      ],
  );
}

/** Show `members` in `list`; unchanged rows stay, ids in `highlights` flash. */
function renderMembers(list, members, options, highlights) {
  const shown = new Map([...list.children].map((item) => [item.dataset.userId, item]));
  list.replaceChildren(
    ...members.map((member) => {
      const id = String(member.id);
      const fresh = memberItem(member, options);
      const old = shown.get(id);
      const item = old && squash(old.textContent) === squash(fresh.textContent) ? old : fresh;
      if (highlights.delete(id)) flash(item);
      return item;
    }),
  );
}

/** The copy button of a new invitation link: shown only where it can work. */
function bindCopyButton(button, status) {
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  button.hidden = false;
  button.addEventListener("click", async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      input.select();
    }
    status.textContent = copied
      ? "Link copied. Paste it into a message to whoever you invite."
      : "Could not copy: the link is selected, copy it yourself.";
  });
}

/**
 * The page that shows a new invitation link answers a POST: turned into the
 * family page's own address, a reload reads the page again instead of sending
 * the form once more (which would make another link).
 */
function forgetTheForm(familyId) {
  if (window.location.pathname.endsWith("/invitations/")) {
    window.history.replaceState(null, "", `/families/${familyId}/`);
  }
}

function mount(root, { client, queryClient, http }) {
  const familyId = root.dataset.familyId;
  forgetTheForm(familyId);
  const me = root.dataset.userId;
  const staff = root.dataset.staff === "true";
  const topic = `family:${familyId}`;
  const read = reads(http);
  const messages = document.getElementById("messages");
  const membersList = document.getElementById("members");
  const listsSection = root.querySelector(".family-lists");
  const highlights = { members: new Set(), lists: new Set() };
  const familyKey = keys.family(familyId);
  const listsKey = keys.familyLists(familyId);

  connectQueryClient(client, queryClient, {
    queryKeysFor: (followed, event) => {
      if (followed !== topic) return [];
      if (!event) return [familyKey, listsKey];
      const kind = event.data.entity_type;
      if (kind === "gift-list") return [listsKey];
      if (kind === "family" || kind === "membership") return [familyKey];
      return [];
    },
    patch: (cache, event) => {
      if (event.data.entity_type !== "gift-list") return false;
      if (cache.getQueryData(listsKey) === undefined) return false;
      cache.setQueryData(listsKey, (rows) => applyToList(rows, event));
      return true;
    },
  });

  let gone = false;
  function noLongerAMember() {
    if (gone) return;
    gone = true;
    stopAll();
    document.getElementById("family-body").remove();
    announce(messages, "You are no longer a member of this family.", "info");
    messages.append(el("p", {}, el("a", { href: "/" }, "Go to my families")));
  }

  const stops = [];
  const stopAll = () => stops.splice(0).forEach((stop) => stop());

  stops.push(
    client.subscribe(topic, (event) => {
      const { entity_type: kind, payload } = event.data;
      if (event.event === "DELETED") return;
      if (kind === "membership") highlights.members.add(String(payload.user));
      if (kind === "gift-list") highlights.lists.add(String(payload.id));
    }),
  );
  let errors = 0;
  stops.push(
    watch(queryClient, read.family(familyId), (result) => {
      if (result.data) {
        const family = result.data;
        const mine = family.members.find((member) => String(member.id) === me);
        const canRemove = staff || Boolean(mine && mine.is_admin);
        document.getElementById("family-name").textContent = family.name;
        renderMembers(membersList, family.members, { familyId, me, canRemove }, highlights.members);
      }
      if (result.errorUpdateCount > errors) {
        errors = result.errorUpdateCount;
        if (result.error.status === 404) noLongerAMember();
        else announce(messages, `Could not load the family: ${result.error.message}`);
      }
    }),
  );
  stops.push(
    watch(queryClient, read.familyLists(familyId), (result) => {
      if (result.data) renderLists(listsSection, result.data, highlights.lists);
    }),
  );
  onceReadAfterBaseline(client, queryClient, topic, [familyKey, listsKey], () => {
    root.dataset.synced = "true";
  });
  client.on("forbidden", (refused) => {
    if (refused === topic) noLongerAMember();
  });

  bindStatusBadge(client, document.getElementById("connection"));
  bindCopyButton(document.getElementById("copy-invitation"), document.getElementById("copy-status"));
  bindNotices(client, http, document.getElementById("notices"), me);
  client.start();
}

mount(document.getElementById("family-app"), {
  client: connection(),
  queryClient: createQueryClient(),
  http: { api, apiAll },
});
