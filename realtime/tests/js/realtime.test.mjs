// Unit tests of the browser client (node's test runner, fake sockets and clock).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  RealtimeClient,
  SseParser,
  Status,
  backoffDelay,
  formatCursor,
  parseCursor,
} from "../../static/realtime/realtime.js";
import {
  FakeClock,
  event,
  fakeFetch,
  fakeTransports,
  fakeWebSocketClass,
  fakeWindow,
  flush,
  jsonResponse,
  sseResponse,
} from "./fakes.mjs";

function setup(options = {}, random = () => 0.5) {
  const clock = new FakeClock();
  const WebSocket = fakeWebSocketClass();
  const fetch = fakeFetch();
  const window = fakeWindow();
  const client = new RealtimeClient(options, {
    WebSocket,
    fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    random,
    location: { href: "http://testserver/lists/1/" },
    window,
    document: null,
  });
  const statuses = [];
  client.on("status", (status) => statuses.push(status));
  const sockets = WebSocket.sockets;
  const last = () => sockets[sockets.length - 1];
  return { client, clock, sockets, last, fetch, window, statuses };
}

async function connected(options, random) {
  const world = setup(options, random);
  world.client.start();
  await flush();
  world.last().welcome();
  return world;
}

describe("backoff", () => {
  test("full jitter stays within [0, min(cap, base * 2^attempt))", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(30000, 500 * 2 ** attempt);
      assert.equal(backoffDelay(attempt, 500, 30000, () => 0), 0);
      const high = backoffDelay(attempt, 500, 30000, () => 0.999999);
      assert.ok(high < ceiling && high > ceiling * 0.99, `${attempt}: ${high}`);
    }
    assert.equal(backoffDelay(40, 500, 30000, () => 0.5), 15000);
  });

  test("reconnects after a jittered, growing, capped wait", async () => {
    const { clock, sockets, last, statuses } = await connected({}, () => 0.5);
    last().drop();
    assert.equal(statuses.at(-1), Status.RECONNECTING);
    assert.deepEqual(clock.pending(), [250]); // 0.5 * 500
    await clock.tick(249);
    assert.equal(sockets.length, 1);
    await clock.tick(1);
    assert.equal(sockets.length, 2);
    last().welcome();
    last().drop(); // not stable yet: the next wait doubles
    assert.deepEqual(clock.pending(), [500]);
  });

  test("the backoff starts again after a stable connection", async () => {
    const { clock, last } = await connected({ stableAfter: 10000 });
    last().drop();
    await clock.tick(250);
    last().welcome();
    await clock.tick(10000);
    last().drop();
    assert.equal(Math.min(...clock.pending()), 250);
  });
});

describe("heartbeat", () => {
  test("pings at the server's interval and reconnects when no pong comes", async () => {
    const { clock, sockets, last, statuses } = await connected({ pongTimeout: 5000 });
    await clock.tick(30000);
    assert.equal(sockets[0].sentOfType("ping").length, 1);
    sockets[0].receive({ type: "pong", server_time: "x" });
    await clock.tick(30000);
    assert.equal(sockets[0].sentOfType("ping").length, 2);
    await clock.tick(5000); // no pong this time
    assert.equal(sockets[0].closedWith, 4000);
    assert.equal(statuses.at(-1), Status.RECONNECTING);
    await clock.tick(1000);
    assert.equal(sockets.length, 2);
    assert.ok(last().url.startsWith("ws://testserver/ws/"));
  });
});

