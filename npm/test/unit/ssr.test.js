// Importing the package on a server must not touch any global, and a client
// made there stays idle without noise.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";


const indexURL = new URL("../../index.js", import.meta.url).href;

test("import in Node with no window touches no global", () => {
  const script = `
    const snapshot = () => Object.getOwnPropertyNames(globalThis).sort().join(",");
    const before = snapshot();
    const m = await import(${JSON.stringify(indexURL)});
    const after = snapshot();
    console.log(JSON.stringify({ same: before === after, exports: Object.keys(m).sort() }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
  assert.equal(out.same, true);
  assert.deepEqual(out.exports, ["ErrorCodes", "VERSION", "createLiveClient", "isResyncEvent", "liveProvider"]);
});

test("a client made during server-side rendering stays idle", () => {
  const script = `
    const { liveProvider } = await import(${JSON.stringify(indexURL)});
    const errors = [];
    const p = liveProvider({ url: "ws://h/live", onError: (e) => errors.push(e.code) });
    const handle = p.subscribe({ channel: "c", callback() {} });
    p.unsubscribe(handle);
    const ready = await p.client.ready.then(() => "resolved", (e) => e.code);
    console.log(JSON.stringify({ status: p.client.status, errors, handle: !!handle, ready, window: typeof window }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
  assert.deepEqual(out, { status: "idle", errors: [], handle: true, ready: "ERR_UNSUPPORTED_ENVIRONMENT", window: "undefined" });
});

