import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isResyncEvent, liveProvider } from "../../index.js";
import { setup, sub, URL_ } from "./client-setup.js";
import { errorSink, flushed } from "./fake-runtime.js";

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
