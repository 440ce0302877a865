// Each transport on its own, with a fake of what it wraps (a socket, a fetch)
// and a sink that records what it reports to the client.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { PollingTransport } from "../../static/realtime/transports/polling.js";
import { SseTransport } from "../../static/realtime/transports/sse.js";
import { WebSocketTransport } from "../../static/realtime/transports/websocket.js";
import {
  FakeClock,
  event,
  fakeFetch,
  fakeWebSocketClass,
  flush,
  jsonResponse,
  sseResponse,
} from "./fakes.mjs";

const OPTIONS = {
  sseUrl: "/realtime/sse/",
  pollUrl: "/api/realtime/events/",
  token: null,
  pongTimeout: 5000,
  welcomeTimeout: 15000,
  pollInterval: 10000,
};

/** A transport of `Kind` following `topics` from `positions`, and what it said. */
function make(Kind, { topics = ["gift-list:1"], positions = new Map(), ...extra } = {}) {
  const clock = new FakeClock();
  const WebSocket = fakeWebSocketClass();
  const fetch = fakeFetch();
  const env = {
    WebSocket,
    fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    location: { href: "http://testserver/lists/1/" },
  };
  const said = [];
  const sink = {
    open: (info) => said.push(["open", info]),
    message: (message) => said.push(["message", message]),
    cursor: (text) => said.push(["cursor", text]),
    close: (info) => said.push(["close", info]),
  };
  const context = {
    env,
    options: { ...OPTIONS, ...extra.options },
    topics: () => topics,
    positions: () => positions,
    url: "ws://testserver/ws/",
    auth: extra.auth ?? null,
  };
  const transport = new Kind(context, sink);
  const socket = () => WebSocket.sockets.at(-1);
  return { transport, clock, fetch, said, socket, topics, positions };
}

const kinds = (said) => said.map(([kind]) => kind);

describe("WebSocket transport", () => {
  test("once welcomed it opens and subscribes every topic with its position", () => {
    const positions = new Map([["gift-list:1", 7]]);
    const { transport, said, socket } = make(WebSocketTransport, {
      topics: ["gift-list:1", "family:5"],
      positions,
    });
    transport.open();
    assert.deepEqual(socket().sent, []);
    socket().welcome();
    assert.deepEqual(said, [
      ["open", { type: "welcome", connection_id: "c1", user_id: "1", heartbeat_interval: 30 }],
    ]);
    assert.deepEqual(socket().sent, [
      { type: "subscribe", topics: ["gift-list:1", "family:5"], since: { "gift-list:1": 7 } },
    ]);
  });

  test("an auth token goes in the first message, never the URL", () => {
    const { transport, socket } = make(WebSocketTransport, { auth: "tok" });
    transport.open();
    socket().opened();
    assert.equal(socket().url, "ws://testserver/ws/");
    assert.deepEqual(socket().sent, [{ type: "auth", token: "tok" }]);
  });

  test("follow subscribes and unsubscribes only once welcomed", () => {
    const { transport, socket } = make(WebSocketTransport, { topics: [] });
    transport.open();
    transport.follow(["family:5"], []);
    assert.deepEqual(socket().sent, []);
    socket().welcome();
    transport.follow(["family:5"], ["gift-list:1"]);
    assert.deepEqual(socket().sent, [
      { type: "subscribe", topics: ["family:5"] },
      { type: "unsubscribe", topics: ["gift-list:1"] },
    ]);
  });

  test("messages other than welcome and pong go to the client; junk is dropped", () => {
    const { transport, said, socket } = make(WebSocketTransport);
    transport.open();
    socket().welcome();
    socket().onmessage({ data: "not json" });
    socket().receive({ type: "pong" });
    socket().receive(event("gift-list:1", 3));
    assert.deepEqual(kinds(said), ["open", "message"]);
    assert.equal(said[1][1].seq, 3);
  });

  test("no welcome in time closes it as dead", async () => {
    const { transport, clock, said, socket } = make(WebSocketTransport);
    transport.open();
    await clock.tick(15000);
    assert.equal(socket().closedWith, 4000);
    assert.deepEqual(said, [["close", { code: 4000, opened: false, signedOut: false }]]);
  });

  test("a missing pong closes it as dead; a pong in time keeps it", async () => {
    const { transport, clock, said, socket } = make(WebSocketTransport);
    transport.open();
    socket().welcome(10);
    await clock.tick(10000);
    assert.equal(socket().sentOfType("ping").length, 1);
    socket().receive({ type: "pong" });
    await clock.tick(10000);
    await clock.tick(5000);
    assert.equal(socket().closedWith, 4000);
    assert.deepEqual(said.at(-1), ["close", { code: 4000, opened: true, signedOut: false }]);
    assert.deepEqual(clock.pending(), []);
  });

  test("close 4401 reports signed out", () => {
    const { transport, said, socket } = make(WebSocketTransport);
    transport.open();
    socket().drop(4401);
    assert.deepEqual(said, [["close", { code: 4401, opened: false, signedOut: true }]]);
  });

  test("closed by the client it reports nothing more and leaves no timer", async () => {
    const { transport, clock, said, socket } = make(WebSocketTransport);
    transport.open();
    socket().welcome();
    transport.close();
    socket().drop();
    assert.equal(socket().closedWith, 1000);
    assert.equal(transport.send({ type: "ping" }), false);
    assert.deepEqual(kinds(said), ["open"]);
    assert.deepEqual(clock.pending(), []);
  });
});

