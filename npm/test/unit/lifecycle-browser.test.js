// The client in a simulated page: browser signals are wired to Go's
// reconnect and removed by close().
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLiveClient } from "../../index.js";
import { fakeRuntime, fakeTarget, flushed } from "./fake-runtime.js";

test("close() removes the listeners it added", async () => {
  const win = fakeTarget();
  const doc = fakeTarget({ visibilityState: "visible" });
  globalThis.window = win;
  globalThis.document = doc;
  try {
    const fake = fakeRuntime();
    const client = createLiveClient({ url: "ws://h/live", loadRuntime: fake.loadRuntime });
    assert.equal(win.count() + doc.count(), 4);
    fake.finishLoad();
    await client.ready;
    win.fire("online");
    await flushed();
    assert.deepEqual(fake.goClients[0].ops("reconnect"), [["reconnect"]]);
    await client.close();
    assert.equal(win.count() + doc.count(), 0);
  } finally {
    delete globalThis.window;
    delete globalThis.document;
  }
});
