// Scenario 11: the startup window. Refine subscribes when a page mounts,
// but the subscription reaches the server only once live.wasm has loaded;
// a change made after the page read its data and before that moment must
// still reach the page.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import {
  countRequests,
  framesByChannel,
  isTableFetch,
  rest,
  serverPosts,
  startHoldingProxy,
  useSuite,
  waitFor,
  waitForList,
  waitForStatus,
} from "./harness.js";

const { backend, open, defer } = useSuite({ before, after, afterEach });

// How long live.wasm is held at least, as a slow network would.
const HOLD_MS = 3000;
// How soon after client.ready the list must show the change.
const REFETCH_DEADLINE = 10_000;

test("startup window: a change made while live.wasm loads, after the list was read, is refetched once the client is ready", async () => {
  const be = await backend();
  // The page loads through a proxy that holds live.wasm: closed after the
  // page (cleanups run last first), released before it, also on failure.
  const wasm = await startHoldingProxy(be.port, /\.wasm$/);
  defer(() => wasm.close());
  const b = await open(wasm.url, "/posts", {}, { live: false });
  defer(() => wasm.release());

  // The list is read through the REST API while live.wasm is held: the
  // subscription is Refine's, queued in the client, not yet on the wire.
  await waitFor("the page to request live.wasm", () => wasm.requestedAt());
  await waitForList(b, await serverPosts(be.url), "the list, read while live.wasm is held");
  assert.equal(await b.page.getByTestId("connection-badge").getAttribute("data-status"), "connecting");
  await b.sync();
  assert.deepEqual(b.sentFrames, [], "nothing was sent to the live endpoint yet");

  // Another client changes a post: the backend publishes the event, the
  // server keeps it, and no subscription of this page has seen it.
  await rest(be.url, "PATCH", "/api/posts/1", { title: "Changed while live.wasm loads" });
  const want = await serverPosts(be.url);
  await new Promise((r) => setTimeout(r, Math.max(0, wasm.requestedAt() + HOLD_MS - Date.now())));
  await b.sync();
  const fetchesBefore = countRequests(b, isTableFetch);
  assert.deepEqual(b.sentFrames, [], "nothing was sent to the live endpoint while live.wasm was held");

  wasm.release();
  await b.page.evaluate(
    (timeout) =>
      Promise.race([
        window.liveClient.ready,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`client.ready did not resolve within ${timeout} ms`)), timeout)),
      ]),
    20_000,
  );
  await waitForList(b, want, "the list to show the change made while live.wasm loaded", REFETCH_DEADLINE).catch(async (err) => {
    await b.sync();
    const refetches = countRequests(b, isTableFetch) - fetchesBefore;
    const status = await b.page.getByTestId("connection-badge").getAttribute("data-status");
    const subscribed = JSON.stringify(framesByChannel(b, "subscribe"));
    throw new Error(
      `${err.message}; the table was fetched ${refetches} time(s) after live.wasm was released (client ${status}, subscribe frames ${subscribed})`,
    );
  });
  await waitForStatus(b, "open");
});
