import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { liveProvider } from "../../index.js";
import { backoff } from "../../client.js";
import { closeAfterTest, setup, sub, URL_ } from "./client-setup.js";
import { errorSink, fakeRuntime, flushed, tick } from "./fake-runtime.js";

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
    closeAfterTest(provider.client);
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
