// createLiveClient: the JavaScript side of one Go client. It queues work
// until the Go runtime is ready, maps Refine's calls onto Go's, turns Go's
// event batches into LiveEvents and never throws into the caller.
import { ErrorCodes, liveError, warnError } from "./errors.js";
import { decodeBatch } from "./events.js";
import { loadRuntime } from "./loader.js";
import { goConfig, invalid, normalizeOptions } from "./options.js";
import { parsePublish, parseSubscribe } from "./requests.js";
import { watchBrowserSignals } from "./signals.js";
import { openSocket } from "./socket.js";

const STATUSES = ["idle", "connecting", "open", "reconnecting", "closed"];
const knownClients = new WeakSet();

/** True for objects made by createLiveClient. */
export function isLiveClient(value) {
  return knownClients.has(value);
}

/**
 * @param {import("./index.js").LiveClientOptions} options
 * @returns {import("./index.js").LiveClient}
 */
export function createLiveClient(options) {
  const userOnError = typeof options?.onError === "function" ? options.onError : undefined;
  const report = (err) => {
    try {
      (userOnError ?? warnError)(err);
    } catch (hookErr) {
      warnError(liveError(ErrorCodes.CALLBACK, `onError threw: ${hookErr?.message ?? hookErr}`));
    }
  };
  const settings = normalizeOptions(options, report);
  const debug = settings.debug ? (...args) => console.debug("[refine-live-wasm]", ...args) : () => {};

  /** "waiting" = no runtime outside a browser; the others follow the load. */
  /** @type {"waiting" | "loading" | "load-failed" | "running" | "closed"} */
  let phase = "waiting";
  /** @type {import("./index.js").LiveStatus} */
  let status = "idle";
  const statusListeners = new Set();
  /** @type {Map<number, Subscription>} subscriptions not yet unsubscribed */
  const subscriptions = new Map();
  // A handle's record (null: inert) is kept on the handle under this
  // client's symbol, not in a WeakMap: V8 does not shrink a WeakMap's table
  // when its keys die (128 KB left behind by 10,000 handles).
  const handles = Symbol("refine-live-wasm subscription");
  const bind = (handle, sub) => Object.freeze(Object.defineProperty(handle, handles, { value: sub }));
  let nextId = 1;
  let queuedPublishes = [];
  let queuedBytes = 0;
  let goClient = null;
  let runtimeApi = null;
  let runtimeGone = null; // resolves when the Go runtime exits
  let stopWatchingExit = () => {};
  let stopWatchingSignals = () => {};
  let retryTimer = null;
  let loadFailures = 0;
  let lastLoadFailureAt = 0;
  let closing = null;
  let ready = deferred();

  const setStatus = (next) => {
    if (next === status || !STATUSES.includes(next)) return;
    const previous = status;
    status = next;
    debug(`status ${previous} → ${next}`);
    for (const listener of [...statusListeners]) {
      try {
        listener(next, previous);
      } catch (err) {
        report(liveError(ErrorCodes.CALLBACK, `status listener threw: ${err?.message ?? err}`, err));
      }
    }
  };

  // Go never throws by contract; a dead runtime or a bug still might.
  const callGo = (what, fn) => {
    try {
      return fn();
    } catch (err) {
      report(liveError(ErrorCodes.INTERNAL, `${what} failed: ${err?.message ?? err}`, err));
      return undefined;
    }
  };

  const hooks = {
    onEvents(batch) {
      if (phase !== "running") return;
      let pairs;
      try {
        pairs = decodeBatch(batch);
      } catch (err) {
        report(liveError(ErrorCodes.INTERNAL, `malformed event batch: ${err.message}`, err));
        return;
      }
      for (const [ids, event] of pairs) {
        for (const id of ids) {
          const sub = subscriptions.get(id);
          if (sub === undefined || phase !== "running") continue;
          try {
            sub.callback(event);
          } catch (err) {
            report(liveError(ErrorCodes.CALLBACK, `callback for ${sub.channel} threw: ${err?.message ?? err}`, err));
          }
        }
      }
    },
    onStatus(_from, to) {
      if (phase !== "closed") setStatus(to);
    },
    onError(code, message) {
      report(liveError(String(code), String(message)));
    },
    getToken() {
      return Promise.resolve()
        .then(() => settings.getToken())
        .then((token) => (token === undefined || token === null ? "" : String(token)));
    },
    openSocket(url, sink) {
      return openSocket(url, sink, settings.WebSocket ?? globalThis.WebSocket);
    },
  };

  const startLoad = () => {
    phase = "loading";
    setStatus("connecting");
    let attempt;
    try {
      attempt = Promise.resolve((settings.loadRuntime ?? loadRuntime)(settings.wasmURL));
    } catch (err) {
      attempt = Promise.reject(err);
    }
    attempt.then(onRuntime, onLoadFailed);
  };

  const onRuntime = (runtime) => {
    if (phase === "closed") return;
    const created = callGo("newClient", () => runtime.api.newClient(goConfig(settings), hooks));
    if (created === undefined || created === null) {
      onLoadFailed(liveError(ErrorCodes.WASM_LOAD, "live.wasm did not create a client"));
      return;
    }
    if (created instanceof Error) {
      // Go refused the config: retrying cannot help.
      report(created.code ? created : liveError(ErrorCodes.INTERNAL, created.message, created));
      shutDown(created);
      return;
    }
    goClient = created;
    runtimeApi = runtime.api;
    phase = "running";
    loadFailures = 0;
    const gone = deferred();
    runtimeGone = gone.promise;
    stopWatchingExit = runtime.onExit(() => {
      gone.resolve();
      onRuntimeExit();
    });
    for (const sub of subscriptions.values()) sendSubscribe(sub);
    const publishes = queuedPublishes;
    queuedPublishes = [];
    queuedBytes = 0;
    for (const request of publishes) sendPublish(request);
    const goStatus = callGo("status", () => goClient.status());
    if (typeof goStatus === "string") setStatus(goStatus);
    ready.resolve();
  };

  const onLoadFailed = (err) => {
    if (phase === "closed") return;
    const error = err?.code ? err : liveError(ErrorCodes.WASM_LOAD, `failed to load live.wasm: ${err?.message ?? err}`, err);
    report(error);
    phase = "load-failed";
    lastLoadFailureAt = Date.now();
    setStatus("reconnecting");
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

  // "Retried on next use", but not more often than the backoff floor.
  const retryLoadOnUse = () => {
    if (phase === "load-failed" && Date.now() - lastLoadFailureAt >= settings.minDelay) retryLoad();
  };

  const onRuntimeExit = () => {
    if (phase === "closed") return;
    report(liveError(ErrorCodes.WASM_EXITED, "the Go runtime exited; this client is closed"));
    shutDown(liveError(ErrorCodes.WASM_EXITED, "the Go runtime exited"));
  };

  // Everything close() and a runtime exit have in common.
  const shutDown = (readyError) => {
    phase = "closed";
    clearTimeout(retryTimer);
    stopWatchingSignals();
    stopWatchingExit();
    subscriptions.clear();
    queuedPublishes = [];
    queuedBytes = 0;
    ready.reject(readyError);
    setStatus("closed");
  };

  // Subscribes and unsubscribes made in one task reach Go in one call: a
  // call per subscription leaves wasm_exec.js up to four references each
  // until Go's next collection, and its reference table never shrinks.
  let ops = [];
  const SEP = /[\x1c-\x1f]/;
  const flushOps = () => {
    if (ops.length === 0) return;
    const text = ops.join("\x1e");
    ops = [];
    if (goClient !== null) callGo("apply", () => goClient.apply(text));
  };
  const queueOp = (op) => {
    if (ops.length === 0) queueMicrotask(flushOps);
    ops.push(op);
  };
  const sendSubscribe = (sub) => {
    sub.state = "active";
    const strings = [sub.channel, ...sub.types, ...(sub.ids ?? [])];
    if (typeof goClient.apply !== "function" || strings.some((x) => SEP.test(x))) {
      flushOps();
      callGo("subscribe", () => goClient.subscribe(sub.id, sub.channel, sub.types, sub.ids, false, settings.coalesceMs));
      return;
    }
    const ids = sub.ids === null ? ["-1"] : [String(sub.ids.length), ...sub.ids];
    queueOp(["s", sub.id, settings.coalesceMs, "0", sub.channel, sub.types.length, ...sub.types, ...ids].join("\x1f"));
  };
  const sendUnsubscribe = (id) => {
    if (typeof goClient.apply !== "function") callGo("unsubscribe", () => goClient.unsubscribe(id));
    else queueOp(`u\x1f${id}`);
  };

  const sendPublish = (request) => {
    flushOps();
    callGo("publish", () => goClient.publish(request.channel, request.type, request.payloadJSON, request.metaJSON));
  };

  const inertHandle = (channel) => {
    const handle = bind({ channel: typeof channel === "string" ? channel : "", id: 0 }, null);
    return handle;
  };

  const client = {
    get ready() {
      return ready.promise;
    },
    get status() {
      return status;
    },
    onStatusChange(listener) {
      if (typeof listener !== "function") {
        report(invalid("onStatusChange expects a function"));
        return () => {};
      }
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    subscribe(options) {
      try {
        const request = parseSubscribe(options, settings.filterIds);
        if (phase === "closed") {
          report(liveError(ErrorCodes.CLOSED, `subscribe to ${request.channel ?? "?"}: the client is closed`));
          return inertHandle(request.channel);
        }
        if (request.kind === "error") {
          report(request.error);
          return inertHandle(request.channel);
        }
        if (request.kind === "inert") return inertHandle(request.channel);
        const id = nextId++;
        /** @type {Subscription} */
        const sub = { id, state: "queued", channel: request.channel, types: request.types, ids: request.ids, callback: request.callback };
        subscriptions.set(id, sub);
        const handle = bind({ channel: sub.channel, id }, sub);
        if (phase === "running") sendSubscribe(sub);
        else retryLoadOnUse();
        return handle;
      } catch (err) {
        report(liveError(ErrorCodes.INTERNAL, `subscribe failed: ${err?.message ?? err}`, err));
        return inertHandle("");
      }
    },
    unsubscribe(handle) {
      try {
        const sub = handle !== null && typeof handle === "object" ? handle[handles] : undefined;
        if (sub === undefined) {
          report(invalid("unsubscribe received a value that this client's subscribe did not return"));
          return;
        }
        // Inert handles, second calls and calls after close are no-ops.
        if (sub === null || sub.state === "removed") return;
        const wasActive = sub.state === "active";
        sub.state = "removed";
        subscriptions.delete(sub.id);
        // A subscribe still queued before the runtime is ready never reaches Go.
        if (wasActive && phase === "running") sendUnsubscribe(sub.id);
      } catch (err) {
        report(liveError(ErrorCodes.INTERNAL, `unsubscribe failed: ${err?.message ?? err}`, err));
      }
    },
    publish(event) {
      try {
        if (phase === "closed") {
          report(liveError(ErrorCodes.CLOSED, "publish: the client is closed"));
          return;
        }
        const request = parsePublish(event, settings.queueMaxBytes, report);
        if (request.kind === "error") {
          report(request.error);
          return;
        }
        if (phase === "running") {
          sendPublish(request);
          return;
        }
        // Before the runtime is ready the same limits and the same policy
        // as Go's queue apply: the oldest events make room for the newest,
        // and the rest keep their order.
        while (
          queuedPublishes.length > 0 &&
          (queuedPublishes.length >= settings.queueMaxCount || queuedBytes + request.bytes > settings.queueMaxBytes)
        ) {
          const dropped = queuedPublishes.shift();
          queuedBytes -= dropped.bytes;
          report(
            liveError(
              ErrorCodes.QUEUE_FULL,
              `publish to ${dropped.channel} dropped: the queue waiting for live.wasm is full (publishQueue.maxCount ${settings.queueMaxCount}, maxBytes ${settings.queueMaxBytes})`,
            ),
          );
        }
        queuedPublishes.push(request);
        queuedBytes += request.bytes;
        retryLoadOnUse();
      } catch (err) {
        report(liveError(ErrorCodes.INTERNAL, `publish failed: ${err?.message ?? err}`, err));
      }
    },
    reconnect() {
      if (phase === "running") callGo("reconnect", () => goClient.reconnect());
      else if (phase === "load-failed") retryLoad();
    },
    stats() {
      if (phase !== "running") return null;
      // Go hands its counters over as JSON text (see jsbridge).
      const goStats = callGo("stats", () => {
        const raw = goClient.stats();
        return typeof raw === "string" ? JSON.parse(raw) : raw;
      });
      const funcCount = callGo("funcCount", () =>
        typeof goClient.funcCount === "function" ? goClient.funcCount() : runtimeApi.funcCount(),
      );
      return { ...(goStats !== null && typeof goStats === "object" ? goStats : {}), funcCount };
    },
    close() {
      if (closing !== null) return closing;
      flushOps();
      const closingGo = goClient;
      const gone = runtimeGone;
      goClient = null;
      shutDown(liveError(ErrorCodes.CLOSED, "the client was closed"));
      closing = (async () => {
        if (closingGo === null) return;
        try {
          // A runtime that dies mid-close never settles Go's promise.
          await Promise.race([closingGo.close(), gone]);
        } catch (err) {
          report(liveError(ErrorCodes.INTERNAL, `close failed: ${err?.message ?? err}`, err));
        }
      })();
      return closing;
    },
  };
  knownClients.add(client);

  if (settings.urls.length === 0) {
    // Reported by normalizeOptions: there is nowhere to connect.
    shutDown(liveError(ErrorCodes.INVALID_ARGUMENT, "no valid url"));
  } else if (settings.loadRuntime !== undefined || isBrowser()) {
    stopWatchingSignals = watchBrowserSignals(() => client.reconnect());
    startLoad();
  } else {
    // Server-side rendering: stay idle; effects (and so subscribe) never run.
    ready.reject(liveError(ErrorCodes.UNSUPPORTED_ENVIRONMENT, "live.wasm only loads in a browser"));
  }
  return client;
}

/**
 * @typedef {object} Subscription
 * @property {number} id
 * @property {"queued" | "active" | "removed"} state
 * @property {string} channel
 * @property {string[]} types
 * @property {string[] | null} ids
 * @property {Function} callback
 */

function isBrowser() {
  return typeof window !== "undefined" && typeof document !== "undefined" && typeof WebAssembly !== "undefined";
}

// Full jitter above a floor: min + U[0, min(cap, min·2^n)], as centrifuge-js.
// No clamp after adding the floor, so the spread survives at the cap.
function backoff(min, max, attempt) {
  const spread = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return min + Math.random() * spread;
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
