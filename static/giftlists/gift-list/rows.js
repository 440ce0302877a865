// rows.js: the gifts as list items, one per gift, kept in the data's order and
// refilled only when what they show changes (a row being edited is left alone).

import { el, flash } from "../dom.js";
import { editingText } from "./signals.js";

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

/** "€12.50" for "12.50" in EUR, in the reader's locale; the bare number if the
 * currency is unknown to the browser. */
export function formatPrice(price, currency) {
  if (price === null || price === undefined || price === "") return "";
  const amount = Number(price);
  if (!Number.isFinite(amount)) return String(price);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
  } catch {
    return `${price} ${currency || ""}`.trim();
  }
}

/** "Still wanted", "Claimed by you", "Bought by carol". */
export function stateText(gift, { me, nameOf }) {
  if (gift.status === "wanted") return "Still wanted";
  const mine = String(gift.claimed_by) === me;
  const who = mine ? "you" : gift.claimed_by_username || nameOf(gift.claimed_by) || "someone";
  return gift.status === "purchased" ? `Bought by ${who}` : `Claimed by ${who}`;
}

function giftButtons(gift, { isOwner, me, busy, closed, confirming }) {
  if (gift.pending || closed) return [];
  const title = gift.title;
  if (confirming) {
    return [
      actionButton("confirm-delete", "Yes, delete", `Yes, delete ${title}`, busy, "danger"),
      actionButton("keep", "Keep", `Keep ${title}`, busy, "secondary"),
    ];
  }
  if (isOwner) {
    return [
      actionButton("edit", "Edit", `Edit ${title}`, busy, "secondary"),
      actionButton("delete", "Delete", `Delete ${title}`, busy, "danger"),
    ];
  }
  if (gift.status === "wanted") {
    return [
      actionButton("claim", "Claim", `Claim ${title}`, busy),
      actionButton("purchase", "Mark bought", `Mark bought: ${title}`, busy, "secondary"),
    ];
  }
  if (gift.status === "claimed" && String(gift.claimed_by) === me) {
    return [
      actionButton("purchase", "Mark bought", `Mark bought: ${title}`, busy),
      actionButton("unclaim", "Unclaim", `Unclaim ${title}`, busy, "secondary"),
    ];
  }
  return [];
}

function fillGift(node, gift, view) {
  node.dataset.giftId = gift.id;
  node.dataset.status = view.isOwner ? "wanted" : gift.status;
  node.classList.toggle("pending", Boolean(gift.pending) || view.busy);
  const href = safeUrl(gift.url);
  const title = href
    ? el("a", { className: "gift-title", href, target: "_blank", rel: "noopener noreferrer" }, gift.title)
    : el("span", { className: "gift-title" }, gift.title);
  const price = gift.price ? el("span", { className: "gift-price" }, formatPrice(gift.price, view.currency)) : null;
  const notes = gift.notes ? el("p", { className: "gift-notes" }, gift.notes) : null;
  const state = gift.pending
    ? el("p", { className: "gift-state" }, "Saving…")
    : view.isOwner
      ? null
      : el("p", { className: "gift-state" }, stateText(gift, view));
  const buttons = giftButtons(gift, view);
  // Said the same to everyone: it must not tell the owner whether it was claimed.
  const question = view.confirming && buttons.length
    ? el("p", { className: "gift-confirm" }, `Delete ${gift.title}? It cannot be undone; anyone who claimed it will be told.`)
    : null;
  const editing = view.editors.length
    ? el("p", { className: "gift-editing", dataset: { editors: view.editors.join(",") } }, editingText(view.editors))
    : null;
  const parts = [
    el("div", { className: "gift-main" }, title, price),
    notes,
    state,
    editing,
    question,
    buttons.length ? el("div", { className: "gift-actions" }, buttons) : null,
  ];
  node.replaceChildren(...parts.filter(Boolean));
}

/**
 * The rows of `list` (an <ul>). `update({gifts, busy, closed, nameOf,
 * editorsOf})` shows the gifts, each with the names of whoever else is editing
 * it (`editorsOf(id)`); `highlight(id)` flashes a gift's row, now or when it appears;
 * `edit(id, form)` shows a form in the row until `stopEditing(id)`;
 * `confirmDelete(id, yes)` asks, in the row, whether to delete it (or stops asking).
 */
export function giftRows(list, { isOwner, me, currency }) {
  const rows = new Map(); // gift id -> {node, signature}
  const editing = new Set();
  const confirming = new Set(); // gifts whose row asks "delete it?"
  const toFlash = new Set(); // rows to flash once they exist
  let shown = null; // the last update's input, to redraw a row after editing

  function update(input) {
    shown = input;
    const { gifts, busy, closed, nameOf, editorsOf = () => [] } = input;
    const seen = new Set();
    let previous = null;
    for (const gift of gifts) {
      const id = String(gift.id);
      seen.add(id);
      let row = rows.get(id);
      if (!row) {
        row = { node: el("li", { className: "gift", tabIndex: -1 }), signature: null };
        rows.set(id, row);
      }
      const editors = gift.pending || closed ? [] : editorsOf(id);
      const view = {
        isOwner,
        me,
        currency,
        busy: busy.has(id),
        closed,
        nameOf,
        editors,
        confirming: confirming.has(id),
      };
      const signature = JSON.stringify([gift, view.busy, closed, stateText(gift, view), editors, view.confirming]);
      if (row.signature !== signature && !editing.has(id)) {
        const hadFocus = row.node.contains(document.activeElement);
        fillGift(row.node, gift, view);
        row.signature = signature;
        if (hadFocus) (row.node.querySelector("button") || row.node).focus();
      }
      const wanted = previous ? previous.nextSibling : list.firstChild;
      if (wanted !== row.node) list.insertBefore(row.node, wanted);
      previous = row.node;
      if (toFlash.delete(id)) flash(row.node);
    }
    for (const [id, row] of rows) {
      if (seen.has(id)) continue;
      row.node.remove();
      rows.delete(id);
      editing.delete(id);
      confirming.delete(id);
    }
  }

  function highlight(id) {
    const row = rows.get(String(id));
    if (row) flash(row.node);
    else toFlash.add(String(id));
  }

  function edit(id, form) {
    const row = rows.get(String(id));
    if (!row) return;
    editing.add(String(id));
    row.node.replaceChildren(form);
    form.querySelector("input").focus();
  }

  function stopEditing(id) {
    editing.delete(String(id));
    const row = rows.get(String(id));
    if (row) row.signature = null;
    if (shown) update(shown);
  }

  function confirmDelete(id, yes) {
    if (yes) confirming.add(String(id));
    else confirming.delete(String(id));
    if (shown) update(shown);
  }

  return { update, highlight, edit, stopEditing, confirmDelete };
}
