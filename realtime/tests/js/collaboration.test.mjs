// Presence, client events and echoes (PROTOCOL.md section 7) in the browser
// client, on transports the test drives by hand.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { CONNECTION_HEADER, RealtimeClient, RealtimeError, Status } from "../../static/realtime/realtime.js";
import { FakeClock, event, fakeTransports, flush } from "./fakes.mjs";

const TOPIC = "gift-list:1";

async function started(options = {}) {
  const clock = new FakeClock();
  const fakes = fakeTransports();
  const fetched = [];
  const client = new RealtimeClient(options, {
    transports: fakes.transports,
    fetch: async (input, init) => {
      fetched.push({ input, init });
      return new Response("{}");
    },
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    random: () => 0.5,
    location: { href: "http://testserver/lists/1/" },
    window: null,
    document: null,
  });
  const seen = [];
  for (const kind of ["error", "forbidden"]) client.on(kind, (value) => seen.push([kind, value]));
  client.subscribe(TOPIC);
  client.start();
  await flush();
  const ws = fakes.last("websocket");
  return { client, clock, fakes, ws, fetched, seen };
}

async function welcomed(options) {
  const world = await started(options);
  world.ws.welcome({ connection_id: "conn-1", heartbeat_interval: 30 });
  world.ws.receive({ type: "subscribed", topics: [TOPIC], seqs: { [TOPIC]: 0 } });
  return world;
}

const entry = (id, name, connections = 1) => ({ user_id: id, name, initials: name[0].toUpperCase(), connections });
const names = (presence) => presence.list((_id, e) => e.name);

describe("presence", () => {
  test("a state, then diffs merged by user id", async () => {
    const { client, ws } = await welcomed();
    const presence = client.presence(TOPIC);
    const syncs = [];
    const joins = [];
    const leaves = [];
    presence.onSync((list) => syncs.push(list.map((e) => e.name)));
    presence.onJoin((id) => joins.push(id));
    presence.onLeave((id) => leaves.push(id));
    assert.deepEqual(syncs, [[]]); // called at once with what is known

    ws.receive({ type: "presence_state", topic: TOPIC, present: { 1: entry("1", "alice"), 2: entry("2", "bob") } });
    ws.receive({ type: "presence_diff", topic: TOPIC, joins: { 3: entry("3", "carol") }, leaves: { 1: entry("1", "alice") } });
    assert.deepEqual(names(presence), ["bob", "carol"]);
    assert.deepEqual(Object.keys(presence.state), ["2", "3"]);
    assert.deepEqual(joins, ["1", "2", "3"]);
    assert.deepEqual(leaves, ["1"]);
    assert.deepEqual(syncs.at(-1), ["bob", "carol"]);
  });

  test("a join of someone present and a leave of someone absent are harmless", async () => {
    const { client, ws } = await welcomed();
    const presence = client.presence(TOPIC);
    const events = [];
    presence.onJoin((id) => events.push(["join", id]));
    presence.onLeave((id) => events.push(["leave", id]));
    ws.receive({ type: "presence_state", topic: TOPIC, present: { 2: entry("2", "bob") } });
    let syncs = 0;
    presence.onSync(() => syncs++);
    syncs = 0;
    ws.receive({ type: "presence_diff", topic: TOPIC, joins: { 2: entry("2", "bob", 2) }, leaves: {} });
    ws.receive({ type: "presence_diff", topic: TOPIC, joins: {}, leaves: { 9: entry("9", "zed") } });
    ws.receive({ type: "presence_diff", topic: TOPIC, joins: { 2: entry("2", "bob", 2) }, leaves: { 9: entry("9", "zed") } });
    assert.deepEqual(events, [["join", "2"]]); // only the state's
    assert.deepEqual(presence.state, { 2: entry("2", "bob", 2) }); // the newer entry
    assert.equal(syncs, 2); // the no-op leave changed nothing
  });

  test("a presence that arrives before anyone asks is kept for them", async () => {
    const { client, ws } = await welcomed();
    ws.receive({ type: "presence_state", topic: TOPIC, present: { 2: entry("2", "bob") } });
    const lists = [];
    client.presence(TOPIC).onSync((list) => lists.push(list.map((e) => e.user_id)));
    assert.deepEqual(lists, [["2"]]);
  });

  test("the connection ends: nobody is known present; a new state replaces all", async () => {
    const { client, clock, fakes, ws } = await welcomed();
    const presence = client.presence(TOPIC);
    ws.receive({ type: "presence_state", topic: TOPIC, present: { 1: entry("1", "alice"), 2: entry("2", "bob") } });
    const lists = [];
    presence.onSync((list) => lists.push(list.map((e) => e.name)));
    ws.end();
    assert.deepEqual(names(presence), []);
    await clock.tick(1000);
    const again = fakes.last("websocket");
    assert.notEqual(again, ws);
    again.welcome({ connection_id: "conn-2", heartbeat_interval: 30 });
    again.receive({ type: "subscribed", topics: [TOPIC], seqs: { [TOPIC]: 0 } });
    again.receive({ type: "presence_state", topic: TOPIC, present: { 2: entry("2", "bob"), 3: entry("3", "carol") } });
    assert.deepEqual(lists, [["alice", "bob"], [], ["bob", "carol"]]);
  });

  test("topics not followed are ignored; one no longer followed is emptied", async () => {
    const { client, ws } = await welcomed();
    ws.receive({ type: "presence_state", topic: "gift-list:2", present: { 2: entry("2", "bob") } });
    assert.deepEqual(names(client.presence("gift-list:2")), []);
    const stop = client.subscribe("gift-list:3");
    ws.receive({ type: "presence_state", topic: "gift-list:3", present: { 2: entry("2", "bob") } });
    assert.deepEqual(names(client.presence("gift-list:3")), ["bob"]);
    stop();
    assert.deepEqual(names(client.presence("gift-list:3")), []);
  });

  test("presence arrives the same way on the fallbacks' streams", async () => {
    const { client, fakes, ws } = await started({ failuresBeforeFallback: 1 });
    ws.end();
    const sse = fakes.last("sse");
    sse.welcome({ type: "subscribed", topics: [TOPIC], seqs: { [TOPIC]: 0 } });
    sse.receive({ type: "presence_state", topic: TOPIC, present: { 2: entry("2", "bob") } });
    assert.deepEqual(names(client.presence(TOPIC)), ["bob"]);
  });
});

