// worker: "dedicated": the page's half (worker-runtime.js) and the worker's
// (worker.js) talking through a stand-in Worker that copies each message
// with structuredClone and hands it over in a task of its own, as
// postMessage does; a fake Go runs inside.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { createLiveClient } from "../../index.js";
import { goConfig, normalizeOptions } from "../../options.js";
import { runtimeLoader, startWorkerRuntime } from "../../worker-runtime.js";
import { serveWorker } from "../../worker.js";
import { errorSink, fakeRuntime, until } from "./fake-runtime.js";

const URL_ = "ws://h/live";

/** A Worker class whose instances run worker.js over `engine` (the Go in the worker). */
function fakeWorkers(behaviour = "serve") {
  const engine = fakeRuntime();
  const made = [];
  class FakeWorker {
    constructor(url, options) {
      this.url = String(url);
      this.options = options;
      this.terminated = false;
      this.sent = [];
      this.received = [];
      this.onmessage = this.onerror = this.onmessageerror = null;
      const listeners = [];
      this.listeners = listeners;
      made.push(this);
      const scope = {
        postMessage: (message) => {
          const copy = structuredClone(message);
          setImmediate(() => {
            if (this.terminated) return;
            this.received.push(copy);
            this.onmessage?.({ data: copy });
          });
        },
        addEventListener: (_type, fn) => listeners.push(fn),
      };
      if (behaviour === "serve") serveWorker(scope, { load: engine.loadRuntime });
      if (behaviour === "error") setImmediate(() => this.onerror?.({ message: "HTTP 404", preventDefault() {} }));
    }
    postMessage(message) {
      this.sent.push(message);
      const copy = structuredClone(message);
      setImmediate(() => {
        if (!this.terminated) for (const fn of this.listeners) fn({ data: copy });
      });
    }
    terminate() {
      this.terminated = true;
    }
  }
  return { FakeWorker, engine, made, items: (w, kind) => w.received.flatMap((m) => (m.t === "batch" ? m.items : [])).filter((i) => i[0] === kind) };
}

let original;
beforeEach(() => (original = globalThis.Worker));
afterEach(() => {
  if (original === undefined) delete globalThis.Worker;
  else globalThis.Worker = original;
});

/** A dedicated client whose worker runs a fake Go; `page` is the in-page fallback. */
async function dedicated(options = {}, behaviour = "serve") {
  const workers = fakeWorkers(behaviour);
  globalThis.Worker = workers.FakeWorker;
  const page = fakeRuntime();
  const sink = errorSink();
  const client = createLiveClient({ url: URL_, worker: "dedicated", loadRuntime: page.loadRuntime, onError: sink.onError, ...options });
  return { ...workers, page, sink, client };
}

async function running(options) {
  const t = await dedicated(options);
  await until(() => t.engine.loads.length === 1);
  t.engine.finishLoad();
  await t.client.ready;
  return { ...t, worker: t.made[0], go: t.engine.goClients[0] };
}

