// Recovery in whichever engine BROWSER_ENGINE names: connections dropped
// through the harness's proxy while the server keeps its history, so that
// every event published meanwhile must arrive, once and in order.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  engine,
  failWithoutWasmInCI,
  liveServerURL,
  needsProxy,
  needsServer,
  needsWasm,
  proxyControl,
  proxyURL,
  useBrowser,
  WORKER_MODES,
} from "./harness.js";

failWithoutWasmInCI(test);

// In the page: a subscriber through the proxy, and beside it, straight to
// the server, a publisher and a witness that proves each event was stored.
async function setUp({ direct, through, reconnect, worker }) {
  const channel = helpers.uniqueChannel("recovery");
  const rec = { channel, got: [], seen: [], statuses: [] };
  rec.subscriber = live.createLiveClient({ url: through, reconnect, worker });
  rec.subscriber.onStatusChange((s) => rec.statuses.push(s));
  rec.subscriber.subscribe({ channel, callback: (e) => rec.got.push(e.type === "*" ? `resync:${e.payload.reason}` : e.payload.n) });
  rec.publisher = live.createLiveClient({ url: direct, worker });
  rec.witness = live.createLiveClient({ url: direct, worker });
  rec.witness.subscribe({ channel, callback: (e) => rec.seen.push(e.payload.n) });
  await helpers.publishUntil(rec.publisher, { channel, type: "updated", payload: { n: 0 } }, () => rec.got.includes(0) && rec.seen.includes(0));
  window.rec = rec;
}

// While the subscriber is away: publish 1..5 and wait until the witness
// has them all, so the server has stored each one.
async function publishWhileAway() {
  const { rec } = window;
  await helpers.until(() => rec.subscriber.status === "reconnecting", 10000, "the subscriber to notice the drop");
  for (let n = 1; n <= 5; n++) rec.publisher.publish({ channel: rec.channel, type: "updated", payload: { n } });
  await helpers.until(() => [1, 2, 3, 4, 5].every((n) => rec.seen.includes(n)), 10000, "the witness to see 1..5");
}

async function collect() {
  const { rec } = window;
  await helpers.until(() => rec.got.includes(5), 20000, "the subscriber to recover 5");
  await helpers.sleep(300); // a duplicate would arrive right behind
  const out = { got: rec.got.filter((n) => n !== 0), statuses: [...rec.statuses] };
  await Promise.all([rec.subscriber.close(), rec.publisher.close(), rec.witness.close()]);
  return out;
}

for (const worker of WORKER_MODES) describe(`recovery in ${engine} (worker: "${worker}")`, () => {
  const skip = needsWasm || needsServer || needsProxy;
  const browser = useBrowser({ before, after }, skip);

  test("a dropped connection: every event published meanwhile arrives once, in order, with no resync", { skip }, async () => {
    const page = await browser.newPage();
    await page.evaluate(setUp, { direct: liveServerURL, through: proxyURL, reconnect: { minDelay: 100, maxDelay: 400 }, worker });
    await proxyControl("offline");
    try {
      await page.evaluate(publishWhileAway);
    } finally {
      await proxyControl("online");
    }
    const result = await page.evaluate(collect);
    assert.deepEqual(result.got, [1, 2, 3, 4, 5]);
    assert.deepEqual(result.statuses.slice(-2), ["reconnecting", "open"]);
    await page.close();
  });

  // No engine but Chromium emulates going offline for a page, so in every
  // engine the proxy refuses connections while the page is told it went
  // offline, then lets them through as the page is told it is online again.
  // The backoff floor is a minute: only the online signal can bring the
  // client back within the test's deadline.
  test("offline, then online: the online signal reconnects at once and every missed event arrives", { skip }, async () => {
    const page = await browser.newPage();
    await page.evaluate(setUp, { direct: liveServerURL, through: proxyURL, reconnect: { minDelay: 60000, maxDelay: 60000 }, worker });
    await proxyControl("offline");
    try {
      await page.evaluate(() => window.dispatchEvent(new Event("offline")));
      await page.evaluate(publishWhileAway);
    } finally {
      await proxyControl("online");
    }
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    const result = await page.evaluate(collect);
    assert.deepEqual(result.got, [1, 2, 3, 4, 5]);
    await page.close();
  });
});
