// The page's half of worker.js: a runtime object with the interface of
// loader.js's (api.newClient → { handle, stats(), close() }, go.register,
// go.commands, go.hook, state, onExit), backed by a module worker that runs
// live.wasm and owns the WebSocket: a dedicated worker of this client, or
// the shared worker of every tab. runtime.js takes any kind alike.
import { ErrorCodes, liveError } from "./errors.js";
import { exitSignal } from "./loader.js";
import { goConfig } from "./options.js";
import { HTML_ANSWER_FIX, installedFile, preBundled } from "./package-files.js";
import { connectShared, errorEventHandler, idleWatch, watchConnection } from "./worker-shared.js";
import { VERSION } from "./version.js";

/** How long a worker has to say it is ready before the next mode is tried. */
export const WORKER_LOAD_TIMEOUT_MS = 20000;
/** How long close() waits for the worker to answer before ending it. */
const CLOSE_TIMEOUT_MS = 5000;

// Failures of the worker itself (not of live.wasm inside it): those make
// the client try the next mode.
const workerFailures = new WeakSet();

/**
 * The modes `worker` tries, in order: a mode the environment lacks is
 * skipped silently under "auto" and reported (then skipped) when named.
 * @param {string} worker the normalized option
 * @returns {Array<"shared" | "dedicated" | "none">}
 */
export function modeChain(worker) {
  const chain = { auto: ["shared", "dedicated", "none"], shared: ["shared", "dedicated", "none"], dedicated: ["dedicated", "none"] }[worker] ?? [
    "none",
  ];
  if (worker !== "auto") return chain;
  return chain.filter(
    (mode) => (mode !== "shared" || typeof SharedWorker === "function") && (mode !== "dedicated" || typeof Worker === "function"),
  );
}

/**
 * The client's `load`: a worker-backed runtime of the first mode of the
 * chain that works, the in-page one at the end. A worker that failed is
 * reported and not tried again by this client.
 * @param {any} settings the client's normalized options
 * @param {() => Promise<any>} inPage loads the runtime in the page
 * @param {(err: Error) => void} report
 * @param {(...args: any[]) => void} debug
 * @param {{ loadTimeoutMs?: number }} [limits]
 */
export function runtimeLoader(settings, inPage, report, debug, { loadTimeoutMs } = {}) {
  let modes = modeChain(settings.worker);
  const load = () => {
    const mode = modes[0];
    if (mode === "none") return Promise.resolve(inPage()).then((runtime) => Object.assign(runtime, { mode: "none" }));
    return startWorkerRuntime({ settings, kind: mode, loadTimeoutMs, debug }).catch((err) => {
      if (!workerFailures.has(err)) throw err;
      report(err);
      modes = modes.slice(1);
      debug(modes[0] === "none" ? "running live.wasm in the page instead" : `trying a ${modes[0]} worker instead`);
      return load();
    });
  };
  return load;
}

/**
 * Starts a worker and resolves to its runtime once live.wasm runs there.
 * Rejects when the worker fails to load (an error event, no ready message
 * within loadTimeoutMs, another version) or live.wasm fails to load in it.
 * @param {object} parts
 * @param {any} parts.settings the client's normalized options
 * @param {"dedicated" | "shared"} [parts.kind]
 * @param {number} [parts.loadTimeoutMs]
 * @param {(...args: any[]) => void} [parts.debug]
 */
export function startWorkerRuntime({ settings, kind = "dedicated", loadTimeoutMs = WORKER_LOAD_TIMEOUT_MS, debug = () => {} }) {
  const url = absolute(settings.workerURL ?? (preBundled() ? installedFile("worker.js") : new URL("./worker.js", import.meta.url)));
  const workerFailed = (message, cause) => {
    const err = liveError(ErrorCodes.WASM_LOAD, `the ${kind} worker ${url} failed to load: ${message}`, cause);
    workerFailures.add(err);
    return err;
  };
  const load = { t: "load", wasmURL: absolute(settings.wasmURL), config: goConfig(settings) };
  // One connection to the worker, up to its ready message.
  const connect = () => {
    let endpoint;
    try {
      endpoint = kind === "shared" ? connectShared(settings.workerURL) : dedicatedEndpoint(settings.workerURL);
    } catch (err) {
      return Promise.reject(workerFailed(err?.message ?? String(err), err));
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        endpoint.setHandlers({});
        endpoint.end();
        reject(err);
      };
      const timer = setTimeout(() => fail(workerFailed(`no ready message within ${loadTimeoutMs} ms`)), loadTimeoutMs);
      endpoint.setHandlers({
        error: (message) => explainFailure(url, message).then((why) => fail(workerFailed(why))),
        message(data) {
          if (data?.t === "ready") {
            clearTimeout(timer);
            endpoint.setHandlers({});
            if (data.refused === undefined && data.version !== VERSION) {
              fail(workerFailed(`it runs version ${data.version}, this page ${VERSION}`));
            } else resolve({ endpoint, ready: data });
          } else if (data?.t === "failed") fail(liveError(String(data.code), `in the ${kind} worker ${url}: ${data.message}`));
        },
      });
      endpoint.ready.then(() => endpoint.post(load), (err) => fail(workerFailed(err?.message ?? String(err), err)));
    });
  };
  return connect().then(({ endpoint, ready }) => workerRuntime({ kind, endpoint, ready, url, reconnect: kind === "shared" ? connect : null, debug }));
}

