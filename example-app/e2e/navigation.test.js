// Scenario 10: a page that moves to another record without remounting.
// React Router keeps the element of /posts/edit/:id from one post to the
// next, and Refine keeps a hook's live subscription (and its ids) from the
// hook's first render; the page must still follow the records it shows now.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { rest, serverPosts, useSuite, waitFor, waitForForm } from "./harness.js";

const { backend, open } = useSuite({ before, after, afterEach });

// Tags the document and the given elements (by test id): a reload or a
// remount replaces them, and the tags with them.
async function tag(app, testIds) {
  await app.page.evaluate(() => {
    window.__sameDocument = true;
  });
  for (const id of testIds) {
    await app.page.getByTestId(id).evaluate((el) => {
      el.__sameElement = true;
    });
  }
}

async function assertTagged(app, testIds) {
  assert.equal(await app.page.evaluate(() => window.__sameDocument === true), true, "the page was not reloaded");
  for (const id of testIds) {
    assert.equal(await app.page.getByTestId(id).evaluate((el) => el.__sameElement === true), true, `${id} was not remounted`);
  }
}

// The edit page's "Up next" posts (useMany), as {id, title}.
// Pairs, made objects here: WebDriver hands objects back with their keys in
// its own order, and the comparison is of JSON text.
async function upNext(app) {
  const items = await app.page.$$eval('[data-testid="up-next-post"]', (items) => items.map((li) => [li.dataset.id, li.dataset.title]));
  return items.map(([id, title]) => ({ id, title }));
}

async function waitForUpNext(app, rows, what) {
  const want = JSON.stringify(rows);
  let got;
  await waitFor(`${what}: ${want}`, async () => {
    got = JSON.stringify(await upNext(app));
    return got === want;
  }).catch((err) => {
    throw new Error(`${err.message}; page shows ${got}`);
  });
}

// The page opens on post 3 and moves back to post 2: opened on post 1, its
// "Up next" hook would watch post 2 and let post 2's events in even with
// an id filter, and the test would prove nothing.
test("navigation without remount: the edit form moves to another post, drops the old post's unsaved edits and follows the new post", async () => {
  const be = await backend();
  const server = await serverPosts(be.url);
  const title = (id) => server.find((p) => p.id === id).title;
  const b = await open(be.url, "/posts/edit/3");
  await waitForForm(b, "3");
  await tag(b, ["post-form"]);

  // An edit of post 3 left unsaved, then the link to the previous post.
  await b.page.getByTestId("post-title-input").fill("Unsaved edit of post 3");
  await b.page.getByTestId("post-prev-link").click();
  await b.page.waitForURL(/\/posts\/edit\/2$/);
  await waitForForm(b, "2");
  assert.equal(await b.page.getByTestId("post-title-input").inputValue(), title("2"), "the form shows post 2, not post 3's edit");
  await assertTagged(b, ["post-form"]);

  // Another client changes post 2: the form follows.
  await rest(be.url, "PATCH", "/api/posts/2", { title: "Post 2, changed elsewhere" });
  await b.page.locator('[data-testid="post-current"][data-id="2"][data-title="Post 2, changed elsewhere"]').waitFor();
  await waitFor("the form to show post 2's new title", async () => (await b.page.getByTestId("post-title-input").inputValue()) === "Post 2, changed elsewhere");
  await assertTagged(b, ["post-form"]);
});

test("navigation without remount: a useMany whose ids change follows its new ids", async () => {
  const be = await backend();
  const server = await serverPosts(be.url);
  const rows = (...ids) => ids.map((id) => server.find((p) => p.id === id));
  const b = await open(be.url, "/posts/edit/1");
  await waitForForm(b, "1");
  await waitForUpNext(b, rows("2", "3"), "post 1's up next");
  await tag(b, ["post-form", "up-next"]);

  // To post 2: the same hook now asks for posts 3 and 4.
  await b.page.getByTestId("post-next-link").click();
  await b.page.waitForURL(/\/posts\/edit\/2$/);
  await waitForForm(b, "2");
  await waitForUpNext(b, rows("3", "4"), "post 2's up next");
  await assertTagged(b, ["post-form", "up-next"]);

  // Another client changes post 4, one of the hook's new ids.
  await rest(be.url, "PATCH", "/api/posts/4", { title: "Post 4, changed elsewhere" });
  await waitForUpNext(b, [rows("3")[0], { id: "4", title: "Post 4, changed elsewhere" }], "post 4's new title up next");
  await assertTagged(b, ["post-form", "up-next"]);
});
