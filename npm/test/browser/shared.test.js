// worker: "shared" (the default, "auto", where the browser has
// SharedWorker): the tabs of one browser share one worker, one Go client
// per config and one WebSocket. The pages here are tabs of one browser
// profile; the server is this file's own liveserver, so that its metrics
// count these tabs' connections and subscriptions only.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { childServer, freePort } from "../../../scripts/child-server.mjs";
import { engine, failWithoutWasmInCI, needsChromium, needsWasm, packageRoot, useBrowser } from "./harness.js";

const binary = join(packageRoot, "..", "bin", "liveserver");
const needsBinary = existsSync(binary) ? false : "bin/liveserver is missing: run `make bin/liveserver` first";
const skip = needsWasm || needsBinary;
failWithoutWasmInCI(test);

let server = null;
let base = "";

/** The server's gauge `name` (summed over its labels). */
async function gauge(name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`refine_live_${name}{`) || line.startsWith(`refine_live_${name} `)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Waits until the gauge reads `want`; fails with what it read last. */
async function gaugeIs(name, want, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let got;
  while ((got = await gauge(name)) !== want) {
    if (Date.now() > deadline) assert.fail(`${name}: ${got}, want ${want}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** POST /publish: an event from the backend, so that no tab's echo is involved. */
async function publish(event) {
  const res = await fetch(`${base}/publish`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(event) });
  assert.equal(res.status, 200, await res.text());
}

// In a tab: a client with the default worker mode and one subscription per
// channel, whose events it keeps in window.got[channel].
async function openTab(browser, channels, extra = {}) {
  const page = await browser.newPage();
  await page.evaluate(
    async ({ url, channels, extra }) => {
      if (extra.noSharedWorker) delete window.SharedWorker;
      if (extra.noWorker) delete window.Worker;
      const { errors, onError } = helpers.errorSink();
      const client = live.createLiveClient({ url, reconnect: { minDelay: 50, maxDelay: 200 }, onError });
      window.got = {};
      window.errors = errors;
      window.client = client;
      window.handles = {};
      for (const channel of channels) {
        window.got[channel] = [];
        window.handles[channel] = client.subscribe({ channel, callback: (e) => window.got[channel].push(e.payload.n) });
      }
      await client.ready;
      await helpers.until(() => client.subscriptions().every((s) => s.state === "subscribed"), 10000, "every subscription live");
    },
    { url: `${base.replace("http", "ws")}/live`, channels, extra },
  );
  return page;
}

const received = (page, channel) => page.evaluate((channel) => window.got[channel], channel);
const untilReceived = (page, channel, n) =>
  page.evaluate(({ channel, n }) => helpers.until(() => window.got[channel].length >= n, 10000, `${n} events on ${channel}`), { channel, n });

describe(`worker: "shared" across tabs in ${engine}`, () => {
  const browser = useBrowser({ before, after }, skip, async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = childServer(binary, port, ["--any-origin", "--heartbeat", "5s", "--log-level", "warn", "--history-grace", "1h"]);
    await server.start();
  });
  after(async () => {
    await server?.stop();
  });

  test("three tabs: one WebSocket at the server, each tab gets each event once, a tab's echo skips only that tab", { skip }, async () => {
    const tabs = [];
    for (let i = 0; i < 3; i++) tabs.push(await openTab(browser, ["posts"]));
    for (const page of tabs) assert.equal(await page.evaluate(() => window.client.stats().mode), "shared");
    await gaugeIs("connections", 1);
    await gaugeIs("subscriptions", 1);
    for (let n = 1; n <= 3; n++) await publish({ channel: "posts", type: "created", payload: { n } });
    // A tab's own publish: the others get it, it does not.
    await tabs[0].evaluate(() => window.client.publish({ channel: "posts", type: "updated", payload: { n: 4 } }));
    for (const page of tabs.slice(1)) await untilReceived(page, "posts", 4);
    await publish({ channel: "posts", type: "updated", payload: { n: 5 } });
    await untilReceived(tabs[0], "posts", 4);
    for (const page of tabs.slice(1)) await untilReceived(page, "posts", 5);
    assert.deepEqual(await received(tabs[0], "posts"), [1, 2, 3, 5]);
    for (const page of tabs.slice(1)) assert.deepEqual(await received(page, "posts"), [1, 2, 3, 4, 5]);
    for (const page of tabs) assert.deepEqual(await page.evaluate(() => window.errors), []);
    await gaugeIs("connections", 1);
    for (const page of tabs) await page.close();
  });

  test("closing a tab ends its subscriptions; the other tabs keep theirs and keep receiving", { skip }, async () => {
    const stays = await openTab(browser, ["kept"]);
    const goes = await openTab(browser, ["kept", "only-here"]);
    await gaugeIs("subscriptions", 2);
    await goes.close();
    // After the engine's linger (1 s), the channel only the closed tab had ends.
    await gaugeIs("subscriptions", 1);
    await publish({ channel: "kept", type: "created", payload: { n: 1 } });
    await untilReceived(stays, "kept", 1);
    await gaugeIs("connections", 1);
    await stays.close();
  });

  test("a reloaded tab joins the same connection again; StrictMode's subscribe twice is one server subscription", { skip }, async () => {
    const other = await openTab(browser, ["reload"]);
    const page = await openTab(browser, ["reload"]);
    await page.goto(await page.evaluate(() => location.href));
    await page.evaluate(() => helpers.until(() => window.pageReady === true, 10000, "the page after reload"));
    await page.evaluate(async (url) => {
      // The config of openTab's clients: one Go client serves them all.
      const client = live.createLiveClient({ url, reconnect: { minDelay: 50, maxDelay: 200 } });
      window.got = { reload: [] };
      window.client = client;
      // StrictMode: subscribe, unsubscribe, subscribe again at once.
      const first = client.subscribe({ channel: "reload", callback: () => {} });
      client.unsubscribe(first);
      client.subscribe({ channel: "reload", callback: (e) => window.got.reload.push(e.payload.n) });
      await helpers.until(() => client.subscriptions().every((s) => s.state === "subscribed"), 10000, "live again");
    }, `${base.replace("http", "ws")}/live`);
    await publish({ channel: "reload", type: "created", payload: { n: 1 } });
    await untilReceived(page, "reload", 1);
    await untilReceived(other, "reload", 1);
    assert.deepEqual(await received(page, "reload"), [1]);
    await gaugeIs("connections", 1);
    await gaugeIs("subscriptions", 1);
    await page.close();
    await other.close();
  });

  test("a shared worker that dies is noticed by every tab: each connects again, subscribes again and gets a resync", { skip: skip || needsChromium("ending a shared worker"), timeout: 90000 }, async () => {
    const tabs = [await openTab(browser, ["restart"]), await openTab(browser, ["restart"])];
    for (const page of tabs) {
      await page.evaluate(() => {
        window.resyncs = [];
        window.client.subscribe({ channel: "restart", types: ["*"], callback: (e) => e.type === "*" && window.resyncs.push(e.payload.reason) });
      });
    }
    await gaugeIs("subscriptions", 1);
    // As a browser ending it: the tabs' ports go dead, with no message.
    const cdp = await tabs[0].native.context().newCDPSession(tabs[0].native);
    const { targetInfos } = await cdp.send("Target.getTargets");
    const workers = targetInfos.filter((t) => t.type === "shared_worker");
    assert.equal(workers.length, 1, JSON.stringify(targetInfos.map((t) => t.type)));
    await cdp.send("Target.closeTarget", { targetId: workers[0].targetId });
    // A ping unanswered for 20 s: each tab starts the worker again.
    for (const page of tabs) {
      await page.evaluate(() => helpers.until(() => window.resyncs.length > 0, 60000, "a resync after the worker restarted"));
      assert.deepEqual(await page.evaluate(() => window.resyncs), ["worker_restart"]);
    }
    await gaugeIs("connections", 1);
    await gaugeIs("subscriptions", 1);
    await publish({ channel: "restart", type: "created", payload: { n: 1 } });
    for (const page of tabs) await page.evaluate(() => helpers.until(() => window.got.restart.includes(1), 10000, "the event after the restart"));
    for (const page of tabs) assert.equal(await page.evaluate(() => window.client.status), "open");
    for (const page of tabs) await page.close();
  });

  test("without SharedWorker the default runs in a dedicated worker; without Worker too, in the page", { skip }, async () => {
    const dedicated = await openTab(browser, ["fallback"], { noSharedWorker: true });
    const inPage = await openTab(browser, ["fallback"], { noSharedWorker: true, noWorker: true });
    assert.equal(await dedicated.evaluate(() => window.client.stats().mode), "dedicated");
    assert.equal(await inPage.evaluate(() => window.client.stats().mode), "none");
    await gaugeIs("connections", 2);
    await publish({ channel: "fallback", type: "created", payload: { n: 1 } });
    await untilReceived(dedicated, "fallback", 1);
    await untilReceived(inPage, "fallback", 1);
    for (const page of [dedicated, inPage]) assert.deepEqual(await page.evaluate(() => window.errors), [], "a mode the browser lacks is no error");
    await dedicated.close();
    await inPage.close();
  });
});
