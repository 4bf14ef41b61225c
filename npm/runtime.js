// The Go runtime's lifecycle for one client: loading live.wasm, creating
// the Go client, retrying a failed load with backoff, and noticing the
// runtime's exit. The runtime is the page's own (loader.js) or a worker's
// (worker-runtime.js): both have the same interface, so nothing past this
// file knows where Go runs. The rest of the client reads `phase` to know
// whether Go is there to call.
import { decodeBatch } from "./contract.js";
import { ErrorCodes, liveError } from "./errors.js";
import { goConfig } from "./options.js";

/**
 * @param {object} parts
 * @param {any} parts.settings the client's normalized options
 * @param {(err: Error) => void} parts.report
 * @param {(...args: any[]) => void} parts.debug
 * @param {(what: string, fn: () => any) => any} parts.callGo
 * @param {() => any} parts.load starts one load of the runtime
 * @param {object} parts.hooks what Go calls back (jsbridge's hooks)
 * @param {() => void} parts.started hands Go what was queued meanwhile
 * @param {(reason: string) => void} parts.restarted a shared worker came back
 *   with fresh state: Go needs every subscription again
 * @param {(err: Error) => void} parts.loadFailed tells the status a load failed
 * @param {(readyError: Error) => void} parts.shutDown closes the whole client
 */
