// Where the package finds its own files when a dev server pre-bundled it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { installedFile, preBundled } from "../../package-files.js";

test("a module pre-bundled into node_modules/.vite/deps/ takes its files from the installed package", () => {
  const bundled = "http://localhost:5173/node_modules/.vite/deps/refine-live-wasm.js?v=1a2b3c";
  assert.equal(preBundled(bundled), true);
  assert.equal(installedFile("live.wasm", bundled).href, "http://localhost:5173/node_modules/refine-live-wasm/live.wasm");
  assert.equal(installedFile("worker.js", bundled).href, "http://localhost:5173/node_modules/refine-live-wasm/worker.js");
  const app = "http://localhost:5173/base/node_modules/.vite/deps/refine-live-wasm.js";
  assert.equal(installedFile("live.wasm", app).href, "http://localhost:5173/base/node_modules/refine-live-wasm/live.wasm", "under a base path");
});

test("anywhere else the files are beside the module", () => {
  for (const url of ["http://localhost:5173/node_modules/refine-live-wasm/loader.js", "https://cdn.example/assets/index-4f2a.js", import.meta.url]) {
    assert.equal(preBundled(url), false, url);
  }
});
