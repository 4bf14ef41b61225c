// Scenarios 4, 5 and 9: what reaches the server. Live mode "off" (global
// and per resource) subscribes nothing, a custom channel carries messages
// between pages without echo, and StrictMode keeps one server
// subscription per channel.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import {
  countRequests,
  framesByChannel,
  liveEvents,
  metric,
  publishHttp,
  rest,
  sendNotification,
  serverPosts,
  settle,
  useSuite,
  waitFor,
  waitForList,
  waitForNotification,
} from "./harness.js";

const { backend, open } = useSuite({ before, after, afterEach });

const SUBSCRIPTIONS = "refine_live_subscriptions";
// These tests count the frames each page sends, which the driver sees only
// on a socket of the page: their pages run the engine in the page. The
// npm package's shared.test.js counts a shared worker's subscriptions at
// the server, StrictMode's included.
const IN_PAGE = { worker: "none" };

async function waitForSubscriptions(be, n) {
  await waitFor(`${n} server subscriptions`, async () => (await metric(be.url, SUBSCRIPTIONS)) === n);
}

test('liveMode "off" and resource meta.liveMode "off" subscribe nothing on the server', async () => {
  const be = await backend();
  const off = await open(be.url, "/posts", { liveMode: "off", ...IN_PAGE });
  const categories = await open(be.url, "/categories", IN_PAGE);
  await categories.page.getByTestId("category-row").first().waitFor();
  await waitForList(off, await serverPosts(be.url), "the off page's list");

  // Only the notifications panel (useSubscription ignores liveMode) subscribes.
  await waitForSubscriptions(be, 2);
  await publishHttp(be.url, { channel: "notifications", type: "message", payload: { text: "barrier 1" } });
  await waitForNotification(off, "barrier 1");
  await waitForNotification(categories, "barrier 1");
  assert.deepEqual(framesByChannel(off, "subscribe"), { notifications: 1 });
  assert.deepEqual(framesByChannel(categories, "subscribe"), { notifications: 1 });
  assert.equal(await metric(be.url, SUBSCRIPTIONS), 2);

  // Changes to either resource reach neither page.
  await settle(off);
  await settle(categories);
  const offFetches = countRequests(off, (r) => r.path.startsWith("/api/"));
  const categoryFetches = countRequests(categories, (r) => r.path.startsWith("/api/"));
  await rest(be.url, "PATCH", "/api/posts/1", { title: "Nobody is listening" });
  await rest(be.url, "PATCH", "/api/categories/1", { title: "Renamed" });
  await publishHttp(be.url, { channel: "notifications", type: "message", payload: { text: "barrier 2" } });
  await waitForNotification(off, "barrier 2");
  await waitForNotification(categories, "barrier 2");
  await settle(off);
  await settle(categories);
  assert.equal(countRequests(off, (r) => r.path.startsWith("/api/")), offFetches, "the off page did not refetch");
  assert.equal(countRequests(categories, (r) => r.path.startsWith("/api/")), categoryFetches, "the categories page did not refetch");
  assert.deepEqual(await liveEvents(off), []);

  // Control: a page in auto mode on the posts list does subscribe.
  const auto = await open(be.url, "/posts", IN_PAGE);
  await waitForSubscriptions(be, 4);
  assert.deepEqual(framesByChannel(auto, "subscribe"), { notifications: 1, "resources/posts": 1 });
});

test("useSubscription and usePublish carry a custom channel between pages, without echo", async () => {
  const be = await backend();
  const a = await open(be.url, "/posts");
  const b = await open(be.url, "/posts");
  const c = await open(be.url, "/categories");
  await waitForSubscriptions(be, 5);

  await sendNotification(a, "hello from A");
  await waitForNotification(b, "hello from A");
  await waitForNotification(c, "hello from A");

  // Messages on a channel arrive in order: once A has B's answer, A's own
  // message would have come back before it if it were echoed.
  await sendNotification(b, "hello from B");
  await waitForNotification(a, "hello from B");
  await waitForNotification(c, "hello from B");

  const received = (app) => app.page.$$eval('[data-testid="notification-received"]', (l) => l.map((x) => x.dataset.text));
  assert.deepEqual(await received(a), ["hello from B"], "A got B's message and not its own");
  assert.deepEqual(await received(b), ["hello from A"], "B got A's message and not its own");
  assert.deepEqual(await received(c), ["hello from B", "hello from A"], "C got both, in order (newest first)");
});

test("StrictMode: one server subscription per channel, however many hooks are mounted", async () => {
  const be = await backend();
  // The list page mounts two hooks on resources/posts (the table and
  // "Newest") plus the notifications panel, each twice under StrictMode.
  const a = await open(be.url, "/posts", { strict: "1", ...IN_PAGE });
  const b = await open(be.url, "/posts/edit/1", { strict: "1", ...IN_PAGE });
  await waitForList(a, await serverPosts(be.url), "A's list");
  await b.page.locator('[data-testid="post-current"][data-id="1"]').waitFor();
  await waitForSubscriptions(be, 4);

  const one = { notifications: 1, "resources/posts": 1 };
  assert.deepEqual(framesByChannel(a, "subscribe"), one, "A subscribed once per channel");
  assert.deepEqual(framesByChannel(b, "subscribe"), one, "B subscribed once per channel");
  assert.deepEqual(framesByChannel(a, "unsubscribe"), {}, "A never unsubscribed");

  // Route changes inside the app hand the channel from hook to hook
  // without touching the server subscription.
  await a.page.locator('[data-testid="post-row"][data-id="2"] [data-testid="post-edit-link"]').click();
  await a.page.locator('[data-testid="post-current"][data-id="2"]').waitFor();
  await a.page.getByRole("link", { name: "Back to posts" }).click();
  await a.page.getByTestId("post-row").first().waitFor();

  // Still live, and still one subscription per channel.
  await rest(be.url, "PATCH", "/api/posts/1", { title: "Edited under StrictMode" });
  await waitForList(a, await serverPosts(be.url), "A's list after the edit");
  await b.page.locator('[data-testid="post-current"][data-title="Edited under StrictMode"]').waitFor();
  assert.equal(await metric(be.url, SUBSCRIPTIONS), 4);
  assert.deepEqual(framesByChannel(a, "subscribe"), one, "A subscribed once per channel across route changes");
  assert.deepEqual(framesByChannel(a, "unsubscribe"), {}, "A never unsubscribed");
});