describe('worker: "dedicated"', () => {
  test("a module worker loads live.wasm with the page's config; each task's commands reach its Go client", async () => {
    const t = await dedicated();
    const states = [];
    t.client.onSubscriptionState((info, previous) => states.push(`${previous}>${info.state}`));
    t.client.subscribe({ channel: "c", callback() {} });
    assert.equal(t.client.stats(), null, "no stats before ready");
    await until(() => t.engine.loads.length === 1);
    t.engine.finishLoad();
    await t.client.ready;
    const [worker] = t.made;
    assert.match(worker.url, /\/worker\.js$/);
    assert.deepEqual(worker.options, { type: "module" });
    const settings = normalizeOptions({ url: URL_ }, assert.fail);
    assert.deepEqual(worker.sent[0], { t: "load", wasmURL: undefined, config: goConfig(settings) });
    const go = t.engine.goClients[0];
    assert.deepEqual(go.config, goConfig(settings));
    await until(() => go.applied.length === 1);
    assert.match(go.applied[0], /^\[\["s",1,"c",\["\*"\],null,0,\d+\]\]$/);
    t.client.publish({ channel: "c", type: "created", payload: { ids: [1] } });
    t.client.reconnect();
    await until(() => go.applied.length === 2);
    assert.equal(go.applied[1], '[["p","c","created",{"ids":[1]},null],["r"]]');
    assert.deepEqual(states, ["queued>subscribing"]);
    assert.equal(t.page.loads.length, 0, "live.wasm never loaded in the page");
    assert.deepEqual(t.sink.errors, []);
    await t.client.close();
  });

  test("events arrive decoded with Dates, after the states Go reported before them", async () => {
    const t = await running();
    const seen = [];
    t.client.onSubscriptionState((info) => seen.push(`state:${info.state}`));
    t.client.subscribe({ channel: "c", callback: (e) => seen.push(e) });
    await until(() => t.go.applied.length === 1);
    t.go.setSubStates([1, "subscribed"]);
    t.go.deliver([1], { channel: "c", type: "updated", payload: { ids: [2] }, date: 1764190800000 });
    await until(() => seen.length === 3);
    assert.deepEqual(seen.slice(0, 2), ["state:subscribing", "state:subscribed"]);
    assert.ok(seen[2].date instanceof Date);
    assert.equal(seen[2].date.getTime(), 1764190800000);
    assert.deepEqual(seen[2].payload, { ids: [2] });
    // The worker posted both in one message, the event already parsed.
    const batch = t.worker.received.find((m) => m.t === "batch" && m.items.some((i) => i[0] === "events"));
    assert.deepEqual(batch.items.map((i) => i[0]).filter((k) => k !== "stats"), ["substates", "events"]);
    const events = batch.items.find((i) => i[0] === "events")[1];
    assert.ok(events[0][1].date instanceof Date, "a Date, cloned");
    await t.client.close();
  });

  test("status with reasons, errors with codes, and with debug the worker's log lines reach the page", async () => {
    const lines = [];
    const debug = console.debug;
    console.debug = (...args) => lines.push(args.join(" "));
    try {
      const t = await running({ debug: true });
      const changes = [];
      t.client.onStatusChange((s, previous, reason) => changes.push([previous, s, reason]));
      t.client.subscribe({ channel: "c", callback() {} });
      t.go.setStatus("connecting", "connect_called");
      t.go.setStatus("open", "opened", URL_);
      t.go.hooks.onError("ERR_SUBSCRIBE_REFUSED", "not allowed", "c", "forbidden", 0);
      t.go.hooks.onLog("debug", `dialing ${URL_}`);
      await until(() => t.sink.errors.length === 1 && t.client.status === "open");
      assert.deepEqual(changes, [
        ["idle", "connecting", { code: "connect_called", message: "" }],
        ["connecting", "open", { code: "opened", message: URL_ }],
      ]);
      const [err] = t.sink.errors;
      assert.deepEqual([err.code, err.message, err.channel, err.serverCode, err.closeCode], ["ERR_SUBSCRIBE_REFUSED", "not allowed", "c", "forbidden", undefined]);
      await until(() => lines.some((l) => l.includes(`dialing ${URL_}`)));
      assert.ok(lines.some((l) => l === `[refine-live-wasm] dialing ${URL_}`));
      await t.client.close();
    } finally {
      console.debug = debug;
    }
  });

  test("Go's token requests are answered by the app's getToken in the page", async () => {
    let calls = 0;
    const t = await running({
      getToken: () => {
        calls++;
        if (calls === 2) throw new Error("no session");
        return `tok-${calls}`;
      },
    });
    assert.equal(t.go.config.hasToken, true);
    assert.equal(await t.go.hooks.getToken(), "tok-1");
    await assert.rejects(t.go.hooks.getToken(), /no session/);
    assert.equal(await t.go.hooks.getToken(), "tok-3");
    await t.client.close();
  });

  test("stats() is synchronous: the counters the worker posted last, refreshed after deliveries and on request", async () => {
    const t = await running();
    const { workerStatsAt, ...first } = t.client.stats();
    assert.ok(workerStatsAt > 0);
    assert.deepEqual(first, { subscriptions: 0, workerMemoryBytes: 0, workerTabs: 1, workerSubscriptions: 0, funcCount: 3, mode: "dedicated" });
    t.go.stats = () => JSON.stringify({ subscriptions: 7 });
    // Asking posts a request; the answer comes back a few tasks later.
    await until(() => t.client.stats().subscriptions === 7);
    t.client.subscribe({ channel: "c", callback() {} });
    await until(() => t.go.applied.length === 1);
    t.go.stats = () => JSON.stringify({ subscriptions: 8 });
    const before = t.items(t.worker, "stats").length;
    for (let i = 0; i < 5; i++) t.go.deliver([1], { channel: "c", type: "t", payload: {}, date: 0 });
    // A stats message the subscribe led to may still carry 7: wait for the
    // counters the deliveries led to.
    await until(() => t.client.stats().subscriptions === 8, 2000);
    // Five deliveries within the interval are throttled: not one stats
    // message each (how many arrive depends on where the interval falls).
    const sent = t.items(t.worker, "stats").length - before;
    assert.ok(sent >= 1 && sent < 5, `${sent} stats messages for 5 deliveries`);
    await t.client.close();
  });

  test("close() closes the Go client in the worker, then ends the worker", async () => {
    const t = await running();
    t.client.subscribe({ channel: "c", callback() {} });
    await t.client.close();
    assert.equal(t.go.closed, true);
    assert.equal(t.worker.terminated, true);
    assert.equal(t.client.status, "closed");
    assert.equal(t.client.stats(), null);
    // The subscribe of the closing task went before the close.
    assert.equal(t.go.ops("subscribe").length, 1);
  });

  test("a client closed while its worker loads ends the worker", async () => {
    const t = await dedicated();
    await until(() => t.engine.loads.length === 1);
    await t.client.close();
    t.engine.finishLoad();
    await until(() => t.made[0].terminated);
    assert.equal(t.engine.goClients.length, 1);
  });

  test("live.wasm failing to load inside the worker is retried with backoff, in a new worker", async () => {
    const t = await dedicated({ reconnect: { minDelay: 5, maxDelay: 10 } });
    t.client.subscribe({ channel: "c", callback() {} });
    await until(() => t.engine.loads.length === 1);
    t.engine.failLoad();
    await until(() => t.sink.errors.length === 1);
    assert.equal(t.sink.errors[0].code, "ERR_WASM_LOAD");
    assert.match(t.sink.errors[0].message, /^in the dedicated worker .*\/worker\.js: HTTP 404$/);
    assert.equal(t.client.status, "reconnecting");
    assert.equal(t.made[0].terminated, true);
    await until(() => t.engine.loads.length === 2);
    assert.equal(t.made.length, 2);
    t.engine.finishLoad();
    await t.client.ready;
    assert.equal(t.page.loads.length, 0);
    await t.client.close();
  });
});

