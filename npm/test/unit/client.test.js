import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { createLiveClient, isResyncEvent, liveProvider } from "../../index.js";
import { backoff } from "../../client.js";
import { errorSink, fakeRuntime, flushed, tick } from "./fake-runtime.js";

const URL_ = "ws://127.0.0.1:1/live";
let open = [];

function setup(extra = {}) {
  const fake = fakeRuntime();
  const sink = errorSink();
  const client = createLiveClient({ url: URL_, loadRuntime: fake.loadRuntime, onError: sink.onError, ...extra });
  open.push(client);
  return { fake, sink, client, provider: liveProvider(client) };
}

afterEach(async () => {
  await Promise.all(open.map((c) => c.close()));
  open = [];
});

const sub = (channel, callback = () => {}, extra = {}) => ({ channel, types: ["*"], callback, ...extra });

describe("before the runtime is ready", () => {
  test("subscribe returns a truthy frozen handle at once and queues the call", async () => {
    const { fake, client, provider } = setup();
    const handle = provider.subscribe(sub("resources/posts"));
    assert.ok(handle);
    assert.ok(Object.isFrozen(handle));
    assert.equal(client.status, "connecting");
    assert.equal(fake.goClients.length, 0);
    provider.publish({ channel: "resources/posts", type: "created", payload: { ids: [1] }, date: new Date() });
    fake.finishLoad();
    await client.ready;
    const go = fake.goClients[0];
    assert.deepEqual(go.calls[0], ["subscribe", 1, "resources/posts", ["*"], null, false, 0]);
    assert.deepEqual(go.calls[1], ["publish", "resources/posts", "created", '{"ids":[1]}', null]);
  });

  test("unsubscribe before ready cancels the queued subscribe", async () => {
    const { fake, client, provider } = setup();
    const handle = provider.subscribe(sub("resources/posts"));
    provider.unsubscribe(handle);
    fake.finishLoad();
    await client.ready;
    assert.deepEqual(fake.goClients[0].calls, []);
  });

  test("StrictMode subscribe → unsubscribe → subscribe sends one subscribe", async () => {
    const { fake, client, provider } = setup();
    const first = provider.subscribe(sub("resources/posts"));
    provider.unsubscribe(first);
    provider.subscribe(sub("resources/posts"));
    fake.finishLoad();
    await client.ready;
    const go = fake.goClients[0];
    assert.equal(go.ops("subscribe").length, 1);
    assert.equal(go.ops("unsubscribe").length, 0);
  });

  test("the pre-ready publish queue is bounded and drops the oldest", async () => {
    const { fake, sink, client, provider } = setup({ publishQueue: { maxCount: 2 } });
    for (let i = 0; i < 3; i++) provider.publish({ channel: "c", type: "t", payload: { i } });
    assert.deepEqual(sink.codes(), ["ERR_QUEUE_FULL"]);
    fake.finishLoad();
    await client.ready;
    assert.deepEqual(
      fake.goClients[0].ops("publish").map((c) => c[3]),
      ['{"i":1}', '{"i":2}'],
    );
  });
});

