// What a user reads must be what the code does: every error code Go can
// emit (jsbridge/testdata/error-codes.json, which a Go test keeps equal to
// the bridge's list) is in ErrorCodes, index.d.ts and the README's table;
// and every `@default` in index.d.ts is the default the code uses.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ErrorCodes } from "../../errors.js";
import { DEFAULTS, goConfig, normalizeOptions, WORKER_DEFAULT } from "../../options.js";
import { parseSubscribe } from "../../requests.js";
import { createLiveClient } from "../../index.js";
import { fakeRuntime } from "./fake-runtime.js";

const read = (rel) => readFileSync(new URL(rel, import.meta.url), "utf8");
const dts = read("../../index.d.ts");
const readme = read("../../README.md");
const goCodes = JSON.parse(read("../../../jsbridge/testdata/error-codes.json"));

/** The text between `start` and the first `end` after it. */
function block(text, start, end) {
  const from = text.indexOf(start);
  assert.ok(from >= 0, `index.d.ts has ${start}`);
  return text.slice(from, text.indexOf(end, from));
}

describe("error codes", () => {
  const jsCodes = Object.values(ErrorCodes);
  const union = [...block(dts, "export type LiveErrorCode =", ";").matchAll(/"(ERR_[A-Z_]+)"/g)].map((m) => m[1]);
  const declared = Object.fromEntries(
    [...block(dts, "export declare const ErrorCodes", "}>;").matchAll(/(\w+): "(ERR_[A-Z_]+)"/g)].map((m) => [m[1], m[2]]),
  );
  const table = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);

  test("every code Go emits is in ErrorCodes", () => {
    assert.ok(goCodes.length > 0);
    assert.deepEqual(
      goCodes.filter((code) => !jsCodes.includes(code)),
      [],
    );
  });

  test("index.d.ts declares exactly ErrorCodes, in the union and in the constant", () => {
    assert.deepEqual([...union].sort(), [...jsCodes].sort());
    assert.deepEqual(declared, { ...ErrorCodes });
  });

  test("the README's table explains exactly these codes, once each", () => {
    assert.deepEqual([...table].sort(), [...jsCodes].sort());
  });

  test("every code only JavaScript emits is used by the shim", () => {
    const sources = ["client.js", "errors.js", "events.js", "loader.js", "options.js", "requests.js", "socket.js"]
      .map((f) => read(`../../${f}`))
      .join("\n");
    for (const [key, code] of Object.entries(ErrorCodes)) {
      if (goCodes.includes(code)) continue;
      assert.ok(sources.includes(`ErrorCodes.${key}`), `${code} is listed but nothing in the shim reports it`);
    }
  });
});

