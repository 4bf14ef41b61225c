// The page's half of worker.js: a runtime object with the interface of
// loader.js's (api.newClient → { handle, stats(), close() }, go.register,
// go.commands, go.hook, state, onExit), backed by a module worker that runs
// live.wasm and owns the WebSocket. runtime.js takes either kind alike.
import { ErrorCodes, liveError } from "./errors.js";
import { exitSignal } from "./loader.js";
import { goConfig } from "./options.js";

/** How long a worker has to say it is ready before the page runs live.wasm itself. */
export const WORKER_LOAD_TIMEOUT_MS = 20000;
/** How long close() waits for the worker to close its Go client before ending it. */
const CLOSE_TIMEOUT_MS = 5000;

// Failures of the worker itself (not of live.wasm inside it): those make
// the client run in the page instead.
const workerFailures = new WeakSet();

/**
 * The client's `load`: in "dedicated" mode a worker-backed runtime, and the
 * in-page one from the first time a worker failed to load on.
 * @param {any} settings the client's normalized options
 * @param {() => Promise<any>} inPage loads the runtime in the page
 * @param {(err: Error) => void} report
 * @param {(...args: any[]) => void} debug
 * @param {{ loadTimeoutMs?: number }} [limits]
 */
export function runtimeLoader(settings, inPage, report, debug, { loadTimeoutMs } = {}) {
  let mode = settings.worker;
  return () => {
    if (mode !== "dedicated") return inPage();
    return startWorkerRuntime({ settings, loadTimeoutMs }).catch((err) => {
      if (!workerFailures.has(err)) throw err;
      report(err);
      mode = "none";
      debug("running live.wasm in the page instead");
      return inPage();
    });
  };
}

/**
 * Starts a worker and resolves to its runtime once live.wasm runs there.
 * Rejects when the worker fails to load (an error event, no ready message
 * within loadTimeoutMs) or live.wasm fails to load inside it.
 * @param {object} parts
 * @param {any} parts.settings the client's normalized options
 * @param {number} [parts.loadTimeoutMs]
 */
export function startWorkerRuntime({ settings, loadTimeoutMs = WORKER_LOAD_TIMEOUT_MS }) {
  const url = absolute(settings.workerURL ?? new URL("./worker.js", import.meta.url));
  const workerFailed = (message, cause) => {
    const err = liveError(ErrorCodes.WASM_LOAD, `the worker ${url} failed to load: ${message}`, cause);
    workerFailures.add(err);
    return err;
  };
  return new Promise((resolve, reject) => {
    let worker;
    try {
      if (typeof Worker !== "function") throw new Error("this environment has no Worker");
      // Written out in full so that bundlers find the worker and its files.
      worker =
        settings.workerURL === undefined
          ? new Worker(new URL("./worker.js", import.meta.url), { type: "module" })
          : new Worker(settings.workerURL, { type: "module" });
    } catch (err) {
      reject(workerFailed(err?.message ?? String(err), err));
      return;
    }
    // The load's listeners end with it; a ready worker's runtime sets its own.
    const detach = () => {
      clearTimeout(timer);
      worker.onmessage = worker.onerror = worker.onmessageerror = null;
    };
    const fail = (err) => {
      detach();
      worker.terminate();
      reject(err);
    };
    const timer = setTimeout(() => fail(workerFailed(`no ready message within ${loadTimeoutMs} ms`)), loadTimeoutMs);
    worker.onerror = (ev) => {
      ev?.preventDefault?.();
      fail(workerFailed(ev?.message || "error event"));
    };
    worker.onmessageerror = () => fail(workerFailed("a message could not be read"));
    worker.onmessage = ({ data }) => {
      if (data?.t === "ready") {
        detach();
        resolve(workerRuntime(worker, data, url));
      }
      else if (data?.t === "failed") fail(liveError(String(data.code), `in the worker ${url}: ${data.message}`));
    };
    worker.postMessage({ t: "load", wasmURL: absolute(settings.wasmURL), config: goConfig(settings) });
  });
}

// The runtime object over a worker whose Go client exists already.
function workerRuntime(worker, ready, url) {
  /** @type {"running" | "exited"} */
  const exitSig = exitSignal();
  const receivers = new Map();
  let hooks = null;
  let held = []; // batches that came before newClient took the hooks
  let stats = ready.stats;
  let statsAsked = false;
  let closing = null;
  let closed = () => {};

  const post = (message) => {
    if (!exitSig.exited) worker.postMessage(message);
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
    worker.terminate();
    exitSig.fire();
  };

  worker.onmessage = ({ data }) => {
    if (data?.t === "batch") {
      if (hooks === null) held.push(data.items);
      else runBatch(data.items);
    } else if (data?.t === "closed") closed();
    else if (data?.t === "exited") exit();
  };
  worker.onerror = (ev) => {
    ev?.preventDefault?.();
    hooks?.onError(ErrorCodes.INTERNAL, `the worker ${url}: ${ev?.message || "error event"}`);
  };

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
    /** Closes the Go client in the worker, then ends the worker. */
    close() {
      if (closing === null) {
        closing = new Promise((resolve) => {
          const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
          closed = () => {
            clearTimeout(timer);
            resolve();
          };
          post({ t: "close" });
          if (exitSig.exited) closed();
        }).then(exit);
      }
      return closing;
    },
  };

  return {
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
        post({ t: "commands", text });
      },
    },
    /** The events of this runtime arrive decoded (worker.js ran decodeBatch). */
    decodedEvents: true,
    /** Ends the worker of a client that closed before it could use it. */
    release: exit,
    state: () => (exitSig.exited ? "exited" : "running"),
    onExit: exitSig.onExit,
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
