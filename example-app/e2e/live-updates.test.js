// Scenarios 1-3: changes made in one page reach another, in auto and
// manual mode, and an edit page follows its record (a change to another
// record refetches only the page's own queries).
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import {
  countRequests,
  isTableFetch,
  liveEvents,
  rest,
  serverPosts,
  settle,
  useSuite,
  waitFor,
  waitForForm,
  waitForIdle,
  waitForList,
} from "./harness.js";

const { backend, open } = useSuite({ before, after, afterEach });

test("auto: create, update and delete in page A appear in page B without reload", async () => {
  const be = await backend();
  const b = await open(be.url, "/posts");
  await waitForList(b, await serverPosts(be.url), "B's first load");
  const a = await open(be.url, "/posts/create");

  // Create through A's form.
  await a.page.getByTestId("post-title-input").fill("Created in A");
  await a.page.getByTestId("post-save").click();
  await a.page.waitForURL(/\/posts$/);
  let server = await serverPosts(be.url);
  assert.equal(server.at(-1).title, "Created in A");
  await waitForList(b, server, "the created post in B");

  // Update through A's edit page.
  await a.page.goto(`${be.url}/posts/edit/2`);
  await waitForForm(a, "2");
  await a.page.getByTestId("post-title-input").fill("Updated in A");
  await a.page.getByTestId("post-save").click();
  await a.page.getByTestId("post-saved").waitFor();
  server = await serverPosts(be.url);
  assert.equal(server.find((p) => p.id === "2").title, "Updated in A");
  await waitForList(b, server, "the updated post in B");

  // Delete through A's list.
  await a.page.goto(`${be.url}/posts`);
  await a.page.locator('[data-testid="post-row"][data-id="3"] [data-testid="post-delete"]').click();
  await waitFor("post 3 to be deleted on the server", async () => !(await serverPosts(be.url)).some((p) => p.id === "3"));
  await waitForList(b, await serverPosts(be.url), "the deleted post gone from B");

  const types = (await liveEvents(b)).map((e) => `${e.type} ${e.ids}`);
  assert.deepEqual(types, ["created 9", "updated 2", "deleted 3"], "B's live events");
  assert.equal(b.page.url(), `${be.url}/posts`, "B never navigated");
});

test("an edit page follows its post, and a change to another post refetches only the page's own queries", async () => {
  const be = await backend();
  const b = await open(be.url, "/posts/edit/1");
  await waitForForm(b, "1");
  const a = await open(be.url, "/posts/edit/1");
  await waitForForm(a, "1");
  await settle(b);

  const gets = (id) => countRequests(b, (r) => r.method === "GET" && r.path === `/api/posts/${id}`);
  const before1 = gets(1);

  // A edits post 1 through its form: B's edit page follows.
  await a.page.getByTestId("post-title-input").fill("First edit of post 1");
  await a.page.getByTestId("post-save").click();
  await b.page.locator('[data-testid="post-current"][data-title="First edit of post 1"]').waitFor();
  await waitFor("B's form to follow the server", async () => (await b.page.getByTestId("post-title-input").inputValue()) === "First edit of post 1");
  await settle(b);
  // Every live hook of the page (the form's and "Up next") invalidates the
  // resource for the event, so the page may fetch post 1 more than once.
  const ownRefetches = gets(1) - before1;
  assert.ok(ownRefetches >= 1, "B fetched post 1 again for the edit of post 1");

  // Post 7 is none of the page's posts (1, and 2 and 3 up next). The id
  // filter is off by default, so the event reaches the page's hooks and
  // Refine refetches the page's own queries as for post 1's edit; it never
  // fetches post 7, and the form keeps showing post 1.
  const before7 = gets(1);
  await rest(be.url, "PATCH", "/api/posts/7", { title: "Edit of post 7" });
  await waitFor("B's edit page to receive the edit of post 7", async () =>
    (await liveEvents(b)).some((e) => e.type === "updated" && e.ids === "7"),
  );
  await settle(b);
  assert.equal(gets(1) - before7, ownRefetches, "B refetched post 1 for the edit of post 7 as for the edit of post 1");
  assert.equal(gets(7), 0, "B never fetched post 7");
  await waitForIdle(b);
  assert.equal(await b.page.getByTestId("post-current").getAttribute("data-title"), "First edit of post 1");
  assert.equal(await b.page.getByTestId("post-title-input").inputValue(), "First edit of post 1");
  const seen = (await liveEvents(b)).map((e) => `${e.type} ${e.ids}`);
  assert.deepEqual(seen, ["updated 1", "updated 7"], "B's live events");
});

test("manual mode: onLiveEvent receives the event and the list is not refetched", async () => {
  const be = await backend();
  const b = await open(be.url, "/posts", { liveMode: "manual" });
  const original = await serverPosts(be.url);
  await waitForList(b, original, "B's first load");
  const a = await open(be.url, "/posts");
  await settle(b);
  const fetches = countRequests(b, (r) => r.path.startsWith("/api/posts"));

  await rest(be.url, "PATCH", "/api/posts/1", { title: "Changed while B is manual" });
  await waitFor("B's onLiveEvent to log the update", async () =>
    (await liveEvents(b)).some((e) => e.channel === "resources/posts" && e.type === "updated" && e.ids === "1"),
  );
  // A, in auto mode, refetched: the event did go out to everyone.
  await waitForList(a, await serverPosts(be.url), "A's list (auto) to follow");
  await settle(b);
  assert.equal(countRequests(b, (r) => r.path.startsWith("/api/posts")), fetches, "B (manual) did not refetch");
  assert.deepEqual(await b.page.$$eval('[data-testid="post-title"]', (t) => t.map((x) => x.textContent)), original.map((p) => p.title));
  assert.ok(countRequests(a, isTableFetch) >= 2, "A fetched its table again");
});
