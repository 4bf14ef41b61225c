// The engine off the main thread: a module worker that runs live.wasm for
// one client of the page and owns its WebSocket. worker-runtime.js is the
// page's half of the messages below; the page keeps everything the app sees.
//
// Page → worker:
//   { t: "load", wasmURL, config }   load live.wasm, create the Go client
//   { t: "commands", text }          a command batch (contract.js)
//   { t: "token", id, token | error } the answer to a token request
//   { t: "stats" }                   post the counters now
//   { t: "close" }                   close the Go client, then say "closed"
// Worker → page:
//   { t: "ready", version, handle, stats } or { t: "ready", refused: { code, message } }
//   { t: "failed", code, message }  live.wasm did not load (retried with backoff)
//   { t: "batch", items }           what one task of the worker produced, in order:
//     ["status", from, to, code, message], ["error", code, message, channel,
//     serverCode, closeCode], ["substates", text], ["log", level, text],
//     ["events", pairs] (decodeBatch's, so the page parses nothing per event),
//     ["token", id] (the page runs the app's getToken), ["stats", stats]
//   { t: "closed" }, { t: "exited" }
import { decodeBatch } from "./contract.js";
import { loadRuntime } from "./loader.js";
import { openSocket } from "./socket.js";

/** The least time between two stats posted after deliveries. */
export const STATS_INTERVAL_MS = 250;

/**
 * Serves one client over `scope`'s messages (the worker's global scope, or
 * a stand-in in tests).
 * @param {{ postMessage(message: any): void, addEventListener(type: "message", fn: (ev: MessageEvent) => void): void }} scope
 * @param {object} [parts]
 * @param {(wasmURL?: string) => Promise<any>} [parts.load] loader.js's loadRuntime
 * @param {typeof WebSocket} [parts.WebSocket]
 */
export function serveWorker(scope, { load = loadRuntime, WebSocket = globalThis.WebSocket } = {}) {
  let runtime = null;
  let goClient = null;
  let unregister = () => {};
  let items = [];
  const tokens = new Map();
  let nextToken = 1;
  let lastStatsAt = -Infinity;
  let statsTimer = null;
  let closed = false;

  // Everything of one task goes in one message, in the order it happened.
  const flush = () => {
    const batch = items;
    items = [];
    if (batch.length > 0) scope.postMessage({ t: "batch", items: batch });
  };
  const queue = (item) => {
    if (items.length === 0) queueMicrotask(flush);
    items.push(item);
  };

  const readStats = () => {
    try {
      return { go: JSON.parse(goClient.stats()), funcCount: runtime.api.funcCount() };
    } catch (err) {
      queue(["error", "ERR_INTERNAL", `stats failed: ${err?.message ?? err}`]);
      return null;
    }
  };
  const postStats = () => {
    clearTimeout(statsTimer);
    statsTimer = null;
    if (goClient === null) return;
    lastStatsAt = Date.now();
    const stats = readStats();
    if (stats !== null) queue(["stats", stats]);
  };
  // After a delivery, at most every STATS_INTERVAL_MS, and once more after
  // the last delivery of a burst.
  const statsAfterDelivery = () => {
    if (statsTimer !== null) return;
    const wait = lastStatsAt + STATS_INTERVAL_MS - Date.now();
    if (wait <= 0) queueMicrotask(postStats);
    else statsTimer = setTimeout(postStats, wait);
  };

  const deliver = (text) => {
    let pairs;
    try {
      pairs = decodeBatch(text);
    } catch (err) {
      queue(["error", "ERR_INTERNAL", `malformed event batch: ${err.message}`]);
      return;
    }
    queue(["events", pairs]);
    statsAfterDelivery();
  };

  const hooks = {
    onEvents: deliver,
    onStatus: (from, to, code, message) => queue(["status", from, to, code, message]),
    onError: (code, message, channel, serverCode, closeCode) => queue(["error", code, message, channel, serverCode, closeCode]),
    onSubStates: (states) => queue(["substates", states]),
    onLog: (level, text) => queue(["log", level, text]),
    getToken() {
      const id = nextToken++;
      queue(["token", id]);
      return new Promise((resolve, reject) => tokens.set(id, { resolve, reject }));
    },
    openSocket: (url, sink) => openSocket(url, sink, runtime.go, WebSocket),
  };

  const start = async ({ wasmURL, config }) => {
    try {
      runtime = await load(wasmURL);
    } catch (err) {
      scope.postMessage({ t: "failed", code: err?.code ?? "ERR_WASM_LOAD", message: String(err?.message ?? err) });
      return;
    }
    runtime.onExit(() => {
      flush();
      scope.postMessage({ t: "exited" });
    });
    let created;
    try {
      created = runtime.api.newClient(config, hooks);
    } catch (err) {
      created = err instanceof Error ? err : new Error(String(err));
    }
    if (created === null || typeof created !== "object" || created instanceof Error) {
      const refused = created instanceof Error ? created : new Error("live.wasm did not create a client");
      scope.postMessage({ t: "ready", refused: { code: refused.code ?? "ERR_INTERNAL", message: refused.message } });
      return;
    }
    goClient = created;
    unregister = runtime.go.register(created.handle, deliver);
    lastStatsAt = Date.now();
    scope.postMessage({ t: "ready", version: runtime.api.version, handle: created.handle, stats: readStats() });
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    const closing = goClient;
    goClient = null;
    unregister();
    clearTimeout(statsTimer);
    for (const { reject } of tokens.values()) reject(new Error("the client was closed"));
    tokens.clear();
    try {
      await closing?.close();
    } catch (err) {
      queue(["error", "ERR_INTERNAL", `close failed: ${err?.message ?? err}`]);
    }
    flush();
    scope.postMessage({ t: "closed" });
  };

  scope.addEventListener("message", ({ data }) => {
    switch (data?.t) {
      case "load":
        start(data);
        break;
      case "commands":
        if (goClient !== null) runtime.go.commands(goClient.handle, data.text);
        break;
      case "token": {
        const pending = tokens.get(data.id);
        tokens.delete(data.id);
        if (data.error === undefined) pending?.resolve(String(data.token ?? ""));
        else pending?.reject(new Error(String(data.error)));
        break;
      }
      case "stats":
        postStats();
        break;
      case "close":
        close();
        break;
    }
  });
}

// Started as a worker (not imported by a test), serve the page.
if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) serveWorker(globalThis);
