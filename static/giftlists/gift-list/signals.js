// signals.js: what people on the list are doing right now, as client events
// (PROTOCOL.md section 7): "typing" while someone fills in the add-gift form,
// "editing" while someone has a gift's edit form open. Sent throttled and
// repeated while they last; heard with an expiry, so that an indicator ends
// even when its sender vanished without saying so. The list's owner never
// hears them (the server sends them to members only), and the owner's page
// does not listen either: nothing here may hint at a surprise.

import { Expiring } from "./expiring.js";

export const TYPING = "typing";
export const EDITING = "editing";

/** Publish, not caring for the answer: a lost signal is repeated or expires. */
function sender(client, topic) {
  return (event, data) => {
    if (!client.canPublish) return; // on a fallback: nobody hears of it
    client.publish(topic, event, data).catch(() => {});
  };
}

/** "typing" while the user types, at most once per `every` ms; then a stop. */
export function typingSender(client, topic, { every, now }) {
  const send = sender(client, topic);
  let last = null; // when "typing" was last sent; null: nothing to take back
  return {
    typed() {
      const time = now();
      if (last !== null && time - last < every) return;
      last = time;
      send(TYPING, { active: true });
    },
    stopped() {
      if (last === null) return;
      last = null;
      send(TYPING, { active: false });
    },
  };
}

/** "editing" a gift, said again every `every` ms while its form is open. */
export function editingSender(client, topic, { every, timers }) {
  const send = sender(client, topic);
  const open = new Map(); // gift id -> timer of its next repeat
  const beat = (gift) => {
    send(EDITING, { gift, active: true });
    open.set(gift, timers.setTimeout(() => beat(gift), every));
  };
  const stop = (id) => {
    const gift = String(id);
    if (!open.has(gift)) return;
    timers.clearTimeout(open.get(gift));
    open.delete(gift);
    send(EDITING, { gift, active: false });
  };
  return {
    start(id) {
      stop(id);
      beat(String(id));
    },
    stop,
    editing: () => [...open.keys()],
  };
}

const userOf = (message) => (message.user_id == null ? "" : String(message.user_id));

/**
 * Who is typing and who edits which gift, as heard from the others (the
 * user's own other tabs are not news): each signal holds for `typingFor` or
 * `editingFor` ms unless repeated. `onChange()` after every change.
 */
export function signalsHeard(client, topic, { me, typingFor, editingFor, timers, onChange }) {
  const typing = new Expiring(timers, onChange); // user id -> user id
  const editing = new Expiring(timers, onChange); // "gift user" -> {gift, user}
  const offTyping = client.on(topic, TYPING, (data, message) => {
    const user = userOf(message);
    if (!user || user === me) return;
    if (data.active === false) typing.delete(user);
    else typing.set(user, user, typingFor);
  });
  const offEditing = client.on(topic, EDITING, (data, message) => {
    const user = userOf(message);
    const gift = data.gift;
    if (!user || user === me || !["string", "number"].includes(typeof gift)) return;
    const key = `${gift} ${user}`;
    if (data.active === false) editing.delete(key);
    else editing.set(key, editing.get(key) || { gift: String(gift), user }, editingFor);
  });
  return {
    typists: () => typing.values(),
    editorsOf: (gift) => editing.values().filter((e) => e.gift === String(gift)).map((e) => e.user),
    /** The user left the list: whatever they were doing is over. */
    forget(user) {
      typing.delete(String(user));
      editing.deleteWhere((entry) => entry.user === String(user));
    },
    stop() {
      offTyping();
      offEditing();
      typing.clear();
      editing.clear();
    },
  };
}

/** "bob", "bob and carol", "alice, bob and carol". */
export function listOfNames(names) {
  if (names.length < 2) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

export function typingText(names) {
  if (!names.length) return "";
  const verb = names.length === 1 ? "is typing a gift idea" : "are typing gift ideas";
  return `${listOfNames(names)} ${verb}…`;
}

export function editingText(names) {
  if (!names.length) return "";
  return `${listOfNames(names)} ${names.length === 1 ? "is" : "are"} editing this gift`;
}
