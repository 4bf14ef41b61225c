// Scenarios 6-8: a network drop while the server stays up, a backend
// restart that loses the in-memory history, and the browser going offline.
// After each, every page ends equal to the server's data, never stale.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, afterEach, before, test } from "node:test";
import {
  isTableFetch,
  liveEvents,
  metric,
  rest,
  serverPosts,
  settle,
  startBackend,
  useSuite,
  waitFor,
  waitForIdle,
  waitForList,
  waitForStatus,
} from "./harness.js";

const { backend, proxyTo, open, defer } = useSuite({ before, after, afterEach });

const SUBSCRIPTIONS = "refine_live_subscriptions";
// Live hooks on resources/posts on the list page: the table and "Newest".
const HOOKS_ON_LIST = 2;
const describe = (events) => events.map((e) => `${e.type} ${e.ids}`.trim());

for (const protocol of ["extended", "basic"]) {
  test(`network drop, server up (${protocol}): B reconnects and ends equal to the server`, async () => {
    const be = await backend();
    const proxy = await proxyTo(be);
    const a = await open(be.url, "/posts");
    const b = await open(proxy.url, "/posts", { protocol });
    await waitForList(b, await serverPosts(be.url), "B's first load");
    await waitFor("both pages subscribed", async () => (await metric(be.url, SUBSCRIPTIONS)) === 4);
    await settle(b);
    const seenBefore = (await liveEvents(b)).length;

    proxy.cut();
    await waitForStatus(b, "reconnecting");
    assert.equal(await b.page.getByTestId("connection-badge").textContent(), "reconnecting…");
    await waitFor("the server to drop B", async () => (await metric(be.url, SUBSCRIPTIONS)) === 2);

    // A keeps changing posts while B is cut off.
    await a.page.locator('[data-testid="post-row"][data-id="3"] [data-testid="post-delete"]').click();
    await waitFor("post 3 deleted", async () => !(await serverPosts(be.url)).some((p) => p.id === "3"));
    await rest(be.url, "POST", "/api/posts", { title: "Created during the drop", status: "draft" });
    await rest(be.url, "PATCH", "/api/posts/2", { title: "Edited during the drop" });
    await rest(be.url, "PATCH", "/api/posts/2", { title: "Edited twice during the drop" });
    const server = await serverPosts(be.url);
    await waitForList(a, server, "A's list");
    const fetchesBefore = b.requests.length;

    proxy.restore();
    await waitForStatus(b, "open", 30_000);
    await waitForList(b, server, "B's list after the drop");
    await settle(b);
    await waitForIdle(b);
    const missed = describe((await liveEvents(b)).slice(seenBefore));
    const since = b.requests.slice(fetchesBefore);
    const refetches = since.filter((r) => isTableFetch(r) && r.state === "finished").length;
    if (protocol === "extended") {
      // Replayed: every missed event, once, in order; no resync.
      assert.deepEqual(missed, ["deleted 3", "created 9", "updated 2", "updated 2"], "B's replayed events");
    } else {
      // A basic server cannot replay: one resync event, so one refetch
      // round. Like any single event, it reaches both hooks on
      // resources/posts (the table and "Newest"), and Refine invalidates
      // once per hook: at most two fetches of the table.
      assert.deepEqual(missed, ["*"], "B's events after the drop");
      assert.ok(refetches <= HOOKS_ON_LIST, `B fetched its table ${refetches} times after one resync`);
    }
    assert.ok(refetches >= 1, "B refetched its table");
  });
}