// An error event says nothing of why a worker failed; its URL's answer
// may (an HTML page where a script was expected is a dev server's fallback).
async function explainFailure(url, message) {
  try {
    const res = await fetch(url, { credentials: "same-origin" });
    if ((res.headers.get("content-type") ?? "").startsWith("text/html")) return HTML_ANSWER_FIX;
    return res.ok ? message : `HTTP ${res.status}`;
  } catch {
    return message;
  }
}

// A dedicated worker of this client, as an endpoint (see worker-shared.js).
function dedicatedEndpoint(workerURL) {
  if (typeof Worker !== "function") throw new Error("this environment has no Worker");
  // Written out in full so that bundlers find the worker and its files.
  const url = workerURL ?? (preBundled() ? installedFile("worker.js") : undefined);
  const worker =
    url === undefined ? new Worker(new URL("./worker.js", import.meta.url), { type: "module" }) : new Worker(url, { type: "module" });
  return {
    ready: Promise.resolve(),
    post: (message) => worker.postMessage(message),
    setHandlers({ message, error }) {
      worker.onmessage = message ? ({ data }) => message(data) : null;
      worker.onerror = errorEventHandler(error);
      worker.onmessageerror = error ? () => error("a message could not be read") : null;
    },
    end: () => worker.terminate(),
  };
}

