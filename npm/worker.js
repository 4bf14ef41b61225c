// The engine off the main thread: a module worker that runs live.wasm and
// owns the WebSocket, as a dedicated worker for one client of one page or
// as a shared worker for every tab of an origin (worker-hub.js serves
// both). worker-runtime.js is the page's half of the messages below; the
// page keeps everything the app sees.
//
// Page → worker (a shared worker's tab talks over its own port):
//   { t: "load", wasmURL, config, lock? } load live.wasm, create or join the
//                                     Go client of this config; a shared
//                                     worker's tab holds Web Lock `lock` for life
//   { t: "commands", text }          a command batch (contract.js), in the tab's ids
//   { t: "token", id, token | error } the answer to a token request
//   { t: "stats" }                   post the counters now
//   { t: "ping" }                    a shared worker's tab, every few seconds
//   { t: "close" }                   end this tab's subscriptions (a dedicated
//                                     worker closes its Go client), then say "closed"
// Worker → page:
//   { t: "ready", version, handle, stats, instance } or { t: "ready", refused: { code, message } }
//   { t: "failed", code, message }  live.wasm did not load (retried with backoff)
//   { t: "batch", items }           what one task of the worker produced for the tab, in order:
//     ["status", from, to, code, message], ["error", code, message, channel,
//     serverCode, closeCode], ["substates", text], ["log", level, text],
//     ["events", pairs] (decodeBatch's, so the page parses nothing per event),
//     ["token", id] (the page runs the app's getToken), ["stats", stats]
//   { t: "pong", instance, known }  known is false when this worker has not
//                                     heard of the tab (it was restarted)
//   { t: "closed" }, { t: "exited" }
import { loadRuntime } from "./loader.js";
import { createHub } from "./worker-hub.js";

export { STATS_INTERVAL_MS } from "./worker-hub.js";

/**
 * Serves one client of one page over `scope`'s messages (a dedicated
 * worker's global scope, or a stand-in in tests).
 * @param {{ postMessage(message: any): void, addEventListener(type: "message", fn: (ev: MessageEvent) => void): void }} scope
 * @param {object} [parts]
 * @param {(wasmURL?: string) => Promise<any>} [parts.load] loader.js's loadRuntime
 * @param {typeof WebSocket} [parts.WebSocket]
 */
export function serveWorker(scope, { load = loadRuntime, WebSocket = globalThis.WebSocket } = {}) {
  createHub({ load, WebSocket, shared: false }).attach(scope);
}

/**
 * Serves every tab that connects to `scope` (a shared worker's global
 * scope, or a stand-in in tests): each connect event brings a tab's port.
 * @param {{ addEventListener(type: "connect", fn: (ev: MessageEvent) => void): void }} scope
 * @param {object} [parts]
 * @param {(wasmURL?: string) => Promise<any>} [parts.load]
 * @param {typeof WebSocket} [parts.WebSocket]
 * @param {{ request(name: string, fn: () => any): Promise<any> }} [parts.locks]
 */
export function serveSharedWorker(scope, { load = loadRuntime, WebSocket = globalThis.WebSocket, locks = globalThis.navigator?.locks } = {}) {
  const hub = createHub({ load, WebSocket, shared: true, locks });
  scope.addEventListener("connect", (ev) => hub.attach(ev.ports[0]));
  return hub;
}

// Started as a worker (not imported by a test), serve the page or the tabs.
if (typeof SharedWorkerGlobalScope !== "undefined" && globalThis instanceof SharedWorkerGlobalScope) serveSharedWorker(globalThis);
else if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) serveWorker(globalThis);
