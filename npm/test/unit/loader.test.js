// The Go handshake, with a fake Go class standing in for wasm_exec.js.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startRuntime } from "../../loader.js";
import { VERSION } from "../../version.js";

/** Mimics wasm_exec.js's Go: run() calls the init key named in argv. */
function fakeGo({ version = VERSION, register = true } = {}) {
  let exit;
  const seen = {};
  class Go {
    constructor() {
      this.argv = ["js"];
      this.importObject = { gojs: { "runtime.wasmWrite": () => (seen.fsDuringWrite = globalThis.fs) } };
    }
    run() {
      seen.argv = this.argv;
      seen.fsAtInit = globalThis.fs;
      seen.pathAtInit = globalThis.path;
      if (register) globalThis[this.argv[1]]({ version, newClient() {} });
      this.importObject.gojs["runtime.wasmWrite"](0);
      return new Promise((resolve) => (exit = resolve));
    }
  }
  const globals = { fs: { writeSync() {} }, path: { resolve() {} } };
  return { importGo: async () => ({ Go, globals }), seen, exit: () => exit(), globals };
}

const instantiate = async () => ({});

test("the handshake passes the api and leaves no global behind", async () => {
  const before = Object.getOwnPropertyNames(globalThis).sort().join();
  const go = fakeGo();
  const runtime = await startRuntime({ wasmURL: "x", importGo: go.importGo, instantiate });
  assert.equal(runtime.api.version, VERSION);
  assert.equal(runtime.state(), "running");
  assert.match(go.seen.argv[1], /^__refineLiveInit_[0-9a-f]{16}$/);
  assert.equal(go.seen.fsAtInit, go.globals.fs, "Go sees fs while it initializes");
  assert.equal(go.seen.pathAtInit, go.globals.path);
  assert.equal(go.seen.fsDuringWrite, go.globals.fs, "runtime output still finds fs");
  assert.equal(Object.getOwnPropertyNames(globalThis).sort().join(), before);
  let exited = false;
  runtime.onExit(() => (exited = true));
  go.exit();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(runtime.state(), "exited");
  assert.equal(exited, true);
});

test("a version mismatch is refused", async () => {
  const go = fakeGo({ version: "0.0.0-stale" });
  await assert.rejects(startRuntime({ wasmURL: "x", importGo: go.importGo, instantiate }), { code: "ERR_VERSION_MISMATCH" });
  assert.equal(globalThis.fs, undefined);
});

test("Go exiting before it registers rejects with ERR_WASM_EXITED", async () => {
  const go = fakeGo({ register: false });
  const starting = startRuntime({ wasmURL: "x", importGo: go.importGo, instantiate });
  setTimeout(go.exit, 5);
  await assert.rejects(starting, { code: "ERR_WASM_EXITED" });
});

test("fetch and compile failures are ERR_WASM_LOAD", async () => {
  const go = fakeGo();
  const failing = async () => {
    throw new TypeError("Failed to fetch");
  };
  await assert.rejects(startRuntime({ wasmURL: "x", importGo: go.importGo, instantiate: failing }), (err) => {
    assert.equal(err.code, "ERR_WASM_LOAD");
    assert.match(err.message, /Failed to fetch/);
    return true;
  });
  assert.equal(globalThis.fs, undefined);
  const noExec = async () => {
    throw new Error("404");
  };
  await assert.rejects(startRuntime({ wasmURL: "x", importGo: noExec, instantiate }), { code: "ERR_WASM_LOAD" });
});

test("an HTML page where live.wasm was expected is reported as such, with the one-line fix", async () => {
  const go = fakeGo();
  const original = globalThis.fetch;
  try {
    for (const [type, body] of [
      ["text/html; charset=utf-8", "<!doctype html><div id=root></div>"],
      ["application/octet-stream", "\n  <html><head></head></html>"],
    ]) {
      globalThis.fetch = async () => new Response(body, { headers: { "content-type": type } });
      await assert.rejects(startRuntime({ wasmURL: "http://app/node_modules/.vite/deps/live.wasm", importGo: go.importGo }), (err) => {
        assert.equal(err.code, "ERR_WASM_LOAD");
        assert.match(err.message, /answered with an HTML page/);
        assert.match(err.message, /optimizeDeps: \{ exclude: \["refine-live-wasm"\] \}/);
        return true;
      });
    }
    globalThis.fetch = async () => new Response("not wasm", { headers: { "content-type": "text/plain" } });
    await assert.rejects(startRuntime({ wasmURL: "http://app/live.wasm", importGo: go.importGo }), /not WebAssembly \(8 bytes of text\/plain\)/);
  } finally {
    globalThis.fetch = original;
  }
});