describe("a worker that fails to load: the client runs in the page", () => {
  test("an error event is reported with the worker's URL, and live.wasm loads in the page", async () => {
    const t = await dedicated({}, "error");
    const got = [];
    t.client.subscribe({ channel: "c", callback: (e) => got.push(e) });
    await until(() => t.page.loads.length === 1);
    assert.equal(t.sink.errors.length, 1);
    assert.equal(t.sink.errors[0].code, "ERR_WASM_LOAD");
    assert.match(t.sink.errors[0].message, /^the dedicated worker .*\/worker\.js failed to load: HTTP 404$/);
    assert.equal(t.made[0].terminated, true);
    t.page.finishLoad();
    await t.client.ready;
    const go = t.page.goClients[0];
    await until(() => go.ops("subscribe").length === 1);
    go.deliver([1], { channel: "c", type: "t", payload: {}, date: 0 });
    assert.equal(got.length, 1);
    assert.equal(t.made.length, 1, "no other worker is tried");
    await t.client.close();
  });

  test("no ready message within the load timeout", async () => {
    const workers = fakeWorkers("silent");
    globalThis.Worker = workers.FakeWorker;
    const settings = normalizeOptions({ url: URL_, worker: "dedicated", workerURL: "https://x/w.js" }, assert.fail);
    await assert.rejects(startWorkerRuntime({ settings, loadTimeoutMs: 20 }), {
      code: "ERR_WASM_LOAD",
      message: "the dedicated worker https://x/w.js failed to load: no ready message within 20 ms",
    });
    assert.equal(workers.made[0].terminated, true);
    const reported = [];
    const inPage = fakeRuntime();
    const load = runtimeLoader(settings, () => inPage.runtime, (err) => reported.push(err.code), () => {}, { loadTimeoutMs: 20 });
    assert.equal(await load(), inPage.runtime);
    assert.equal(await load(), inPage.runtime, "and stays in the page");
    assert.deepEqual(reported, ["ERR_WASM_LOAD"]);
    assert.equal(workers.made.length, 2);
  });

  test("an environment without Worker", async () => {
    delete globalThis.Worker;
    const page = fakeRuntime();
    const sink = errorSink();
    const client = createLiveClient({ url: URL_, worker: "dedicated", loadRuntime: page.loadRuntime, onError: sink.onError });
    await until(() => page.loads.length === 1);
    assert.deepEqual(sink.codes(), ["ERR_WASM_LOAD"]);
    assert.match(sink.errors[0].message, /worker\.js failed to load: this environment has no Worker/);
    page.finishLoad();
    await client.ready;
    await client.close();
  });
});