// The runtime object over a worker whose Go client exists already. A
// shared worker's connection is watched: one that stops answering, or a
// worker that no longer knows this tab (restarted with fresh state, or
// this page came back from the back-forward cache), is connected again,
// and the client registers its subscriptions there again (runtime.js).
function workerRuntime({ kind, endpoint, ready, url, reconnect, debug }) {
  const exitSig = exitSignal();
  const receivers = new Map();
  const restartListeners = new Set();
  let hooks = null;
  let held = []; // batches that came before newClient took the hooks
  let stats = ready.stats;
  let statsAsked = false;
  let closing = null;
  let closed = () => {};
  /** @type {"connected" | "suspended" | "reconnecting" | "ended"} */
  let link = "connected";
  let whileReconnecting = []; // publishes and reconnects made meanwhile

  const post = (message) => {
    if (link === "connected" && !exitSig.exited) endpoint.post(message);
  };

  const answerToken = (id) => {
    Promise.resolve()
      .then(() => hooks.getToken())
      .then(
        (token) => post({ t: "token", id, token: String(token) }),
        (err) => post({ t: "token", id, error: String(err?.message ?? err) }),
      );
  };

  const run = (item) => {
    switch (item[0]) {
      case "events":
        receivers.get(ready.handle)?.(item[1]);
        break;
      case "status":
        hooks.onStatus(item[1], item[2], item[3], item[4]);
        break;
      case "error":
        hooks.onError(item[1], item[2], item[3], item[4], item[5]);
        break;
      case "substates":
        hooks.onSubStates(item[1]);
        break;
      case "log":
        hooks.onLog(item[1], item[2]);
        break;
      case "token":
        answerToken(item[1]);
        break;
      case "stats":
        stats = item[1];
        statsAsked = false;
        break;
    }
  };
  const runBatch = (items) => {
    for (const item of items) {
      try {
        run(item);
      } catch (err) {
        hooks.onError(ErrorCodes.INTERNAL, `${item[0]} from the worker failed: ${err?.message ?? err}`);
      }
    }
  };

  const exit = () => {
    if (exitSig.exited) return;
    link = "ended";
    watch.stop();
    endpoint.end();
    exitSig.fire();
  };

  const listen = () =>
    endpoint.setHandlers({
      message(data) {
        if (data?.t === "batch") {
          if (hooks === null) held.push(data.items);
          else runBatch(data.items);
        } else if (data?.t === "pong") watch.pong(data);
        else if (data?.t === "closed") closed();
        else if (data?.t === "exited") exit();
      },
      error(message) {
        hooks?.onError(ErrorCodes.INTERNAL, `the ${kind} worker ${url}: ${message}`);
      },
    });
  listen();

  // A page put in the back-forward cache leaves the worker (its
  // subscriptions end there after the linger) and releases its lock.
  const suspend = () => {
    if (link !== "connected") return;
    post({ t: "close" });
    endpoint.setHandlers({});
    endpoint.end();
    link = "suspended";
  };
  const restart = (why) => {
    if ((link !== "connected" && link !== "suspended") || reconnect === null) return;
    if (link === "connected") {
      endpoint.setHandlers({});
      endpoint.end();
    }
    link = "reconnecting";
    debug(`connecting to the shared worker again: ${why}`);
    const attempt = () =>
      reconnect().then(
        (next) => {
          if (link === "ended") {
            next.endpoint.end();
            return;
          }
          ({ endpoint } = next);
          ready = { ...next.ready, handle: ready.handle };
          stats = next.ready.stats;
          link = "connected";
          listen();
          watch.start();
          for (const fn of restartListeners) fn(why);
          const pending = whileReconnecting;
          whileReconnecting = [];
          for (const text of pending) post({ t: "commands", text });
        },
        (err) => {
          if (link === "ended") return;
          hooks?.onError(err?.code ?? ErrorCodes.WASM_LOAD, `the shared worker did not come back: ${err?.message ?? err}`);
          setTimeout(attempt, WORKER_LOAD_TIMEOUT_MS);
        },
      );
    attempt();
  };
  const watch = kind === "shared" ? watchConnection({ post: (m) => post(m), connected: () => link === "connected", instance: () => ready.instance, restart, suspend }) : idleWatch;
  watch.start();

  const goClient = {
    handle: ready.handle,
    /** The counters the worker posted last (at most STATS_INTERVAL_MS old); asks for fresh ones. */
    stats() {
      if (!statsAsked) {
        statsAsked = true;
        post({ t: "stats" });
      }
      return stats?.go ?? {};
    },
    /** Ends this client's part in the worker (a dedicated worker's Go client), then the connection. */
    close() {
      if (closing === null) {
        closing = new Promise((resolve) => {
          const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
          closed = () => {
            clearTimeout(timer);
            resolve();
          };
          if (link === "connected" && !exitSig.exited) post({ t: "close" });
          else closed();
        }).then(exit);
      }
      return closing;
    },
  };

  return {
    mode: kind,
    api: {
      version: ready.version,
      // The worker created the Go client with the config the load carried.
      newClient(_config, clientHooks) {
        if (ready.refused !== undefined) {
          exit();
          return liveError(String(ready.refused.code), String(ready.refused.message));
        }
        hooks = clientHooks;
        const batches = held;
        held = [];
        for (const items of batches) runBatch(items);
        return goClient;
      },
      funcCount: () => stats?.funcCount ?? 0,
    },
    go: {
      // No export runs in the page: a hook may run the app's code at once.
      hook: (fn) => fn,
      register(handle, onEvents) {
        receivers.set(handle, onEvents);
        return () => receivers.delete(handle);
      },
      commands(_handle, text) {
        if (link === "reconnecting" || link === "suspended") {
          // The subscriptions are registered again whole once connected.
          const kept = JSON.parse(text).filter((cmd) => cmd[0] === "p" || cmd[0] === "r");
          if (kept.length > 0) whileReconnecting.push(JSON.stringify(kept));
        } else post({ t: "commands", text });
      },
    },
    /** The events of this runtime arrive decoded (worker.js ran decodeBatch). */
    decodedEvents: true,
    /** Ends the worker of a client that closed before it could use it. */
    release: exit,
    state: () => (exitSig.exited ? "exited" : "running"),
    onExit: exitSig.onExit,
    /** fn(reason) runs each time a shared worker was connected again with fresh state for this tab. */
    onRestart(fn) {
      restartListeners.add(fn);
      return () => restartListeners.delete(fn);
    },
  };
}

// The worker resolves URLs against its own; the app's are the page's.
function absolute(url) {
  if (url === undefined) return undefined;
  try {
    return new URL(String(url), globalThis.location?.href).href;
  } catch {
    return String(url);
  }
}
