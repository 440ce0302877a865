// inspector.js: staff follow any topic and see its raw events as they arrive.

import { announce, bindStatusBadge, connect, el } from "./live.js";

// The topic grammar of the wire contract; the server checks it again.
const TOPIC = /^[a-z][a-z0-9-]{0,39}:[A-Za-z0-9_.-]{1,64}$/;
// Rows kept in the table; older ones are dropped so a busy topic stays cheap.
const MAX_ROWS = 200;

const form = document.getElementById("follow");
const input = document.getElementById("topic");
const followedList = document.getElementById("followed");
const followedEmpty = document.getElementById("followed-empty");
const tbody = document.getElementById("events");
const count = document.getElementById("event-count");
const messages = document.getElementById("messages");

const client = connect();
bindStatusBadge(client, document.getElementById("connection"));
const followed = new Map(); // topic -> unsubscribe
const live = new Set(); // followed topics whose position the server has told us
let received = 0;

function renderFollowed() {
  followedEmpty.hidden = followed.size > 0;
  followedList.replaceChildren(
    ...[...followed.keys()].map((topic) => {
      const stop = el(
        "button",
        { type: "button", className: "small secondary", "aria-label": `Stop following ${topic}` },
        "Stop",
      );
      stop.addEventListener("click", () => unfollow(topic));
      const state = live.has(topic) ? "following" : "joining…";
      return el(
        "li",
        { dataset: { topic, live: live.has(topic) } },
        el("code", {}, topic),
        " ",
        el("span", { className: "meta" }, state),
        " ",
        stop,
      );
    }),
  );
}

function follow(topic) {
  if (followed.has(topic)) return;
  followed.set(
    topic,
    client.subscribe(topic, (event) => show(event)),
  );
  renderFollowed();
}

function unfollow(topic, reason) {
  const stop = followed.get(topic);
  if (!stop) return;
  stop();
  followed.delete(topic);
  live.delete(topic);
  renderFollowed();
  if (reason) announce(messages, reason);
}

function show(event) {
  received += 1;
  count.textContent = `(${received})`;
  const time = new Date(event.data && event.data.timestamp);
  const json = el("pre", {}, JSON.stringify(event, null, 2));
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
  const detail = el(
    "tr",
    { className: "raw" },
    el("td", { colSpan: 7 }, el("details", {}, el("summary", {}, "Raw event"), json)),
  );
  tbody.prepend(row, detail);
  while (tbody.children.length > MAX_ROWS * 2) tbody.lastElementChild.remove();
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

document.getElementById("clear").addEventListener("click", () => {
  tbody.replaceChildren();
  received = 0;
  count.textContent = "(0)";
});

client.on("error", (error) => {
  const reason = `${error.topic ? `${error.topic}: ` : ""}${error.message || error.code}`;
  if (error.topic && followed.has(error.topic)) unfollow(error.topic, `Refused ${reason}`);
  else announce(messages, `Server error: ${reason}`);
});
client.on("baseline", (topic) => {
  if (!followed.has(topic)) return;
  live.add(topic);
  renderFollowed();
});
client.on("resync", (topic) => {
  announce(messages, `${topic}: events were missed and are no longer in the log.`, "info");
});

// Topics to follow from the address: /inspector/?topic=gift-list:1&topic=family:1
for (const topic of new URLSearchParams(window.location.search).getAll("topic")) {
  if (TOPIC.test(topic)) follow(topic);
}
renderFollowed();