describe("client events", () => {
  test("publish sends a request with an id and resolves on its published", async () => {
    const { client, ws } = await welcomed();
    const sent = client.publish(TOPIC, "typing", { active: true });
    assert.deepEqual(ws.sent, [{ type: "publish", topic: TOPIC, event: "typing", data: { active: true }, id: "c1" }]);
    ws.receive({ type: "published", id: "c1" });
    assert.deepEqual(await sent, { type: "published", id: "c1" });
  });

  test("a refusal rejects with the server's code, and is not taken for a lost topic", async () => {
    const { client, ws, seen } = await welcomed();
    const sent = client.publish(TOPIC, "shouting", {});
    ws.receive({ type: "error", code: "forbidden", message: "not allowed here", id: "c1", topic: TOPIC });
    await assert.rejects(sent, (error) => error instanceof RealtimeError && error.code === "forbidden");
    // A reply that comes after its request gave up is no news either.
    ws.receive({ type: "error", code: "forbidden", message: "late", id: "c99", topic: TOPIC });
    assert.deepEqual(seen, []);
    assert.deepEqual(client.topics(), [TOPIC]);
  });

  test("only a welcomed WebSocket publishes; other cases reject at once, clearly", async () => {
    const { client, clock, fakes, ws } = await started({ failuresBeforeFallback: 2 });
    await assert.rejects(client.publish(TOPIC, "typing"), { code: "not_connected" });
    ws.welcome();
    await assert.rejects(client.publish("gift-list:9", "typing"), { code: "not_subscribed" });
    ws.end({ opened: false });
    assert.equal(client.status, Status.RECONNECTING);
    await assert.rejects(client.publish(TOPIC, "typing"), { code: "not_connected" });
    await clock.tick(1000);
    fakes.last("websocket").end({ opened: false });
    fakes.last("sse").welcome({});
    assert.equal(client.canPublish, false);
    await assert.rejects(client.publish(TOPIC, "typing"), (error) => {
      assert.equal(error.code, "websocket_required");
      assert.match(error.message, /Server-Sent Events/);
      return true;
    });
  });

  test("a request whose socket closes, or that gets no reply, is refused", async () => {
    const { client, clock, fakes, ws } = await welcomed({ publishTimeout: 5000 });
    const lost = client.publish(TOPIC, "typing");
    ws.end();
    await assert.rejects(lost, { code: "connection_lost" });
    await clock.tick(1000);
    fakes.last("websocket").welcome();
    const silent = client.publish(TOPIC, "typing");
    const outcome = silent.catch((error) => error.code);
    await clock.tick(5000);
    assert.equal(await outcome, "timeout");
  });

  test("on(topic, event, handler) hears that topic's events of that name", async () => {
    const { client, ws } = await welcomed();
    const heard = [];
    const stop = client.on(TOPIC, "typing", (data, message) => heard.push([message.user_id, data]));
    client.on(TOPIC, "editing", (data) => heard.push(["editing", data]));
    const typing = (topic, userId) => ({ type: "client_event", topic, event: "typing", data: { active: true }, user_id: userId });
    ws.receive(typing(TOPIC, "3"));
    ws.receive(typing("gift-list:2", "4")); // not followed
    ws.receive({ type: "client_event", topic: TOPIC, event: "editing", data: { gift: "8" }, user_id: "3" });
    stop();
    ws.receive(typing(TOPIC, "5"));
    assert.deepEqual(heard, [
      ["3", { active: true }],
      ["editing", { gift: "8" }],
    ]);
  });

  test("the subscribe says presence: false when the client is not to be shown", async () => {
    const { WebSocketTransport } = await import("../../static/realtime/transports/websocket.js");
    const sent = [];
    const transport = new WebSocketTransport(
      {
        env: { setTimeout: () => 0, clearTimeout: () => {} },
        options: { presence: false },
        topics: () => [TOPIC],
        positions: () => new Map(),
      },
      { open: () => {}, message: () => {}, close: () => {} },
    );
    transport.opened = true;
    transport.send = (message) => sent.push(message);
    transport.subscribe([TOPIC]);
    assert.deepEqual(sent, [{ type: "subscribe", topics: [TOPIC], presence: false }]);
  });
});