describe("subscriptions", () => {
  test("two components on one topic make one subscription", async () => {
    const { client, sockets } = await connected();
    const first = client.subscribe("gift-list:1");
    const second = client.subscribe("gift-list:1");
    assert.deepEqual(sockets[0].sentOfType("subscribe"), [
      { type: "subscribe", topics: ["gift-list:1"] },
    ]);
    first();
    assert.equal(sockets[0].sentOfType("unsubscribe").length, 0);
    second();
    assert.deepEqual(sockets[0].sentOfType("unsubscribe"), [
      { type: "unsubscribe", topics: ["gift-list:1"] },
    ]);
  });

  test("topics followed before the welcome are subscribed on it", async () => {
    const { client, sockets, last } = setup();
    client.subscribe("family:5");
    client.start();
    await flush();
    assert.equal(sockets[0].sent.length, 0);
    last().welcome();
    assert.deepEqual(sockets[0].sent, [{ type: "subscribe", topics: ["family:5"] }]);
  });

  test("after a reconnect every topic is resubscribed with since", async () => {
    const { client, clock, sockets, last } = await connected();
    client.subscribe("gift-list:1");
    client.subscribe("family:5");
    sockets[0].receive({
      type: "subscribed",
      topics: ["gift-list:1", "family:5"],
      seqs: { "gift-list:1": 40, "family:5": 3 },
    });
    sockets[0].receive(event("gift-list:1", 41));
    sockets[0].receive(event("gift-list:1", 42));
    last().drop();
    await clock.tick(250);
    last().welcome();
    assert.deepEqual(last().sent, [
      {
        type: "subscribe",
        topics: ["gift-list:1", "family:5"],
        since: { "gift-list:1": 42, "family:5": 3 },
      },
    ]);
  });

  test("recovered: false asks the app to refetch the lost topics", async () => {
    const { client, sockets } = await connected();
    const resync = [];
    client.on("resync", (topic) => resync.push(topic));
    client.subscribe("gift-list:1");
    sockets[0].receive({
      type: "subscribed",
      topics: ["gift-list:1"],
      seqs: { "gift-list:1": 90 },
      recovered: false,
      unrecovered: ["gift-list:1"],
    });
    assert.deepEqual(resync, ["gift-list:1"]);
    assert.equal(client.positions.get("gift-list:1"), 90);
  });
});