describe("mapping Refine's arguments", () => {
  test("config carries the options and their defaults", async () => {
    const { fake, client } = setup({ getToken: async () => "t", reconnect: { minDelay: 100 }, coalesceMs: 50 });
    fake.finishLoad();
    await client.ready;
    assert.deepEqual(fake.goClients[0].config, {
      urls: [URL_],
      protocol: "auto",
      minDelay: 100,
      maxDelay: 20000,
      heartbeatGrace: 10000,
      queueMaxCount: 100,
      queueMaxBytes: 1048576,
      filterIds: false,
      coalesceMs: 50,
      resyncSpreadMs: 250,
      lateResyncMs: 1000,
      debug: false,
      hasToken: true,
    });
    assert.equal(await fake.goClients[0].hooks.getToken(), "t");
  });

  test("ids come from params.ids / params.id for useOne and useMany only", async () => {
    const { fake, client, provider } = setup({ filterIds: true });
    fake.finishLoad();
    await client.ready;
    provider.subscribe(sub("r", undefined, { params: { subscriptionType: "useOne", id: 7, ids: [7] } }));
    provider.subscribe(sub("r", undefined, { params: { subscriptionType: "useMany", ids: [1, "2"] } }));
    provider.subscribe(sub("r", undefined, { params: { subscriptionType: "useOne", id: 0, ids: [] } }));
    provider.subscribe(sub("r", undefined, { params: { subscriptionType: "useList", ids: [1] } }));
    provider.subscribe(sub("r", undefined, { params: { subscriptionType: "useMany", ids: [] } }));
    provider.subscribe({ channel: "r", callback: () => {} });
    provider.subscribe({ channel: "r", types: ["created", "deleted"], callback: () => {} });
    await flushed();
    const calls = fake.goClients[0].ops("subscribe");
    assert.deepEqual(calls.map((c) => c[4]), [["7"], ["1", "2"], ["0"], null, null, null, null]);
    assert.deepEqual(calls[5][3], ["*"]);
    assert.deepEqual(calls[6][3], ["created", "deleted"]);
    assert.deepEqual(calls.map((c) => c[1]), [1, 2, 3, 4, 5, 6, 7]);
  });

  test("by default (filterIds: false) no ids are sent", async () => {
    const { fake, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    provider.subscribe(sub("r", undefined, { params: { subscriptionType: "useOne", id: 7 } }));
    await flushed();
    assert.equal(fake.goClients[0].ops("subscribe")[0][4], null);
  });

  test("params.meta.liveMode off gives an inert handle and sends nothing", async () => {
    const { fake, sink, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    const handle = provider.subscribe(sub("r", undefined, { params: { meta: { liveMode: "off" } } }));
    assert.ok(handle);
    provider.unsubscribe(handle);
    provider.unsubscribe(handle);
    assert.deepEqual(fake.goClients[0].calls, []);
    assert.deepEqual(sink.errors, []);
  });

  test("unsubscribe after ready reaches Go once", async () => {
    const { fake, sink, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    const handle = provider.subscribe(sub("r"));
    provider.unsubscribe(handle);
    provider.unsubscribe(handle);
    await flushed();
    assert.deepEqual(fake.goClients[0].ops("unsubscribe"), [["unsubscribe", 1]]);
    assert.equal(fake.goClients[0].applied.length, 1, "the subscribe and the unsubscribe of one task reach Go in one call");
    assert.deepEqual(sink.errors, []);
  });

  test("publish serializes payload and meta", async () => {
    const { fake, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    provider.publish({ channel: "c", type: "updated", payload: { ids: ["1"] }, date: new Date(), meta: { dataProviderName: "default" } });
    provider.publish({ channel: "c", type: "deleted" });
    await flushed();
    assert.deepEqual(fake.goClients[0].ops("publish"), [
      ["publish", "c", "updated", '{"ids":["1"]}', '{"dataProviderName":"default"}'],
      ["publish", "c", "deleted", "{}", null],
    ]);
  });
});

describe("events", () => {
  test("callbacks get LiveEvents with a Date; one bad callback does not stop the rest", async () => {
    const { fake, sink, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    const seen = [];
    provider.subscribe(sub("c", () => {
      throw new Error("boom");
    }));
    provider.subscribe(sub("c", (e) => seen.push(["b", e])));
    provider.subscribe(sub("d", (e) => seen.push(["c", e])));
    const when = Date.UTC(2025, 10, 26, 21, 0, 0);
    fake.goClients[0].deliver(
      [1, 2],
      { channel: "c", type: "updated", payload: { ids: [1] }, date: when, id: "x" },
      [3],
      { channel: "d", type: "*", payload: { resync: true, reason: "epoch" }, date: when },
    );
    assert.equal(seen.length, 2);
    const [, first] = seen[0];
    assert.ok(first.date instanceof Date);
    assert.equal(first.date.getTime(), when);
    assert.deepEqual(first.payload, { ids: [1] });
    assert.ok(isResyncEvent(seen[1][1]));
    assert.ok(!isResyncEvent(first));
    assert.deepEqual(sink.codes(), ["ERR_CALLBACK"]);
  });

  test("events for unsubscribed ids are dropped", async () => {
    const { fake, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    let calls = 0;
    const handle = provider.subscribe(sub("c", () => calls++));
    provider.unsubscribe(handle);
    fake.goClients[0].deliver([1], { channel: "c", type: "t", payload: {}, date: 0 });
    assert.equal(calls, 0);
  });

  test("a malformed batch is reported, not thrown", async () => {
    const { fake, sink, client } = setup();
    fake.finishLoad();
    await client.ready;
    fake.goClients[0].hooks.onEvents("{not json");
    assert.deepEqual(sink.codes(), ["ERR_INTERNAL"]);
  });
});

describe("bad arguments never throw", () => {
  test("subscribe, unsubscribe and publish report with codes", async () => {
    const { fake, sink, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    const cases = [
      [() => provider.subscribe(undefined), "ERR_INVALID_ARGUMENT"],
      [() => provider.subscribe({ channel: "c" }), "ERR_INVALID_ARGUMENT"],
      [() => provider.subscribe({ channel: 5, callback() {} }), "ERR_INVALID_ARGUMENT"],
      [() => provider.subscribe({ channel: "c", types: "*", callback() {} }), "ERR_INVALID_ARGUMENT"],
      [() => provider.unsubscribe({ channel: "c", id: 1 }), "ERR_INVALID_ARGUMENT"],
      [() => provider.unsubscribe(true), "ERR_INVALID_ARGUMENT"],
      [() => provider.publish("created"), "ERR_INVALID_ARGUMENT"],
      [() => provider.publish({ channel: "c" }), "ERR_INVALID_ARGUMENT"],
      [() => provider.publish({ channel: "c", type: "t", payload: [1] }), "ERR_INVALID_ARGUMENT"],
      [() => provider.publish({ channel: "c", type: "t", payload: { big: "x".repeat(2 * 1048576) } }), "ERR_PAYLOAD_TOO_LARGE"],
      [() => provider.publish({ channel: "c", type: "t", payload: cyclic }), "ERR_NOT_SERIALIZABLE"],
      [() => provider.publish({ channel: "c", type: "t", payload: { n: 1n } }), "ERR_NOT_SERIALIZABLE"],
    ];
    for (const [call, code] of cases) {
      sink.errors.length = 0;
      let result;
      assert.doesNotThrow(() => (result = call()));
      assert.deepEqual(sink.codes(), [code], String(call));
      if (String(call).includes("subscribe(") && !String(call).includes("unsubscribe")) assert.ok(result);
    }
    assert.deepEqual(fake.goClients[0].calls, []);
  });

  test("an unserializable meta is left out, the event still goes", async () => {
    const { fake, sink, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    const meta = {};
    meta.self = meta;
    provider.publish({ channel: "c", type: "t", payload: {}, meta });
    await flushed();
    assert.deepEqual(sink.codes(), ["ERR_NOT_SERIALIZABLE"]);
    assert.deepEqual(fake.goClients[0].ops("publish"), [["publish", "c", "t", "{}", null]]);
  });

  test("bad options are reported and replaced by defaults", async () => {
    const { fake, sink, client } = setup({ protocol: "v9", reconnect: { minDelay: -1 }, coalesceMs: "soon" });
    assert.deepEqual(sink.codes(), ["ERR_INVALID_ARGUMENT", "ERR_INVALID_ARGUMENT", "ERR_INVALID_ARGUMENT"]);
    fake.finishLoad();
    await client.ready;
    const { protocol, minDelay, coalesceMs } = fake.goClients[0].config;
    assert.deepEqual({ protocol, minDelay, coalesceMs }, { protocol: "auto", minDelay: 500, coalesceMs: 0 });
  });

  test("a missing url gives a closed client that still never throws", () => {
    const sink = errorSink();
    const provider = liveProvider({ onError: sink.onError });
    assert.equal(provider.client.status, "closed");
    assert.ok(provider.subscribe(sub("c")));
    provider.publish({ channel: "c", type: "t", payload: {} });
    assert.deepEqual(sink.codes(), ["ERR_INVALID_ARGUMENT", "ERR_CLOSED", "ERR_CLOSED"]);
  });

  test("urls are normalized", async () => {
    const { fake, client } = setup({ url: ["http://h/live", "wss://h:8443/x"] });
    fake.finishLoad();
    await client.ready;
    assert.deepEqual(fake.goClients[0].config.urls, ["ws://h/live", "wss://h:8443/x"]);
  });
});

describe("status and lifecycle", () => {
  test("status follows Go and listeners can be removed", async () => {
    const { fake, client, provider } = setup();
    const seen = [];
    const remove = client.onStatusChange((s, prev) => seen.push(`${prev}>${s}`));
    provider.subscribe(sub("c"));
    fake.finishLoad();
    await client.ready;
    const go = fake.goClients[0];
    go.setStatus("connecting");
    go.setStatus("open");
    go.setStatus("reconnecting");
    remove();
    go.setStatus("open");
    assert.deepEqual(seen, ["idle>connecting", "connecting>open", "open>reconnecting"]);
    assert.equal(client.status, "open");
  });

  test("each change carries its reason: Go's code and message, or the shim's own", async () => {
    const { fake, client, provider } = setup();
    const seen = [];
    client.onStatusChange((s, prev, reason) => seen.push([`${prev}>${s}`, reason.code, reason.message]));
    provider.subscribe(sub("c"));
    fake.finishLoad();
    await client.ready;
    const go = fake.goClients[0];
    go.setStatus("open", "opened", "ws://h/live");
    go.setStatus("reconnecting", "heartbeat_timeout", "failed to stay connected: heartbeat timeout");
    await client.close();
    assert.deepEqual(seen, [
      ["idle>connecting", "connect_called", ""],
      ["connecting>open", "opened", "ws://h/live"],
      ["open>reconnecting", "heartbeat_timeout", "failed to stay connected: heartbeat timeout"],
      ["reconnecting>closed", "closed_by_app", "the client was closed"],
    ]);
  });

  test("at start-up the status goes idle → connecting → open, never back to idle", async () => {
    const { fake, client, provider } = setup();
    const seen = [client.status];
    client.onStatusChange((s) => seen.push(s));
    provider.subscribe(sub("c"));
    provider.subscribe(sub("d"));
    fake.finishLoad();
    await client.ready;
    const go = fake.goClients[0];
    // Go's client starts idle and dials on the subscribes it was handed.
    assert.equal(go.status(), "idle");
    go.setStatus("connecting");
    go.setStatus("open");
    assert.deepEqual(seen, ["idle", "connecting", "open"]);
  });

  test("a client nothing was asked of stays idle while live.wasm loads, and after", async () => {
    const { fake, client, provider } = setup();
    assert.equal(client.status, "idle");
    fake.finishLoad();
    await client.ready;
    assert.equal(client.status, "idle");
    const seen = [];
    client.onStatusChange((s) => seen.push(s));
    provider.publish({ channel: "c", type: "t" });
    fake.goClients[0].setStatus("connecting");
    fake.goClients[0].setStatus("open");
    assert.deepEqual(seen, ["connecting", "open"]);
  });

  test("after a failed load every attempt reads reconnecting until a connection opens", async () => {
    const { fake, client, provider } = setup({ reconnect: { minDelay: 5, maxDelay: 10 } });
    const seen = [];
    client.onStatusChange((s) => seen.push(s));
    provider.subscribe(sub("c"));
    fake.failLoad();
    await assert.rejects(client.ready);
    while (fake.loads.length < 2) await new Promise((r) => setTimeout(r, 5));
    fake.finishLoad();
    await client.ready;
    const go = fake.goClients[0];
    go.setStatus("connecting"); // Go's first dial, but not the page's first attempt
    go.setStatus("reconnecting");
    go.setStatus("open");
    go.setStatus("reconnecting");
    go.setStatus("open");
    go.setStatus("closed");
    go.setStatus("open");
    assert.deepEqual(seen, ["connecting", "reconnecting", "open", "reconnecting", "open", "closed"]);
    assert.equal(client.status, "closed");
  });

  test("a load that fails before anything was asked leaves the client idle, then reconnecting on first use", async () => {
    const { fake, sink, client, provider } = setup({ reconnect: { minDelay: 60000, maxDelay: 60000 } });
    fake.failLoad();
    await assert.rejects(client.ready, { code: "ERR_WASM_LOAD" });
    assert.equal(client.status, "idle");
    assert.deepEqual(sink.codes(), ["ERR_WASM_LOAD"]);
    provider.subscribe(sub("c"));
    assert.equal(client.status, "reconnecting");
  });

  test("close() closes Go, sets closed, and later calls report ERR_CLOSED", async () => {
    const { fake, sink, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    const handle = provider.subscribe(sub("c"));
    const closing = client.close();
    assert.equal(client.close(), closing);
    await closing;
    assert.equal(client.status, "closed");
    assert.deepEqual(fake.goClients[0].ops("close"), [["close"]]);
    provider.unsubscribe(handle);
    assert.ok(provider.subscribe(sub("c")));
    provider.publish({ channel: "c", type: "t" });
    assert.deepEqual(sink.codes(), ["ERR_CLOSED", "ERR_CLOSED"]);
    assert.equal(client.stats(), null);
  });

  test("close() before ready never creates a Go client", async () => {
    const { fake, client } = setup();
    await client.close();
    fake.finishLoad();
    await tick();
    assert.equal(fake.goClients.length, 0);
    await assert.rejects(client.ready, { code: "ERR_CLOSED" });
  });

  test("a failed load is reported, retried, and the client then works", async () => {
    const { fake, sink, client, provider } = setup({ reconnect: { minDelay: 5, maxDelay: 10 } });
    const firstReady = client.ready;
    provider.subscribe(sub("c"));
    fake.failLoad();
    await assert.rejects(firstReady, { code: "ERR_WASM_LOAD" });
    assert.equal(client.status, "reconnecting");
    assert.deepEqual(sink.codes(), ["ERR_WASM_LOAD"]);
    while (fake.loads.length < 2) await new Promise((r) => setTimeout(r, 5));
    fake.finishLoad();
    await client.ready;
    assert.equal(fake.goClients[0].ops("subscribe").length, 1);
  });

  test("the runtime exiting closes the client", async () => {
    const { fake, sink, client } = setup();
    fake.finishLoad();
    await client.ready;
    fake.exit();
    assert.equal(client.status, "closed");
    assert.deepEqual(sink.codes(), ["ERR_WASM_EXITED"]);
  });

  test("stats include funcCount", async () => {
    const { fake, client } = setup();
    assert.equal(client.stats(), null);
    fake.finishLoad();
    await client.ready;
    assert.equal(client.stats().funcCount, 3);
  });

  test("liveProvider({ url }) makes its own client", () => {
    const sink = errorSink();
    const provider = liveProvider({ url: URL_, loadRuntime: fakeRuntime().loadRuntime, onError: sink.onError });
    open.push(provider.client);
    assert.equal(typeof provider.subscribe, "function");
    assert.equal(typeof provider.unsubscribe, "function");
    assert.equal(typeof provider.publish, "function");
    assert.equal(provider.client.status, "idle");
  });

  test("handles of one client are foreign to another", async () => {
    const a = setup();
    const b = setup();
    const handle = a.provider.subscribe(sub("c"));
    b.provider.unsubscribe(handle);
    assert.deepEqual(b.sink.codes(), ["ERR_INVALID_ARGUMENT"]);
  });
});

describe("the startup window", () => {
  test("a subscribe queued while live.wasm loads reaches Go with how long ago the app called it", async () => {
    const { fake, client, provider } = setup();
    const before = performance.now();
    provider.subscribe(sub("resources/posts"));
    const calledBy = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 40));
    const waited = performance.now() - calledBy;
    fake.finishLoad();
    await client.ready;
    const elapsed = performance.now() - before;
    const go = fake.goClients[0];
    assert.equal(go.ops("subscribe").length, 1);
    const age = go.ages.get(1);
    assert.ok(Number.isInteger(age), `age ${age} is whole milliseconds`);
    assert.ok(age >= Math.floor(waited), `age ${age} ms covers the ${waited.toFixed(1)} ms wait`);
    assert.ok(age <= Math.ceil(elapsed), `age ${age} ms is no more than the ${elapsed.toFixed(1)} ms since the call`);
  });

  test("a subscribe made once Go runs carries an age of about nothing", async () => {
    const { fake, client, provider } = setup();
    fake.finishLoad();
    await client.ready;
    const before = performance.now();
    provider.subscribe(sub("c"));
    await flushed();
    assert.ok(fake.goClients[0].ages.get(1) <= Math.ceil(performance.now() - before));
  });

  test("a channel holding control characters travels in the same batch, with its age", async () => {
    const { fake, client, provider } = setup();
    provider.subscribe(sub("odd\x1e\x1fchannel"));
    provider.subscribe(sub("plain"));
    fake.finishLoad();
    await client.ready;
    await flushed();
    const calls = fake.goClients[0].ops("subscribe");
    assert.deepEqual(calls.map((c) => c[2]), ["odd\x1e\x1fchannel", "plain"]);
    assert.equal(fake.goClients[0].applied.length, 1);
    assert.ok(Number.isInteger(fake.goClients[0].ages.get(1)));
  });
});

describe("subscription states", () => {
  test("queued, subscribing, then what Go says, and unsubscribed; listeners and subscriptions() see each", async () => {
    const { fake, client, provider } = setup();
    const seen = [];
    const off = client.onSubscriptionState((info, previous) => seen.push(`${info.id}:${info.channel}:${previous}>${info.state}`));
    const a = provider.subscribe(sub("resources/posts"));
    const b = provider.subscribe(sub("resources/secrets"));
    assert.deepEqual(client.subscriptions(), [
      { id: 1, channel: "resources/posts", state: "queued" },
      { id: 2, channel: "resources/secrets", state: "queued" },
    ]);
    fake.finishLoad();
    await client.ready;
    const go = fake.goClients[0];
    go.setSubStates([1, "subscribed"], [2, "refused"], [99, "subscribed"]);
    go.setSubStates([1, "subscribed"], [2, "bogus"]);
    assert.deepEqual(client.subscriptions(), [
      { id: 1, channel: "resources/posts", state: "subscribed" },
      { id: 2, channel: "resources/secrets", state: "refused" },
    ]);
    provider.unsubscribe(a);
    assert.deepEqual(client.subscriptions(), [{ id: 2, channel: "resources/secrets", state: "refused" }]);
    go.setSubStates([1, "subscribing"]);
    off();
    provider.unsubscribe(b);
    assert.deepEqual(seen, [
      "1:resources/posts:queued>subscribing",
      "2:resources/secrets:queued>subscribing",
      "1:resources/posts:subscribing>subscribed",
      "2:resources/secrets:subscribing>refused",
      "1:resources/posts:subscribed>unsubscribed",
    ]);
    assert.deepEqual(client.subscriptions(), []);
  });

  test("a refused channel's error carries its code, channel and the server's code", async () => {
    const { fake, sink, client } = setup();
    fake.finishLoad();
    await client.ready;
    fake.goClients[0].hooks.onError("ERR_SUBSCRIBE_REFUSED", "failed to subscribe: resources/secrets: server error forbidden", "resources/secrets", "forbidden", 0);
    fake.goClients[0].hooks.onError("ERR_CONNECTION_CLOSED", "failed to stay connected: …", "", "", 4500);
    const [refused, closed] = sink.errors;
    assert.equal(refused.code, "ERR_SUBSCRIBE_REFUSED");
    assert.equal(refused.channel, "resources/secrets");
    assert.equal(refused.serverCode, "forbidden");
    assert.equal("closeCode" in refused, false);
    assert.equal(closed.closeCode, 4500);
    assert.equal("channel" in closed, false);
  });

  test("close() ends every subscription as unsubscribed", async () => {
    const { fake, client, provider } = setup();
    const seen = [];
    client.onSubscriptionState((info) => seen.push(info.state));
    provider.subscribe(sub("c"));
    fake.finishLoad();
    await client.ready;
    await client.close();
    assert.deepEqual(seen, ["subscribing", "unsubscribed"]);
    assert.deepEqual(client.subscriptions(), []);
  });

  test("a bad listener is reported, a throwing one too", async () => {
    const { sink, client, provider } = setup();
    client.onSubscriptionState("nope");
    client.onSubscriptionState(() => {
      throw new Error("boom");
    });
    provider.unsubscribe(provider.subscribe(sub("c")));
    assert.deepEqual(sink.codes(), ["ERR_INVALID_ARGUMENT", "ERR_CALLBACK"]);
  });
});

describe("debug", () => {
  const capture = async (debug) => {
    const lines = [];
    const original = console.debug;
    console.debug = (...args) => lines.push(args.join(" "));
    try {
      const { fake, client, provider } = setup({ debug });
      provider.subscribe(sub("c"));
      fake.finishLoad();
      await client.ready;
      fake.goClients[0].hooks.onLog("debug", "dialing ws://h/live");
      fake.goClients[0].hooks.onLog("warn", "dial failed: failed to dial ws://h/live: …");
    } finally {
      console.debug = original;
    }
    return lines;
  };

  test("debug: true prints Go's lifecycle lines and the status to console.debug", async () => {
    const lines = await capture(true);
    assert.deepEqual(lines, [
      "[refine-live-wasm] status idle → connecting (connect_called)",
      "[refine-live-wasm] dialing ws://h/live",
      "[refine-live-wasm] warn: dial failed: failed to dial ws://h/live: …",
    ]);
  });

  test("without debug nothing is printed", async () => {
    assert.deepEqual(await capture(false), []);
  });
});

describe("backoff", () => {
  test("the engine's formula: min + r·min(max − min, min·2^n)", () => {
    assert.equal(backoff(500, 20000, 0, () => 0), 500);
    assert.equal(backoff(500, 20000, 0, () => 0.5), 750);
    assert.equal(backoff(500, 20000, 3, () => 0.5), 500 + 0.5 * 4000);
    // Capped: the whole delay stays below max and keeps its full spread.
    assert.equal(backoff(500, 20000, 10, () => 0.999), 500 + 0.999 * 19500);
    assert.equal(backoff(500, 20000, 1000, () => 0), 500);
    for (let n = 0; n < 60; n++) {
      const high = backoff(500, 20000, n, () => 0.999999);
      assert.ok(high >= 500 && high < 20000, `attempt ${n}: ${high}`);
    }
    // A broken random source falls back to the floor.
    assert.equal(backoff(500, 20000, 2, () => 1), 500);
    assert.equal(backoff(500, 500, 5, () => 0.7), 500);
  });
});