test("backend restart: both protocol levels resync once and every page ends equal to the server", async () => {
  let be = await startBackend();
  const port = be.port;
  defer(() => be.stop());
  const pages = {
    extended: await open(be.url, "/posts", { protocol: "extended" }),
    basic: await open(be.url, "/posts", { protocol: "basic" }),
    edit: await open(be.url, "/posts/edit/1", { protocol: "auto" }),
  };
  const list = [pages.extended, pages.basic];

  // A post that the restart will take away.
  await rest(be.url, "POST", "/api/posts", { title: "Lost in the restart", status: "draft" });
  for (const p of list) await waitForList(p, await serverPosts(be.url), "the lists before the restart");
  for (const p of Object.values(pages)) await settle(p);
  const seenBefore = new Map(await Promise.all(Object.entries(pages).map(async ([k, p]) => [k, (await liveEvents(p)).length])));

  // A second process keeps publishing through the restart.
  const publisher = spawn(process.execPath, [fileURLToPath(new URL("publisher.js", import.meta.url)), be.url, "150", "90"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const publisherExit = once(publisher, "exit");
  defer(async () => {
    if (publisher.exitCode === null) publisher.kill("SIGTERM");
    await publisherExit;
  });
  const results = [];
  publisher.stdout.setEncoding("utf8").on("data", (d) => results.push(...d.trim().split("\n")));
  await waitFor("the publisher's first change", () => results.some((r) => r.startsWith("ok")));

  await be.kill();
  for (const p of Object.values(pages)) await waitForStatus(p, "reconnecting");
  await waitFor("the publisher to fail while the server is down", () => results.at(-1)?.startsWith("fail"));
  const failuresBefore = results.length;

  be = await startBackend({ port });
  await waitFor("the publisher to succeed against the new server", () => results.slice(failuresBefore).some((r) => r.startsWith("ok")));
  for (const p of Object.values(pages)) await waitForStatus(p, "open", 30_000);
  // Let a few live changes arrive over the new connections, then stop.
  const okAfter = () => results.slice(failuresBefore).filter((r) => r.startsWith("ok")).length;
  const target = okAfter() + 3;
  await waitFor("three more changes", () => okAfter() >= target);
  publisher.kill("SIGTERM");
  await publisherExit;

  const server = await serverPosts(be.url);
  assert.ok(!server.some((p) => p.title === "Lost in the restart"), "the new server has only its seed");
  for (const p of list) await waitForList(p, server, "a list after the restart");
  await pages.edit.page.locator(`[data-testid="post-current"][data-title="${server[0].title}"]`).waitFor();

  for (const [name, p] of Object.entries(pages)) {
    const events = describe((await liveEvents(p)).slice(seenBefore.get(name)));
    const resyncs = events.filter((e) => e === "*").length;
    assert.equal(resyncs, 1, `${name}: one resync event after the restart (events: ${events.join(", ")})`);
    assert.ok(events.every((e) => e === "*" || e === "updated 1"), `${name}: only the resync and live edits of post 1 (${events.join(", ")})`);
  }
});

// A 15 s reconnect floor: only the online signal can bring B back sooner.
const FLOOR = 15_000;

/**
 * Takes page B (behind proxy) offline and drops its connection, lets A
 * change a post, brings B back online and checks that B reconnects on the
 * online signal, well before its backoff floor, and catches up.
 */
async function outage(be, proxy, a, b) {
  await b.sync();
  const socketsBefore = b.sockets;
  // Chromium's offline emulation fails new connections but leaves an open
  // WebSocket alone; the proxy drops the open one, as a real outage would.
  const wentDown = Date.now();
  await b.context.setOffline(true);
  proxy.cut();
  await waitForStatus(b, "reconnecting");
  await rest(be.url, "PATCH", "/api/posts/4", { title: "Edited while B was offline" });
  const server = await serverPosts(be.url);
  await waitForList(a, server, "A's list");

  proxy.restore();
  const cameBack = Date.now();
  await b.context.setOffline(false);
  await waitForStatus(b, "open", FLOOR);
  const reconnected = Date.now();
  assert.ok(reconnected - wentDown < FLOOR, `reconnected ${reconnected - wentDown} ms after the drop, before the ${FLOOR} ms floor`);
  assert.ok(reconnected - cameBack < 3000, `reconnected ${reconnected - cameBack} ms after going online`);
  await b.sync();
  const attempts = b.sockets - socketsBefore;
  assert.ok(attempts <= 2, `at most two connection attempts while offline and back (saw ${attempts})`);
  await waitForList(b, server, "B's list after coming back online");
}

// Browser signals are heeded at most once a second, and pageshow at load
// was one: waits until that second has passed.
async function afterLoadSignal(app) {
  await waitFor("a second since the load event", () =>
    app.page.evaluate(() => performance.now() - performance.getEntriesByType("navigation")[0].loadEventEnd > 1100),
  );
}

async function offlinePages() {
  const be = await backend();
  const proxy = await proxyTo(be);
  const a = await open(be.url, "/posts");
  const b = await open(proxy.url, "/posts", { minDelay: String(FLOOR) });
  await waitForList(b, await serverPosts(be.url), "B's first load");
  return { be, proxy, a, b };
}

test("offline then online: the client reconnects at once, without waiting for its backoff", async () => {
  const { be, proxy, a, b } = await offlinePages();
  await afterLoadSignal(b);
  await outage(be, proxy, a, b);
});

test("a flapping network: the online signal that ends an outage is not lost to the once-a-second limit", async () => {
  const { be, proxy, a, b } = await offlinePages();
  await afterLoadSignal(b);
  // The network blips (offline, online: a signal), then goes down for
  // real and comes back within the same second. The last online must
  // still reconnect at once: deferred to the end of the second at worst,
  // never dropped in favour of the backoff.
  await b.context.setOffline(true);
  await b.context.setOffline(false);
  await outage(be, proxy, a, b);
});