describe("SSE transport", () => {
  test("streams from the cursor; subscribed opens it; ids are cursors", async () => {
    const positions = new Map([["gift-list:1", 4]]);
    const { transport, fetch, said } = make(SseTransport, { positions });
    const response = sseResponse();
    fetch.route("/realtime/sse/", () => response);
    transport.open();
    await flush();
    const { url, init } = fetch.calls[0];
    assert.equal(url.searchParams.get("topics"), "gift-list:1");
    assert.equal(url.searchParams.get("cursor"), "gift-list:1@4");
    assert.equal(init.headers.Accept, "text/event-stream");
    response.write('event: subscribed\nid: gift-list:1@4\ndata: {"type":"subscribed","topics":["gift-list:1"],"seqs":{"gift-list:1":4}}\n\n');
    response.write(`: keep-alive\n\nid: gift-list:1@5\nevent: UPDATED\ndata: ${JSON.stringify(event("gift-list:1", 5))}\n\n`);
    await flush();
    assert.deepEqual(kinds(said), ["open", "message", "cursor", "message", "cursor"]);
    assert.equal(said[3][1].seq, 5);
    assert.equal(said[4][1], "gift-list:1@5");
  });

  test("presence and client events are handed over as messages like the rest", async () => {
    const { transport, fetch, said } = make(SseTransport);
    const response = sseResponse();
    fetch.route("/realtime/sse/", () => response);
    transport.open();
    await flush();
    const presence = { type: "presence_state", topic: "gift-list:1", present: { 2: { user_id: "2", name: "bob" } } };
    const typing = { type: "client_event", topic: "gift-list:1", event: "typing", data: {}, user_id: "2" };
    response.write('event: subscribed\nid: gift-list:1@0\ndata: {"type":"subscribed","topics":["gift-list:1"],"seqs":{"gift-list:1":0}}\n\n');
    response.write(`event: presence_state\nid: gift-list:1@0\ndata: ${JSON.stringify(presence)}\n\n`);
    response.write(`event: client_event\nid: gift-list:1@0\ndata: ${JSON.stringify(typing)}\n\n`);
    await flush();
    const messages = said.filter(([kind]) => kind === "message").map(([, message]) => message);
    assert.deepEqual(messages.slice(1), [presence, typing]);
    assert.equal(said[0][1].type, "subscribed"); // opened with the stream's subscribed
  });

  test("a stream that ends reports whether it opened and the retry it named", async () => {
    const { transport, fetch, said } = make(SseTransport);
    const response = sseResponse();
    fetch.route("/realtime/sse/", () => response);
    transport.open();
    await flush();
    response.write("retry: 1000\n\n");
    response.end();
    await flush();
    assert.deepEqual(said, [["close", { code: 0, opened: false, signedOut: false, retryAfter: 1000 }]]);
  });

  test("a refused stream reports its status; 401 is signed out", async () => {
    const { transport, fetch, said } = make(SseTransport);
    fetch.route("/realtime/sse/", () => jsonResponse({ code: "unauthenticated" }, 401));
    transport.open();
    await flush();
    assert.deepEqual(said, [["close", { code: 401, opened: false, signedOut: true, retryAfter: 3000 }]]);
  });

  test("new topics restart the stream from the positions; nothing to follow, no stream", async () => {
    const topics = [];
    const { transport, fetch, said } = make(SseTransport, { topics });
    const streams = [];
    fetch.route("/realtime/sse/", (url) => {
      streams.push(url.searchParams.get("topics"));
      return sseResponse();
    });
    transport.open();
    await flush();
    assert.deepEqual(streams, []);
    topics.push("gift-list:1");
    transport.follow(["gift-list:1"], []);
    topics.push("family:5");
    transport.follow(["family:5"], []);
    await flush();
    assert.deepEqual(streams, ["gift-list:1", "gift-list:1,family:5"]);
    assert.equal(fetch.calls[0].init.signal.aborted, true);
    assert.deepEqual(said, []); // the replaced stream is not reported as ended
    transport.close();
    assert.equal(fetch.calls[1].init.signal.aborted, true);
  });
});

