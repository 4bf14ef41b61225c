// The real live.wasm in headless Chromium, without a live server: loading,
// the handshake, globals, retries, bad arguments and release of functions.
// The clients here run in the page (worker: "none"), whose Go runtime and
// functions these tests look at; unit/worker*.test.js and shared.test.js cover
// the worker modes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { closedPortURL, failWithoutWasmInCI, liveServerURL, needsWasm, useBrowser } from "./harness.js";
import { ALLOWED_STATUS_CHANGES } from "./page-helpers.js";



failWithoutWasmInCI(test);

// Nothing listens there: the client keeps retrying, which is what these tests need.
let NOWHERE;

describe("live.wasm in Chromium", () => {
  // Skips are per test so that the runner counts them.
  const skip = needsWasm;
  const browser = useBrowser({ before, after }, skip, async () => {
    NOWHERE = await closedPortURL();
  });

  test("ready resolves and the page keeps no Go globals", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(async (url) => {
      const client = live.createLiveClient({ url, worker: "none", reconnect: { minDelay: 50, maxDelay: 200 } });
      const before = client.status;
      const started = performance.now();
      await client.ready;
      const readyMs = performance.now() - started;
      const leftovers = ["Go", "fs", "process", "path"].filter((name) => name in globalThis);
      const initKeys = Object.getOwnPropertyNames(globalThis).filter((k) => k.startsWith("__refineLive"));
      const stats = client.stats();
      await client.close();
      return { before, readyMs, leftovers, initKeys, funcCount: stats?.funcCount, after: client.status };
    }, NOWHERE);
    // Nothing was asked of it: it loads live.wasm but wants no connection yet.
    assert.equal(result.before, "idle");
    assert.deepEqual(result.leftovers, []);
    assert.deepEqual(result.initKeys, []);
    assert.equal(typeof result.funcCount, "number");
    assert.equal(result.after, "closed");
    console.log(`time to ready: ${result.readyMs.toFixed(0)} ms`);
    await page.close();
  });

  test("a .wasm served with the wrong MIME type still loads", { skip }, async () => {
    const page = await browser.newPage();
    const status = await page.evaluate(async (url) => {
      const client = live.createLiveClient({ url, worker: "none", wasmURL: "/octet/live.wasm" });
      await client.ready;
      await client.close();
      return client.status;
    }, NOWHERE);
    assert.equal(status, "closed");
    assert.ok(browser.server.requests.includes("/octet/live.wasm"));
    await page.close();
  });

  test("a failed load is reported and can be retried", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(async (url) => {
      const sink = helpers.errorSink();
      const broken = live.createLiveClient({ url, worker: "none", wasmURL: "/missing.wasm", onError: sink.onError, reconnect: { minDelay: 60000, maxDelay: 60000 } });
      broken.subscribe({ channel: "c", callback() {} });
      const first = await broken.ready.then(() => "resolved", (err) => err.code);
      const statusAfterFailure = broken.status;
      await broken.close();
      const good = live.createLiveClient({ url, worker: "none" });
      await good.ready;
      await good.close();
      return { first, statusAfterFailure, codes: sink.errors.map((e) => e.code) };
    }, NOWHERE);
    assert.deepEqual(result, { first: "ERR_WASM_LOAD", statusAfterFailure: "reconnecting", codes: ["ERR_WASM_LOAD"] });
    await page.close();
  });

  test("bad arguments never throw, before and after ready", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(async (url) => {
      const sink = helpers.errorSink();
      const provider = live.liveProvider({ url, onError: sink.onError });
      const cyclic = {};
      cyclic.self = cyclic;
      const calls = [
        () => provider.subscribe(undefined),
        () => provider.subscribe({ channel: "c" }),
        () => provider.subscribe({ channel: 42, callback() {} }),
        () => provider.subscribe({ channel: "c", types: "*", callback() {} }),
        () => provider.unsubscribe({}),
        () => provider.unsubscribe(1),
        () => provider.publish(null),
        () => provider.publish({ channel: "c", type: "t", payload: cyclic }),
        () => provider.publish({ channel: "c", type: "t", payload: { big: "x".repeat(2 * 1048576) } }),
      ];
      const thrown = [];
      const run = () => {
        for (const call of calls) {
          try {
            const handle = call();
            if (String(call).includes("provider.subscribe") && !handle) thrown.push(`falsy handle from ${call}`);
          } catch (err) {
            thrown.push(`${call}: ${err}`);
          }
        }
      };
      run();
      await provider.client.ready;
      run();
      const handle = provider.subscribe({ channel: "c", callback() {} });
      provider.unsubscribe(handle);
      provider.unsubscribe(handle);
      await provider.client.close();
      run();
      return { thrown, codes: sink.errors.map((e) => e.code) };
    }, NOWHERE);
    assert.deepEqual(result.thrown, []);
    const expected = [
      "ERR_INVALID_ARGUMENT",
      "ERR_INVALID_ARGUMENT",
      "ERR_INVALID_ARGUMENT",
      "ERR_INVALID_ARGUMENT",
      "ERR_INVALID_ARGUMENT",
      "ERR_INVALID_ARGUMENT",
      "ERR_INVALID_ARGUMENT",
      "ERR_NOT_SERIALIZABLE",
      "ERR_PAYLOAD_TOO_LARGE",
    ];
    assert.deepEqual(result.codes.slice(0, 18), [...expected, ...expected]);
    // After close every call reports something and none throws.
    assert.ok(result.codes.slice(18).length >= 5);
    await page.close();
  });

  test("a server that is not there: the status never goes back, and the error says why", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(async (url) => {
      const sink = helpers.errorSink();
      const client = live.createLiveClient({ url, worker: "none", onError: sink.onError, reconnect: { minDelay: 50, maxDelay: 100 } });
      const statuses = [client.status];
      client.onStatusChange((s, previous) => statuses.push(`${previous}>${s}`));
      client.subscribe({ channel: "c", callback() {} });
      await helpers.until(() => sink.errors.filter((e) => e.code === "ERR_CONNECTION").length >= 2, 10000, "two failed dials");
      await client.close();
      return { statuses, errors: sink.errors };
    }, NOWHERE);
    const [initial, ...changes] = result.statuses;
    assert.equal(initial, "idle");
    assert.equal(changes[0], "idle>connecting");
    for (const change of changes) assert.ok(ALLOWED_STATUS_CHANGES.has(change), `status change ${change} in ${changes}`);
    assert.ok(!changes.slice(1).some((c) => c.endsWith(">idle") || c.endsWith(">connecting")), String(changes));
    // A failed first attempt is shown as what it is: the client is retrying.
    assert.equal(changes[1], "connecting>reconnecting", String(changes));
    const dial = result.errors.find((e) => e.code === "ERR_CONNECTION");
    assert.match(dial.message, /^failed to dial ws:\/\/127\.0\.0\.1:\d+\/live: /);
    assert.match(dial.message, /the connection closed before it opened \(code 1006\): the server is unreachable or refused the handshake \(check that it allows this page's origin\)/);
    await page.close();
  });

  test("a refused channel: one error with its code and channel, and a state the app can see", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(async () => {
      const sink = helpers.errorSink();
      const server = helpers.scriptedServer({ refuse: ["resources/secrets"] });
      const errors = [];
      const client = live.createLiveClient({
        url: "ws://scripted/live",
        WebSocket: server.WebSocket,
        onError: (e) => errors.push({ code: e.code, channel: e.channel, serverCode: e.serverCode, message: e.message }),
      });
      const states = [];
      client.onSubscriptionState((info, previous) => states.push(`${info.id}:${previous}>${info.state}`));
      client.subscribe({ channel: "resources/posts", callback() {} });
      client.subscribe({ channel: "resources/secrets", callback() {} });
      client.subscribe({ channel: "resources/secrets", callback() {} });
      await helpers.until(() => client.subscriptions().every((s) => s.state !== "queued" && s.state !== "subscribing"), 10000, "every answer");
      const list = client.subscriptions();
      await client.close();
      return { errors, states, list, status: client.status, sink: sink.errors };
    });
    assert.deepEqual(
      result.errors.map(({ code, channel, serverCode }) => ({ code, channel, serverCode })),
      [{ code: "ERR_SUBSCRIBE_REFUSED", channel: "resources/secrets", serverCode: "forbidden" }],
    );
    assert.match(result.errors[0].message, /resources\/secrets/);
    assert.equal(result.list[0].state, "subscribed");
    // A refused channel's subscriptions say so: never subscribed, never waiting.
    for (const sub of result.list.slice(1)) assert.equal(sub.state, "refused", JSON.stringify(result.list));
    assert.deepEqual(result.states.slice(0, 3), ["1:queued>subscribing", "2:queued>subscribing", "3:queued>subscribing"]);
    await page.close();
  });

  test("close() gives back every function Go created", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(
      async ({ url, live: hasServer }) => {
        const witness = live.createLiveClient({ url, worker: "none" });
        await witness.ready;
        const start = witness.stats().funcCount;
        const peaks = [];
        for (let round = 0; round < 3; round++) {
          const client = live.createLiveClient({ url, worker: "none", reconnect: { minDelay: 50, maxDelay: 100 } });
          const handles = ["a", "b", "c"].map((ch) => client.subscribe({ channel: `leak/${ch}`, callback() {} }));
          client.publish({ channel: "leak/a", type: "created", payload: { ids: [1] } });
          await client.ready;
          if (hasServer) await helpers.until(() => client.status === "open", 10000, "open");
          else await helpers.sleep(300);
          peaks.push(witness.stats().funcCount);
          client.unsubscribe(handles[0]);
          await client.close();
        }
        await helpers.sleep(200);
        const end = witness.stats().funcCount;
        await witness.close();
        return { start, end, peaks };
      },
      { url: liveServerURL || NOWHERE, live: Boolean(liveServerURL) },
    );
    console.log(`funcCount start ${result.start}, while a second client ran ${result.peaks.join("/")}, end ${result.end}`);
    assert.equal(result.end, result.start);
    await page.close();
  });
});
