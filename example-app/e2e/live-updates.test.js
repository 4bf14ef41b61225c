// Scenarios 1-3: changes made in one page reach another, in auto and
// manual mode, and an edit page refetches only for its own record.
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
  waitForList,
} from "./harness.js";

const { backend, open } = useSuite({ before, after, afterEach });

// Waits until an edit page shows its record and the form holds its title.
async function waitForForm(app, id) {
  const current = app.page.locator(`[data-testid="post-current"][data-id="${id}"]`);
  await current.waitFor();
  const title = await current.getAttribute("data-title");
  await waitFor(`the form of post ${id} to be filled`, async () => (await app.page.getByTestId("post-title-input").inputValue()) === title);
}

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

test("an edit page refetches when its post changes, and not for another post", async () => {
  const be = await backend();
  const b = await open(be.url, "/posts/edit/1");
  await waitForForm(b, "1");
  const a = await open(be.url, "/posts/edit/1");
  await waitForForm(a, "1");
  await settle(b);

  const gets = (id) => countRequests(b, (r) => r.method === "GET" && r.path === `/api/posts/${id}`);
  const postRequests = () => countRequests(b, (r) => r.path.startsWith("/api/posts"));
  const before1 = gets(1);

  // A edits post 1 through its form: B's edit page follows.
  await a.page.getByTestId("post-title-input").fill("First edit of post 1");
  await a.page.getByTestId("post-save").click();
  await b.page.locator('[data-testid="post-current"][data-title="First edit of post 1"]').waitFor();
  await waitFor("B's form to follow the server", async () => (await b.page.getByTestId("post-title-input").inputValue()) === "First edit of post 1");
  await settle(b);
  assert.equal(gets(1) - before1, 1, "B fetched post 1 once for the edit of post 1");

  // A edits post 2, then post 1 again. Events on a channel arrive in
  // order, so once B shows the second edit of post 1 it has seen (and
  // dropped) the edit of post 2.
  const beforeBoth = postRequests();
  await rest(be.url, "PATCH", "/api/posts/2", { title: "Edit of post 2" });
  await a.page.getByTestId("post-title-input").fill("Second edit of post 1");
  await a.page.getByTestId("post-save").click();
  await b.page.locator('[data-testid="post-current"][data-title="Second edit of post 1"]').waitFor();
  await settle(b);
  assert.equal(postRequests() - beforeBoth, 1, "B refetched once (for post 1), not for post 2");
  assert.equal(gets(2), 0, "B never fetched post 2");
  const seen = (await liveEvents(b)).map((e) => `${e.type} ${e.ids}`);
  assert.deepEqual(seen, ["updated 1", "updated 1"], "B's live events");
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
