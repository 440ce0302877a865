// inspector.js: staff follow any topic and see its raw events as they arrive.

import { announce, el } from "./dom.js";
import { bindStatusBadge, connection } from "./live.js";

// The topic grammar of the wire contract; the server checks it again.
const TOPIC = /^[a-z][a-z0-9-]{0,39}:[A-Za-z0-9_.-]{1,64}$/;
// Rows kept in the table; older ones are dropped so a busy topic stays cheap.
const MAX_ROWS = 200;

/** One event as a table row and, below it, its raw JSON. */
function eventRows(event) {
  const time = new Date(event.data && event.data.timestamp);
  const row = el(
    "tr",
    { dataset: { topic: event.topic, seq: event.seq } },
    el("td", {}, Number.isNaN(time.getTime()) ? "" : time.toLocaleTimeString()),
    el("td", {}, el("code", {}, event.topic)),
    el("td", { className: "seq" }, String(event.seq)),
    el("td", { className: "event-name" }, event.event),
    el("td", {}, `${event.data.entity_type} ${event.data.entity_id}`),
    el("td", {}, event.data.user_id ?? "–"),
    el("td", { className: "trace" }, el("code", {}, event.trace_id ?? "–")),
  );
  const json = el("pre", {}, JSON.stringify(event, null, 2));
  const detail = el(
    "tr",
    { className: "raw" },
    el("td", { colSpan: 7 }, el("details", {}, el("summary", {}, "Raw event"), json)),
  );
  return [row, detail];
}

/** The followed topics, each with its state and a Stop button. */
function renderFollowed(list, empty, followed, onStop) {
  empty.hidden = followed.size > 0;
  list.replaceChildren(
    ...[...followed].map(([topic, { live }]) => {
      const stop = el(
        "button",
        { type: "button", className: "small secondary", "aria-label": `Stop following ${topic}` },
        "Stop",
      );
      stop.addEventListener("click", () => onStop(topic));
      return el(
        "li",
        { dataset: { topic, live } },
        el("code", {}, topic),
        " ",
        el("span", { className: "meta" }, live ? "following" : "joining…"),
        " ",
        stop,
      );
    }),
  );
}

function mount(client, search) {
  const byId = (id) => document.getElementById(id);
  const form = byId("follow");
  const input = byId("topic");
  const tbody = byId("events");
  const count = byId("event-count");
  const messages = byId("messages");
  const followed = new Map(); // topic -> {stop, live: its baseline came}
  let received = 0;

  const render = () => renderFollowed(byId("followed"), byId("followed-empty"), followed, unfollow);

  function show(event) {
    received += 1;
    count.textContent = `(${received})`;
    tbody.prepend(...eventRows(event));
    while (tbody.children.length > MAX_ROWS * 2) tbody.lastElementChild.remove();
  }

  function follow(topic) {
    if (followed.has(topic)) return;
    followed.set(topic, { stop: client.subscribe(topic, show), live: false });
    render();
  }

  function unfollow(topic, reason) {
    const entry = followed.get(topic);
    if (!entry) return;
    entry.stop();
    followed.delete(topic);
    render();
    if (reason) announce(messages, reason);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const topic = input.value.trim();
    if (!TOPIC.test(topic)) {
      announce(messages, `"${topic}" is not a topic: use resource-type:identifier.`);
      return;
    }
    announce(messages, "");
    follow(topic);
    input.value = "";
  });

  byId("clear").addEventListener("click", () => {
    tbody.replaceChildren();
    received = 0;
    count.textContent = "(0)";
  });

  bindStatusBadge(client, byId("connection"));
  client.on("error", (error) => {
    const reason = `${error.topic ? `${error.topic}: ` : ""}${error.message || error.code}`;
    if (error.topic && followed.has(error.topic)) unfollow(error.topic, `Refused ${reason}`);
    else announce(messages, `Server error: ${reason}`);
  });
  client.on("baseline", (topic) => {
    const entry = followed.get(topic);
    if (!entry) return;
    entry.live = true;
    render();
  });
  client.on("resync", (topic) => {
    announce(messages, `${topic}: events were missed and are no longer in the log.`, "info");
  });

  // Topics to follow from the address: /inspector/?topic=gift-list:1&topic=family:1
  for (const topic of new URLSearchParams(search).getAll("topic")) {
    if (TOPIC.test(topic)) follow(topic);
  }
  render();
  client.start();
}

// Staff looking at raw events are not among the people on a list.
mount(connection(window.location.search, { presence: false }), window.location.search);
