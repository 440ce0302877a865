// dom.js: building elements, highlighting a change, showing a message.

/** A small element builder: el("li", {className: "x", dataset: {...}}, ...children). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node && !name.startsWith("aria")) node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replay the highlight animation on `node` (CSS class `flash`). */
export function flash(node) {
  node.classList.remove("flash");
  // Reading layout restarts the animation when the class comes back at once.
  void node.offsetWidth;
  node.classList.add("flash");
  node.addEventListener("animationend", () => node.classList.remove("flash"), { once: true });
}

/** Show a message in the page's live region (announced by screen readers). */
export function announce(region, text, kind = "error") {
  region.replaceChildren();
  if (!text) return;
  const message = el("p", { className: `message message-${kind}` }, text);
  const dismiss = el("button", { type: "button", className: "link-button" }, "Dismiss");
  dismiss.addEventListener("click", () => region.replaceChildren());
  message.append(" ", dismiss);
  region.append(message);
}
