// The scenarios that matter most, with the real Refine app, in whichever
// engine BROWSER_ENGINE names (Chromium by default), through the drivers
// the npm package's browser suite uses (npm/test/browser/engines.js). Each
// page is read only through evaluate, which every engine's driver has; the
// Chromium-only files around this one look deeper (requests, frames).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { launch } from "../../npm/test/browser/engines.js";
import { metric, repoDir, rest, serverPosts, startBackend, startProxy, waitFor } from "./backend.js";

const engine = process.env.BROWSER_ENGINE || "chromium";
const SUBSCRIPTIONS = "refine_live_subscriptions";

let browser;
const cleanups = [];
before(async () => {
  browser = await launch(engine, join(repoDir, "scripts"));
});
after(async () => {
  await browser?.close();
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()();
});

async function backend(opts) {
  const be = await startBackend(opts);
  cleanups.push(() => be.stop());
  return be;
}

async function proxyTo(be) {
  const p = await startProxy(be.port);
  cleanups.push(() => p.close());
  return p;
}

/** Opens the app and waits until its connection badge says open. */
async function open(baseUrl, path, params = {}) {
  const query = new URLSearchParams(params).toString();
  const page = await browser.newPage(`${baseUrl}${path}${query ? `?${query}` : ""}`);
  cleanups.push(() => page.close());
  await waitForStatus(page, "open");
  return page;
}

const statusOf = (page) => page.evaluate(() => document.querySelector('[data-testid="connection-badge"]')?.dataset.status ?? null);

async function waitForStatus(page, status, timeout) {
  let seen;
  await waitFor(`the badge to say ${status}`, async () => (seen = await statusOf(page)) === status, { timeout }).catch((err) => {
    throw new Error(`${err.message}; it says ${seen}`);
  });
}

// Pairs, made objects here: WebDriver hands objects back with their keys
// in its own order.
const listed = async (page) =>
  (
    await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="post-row"]')].map((r) => [r.dataset.id, r.querySelector('[data-testid="post-title"]').textContent]),
    )
  ).map(([id, title]) => ({ id, title }));

async function waitForList(page, rows, what) {
  const want = JSON.stringify(rows);
  let got;
  await waitFor(`${what}: ${want}`, async () => (got = JSON.stringify(await listed(page))) === want).catch((err) => {
    throw new Error(`${err.message}; page shows ${got}`);
  });
}

/** The live events the page's <Refine onLiveEvent> received, oldest first, as "type ids". */
const liveEvents = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="live-event"]')].map((li) => `${li.dataset.type} ${li.dataset.ids ?? ""}`.trim()).reverse(),
  );

test(`${engine}: a change made elsewhere shows up live`, async () => {
  const be = await backend();
  const a = await open(be.url, "/posts");
  const b = await open(be.url, "/posts");
  await waitFor("both pages subscribed", async () => (await metric(be.url, SUBSCRIPTIONS)) === 4);
  await rest(be.url, "PATCH", "/api/posts/1", { title: `Edited while watched in ${engine}` });
  const server = await serverPosts(be.url);
  await waitForList(a, server, "A's list");
  await waitForList(b, server, "B's list");
});

test(`${engine}: StrictMode keeps one server subscription per channel`, async () => {
  const be = await backend();
  const a = await open(be.url, "/posts", { strict: "1" });
  await waitForList(a, await serverPosts(be.url), "the first load");
  // Two hooks on resources/posts and the notifications panel, each mounted
  // twice: still one server subscription per channel.
  await waitFor("two server subscriptions", async () => (await metric(be.url, SUBSCRIPTIONS)) === 2);
  await rest(be.url, "PATCH", "/api/posts/2", { title: "Still live under StrictMode" });
  await waitForList(a, await serverPosts(be.url), "the list after an edit");
  assert.equal(await metric(be.url, SUBSCRIPTIONS), 2);
});

for (const protocol of ["extended", "basic"]) {
  test(`${engine}: a dropped connection (${protocol}) ends equal to the server`, async () => {
    const be = await backend();
    const proxy = await proxyTo(be);
    const b = await open(proxy.url, "/posts", { protocol });
    await waitForList(b, await serverPosts(be.url), "the first load");
    await waitFor("subscribed", async () => (await metric(be.url, SUBSCRIPTIONS)) === 2);
    const seenBefore = (await liveEvents(b)).length;

    proxy.cut();
    await waitForStatus(b, "reconnecting");
    await rest(be.url, "DELETE", "/api/posts/3");
    await rest(be.url, "POST", "/api/posts", { title: "Created during the drop", status: "draft" });
    await rest(be.url, "PATCH", "/api/posts/2", { title: "Edited during the drop" });
    proxy.restore();

    await waitForStatus(b, "open");
    await waitForList(b, await serverPosts(be.url), "the list after the drop");
    const missed = (await liveEvents(b)).slice(seenBefore);
    if (protocol === "extended") assert.deepEqual(missed, ["deleted 3", "created 9", "updated 2"], "replayed, once each, in order");
    else assert.deepEqual(missed, ["*"], "one resync from a server that cannot replay");
  });
}

test(`${engine}: a backend restart resyncs once and the page ends equal to the new server`, async () => {
  let be = await startBackend();
  const port = be.port;
  cleanups.push(() => be.stop());
  const b = await open(be.url, "/posts");
  await rest(be.url, "POST", "/api/posts", { title: "Lost in the restart", status: "draft" });
  await waitForList(b, await serverPosts(be.url), "the list before the restart");
  const seenBefore = (await liveEvents(b)).length;

  await be.kill();
  await waitForStatus(b, "reconnecting");
  be = await startBackend({ port });
  await waitForStatus(b, "open", 30_000);
  await waitForList(b, await serverPosts(be.url), "the list after the restart");
  const events = (await liveEvents(b)).slice(seenBefore);
  assert.deepEqual(events, ["*"], "one resync event");
});

// A 20 s reconnect floor (the default cap too, so every retry waits that
// long): only the online signal can bring the page back within 10 s. Chromium emulates a page going offline; in the other engines
// the page is told it went offline and online again while the proxy holds
// and then releases its connection, the closest real equivalent.
test(`${engine}: offline, then online: the page reconnects on the signal and catches up`, async () => {
  const FLOOR = 20_000;
  const be = await backend();
  const proxy = await proxyTo(be);
  const b = await open(proxy.url, "/posts", { minDelay: String(FLOOR) });
  await waitForList(b, await serverPosts(be.url), "the first load");
  // Signals are heeded at most once a second, and pageshow at load was one.
  await waitFor("a second since the load event", () =>
    b.evaluate(() => performance.now() - performance.getEntriesByType("navigation")[0].loadEventEnd > 1100),
  );
  const setOffline = async (offline) => {
    if (b.setOffline) await b.setOffline(offline);
    else await b.evaluate((name) => window.dispatchEvent(new Event(name)), offline ? "offline" : "online");
  };

  await setOffline(true);
  proxy.cut();
  await waitForStatus(b, "reconnecting");
  await rest(be.url, "PATCH", "/api/posts/4", { title: "Edited while offline" });
  proxy.restore();
  await setOffline(false);
  await waitForStatus(b, "open", 10_000);
  await waitForList(b, await serverPosts(be.url), "the list after coming back online");
});