describe("polling transport", () => {
  test("polls from the cursor at its interval and hands over events and cursor", async () => {
    const { transport, clock, fetch, said, positions } = make(PollingTransport);
    const cursors = [];
    fetch.route("/api/realtime/events/", (url) => {
      cursors.push(url.searchParams.get("cursor"));
      const events = cursors.length === 1 ? [event("gift-list:1", 7)] : [];
      return jsonResponse({ events, cursor: "gift-list:1@7", recovered: true, more: false });
    });
    transport.open();
    await clock.tick(0);
    assert.deepEqual(kinds(said), ["open", "message", "cursor"]);
    positions.set("gift-list:1", 7); // what the client does with the cursor
    await clock.tick(9999);
    assert.equal(cursors.length, 1);
    await clock.tick(1);
    assert.deepEqual(cursors, [null, "gift-list:1@7"]);
  });

  test("more waiting: polls again at once", async () => {
    const { transport, clock, fetch } = make(PollingTransport);
    let polls = 0;
    fetch.route("/api/realtime/events/", () => {
      polls += 1;
      return jsonResponse({ events: [], cursor: "gift-list:1@1", more: polls === 1 });
    });
    transport.open();
    await clock.tick(0);
    assert.equal(polls, 2);
  });

  test("a page that could not resume is said as a subscribed with recovered false", async () => {
    const { transport, clock, fetch, said } = make(PollingTransport);
    fetch.route("/api/realtime/events/", () =>
      jsonResponse({
        events: [],
        cursor: "gift-list:1@90",
        recovered: false,
        unrecovered: ["gift-list:1"],
      }),
    );
    transport.open();
    await clock.tick(0);
    assert.deepEqual(said[1], [
      "message",
      {
        type: "subscribed",
        topics: ["gift-list:1"],
        seqs: { "gift-list:1": 90 },
        recovered: false,
        unrecovered: ["gift-list:1"],
      },
    ]);
  });

  test("a refusal is an error message and polling goes on", async () => {
    const { transport, clock, fetch, said } = make(PollingTransport);
    fetch.route("/api/realtime/events/", () => jsonResponse({ code: "forbidden", topic: "gift-list:1" }, 403));
    transport.open();
    await clock.tick(0);
    assert.deepEqual(said, [["message", { code: "forbidden", topic: "gift-list:1" }]]);
    await clock.tick(10000);
    assert.equal(fetch.calls.length, 2);
  });

  test("a server error or no answer is an outage; 401 is signed out", async () => {
    for (const [respond, info] of [
      [() => new Response("down", { status: 502 }), { outage: true, signedOut: false }],
      [null, { outage: true, signedOut: false }],
      [() => jsonResponse({}, 401), { outage: false, signedOut: true }],
    ]) {
      const { transport, clock, fetch, said } = make(PollingTransport);
      if (respond) fetch.route("/api/realtime/events/", respond);
      transport.open();
      await clock.tick(0);
      assert.deepEqual(said, [["close", { code: 0, opened: false, ...info }]]);
      assert.deepEqual(clock.pending(), []);
    }
  });
});