export function createRuntime({ settings, report, debug, callGo, load, hooks, started, restarted, loadFailed, shutDown }) {
  /** "waiting" = no runtime outside a browser; the others follow the load. */
  /** @type {"waiting" | "loading" | "load-failed" | "running" | "closed"} */
  let phase = "waiting";
  let goClient = null;
  let runtimeApi = null;
  let goExports = null;
  let unregister = () => {};
  let runtimeGone = null; // resolves when the Go runtime exits
  let stopWatchingExit = () => {};
  let retryTimer = null;
  let loadFailures = 0;
  let lastLoadFailureAt = 0;
  let ready = deferred();
  /** Where Go runs: "none" (the page), "dedicated" or "shared". */
  let mode = "none";

  const startLoad = () => {
    phase = "loading";
    let attempt;
    try {
      attempt = Promise.resolve(load());
    } catch (err) {
      attempt = Promise.reject(err);
    }
    attempt.then(onRuntime, onLoadFailed);
  };

  const onRuntime = (runtime) => {
    if (phase === "closed") {
      // A runtime of this client alone (a worker's) is not wanted any more.
      runtime.release?.();
      return;
    }
    // hooks.onEvents takes decodeBatch's pairs: a worker decoded them there.
    const onEvents = runtime.decodedEvents === true ? hooks.onEvents : decoding(hooks.onEvents, report);
    const goHooks = { ...heldDuringExports(hooks, runtime.go), onEvents };
    const created = callGo("newClient", () => runtime.api.newClient(goConfig(settings), goHooks));
    if (created === undefined || created === null) {
      runtime.release?.();
      onLoadFailed(liveError(ErrorCodes.WASM_LOAD, "live.wasm did not create a client"));
      return;
    }
    if (created instanceof Error) {
      // Go refused the config: retrying cannot help.
      runtime.release?.();
      report(created.code ? created : liveError(ErrorCodes.INTERNAL, created.message, created));
      shutDown(created);
      return;
    }
    goClient = created;
    runtimeApi = runtime.api;
    goExports = runtime.go;
    unregister = goExports.register(created.handle, onEvents);
    phase = "running";
    loadFailures = 0;
    const gone = deferred();
    runtimeGone = gone.promise;
    const stopWatchingRestart = runtime.onRestart?.((reason) => restarted(reason)) ?? (() => {});
    const stopWatchingGoExit = runtime.onExit(() => {
      gone.resolve();
      onRuntimeExit();
    });
    stopWatchingExit = () => {
      stopWatchingRestart();
      stopWatchingGoExit();
    };
    mode = runtime.mode ?? "none";
    started();
    ready.resolve();
  };

  const onLoadFailed = (err) => {
    if (phase === "closed") return;
    const error = err?.code ? err : liveError(ErrorCodes.WASM_LOAD, `failed to load live.wasm: ${err?.message ?? err}`, err);
    report(error);
    phase = "load-failed";
    lastLoadFailureAt = Date.now();
    loadFailed(error);
    ready.reject(error);
    ready = deferred();
    const delay = backoff(settings.minDelay, settings.maxDelay, loadFailures++);
    debug(`retrying the wasm load in ${Math.round(delay)} ms`);
    retryTimer = setTimeout(retryLoad, delay);
  };

  const retryLoad = () => {
    if (phase !== "load-failed") return;
    clearTimeout(retryTimer);
    retryTimer = null;
    startLoad();
  };

  const onRuntimeExit = () => {
    if (phase === "closed") return;
    report(liveError(ErrorCodes.WASM_EXITED, "the Go runtime exited; this client is closed"));
    shutDown(liveError(ErrorCodes.WASM_EXITED, "the Go runtime exited"));
  };

  return {
    get phase() {
      return phase;
    },
    /** The Go client object; null before the runtime runs and after close. */
    get goClient() {
      return goClient;
    },
    get api() {
      return runtimeApi;
    },
    /**
     * Sends a command batch (contract.js's joinCommands) to the Go client;
     * false when there is none.
     */
    commands(text) {
      if (goClient === null || goExports === null) return false;
      goExports.commands(goClient.handle, text);
      return true;
    },
    /**
     * The engine's counters and funcCount, or null when Go does not run
     * this client. A worker's are the last it posted.
     */
    stats() {
      if (phase !== "running" || goClient === null) return null;
      const raw = callGo("stats", () => goClient.stats());
      // In the page Go hands its counters over as JSON text (contract.go).
      const goStats = typeof raw === "string" ? callGo("stats", () => JSON.parse(raw)) : raw;
      const funcCount = callGo("funcCount", () => runtimeApi.funcCount());
      return { ...(goStats !== null && typeof goStats === "object" ? goStats : {}), funcCount, mode };
    },
    /** contract.js's bindExports of the running Go instance, or null. */
    get go() {
      return goExports;
    },
    get ready() {
      return ready.promise;
    },
    start: startLoad,
    retry: retryLoad,
    // "Retried on next use", but not more often than the backoff floor.
    retryOnUse() {
      if (phase === "load-failed" && Date.now() - lastLoadFailureAt >= settings.minDelay) retryLoad();
    },
    /**
     * Takes the Go client away from the rest of the client, for close():
     * nothing calls it afterwards. `gone` resolves when the runtime exits.
     */
    detach() {
      const detached = { goClient, gone: runtimeGone };
      goClient = null;
      unregister();
      return detached;
    },
    // The runtime's part of shutting the client down: no retry and no exit
    // watch; the client rejects `ready` once its subscriptions ended.
    stop() {
      phase = "closed";
      unregister();
      clearTimeout(retryTimer);
      stopWatchingExit();
    },
    rejectReady(error) {
      ready.reject(error);
    },
  };
}

/**
 * The delay before retry `attempt` (0-based), the engine's formula
 * (provider/backoff.go): min + U[0, min(max − min, min·2^attempt)). It
 * never drops below min nor reaches above max, and keeps its whole spread
 * [min, max) once capped, so clients that hit the cap together do not
 * retry together.
 */
export function backoff(min, max, attempt, random = Math.random) {
  const spread = Math.min(max - min, min * 2 ** Math.min(attempt, 40));
  const r = random();
  return min + (r >= 0 && r < 1 ? r : 0) * spread;
}

// A promise that never counts as an unhandled rejection: `ready` may fail
// while nobody is waiting for it.
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

// Go's event batches as text, decoded here for hooks.onEvents.
function decoding(onEvents, report) {
  return (batch) => {
    let pairs;
    try {
      pairs = decodeBatch(batch);
    } catch (err) {
      report(liveError(ErrorCodes.INTERNAL, `malformed event batch: ${err.message}`, err));
      return;
    }
    onEvents(pairs);
  };
}

// The hooks that run the app's code, held while an export runs (contract.js).
function heldDuringExports(hooks, go) {
  const held = { ...hooks };
  for (const name of ["onStatus", "onError", "onSubStates", "onLog"]) held[name] = go.hook(hooks[name]);
  return held;
}
