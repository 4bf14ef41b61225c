import assert from "node:assert/strict";
import { test } from "node:test";
import { watchBrowserSignals } from "../../signals.js";
import { fakeTarget } from "./fake-runtime.js";

test("online, offline, pageshow and visible each probe (the engine rate-limits); listeners go on stop", () => {
  const win = fakeTarget();
  const doc = fakeTarget({ visibilityState: "hidden" });
  let probes = 0;
  const stop = watchBrowserSignals(() => probes++, { window: win, document: doc });
  assert.equal(win.count() + doc.count(), 4);
  win.fire("offline");
  assert.equal(probes, 1, "offline probes the connection at once");
  probes = 0;
  win.fire("online");
  win.fire("pageshow");
  assert.equal(probes, 2, "a signal right after another is passed on, not dropped");
  doc.fire("visibilitychange");
  assert.equal(probes, 2, "hidden is not a signal");
  doc.visibilityState = "visible";
  doc.fire("visibilitychange");
  assert.equal(probes, 3);
  stop();
  assert.equal(win.count() + doc.count(), 0);
});

test("outside a page it does nothing", () => {
  const stop = watchBrowserSignals(() => {});
  stop();
});