describe("delivery", () => {
  test("events are deduplicated by (topic, seq) and never go backwards", async () => {
    const { client, sockets } = await connected();
    const seen = [];
    client.subscribe("gift-list:1", (e) => seen.push(e.seq));
    sockets[0].receive({ type: "subscribed", topics: ["gift-list:1"], seqs: { "gift-list:1": 0 } });
    for (const seq of [1, 2, 2, 1, 3]) sockets[0].receive(event("gift-list:1", seq));
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test("a failing handler does not stop the others", async () => {
    const { client, sockets } = await connected();
    const seen = [];
    const original = console.error;
    console.error = () => {};
    try {
      client.subscribe("gift-list:1", () => {
        throw new Error("boom");
      });
      client.subscribe("gift-list:1", (e) => seen.push(e.seq));
      sockets[0].receive(event("gift-list:1", 1));
    } finally {
      console.error = original;
    }
    assert.deepEqual(seen, [1]);
  });
});

describe("credentials", () => {
  test("pages signed in by their cookie ask for no ticket and send no token", async () => {
    const { client, fetch, last } = setup();
    client.start();
    await flush();
    assert.equal(fetch.calls.length, 0);
    assert.equal(last().url, "ws://testserver/ws/");
    last().opened();
    assert.deepEqual(last().sent, []);
  });

  test("a token is traded for a ticket and only the ticket is in the URL", async () => {
    const { client, fetch, last } = setup({ token: "tok123" });
    const headers = [];
    fetch.route("/api/realtime/ticket/", (url, init) => {
      headers.push(init.headers.Authorization);
      return jsonResponse({ ticket: "tk_abc", expires_in: 60 }, 201);
    });
    client.start();
    await flush();
    assert.deepEqual(headers, ["Token tok123"]);
    assert.equal(last().url, "ws://testserver/ws/?token=tk_abc");
    last().opened();
    assert.deepEqual(last().sent, []);
  });

  test("with no ticket to be had the token goes in an auth message, not the URL", async () => {
    const { client, last } = setup({ token: "tok123" }); // no ticket route: network error
    client.start();
    await flush();
    assert.equal(last().url, "ws://testserver/ws/");
    last().opened();
    assert.deepEqual(last().sent, [{ type: "auth", token: "tok123" }]);
  });

  test("a token the ticket endpoint refuses means signed out", async () => {
    const { client, fetch, sockets, statuses } = setup({ token: "revoked" });
    fetch.route("/api/realtime/ticket/", () => jsonResponse({ detail: "Invalid token." }, 401));
    client.start();
    await flush();
    assert.equal(sockets.length, 0);
    assert.equal(statuses.at(-1), Status.SIGNED_OUT);
  });
});

describe("signing out", () => {
  test("close 4401 stops retrying and reports signed-out", async () => {
    const { clock, sockets, last, statuses } = await connected();
    last().drop(4401);
    assert.equal(statuses.at(-1), Status.SIGNED_OUT);
    await clock.tick(600000);
    assert.equal(sockets.length, 1);
  });
});

describe("status", () => {
  test("connecting, open, reconnecting, open", async () => {
    const { clock, last, statuses, client } = setup();
    assert.equal(client.status, Status.CONNECTING);
    client.start();
    await flush();
    last().welcome();
    last().drop();
    await clock.tick(250);
    last().welcome();
    assert.deepEqual(statuses, [Status.OPEN, Status.RECONNECTING, Status.OPEN]);
  });

  test("coming back online reconnects at once", async () => {
    const { clock, sockets, window } = await connected({ backoffBase: 60000 });
    sockets[0].drop();
    assert.equal(sockets.length, 1);
    window.fire("online");
    await flush();
    assert.equal(sockets.length, 2);
    await clock.tick(0);
  });
});

describe("fallbacks", () => {
  async function failWebSockets(world, times) {
    for (let n = 0; n < times; n++) {
      await flush();
      world.last().drop(1006); // refused before any welcome
      if (n < times - 1) await world.clock.tick(1000); // the backoff, then a retry
    }
    await flush();
  }

  test("falls back to SSE, then polling, then returns to WebSocket", async () => {
    const world = setup({ retryWebSocketEvery: 60000 });
    const { client, fetch, clock, sockets, statuses } = world;
    const seen = [];
    client.subscribe("gift-list:1", (e) => seen.push(e.seq));
    let sseAttempts = 0;
    fetch.route("/realtime/sse/", () => {
      sseAttempts += 1;
      return new Response("bad gateway", { status: 502 });
    });
    const polls = [];
    fetch.route("/api/realtime/events/", (url) => {
      polls.push(url.searchParams.get("cursor"));
      const events = polls.length === 1 ? [event("gift-list:1", 7)] : [];
      return jsonResponse({ events, cursor: "gift-list:1@7", recovered: true });
    });

    client.start();
    await failWebSockets(world, 3);
    assert.equal(sockets.length, 3);
    assert.ok(statuses.includes(Status.FALLBACK_SSE));
    await clock.tick(3000); // the SSE retry, which fails again
    assert.equal(sseAttempts, 2);
    assert.equal(client.status, Status.FALLBACK_POLL);
    await flush();
    assert.deepEqual(seen, [7]);
    await clock.tick(10000);
    assert.deepEqual(polls, [null, "gift-list:1@7"]);

    // The fallback began at 2 s; WebSocket is tried again a minute later.
    await clock.tick(2000 + 60000 - clock.time);
    await flush();
    assert.equal(sockets.length, 4);
    world.last().welcome();
    assert.equal(client.status, Status.OPEN);
    assert.deepEqual(world.last().sentOfType("subscribe"), [
      { type: "subscribe", topics: ["gift-list:1"], since: { "gift-list:1": 7 } },
    ]);
    const pollsBefore = polls.length;
    await clock.tick(60000);
    assert.equal(polls.length, pollsBefore); // polling stopped
  });

  test("when polling fails too the server is away: back to reconnecting", async () => {
    const world = setup();
    const { client, fetch, clock, sockets, statuses } = world;
    client.subscribe("gift-list:1");
    fetch.route("/realtime/sse/", () => new Response("bad gateway", { status: 502 }));
    client.start();
    await failWebSockets(world, 3);
    await clock.tick(3000); // SSE fails twice: polling, whose request fails too
    await flush();
    assert.equal(client.status, Status.RECONNECTING);
    assert.ok(statuses.includes(Status.FALLBACK_POLL));
    const before = sockets.length;
    await clock.tick(5000);
    assert.equal(sockets.length, before + 1); // the WebSocket is tried again
    world.last().welcome();
    assert.equal(client.status, Status.OPEN);
  });

  test("SSE events are delivered once and the stream cursor resumes", async () => {
    const world = setup();
    const { client, fetch, clock } = world;
    const seen = [];
    client.subscribe("gift-list:1", (e) => seen.push(e.seq));
    const streams = [];
    fetch.route("/realtime/sse/", (url) => {
      const response = sseResponse();
      streams.push({ response, cursor: url.searchParams.get("cursor") });
      return response;
    });
    client.start();
    await failWebSockets(world, 3);
    await flush();
    const first = streams[0].response;
    first.write("retry: 1000\n\n");
    first.write('event: subscribed\nid: gift-list:1@4\ndata: {"type":"subscribed",');
    first.write('"topics":["gift-list:1"],"seqs":{"gift-list:1":4}}\n\n');
    first.write(`: keep-alive\n\nid: gift-list:1@5\nevent: UPDATED\ndata: ${JSON.stringify(event("gift-list:1", 5))}\n\n`);
    first.write("id: gift-list:1@6\n\n"); // no data: not a message
    first.write(`id: gift-list:1@6\nevent: UPDATED\ndata: ${JSON.stringify(event("gift-list:1", 5))}\n\n`);
    await flush();
    assert.deepEqual(seen, [5]);
    first.end();
    await flush();
    await clock.tick(1000);
    assert.equal(streams.length, 2);
    assert.equal(streams[1].cursor, "gift-list:1@6");
  });
});

describe("the client above its transports (fake transports)", () => {
  async function started(options = {}) {
    const clock = new FakeClock();
    const fakes = fakeTransports();
    const client = new RealtimeClient(options, {
      transports: fakes.transports,
      fetch: async () => {
        throw new TypeError("no network in this test");
      },
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      now: clock.now,
      random: () => 0.5,
      location: { href: "http://testserver/" },
      window: null,
      document: null,
    });
    const seen = [];
    for (const kind of ["baseline", "resync", "status"]) {
      client.on(kind, (value) => seen.push([kind, value]));
    }
    client.start();
    await flush();
    return { client, clock, fakes, seen };
  }

  test("topics followed and dropped are passed to the transport in use", async () => {
    const { client, fakes } = await started();
    const ws = fakes.last("websocket");
    ws.welcome();
    const stop = client.subscribe("gift-list:1");
    client.subscribe("gift-list:1");
    stop();
    const last = client.subscribe("family:5");
    last();
    assert.deepEqual(ws.follows, [
      [["gift-list:1"], []],
      [["family:5"], []],
      [[], ["family:5"]],
    ]);
    assert.deepEqual(ws.context.topics(), ["gift-list:1"]);
  });

  test("baseline is announced once per topic, when its position first becomes known", async () => {
    const { client, fakes, seen } = await started();
    client.subscribe("gift-list:1");
    client.subscribe("family:5");
    const ws = fakes.last("websocket");
    ws.welcome();
    ws.receive({ type: "subscribed", topics: ["gift-list:1"], seqs: { "gift-list:1": 3 } });
    ws.receive(event("gift-list:1", 4));
    ws.receive(event("family:5", 1));
    ws.receive({ type: "subscribed", topics: ["gift-list:1"], seqs: { "gift-list:1": 4 } });
    assert.deepEqual(
      seen.filter(([kind]) => kind === "baseline"),
      [
        ["baseline", "gift-list:1"],
        ["baseline", "family:5"],
      ],
    );
    const again = client.subscribe("user:1"); // a topic followed anew counts anew
    ws.reach("user:1@2");
    again();
    client.subscribe("user:1");
    ws.receive({ type: "subscribed", topics: ["user:1"], seqs: { "user:1": 2 } });
    assert.deepEqual(
      seen.filter(([kind]) => kind === "baseline").map(([, topic]) => topic),
      ["gift-list:1", "family:5", "user:1", "user:1"],
    );
  });

  test("cursors move positions forward only; a recovered false may move them back", async () => {
    const { client, fakes, seen } = await started();
    client.subscribe("gift-list:1");
    const ws = fakes.last("websocket");
    ws.welcome();
    ws.reach("gift-list:1@9,family:5@2"); // family:5 is not followed
    ws.reach("gift-list:1@4");
    assert.deepEqual([...client.positions], [["gift-list:1", 9]]);
    ws.receive({ type: "subscribed", topics: ["gift-list:1"], seqs: { "gift-list:1": 2 }, recovered: false });
    assert.deepEqual([...client.positions], [["gift-list:1", 2]]);
    assert.deepEqual(seen.at(-1), ["resync", "gift-list:1"]);
  });

  test("reports of a transport no longer in use are ignored", async () => {
    const { client, clock, fakes } = await started();
    const delivered = [];
    client.subscribe("gift-list:1", (e) => delivered.push(e.seq));
    const first = fakes.last("websocket");
    first.end();
    await clock.tick(250);
    const second = fakes.last("websocket");
    assert.notEqual(first, second);
    first.receive(event("gift-list:1", 1));
    first.end();
    second.welcome();
    second.receive(event("gift-list:1", 2));
    assert.deepEqual(delivered, [2]);
    assert.equal(client.status, Status.OPEN);
  });

  test("the failures that lead from WebSocket to SSE to polling, and back", async () => {
    const { client, clock, fakes, seen } = await started({ retryWebSocketEvery: 60000 });
    client.subscribe("gift-list:1");
    fakes.last("websocket").welcome(); // a welcomed socket is no failure
    fakes.last("websocket").end();
    for (let n = 0; n < 3; n++) {
      await clock.tick(5000);
      fakes.last("websocket").end();
    }
    const sse = fakes.last("sse");
    assert.equal(client.status, Status.FALLBACK_SSE);
    assert.equal(sse.started, true);
    sse.welcome(); // a stream that said subscribed is no failure
    sse.end({ retryAfter: 1000 });
    await clock.tick(1000);
    fakes.last("sse").end(); // a failure: the next try waits its retryAfter
    await clock.tick(3000);
    fakes.last("sse").end();
    assert.equal(client.status, Status.FALLBACK_POLL);
    const polling = fakes.last("polling");
    assert.equal(polling.started, true);

    await clock.tick(60000); // time to try the WebSocket again, beside the polling
    const probe = fakes.last("websocket");
    assert.equal(client.transport, polling);
    probe.receive(event("gift-list:1", 1)); // not in use yet: ignored
    assert.equal(client.positions.has("gift-list:1"), false);
    probe.welcome();
    assert.equal(polling.closed, true);
    assert.equal(client.transport, probe);
    assert.equal(client.status, Status.OPEN);
    assert.ok(seen.some(([kind, value]) => kind === "status" && value === Status.FALLBACK_POLL));
  });

  test("a probe that fails is tried again later; one signed out signs the client out", async () => {
    const { client, clock, fakes } = await started({
      failuresBeforeFallback: 1,
      retryWebSocketEvery: 1000,
    });
    fakes.last("websocket").end();
    const sse = fakes.last("sse");
    await clock.tick(1000);
    const probes = () => fakes.made.filter((t) => t.kind === "websocket").length;
    assert.equal(probes(), 2);
    fakes.last("websocket").end();
    assert.equal(client.transport, sse);
    await clock.tick(1000);
    assert.equal(probes(), 3);
    fakes.last("websocket").end({ code: 4401, signedOut: true });
    assert.equal(client.status, Status.SIGNED_OUT);
    assert.equal(sse.closed, true);
  });
});

describe("wire helpers", () => {
  test("cursor text round-trips", () => {
    const positions = new Map([
      ["gift-list:17", 42],
      ["family:5", 3],
    ]);
    assert.equal(formatCursor(positions), "gift-list:17@42,family:5@3");
    assert.deepEqual(parseCursor("gift-list:17@42,family:5@3"), positions);
    assert.deepEqual(parseCursor("junk,a:1@x,b:2@5"), new Map([["b:2", 5]]));
  });

  test("the SSE parser handles split chunks, CRLF, comments and multi-line data", () => {
    const messages = [];
    const parser = new SseParser((m) => messages.push(m));
    parser.feed("id: a\r\nevent: ADDED\r\nda");
    parser.feed("ta: line1\r\ndata: line2\r\n\r\n: comment\n\ndata:x\n\n");
    assert.deepEqual(messages, [
      { event: "ADDED", data: "line1\nline2", id: "a" },
      { event: "message", data: "x", id: null },
    ]);
  });
});