describe("echoes", () => {
  test("client.fetch names the connection on writes to this origin only", async () => {
    const { client, fetched } = await welcomed();
    await client.fetch("/api/gifts/", { method: "POST", headers: { Accept: "application/json" } });
    await client.fetch("/api/gifts/");
    await client.fetch("https://elsewhere.example/api/", { method: "POST" });
    await client.fetch(new Request("http://testserver/api/gifts/1/", { method: "DELETE" }));
    assert.deepEqual(fetched[0].init.headers, { Accept: "application/json", [CONNECTION_HEADER]: "conn-1" });
    assert.equal(fetched[1].init, undefined);
    assert.equal(fetched[2].init.headers, undefined);
    assert.equal(fetched[3].init.headers.get(CONNECTION_HEADER), "conn-1");
    assert.deepEqual(client.connectionHeaders(), { [CONNECTION_HEADER]: "conn-1" });
  });

  test("no connection, no header; a new connection, its new id", async () => {
    const { client, clock, fakes, ws, fetched } = await welcomed();
    ws.end();
    await client.fetch("/api/gifts/", { method: "POST" });
    assert.deepEqual(client.connectionHeaders(), {});
    await clock.tick(1000);
    fakes.last("websocket").welcome({ connection_id: "conn-2", heartbeat_interval: 30 });
    await client.fetch("/api/gifts/", { method: "PATCH", headers: new Headers({ A: "b" }) });
    assert.equal(fetched[0].init.headers, undefined);
    assert.equal(fetched[1].init.headers.get(CONNECTION_HEADER), "conn-2");
    assert.equal(fetched[1].init.headers.get("A"), "b");
  });

  test("an echoed event is delivered, in its place, marked as one", async () => {
    const { client, ws } = await welcomed();
    const seen = [];
    client.subscribe(TOPIC, (e) => seen.push([e.seq, e.echo === true]));
    ws.receive(event(TOPIC, 1));
    ws.receive({ ...event(TOPIC, 2), echo: true });
    ws.receive({ ...event(TOPIC, 2), echo: true }); // a repeat is still a repeat
    assert.deepEqual(seen, [
      [1, false],
      [2, true],
    ]);
    assert.equal(client.positions.get(TOPIC), 2);
  });
});
