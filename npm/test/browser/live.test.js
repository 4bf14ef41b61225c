// The real live.wasm in headless Chromium against a live server whose URL
// the harness passes in REFINE_LIVE_TEST_WS (and, for the restart test, an
// HTTP endpoint in REFINE_LIVE_TEST_RESTART_URL that restarts it on POST).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  failWithoutWasmInCI,
  liveServerURL,
  needsInPageSocket,
  needsRestart,
  needsServer,
  needsWasm,
  restartURL,
  useBrowser,
  WORKER_MODES,
} from "./harness.js";

failWithoutWasmInCI(test);

const FAST = { minDelay: 100, maxDelay: 400 };

for (const worker of WORKER_MODES) describe(`live.wasm against a live server (worker: "${worker}")`, () => {
  // Skips are per test so that the runner counts them.
  const skip = needsWasm || needsServer;
  const browser = useBrowser({ before, after }, skip);

  test("a subscribe and a publish made before ready both take effect; events carry a Date", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(
      async ({ url, reconnect, worker }) => {
        // Who opens the WebSockets: the page, or each client's worker.
        const pageSockets = helpers.countPageSockets();
        const { errors, onError } = helpers.errorSink();
        const channel = helpers.uniqueChannel("queued");
        const received = [];
        const subscriber = live.createLiveClient({ url, reconnect, worker, onError });
        subscriber.subscribe({ channel, types: ["*"], callback: (e) => received.push(e) });
        const queuedBeforeReady = subscriber.status !== "open";
        const publisher = live.createLiveClient({ url, reconnect, worker, onError });
        await helpers.publishUntil(publisher, { channel, type: "created", payload: { ids: [1], probe: true } }, () => received.length > 0);
        // The runtime is loaded now, but a new client still queues until its own ready.
        const late = live.createLiveClient({ url, reconnect, worker, onError });
        late.publish({ channel, type: "updated", payload: { ids: [2], queued: true } });
        const lateWasQueued = late.stats() === null;
        await helpers.until(() => received.some((e) => e.payload.queued), 10000, "the queued publish");
        const event = received.find((e) => e.payload.queued);
        await Promise.all([subscriber.close(), publisher.close(), late.close()]);
        pageSockets.restore();
        return {
          errors: errors.map((e) => e.code),
          pageSockets: pageSockets.count > 0,
          queuedBeforeReady,
          lateWasQueued,
          isDate: event.date instanceof Date,
          dateIsRecent: Math.abs(Date.now() - event.date.getTime()) < 60000,
          channel: event.channel === channel,
          type: event.type,
          ids: event.payload.ids,
        };
      },
      { url: liveServerURL, reconnect: FAST, worker },
    );
    assert.deepEqual(result, {
      errors: [],
      pageSockets: worker === "none",
      queuedBeforeReady: true,
      lateWasQueued: true,
      isDate: true,
      dateIsRecent: true,
      channel: true,
      type: "updated",
      ids: [2],
    });
    await page.close();
  });

  test("at start-up a status listener sees connecting then open, and the subscription goes queued → subscribing → subscribed", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(
      async ({ url, reconnect, worker }) => {
        const client = live.createLiveClient({ url, reconnect, worker, debug: true });
        const statuses = [client.status];
        client.onStatusChange((s) => statuses.push(s));
        const states = [];
        client.onSubscriptionState((info, previous) => states.push(`${previous}>${info.state}`));
        const channel = helpers.uniqueChannel("startup");
        client.subscribe({ channel, callback() {} });
        const queued = client.subscriptions().map((s) => s.state);
        await helpers.until(() => client.subscriptions()[0].state === "subscribed", 10000, "subscribed");
        const list = client.subscriptions();
        await client.close();
        return { statuses, states, queued, list: list.map((s) => ({ ...s, channel: s.channel === channel })) };
      },
      { url: liveServerURL, reconnect: FAST, worker },
    );
    assert.deepEqual(result.statuses, ["idle", "connecting", "open", "closed"]);
    assert.deepEqual(result.queued, ["queued"]);
    assert.deepEqual(result.states, ["queued>subscribing", "subscribing>subscribed", "subscribed>unsubscribed"]);
    assert.deepEqual(result.list, [{ id: 1, channel: true, state: "subscribed" }]);
    // debug: true printed the engine's lifecycle.
    const lines = browser.consoleLines.filter((l) => l.startsWith("debug: [refine-live-wasm]"));
    for (const want of ["status idle → connecting", `dialing ${liveServerURL}`, 'from server: {"action":"hello"', 'from server: {"action":"subscribed"']) {
      assert.ok(lines.some((l) => l.includes(want)), `console.debug lacks ${want}:\n${lines.join("\n")}`);
    }
    await page.close();
  });

  test("an unsubscribe before ready sends nothing for that channel", { skip: skip || needsInPageSocket(worker) }, async () => {
    const page = await browser.newPage();
    const frames = await page.evaluate(
      async ({ url, reconnect, worker }) => {
        const counting = helpers.countingWebSocket();
        const client = live.createLiveClient({ url, reconnect, worker, WebSocket: counting.WebSocket });
        const cancelled = helpers.uniqueChannel("cancelled");
        const kept = helpers.uniqueChannel("kept");
        client.unsubscribe(client.subscribe({ channel: cancelled, callback() {} }));
        client.subscribe({ channel: kept, callback() {} });
        await helpers.until(() => counting.frames("subscribe", kept).length > 0, 10000, "the kept subscribe");
        await helpers.sleep(300);
        const result = { cancelled: counting.sent.filter((t) => t.includes(cancelled)).length, kept: counting.frames("subscribe", kept).length };
        await client.close();
        return result;
      },
      { url: liveServerURL, reconnect: FAST, worker },
    );
    assert.deepEqual(frames, { cancelled: 0, kept: 1 });
    await page.close();
  });

  test("StrictMode's subscribe → unsubscribe → subscribe sends one server subscribe", { skip: skip || needsInPageSocket(worker) }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(
      async ({ url, reconnect, worker }) => {
        const counting = helpers.countingWebSocket();
        const client = live.createLiveClient({ url, reconnect, worker, WebSocket: counting.WebSocket });
        const publisher = live.createLiveClient({ url, reconnect, worker });
        const channel = helpers.uniqueChannel("strict");
        const first = [];
        const second = [];
        // Before ready (queued in JavaScript)...
        client.unsubscribe(client.subscribe({ channel, callback: (e) => first.push(e) }));
        const mounted = client.subscribe({ channel, callback: (e) => second.push(e) });
        await client.ready;
        await helpers.until(() => client.status === "open", 10000, "open");
        // ...and once connected (Go's linger must absorb it).
        const channel2 = helpers.uniqueChannel("strict-open");
        const third = [];
        client.unsubscribe(client.subscribe({ channel: channel2, callback() {} }));
        client.subscribe({ channel: channel2, callback: (e) => third.push(e) });
        await helpers.publishUntil(publisher, { channel, type: "updated", payload: { ids: [1] } }, () => second.length > 0);
        await helpers.publishUntil(publisher, { channel: channel2, type: "updated", payload: { ids: [1] } }, () => third.length > 0);
        await helpers.sleep(1500);
        const counts = {
          subscribes: counting.frames("subscribe", channel).length,
          unsubscribes: counting.frames("unsubscribe", channel).length,
          subscribesOpen: counting.frames("subscribe", channel2).length,
          unsubscribesOpen: counting.frames("unsubscribe", channel2).length,
          firstCallback: first.length,
        };
        client.unsubscribe(mounted);
        await Promise.all([client.close(), publisher.close()]);
        return counts;
      },
      { url: liveServerURL, reconnect: FAST, worker },
    );
    assert.deepEqual(result, { subscribes: 1, unsubscribes: 0, subscribesOpen: 1, unsubscribesOpen: 0, firstCallback: 0 });
    await page.close();
  });

  test("with filterIds, useOne subscriptions only see events for their id", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(
      async ({ url, reconnect, worker }) => {
        const client = live.createLiveClient({ url, reconnect, worker, filterIds: true });
        const publisher = live.createLiveClient({ url, reconnect, worker });
        const channel = helpers.uniqueChannel("resources/posts");
        const one = [];
        const list = [];
        client.subscribe({ channel, types: ["*"], params: { subscriptionType: "useOne", id: 1, ids: [1] }, callback: (e) => one.push(e) });
        client.subscribe({ channel, types: ["*"], params: { subscriptionType: "useList" }, callback: (e) => list.push(e) });
        const other = { channel, type: "updated", payload: { ids: [2] } };
        const mine = { channel, type: "updated", payload: { ids: ["1"] } };
        await helpers.publishUntil({ publish: (e) => (publisher.publish(other), publisher.publish(e)) }, mine, () => one.length > 0);
        await helpers.until(() => list.some((e) => e.payload.ids[0] === 2), 5000, "the list event");
        await Promise.all([client.close(), publisher.close()]);
        return { oneIds: [...new Set(one.map((e) => String(e.payload.ids)))] };
      },
      { url: liveServerURL, reconnect: FAST, worker },
    );
    assert.deepEqual(result.oneIds, ["1"]);
    await page.close();
  });

  if (worker !== "none") {
    test("stats() answers at once from the counters the worker posted last", { skip }, async () => {
      const page = await browser.newPage();
      const result = await page.evaluate(
        async ({ url, reconnect, worker }) => {
          const client = live.createLiveClient({ url, reconnect, worker });
          const publisher = live.createLiveClient({ url, reconnect, worker });
          const channel = helpers.uniqueChannel("stats");
          const got = [];
          client.subscribe({ channel, callback: (e) => got.push(e) });
          const beforeReady = client.stats();
          await helpers.publishUntil(publisher, { channel, type: "updated", payload: { ids: [1] } }, () => got.length > 0);
          const first = client.stats();
          // Fresh counters follow a delivery, at most 250 ms later.
          await helpers.until(() => client.stats().eventsDelivered >= got.length, 5000, "the delivery counted");
          const stats = client.stats();
          await Promise.all([client.close(), publisher.close()]);
          return { beforeReady, first: typeof first, funcCount: stats.funcCount > 0, afterClose: client.stats() };
        },
        { url: liveServerURL, reconnect: FAST, worker },
      );
      assert.deepEqual(result, { beforeReady: null, first: "object", funcCount: true, afterClose: null });
      await page.close();
    });

    test("a worker that fails to load is reported with its URL, and the engine runs in the page", { skip }, async () => {
      const page = await browser.newPage();
      const result = await page.evaluate(
        async ({ url, reconnect, worker }) => {
          const pageSockets = helpers.countPageSockets();
          const { errors, onError } = helpers.errorSink();
          const client = live.createLiveClient({ url, reconnect, worker, workerURL: "/no-such-worker.js", onError });
          const publisher = live.createLiveClient({ url, reconnect });
          const channel = helpers.uniqueChannel("fallback");
          const got = [];
          client.subscribe({ channel, callback: (e) => got.push(e) });
          await helpers.publishUntil(publisher, { channel, type: "updated", payload: { ids: [1] } }, () => got.length > 0);
          await Promise.all([client.close(), publisher.close()]);
          pageSockets.restore();
          return { errors, status: client.status, pageSockets: pageSockets.count > 0 };
        },
        { url: liveServerURL, reconnect: FAST, worker },
      );
      // "shared" falls back to "dedicated", which fails too, then to the page.
      const tried = worker === "shared" ? ["shared", "dedicated"] : [worker];
      assert.equal(result.errors.length, tried.length, JSON.stringify(result.errors));
      tried.forEach((kind, i) => {
        assert.equal(result.errors[i].code, "ERR_WASM_LOAD");
        assert.match(result.errors[i].message, new RegExp(`^the ${kind} worker http://127\\.0\\.0\\.1:\\d+/no-such-worker\\.js failed to load: `));
      });
      assert.deepEqual({ status: result.status, pageSockets: result.pageSockets }, { status: "closed", pageSockets: true });
      await page.close();
    });
  }

  test("a server restart ends in a resync event", { skip: skip || needsRestart }, async () => {
    const page = await browser.newPage();
    await page.evaluate(
      async ({ url, reconnect, worker }) => {
        const channel = helpers.uniqueChannel("resources/restart");
        window.restartTest = { channel, events: [], statuses: [] };
        const client = live.createLiveClient({ url, reconnect, worker });
        const publisher = live.createLiveClient({ url, reconnect, worker });
        window.restartTest.clients = [client, publisher];
        client.onStatusChange((s) => window.restartTest.statuses.push(s));
        client.subscribe({ channel, types: ["*"], callback: (e) => window.restartTest.events.push(e) });
        await helpers.publishUntil(publisher, { channel, type: "created", payload: { ids: [1] } }, () => window.restartTest.events.length > 0);
      },
      { url: liveServerURL, reconnect: FAST, worker },
    );
    const response = await fetch(restartURL, { method: "POST" });
    assert.ok(response.ok, `restart endpoint answered ${response.status}`);
    const result = await page.evaluate(async () => {
      const t = window.restartTest;
      await helpers.until(() => t.events.some((e) => live.isResyncEvent(e)), 20000, "a resync event");
      const resync = t.events.find((e) => live.isResyncEvent(e));
      await Promise.all(t.clients.map((c) => c.close()));
      return {
        channel: resync.channel === t.channel,
        type: resync.type,
        resync: resync.payload.resync,
        reason: typeof resync.payload.reason,
        isDate: resync.date instanceof Date,
        reconnected: t.statuses.includes("reconnecting") || t.statuses.includes("connecting"),
      };
    });
    assert.deepEqual(result, { channel: true, type: "*", resync: true, reason: "string", isDate: true, reconnected: true });
    await page.close();
  });
});