describe("the worker option", () => {
  for (const [value, why] of [
    ["threads", /^worker "threads" is invalid; using "auto"$/],
    [true, /^worker boolean true is invalid; using "auto"$/],
  ]) {
    test(`${JSON.stringify(value)} is reported and "auto" is used (here, without workers, in the page)`, async () => {
      delete globalThis.Worker;
      const page = fakeRuntime();
      const sink = errorSink();
      const client = createLiveClient({ url: URL_, worker: value, loadRuntime: page.loadRuntime, onError: sink.onError });
      assert.deepEqual(sink.codes(), ["ERR_INVALID_ARGUMENT"]);
      assert.match(sink.errors[0].message, why);
      await until(() => page.loads.length === 1);
      page.finishLoad();
      await client.ready;
      assert.equal(client.stats().mode, "none");
      await client.close();
    });
  }

  test("a WebSocket option keeps the engine in the page", () => {
    const sink = errorSink();
    const settings = normalizeOptions({ url: URL_, worker: "dedicated", WebSocket: class {} }, sink.onError);
    assert.equal(settings.worker, "none");
    assert.deepEqual(sink.codes(), ["ERR_INVALID_ARGUMENT"]);
  });

  test('a wasmURL goes to the worker absolute; "none" starts no worker', async () => {
    const workers = fakeWorkers();
    globalThis.Worker = workers.FakeWorker;
    const settings = normalizeOptions({ url: URL_, worker: "dedicated", wasmURL: new URL("https://cdn/x/live.wasm") }, assert.fail);
    const starting = startWorkerRuntime({ settings });
    await until(() => workers.engine.loads.length === 1);
    assert.deepEqual(workers.engine.loads, ["https://cdn/x/live.wasm"]);
    workers.engine.finishLoad();
    (await starting).release();
    const inPage = fakeRuntime();
    const none = normalizeOptions({ url: URL_, worker: "none" }, assert.fail);
    assert.equal(none.worker, "none");
    assert.equal(await runtimeLoader(none, () => inPage.runtime, assert.fail, () => {})(), inPage.runtime);
    assert.equal(workers.made.length, 1);
  });
});
