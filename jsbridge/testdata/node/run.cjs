"use strict";
// Go's lib/wasm/wasm_exec_node.js, plus the exports on globalThis.

if (process.argv.length < 3) {
  console.error("usage: go_js_wasm_exec [wasm binary] [arguments]");
  process.exit(1);
}
const path = require("path");
const { execFileSync } = require("child_process");

globalThis.require = require;
globalThis.fs = require("fs");
globalThis.path = path;
globalThis.performance ??= require("perf_hooks").performance;
globalThis.crypto ??= require("crypto");

const goroot = process.env.GOROOT || execFileSync("go", ["env", "GOROOT"], { encoding: "utf8" }).trim();
require(path.join(goroot, "lib", "wasm", "wasm_exec.js"));

const go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: require("os").tmpdir() }, process.env);
go.exit = process.exit;
WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject)
  .then((result) => {
    globalThis.liveTestExports = result.instance.exports;
    globalThis.liveTestGo = go;
    process.on("exit", (code) => {
      if (code === 0 && !go.exited) {
        // deadlock: make Go print its error and stack traces
        go._pendingEvent = { id: 0 };
        go._resume();
      }
    });
    return go.run(result.instance);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
