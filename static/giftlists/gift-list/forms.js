// forms.js: the gift forms: adding one, and editing one in its row.

import { el } from "../dom.js";

function field(id, label, input) {
  return el("div", { className: "field" }, el("label", { htmlFor: id }, label), input);
}

/** The fields of an edit form, as the API takes them. */
function editedFields(form) {
  const values = Object.fromEntries(new FormData(form));
  return {
    title: values.title.trim(),
    price: values.price === "" ? null : values.price,
    url: values.url.trim(),
    notes: values.notes,
  };
}

/** A form editing `gift`; `onSave(fields)` or `onCancel()` ends it. */
export function editForm(gift, { onSave, onCancel }) {
  const prefix = `edit-${gift.id}`;
  const input = (name, props) => el("input", { id: `${prefix}-${name}`, name, ...props });
  const form = el(
    "form",
    { className: "edit-gift", "aria-label": `Edit ${gift.title}` },
    field(`${prefix}-title`, "Title", input("title", { required: true, maxLength: 200, value: gift.title })),
    el(
      "div",
      { className: "field-row" },
      field(`${prefix}-price`, "Price", input("price", { type: "number", min: "0", step: "0.01", value: gift.price || "" })),
      field(`${prefix}-url`, "Link", input("url", { type: "url", maxLength: 500, value: gift.url || "" })),
    ),
    field(
      `${prefix}-notes`,
      "Notes",
      el("textarea", { id: `${prefix}-notes`, name: "notes", rows: 2, value: gift.notes || "" }),
    ),
    el(
      "div",
      { className: "gift-actions" },
      el("button", { type: "submit", className: "small" }, "Save"),
      el("button", { type: "button", className: "small secondary", dataset: { action: "cancel" } }, "Cancel"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSave(editedFields(form));
  });
  form.querySelector('[data-action="cancel"]').addEventListener("click", (event) => {
    event.stopPropagation();
    onCancel();
  });
  return form;
}

/**
 * The page's "Add a gift" form: `onAdd(body)` returns a promise that rejects when
 * the server refuses, and the refused gift goes back into the form if it is
 * still empty, so nothing typed is lost.
 */
export function bindAddForm(form, { listId, onAdd }) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    const body = { list: Number(listId), title: values.title.trim() };
    if (values.price !== "") body.price = values.price;
    if (values.url.trim()) body.url = values.url.trim();
    if (values.notes && values.notes.trim()) body.notes = values.notes;
    form.reset();
    form.querySelector("input").focus();
    onAdd(body).catch(() => {
      if (form.elements.title.value) return;
      form.elements.title.value = body.title;
      form.elements.price.value = body.price || "";
      form.elements.url.value = body.url || "";
      if (form.elements.notes) form.elements.notes.value = body.notes || "";
    });
  });
}

/**
 * Say "typing" while the add form is being filled in (`typing.typed()`, which
 * throttles), and stop when it is sent, emptied or left (`typing.stopped()`).
 */
export function bindTyping(form, typing) {
  const empty = () => [...new FormData(form).values()].every((value) => !String(value).trim());
  form.addEventListener("input", () => (empty() ? typing.stopped() : typing.typed()));
  form.addEventListener("submit", () => typing.stopped());
  form.addEventListener("focusout", (event) => {
    if (!form.contains(event.relatedTarget)) typing.stopped();
  });
}

