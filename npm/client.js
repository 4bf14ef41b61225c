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
// What Go may say about a subscription; "queued" and the final
// "unsubscribed" of an app's unsubscribe are the shim's own.
const GO_SUB_STATES = ["subscribing", "subscribed", "refused", "unsubscribed"];
const knownClients = new WeakSet();
const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

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
  // A load of live.wasm failed: until a connection opens, every attempt
  // is a retry ("reconnecting"), whichever side makes it.
  let failedBeforeOpen = false;
  const statusListeners = new Set();
  const subStateListeners = new Set();
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

  // Status moves forward only: idle → connecting → open ⇄ reconnecting,
  // and closed from anywhere, for good. Go starts idle when it takes over
  // from the queue here, and dials "connecting" after a load that failed;
  // neither goes back on what the page was already told.
  const setStatus = (next) => {
    if (next === status || !STATUSES.includes(next) || status === "closed") return;
    if (next === "idle") return;
    if (next === "connecting" && status !== "idle") return;
    if (next === "open") failedBeforeOpen = false;
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

  // The first subscribe or publish is what makes the client want a
  // connection (Go dials on first use, not before).
  const wantConnection = () => {
    if (status === "idle" && phase !== "waiting") setStatus(failedBeforeOpen ? "reconnecting" : "connecting");
  };

  const setSubState = (sub, next) => {
    if (sub.state === next) return;
    const previous = sub.state;
    sub.state = next;
    if (subStateListeners.size === 0) return;
    const info = { id: sub.id, channel: sub.channel, state: next };
    for (const listener of [...subStateListeners]) {
      try {
        listener(info, previous);
      } catch (err) {
        report(liveError(ErrorCodes.CALLBACK, `subscription state listener threw: ${err?.message ?? err}`, err));
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
    onSubStates(batch) {
      if (phase !== "running") return;
      let items;
      try {
        items = JSON.parse(batch);
      } catch (err) {
        report(liveError(ErrorCodes.INTERNAL, `malformed subscription states: ${err.message}`, err));
        return;
      }
      for (let i = 0; i + 1 < items.length; i += 2) {
        const sub = subscriptions.get(items[i]);
        if (sub !== undefined && GO_SUB_STATES.includes(items[i + 1])) setSubState(sub, items[i + 1]);
      }
    },
    onError(code, message, channel, serverCode, closeCode) {
      const err = liveError(String(code), String(message));
      if (typeof channel === "string" && channel !== "") err.channel = channel;
      if (typeof serverCode === "string" && serverCode !== "") err.serverCode = serverCode;
      if (typeof closeCode === "number" && closeCode > 0) err.closeCode = closeCode;
      report(err);
    },
    onLog(level, text) {
      debug(level === "debug" ? String(text) : `${level}: ${text}`);
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
    failedBeforeOpen = true;
    if (status !== "idle") setStatus("reconnecting");
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
    for (const sub of subscriptions.values()) {
      sub.removed = true;
      setSubState(sub, "unsubscribed");
    }
    subscriptions.clear();
    queuedPublishes = [];
    queuedBytes = 0;
    ready.reject(readyError);
    setStatus("closed");
  };

  // Subscribes and unsubscribes made in one task reach Go in one call: a
  // call per subscription leaves wasm_exec.js up to four references each
  // until Go's next collection, and its reference table never shrinks.
  // A subscribe is held as its record and written when flushed, with how
  // long ago the app asked for it (a subscribe queued while live.wasm
  // loaded carries the whole wait, so Go can ask the server for what it
  // accepted meanwhile).
  /** @type {Array<string | Subscription>} */
  let ops = [];
  const SEP = /[\x1c-\x1f]/;
  const flushOps = () => {
    if (ops.length === 0) return;
    const at = now();
    const text = ops.map((op) => (typeof op === "string" ? op : subscribeRecord(op, at))).join("\x1e");
    ops = [];
    if (goClient !== null) callGo("apply", () => goClient.apply(text));
  };
  const queueOp = (op) => {
    if (ops.length === 0) queueMicrotask(flushOps);
    ops.push(op);
  };
  // The format is jsbridge's parseApply:
  // s id coalesceMs disabled ageMs channel nTypes types… nIDs(-1: null) ids…
  const subscribeRecord = (sub, at) => {
    const ids = sub.ids === null ? ["-1"] : [String(sub.ids.length), ...sub.ids];
    return ["s", sub.id, settings.coalesceMs, "0", ageOf(sub, at), sub.channel, sub.types.length, ...sub.types, ...ids].join("\x1f");
  };
  const ageOf = (sub, at) => Math.max(0, Math.floor(at - sub.calledAt));
  const sendSubscribe = (sub) => {
    sub.inGo = true;
    setSubState(sub, "subscribing");
    const strings = [sub.channel, ...sub.types, ...(sub.ids ?? [])];
    if (typeof goClient.apply !== "function" || strings.some((x) => SEP.test(x))) {
      flushOps();
      callGo("subscribe", () => goClient.subscribe(sub.id, sub.channel, sub.types, sub.ids, false, settings.coalesceMs, ageOf(sub, now())));
      return;
    }
    queueOp(sub);
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
    subscriptions() {
      return Array.from(subscriptions.values(), (sub) => ({ id: sub.id, channel: sub.channel, state: sub.state }));
    },
    onSubscriptionState(listener) {
      if (typeof listener !== "function") {
        report(invalid("onSubscriptionState expects a function"));
        return () => {};
      }
      subStateListeners.add(listener);
      return () => subStateListeners.delete(listener);
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
        const sub = {
          id,
          state: "queued",
          inGo: false,
          removed: false,
          calledAt: now(),
          channel: request.channel,
          types: request.types,
          ids: request.ids,
          callback: request.callback,
        };
        subscriptions.set(id, sub);
        const handle = bind({ channel: sub.channel, id }, sub);
        wantConnection();
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
        if (sub === null || sub.removed) return;
        sub.removed = true;
        subscriptions.delete(sub.id);
        setSubState(sub, "unsubscribed");
        // A subscribe still queued before the runtime is ready never reaches Go.
        if (sub.inGo && phase === "running") sendUnsubscribe(sub.id);
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
        wantConnection();
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
 * @property {import("./index.js").LiveSubscriptionState} state what the app sees
 * @property {boolean} inGo sent to Go (an unsubscribe must follow it there)
 * @property {boolean} removed the app unsubscribed, or the client closed
 * @property {number} calledAt when the app called subscribe (performance.now())
 * @property {string} channel
 * @property {string[]} types
 * @property {string[] | null} ids
 * @property {Function} callback
 */

function isBrowser() {
  return typeof window !== "undefined" && typeof document !== "undefined" && typeof WebAssembly !== "undefined";
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