describe("defaults", () => {
  /** `@default` values of index.d.ts, keyed by Interface.property.path. */
  function documentedDefaults() {
    const found = new Map();
    const stack = [];
    let pending = null;
    for (const line of dts.split("\n")) {
      const iface = line.match(/^export interface (\w+)/);
      if (iface) {
        stack.length = 0;
        stack.push(iface[1]);
        continue;
      }
      const def = line.match(/@default (.+?)\s*(?:\*\/)?$/);
      if (def) {
        pending = def[1];
        continue;
      }
      const prop = line.match(/^\s*(?:readonly\s+)?(\w+)\??:/);
      if (prop && stack.length > 0 && !line.trim().startsWith("*")) {
        if (pending !== null) found.set([...stack, prop[1]].join("."), pending);
        pending = null;
        if (line.trimEnd().endsWith("{")) stack.push(prop[1]);
        continue;
      }
      if (/^\s*\};?\s*$/.test(line) && stack.length > 0) stack.pop();
    }
    return found;
  }

  const settings = normalizeOptions({ url: "ws://h/live" }, (err) => assert.fail(err));
  const go = goConfig(settings);
  const literal = (...actual) => (doc) => {
    const want = JSON.parse(doc);
    for (const value of actual) assert.deepEqual(value, want);
  };
  // How the code shows each default: in the settings it runs with, in the
  // config it sends to Go (which takes nothing from its own defaults), and
  // in DEFAULTS, the one source.
  const checks = {
    "LiveSubscribeOptions.types": literal(parseSubscribe({ channel: "c", callback() {} }, false).types),
    "LiveClientOptions.protocol": literal(settings.protocol, go.protocol, DEFAULTS.protocol),
    "LiveClientOptions.getToken": (doc) => {
      assert.equal(doc, "undefined (no authentication)");
      assert.equal(settings.getToken, undefined);
      assert.equal(go.hasToken, false);
    },
    "LiveClientOptions.reconnect.minDelay": literal(settings.minDelay, go.minDelay, DEFAULTS.minDelay),
    "LiveClientOptions.reconnect.maxDelay": literal(settings.maxDelay, go.maxDelay, DEFAULTS.maxDelay),
    "LiveClientOptions.heartbeatGrace": literal(settings.heartbeatGrace, go.heartbeatGrace, DEFAULTS.heartbeatGrace),
    "LiveClientOptions.publishQueue.maxCount": literal(settings.queueMaxCount, go.queueMaxCount, DEFAULTS.queueMaxCount),
    "LiveClientOptions.publishQueue.maxBytes": literal(settings.queueMaxBytes, go.queueMaxBytes, DEFAULTS.queueMaxBytes),
    "LiveClientOptions.filterIds": literal(settings.filterIds, go.filterIds, DEFAULTS.filterIds),
    "LiveClientOptions.coalesceMs": literal(settings.coalesceMs, go.coalesceMs, DEFAULTS.coalesceMs),
    "LiveClientOptions.resyncSpreadMs": literal(settings.resyncSpreadMs, go.resyncSpreadMs, DEFAULTS.resyncSpreadMs),
    "LiveClientOptions.lateResyncMs": literal(settings.lateResyncMs, go.lateResyncMs, DEFAULTS.lateResyncMs),
    "LiveClientOptions.debug": literal(settings.debug, go.debug, DEFAULTS.debug),
    "LiveClientOptions.wasmURL": (doc) => {
      assert.equal(doc, 'new URL("./live.wasm", import.meta.url)');
      assert.equal(settings.wasmURL, undefined);
      // Unless a dev server pre-bundled the package away from its files (package-files.js).
      const source = read("../../loader.js");
      assert.ok(source.includes("wasmURL ?? defaultWasmURL()") && source.includes(`(preBundled() ? installedFile("live.wasm") : ${doc})`));
    },
    "LiveClientOptions.worker": literal(settings.worker, WORKER_DEFAULT),
    "LiveClientOptions.workerURL": (doc) => {
      assert.equal(doc, 'new URL("./worker.js", import.meta.url)');
      assert.equal(settings.workerURL, undefined);
      const source = read("../../worker-runtime.js");
      assert.ok(source.includes(`absolute(settings.workerURL ?? (preBundled() ? installedFile("worker.js") : ${doc}))`));
      assert.ok(source.includes(`new Worker(${doc}, { type: "module" })`));
      assert.ok(read("../../worker-shared.js").includes(`new SharedWorker(${doc}, { type: "module", name: SHARED_WORKER_NAME })`));
    },
    "LiveClientOptions.onError": (doc) => {
      assert.equal(doc, "(err) => console.warn(...)");
      const warned = [];
      const original = console.warn;
      console.warn = (...args) => warned.push(args.join(" "));
      try {
        createLiveClient({ url: "ws://h/live", protocol: "v9", loadRuntime: fakeRuntime().loadRuntime }).close();
      } finally {
        console.warn = original;
      }
      assert.equal(warned.length, 1);
      assert.match(warned[0], /^\[refine-live-wasm\] ERR_INVALID_ARGUMENT: protocol is invalid/);
    },
    "LiveClientOptions.WebSocket": async (doc) => {
      assert.equal(doc, "globalThis.WebSocket");
      const fake = fakeRuntime();
      const client = createLiveClient({ url: "ws://h/live", loadRuntime: fake.loadRuntime });
      const made = [];
      const original = globalThis.WebSocket;
      globalThis.WebSocket = class {
        constructor(url) {
          made.push(url);
        }
      };
      try {
        fake.finishLoad();
        await client.ready;
        fake.goClients[0].hooks.openSocket("ws://h/live", { id: 1, onOpen() {}, onClose() {} });
        assert.deepEqual(made, ["ws://h/live"]);
      } finally {
        globalThis.WebSocket = original;
        await client.close();
      }
    },
    "LiveClientOptions.loadRuntime": (doc) => {
      assert.equal(doc, "the built-in loader");
      assert.equal(settings.loadRuntime, undefined);
      const source = read("../../client.js");
      assert.ok(source.includes('import { loadRuntime } from "./loader.js"') && source.includes("settings.loadRuntime ?? loadRuntime"));
    },
  };

  const documented = documentedDefaults();

  test("every @default in index.d.ts is checked here, and every check has its @default", () => {
    assert.deepEqual([...documented.keys()].sort(), Object.keys(checks).sort());
  });

  test("every option of LiveClientOptions documents its default, except url and the groups", () => {
    const options = [...block(dts, "export interface LiveClientOptions", "\n}\n").matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]);
    for (const name of options) {
      if (name === "reconnect" || name === "publishQueue") continue;
      assert.ok(documented.has(`LiveClientOptions.${name}`), `${name} has no @default`);
    }
  });

  for (const [key, check] of Object.entries(checks)) {
    test(`${key}: @default ${documented.get(key)} is what the code uses`, async () => {
      assert.ok(documented.has(key), `${key} has no @default in index.d.ts`);
      await check(documented.get(key));
    });
  }

  test("Go receives every default, none left for it to choose", () => {
    assert.deepEqual(Object.keys(go).sort(), [...Object.keys(DEFAULTS), "urls", "hasToken"].sort());
  });
});
