// createLiveClient: the JavaScript side of one Go client. It queues work
// until the Go runtime is ready, maps Refine's calls onto Go's, turns Go's
// event batches into LiveEvents and never throws into the caller.
//
// This file wires the parts together and holds the public client object:
// status.js is the status and the app's listeners, runtime.js the Go
// runtime's lifecycle (load, retry, exit) wherever it runs (the page, or a
// worker through worker-runtime.js), subscriptions.js the
// subscription table and the subscribes and unsubscribes batched to Go.
import { publishCommand, RECONNECT_COMMAND } from "./contract.js";
import { ErrorCodes, liveError, warnError } from "./errors.js";
import { loadRuntime } from "./loader.js";
import { normalizeOptions } from "./options.js";
import { parsePublish, parseSubscribe } from "./requests.js";
import { createRuntime } from "./runtime.js";
import { watchBrowserSignals } from "./signals.js";
import { openSocket } from "./socket.js";
import { createStatus } from "./status.js";
import { createSubscriptions } from "./subscriptions.js";
import { runtimeLoader } from "./worker-runtime.js";

// test/unit/client.test.js tests backoff through this module.
export { backoff } from "./runtime.js";

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

  const status = createStatus(report, debug);
  let queuedPublishes = [];
  let queuedBytes = 0;
  let stopWatchingSignals = () => {};
  let closing = null;

  // Go never throws by contract; a dead runtime or a bug still might.
  const callGo = (what, fn) => {
    try {
      return fn();
    } catch (err) {
      report(liveError(ErrorCodes.INTERNAL, `${what} failed: ${err?.message ?? err}`, err));
      return undefined;
    }
  };

  const subs = createSubscriptions({
    settings,
    report,
    callGo,
    isRunning: () => runtime.phase === "running",
    sendCommands: (text) => runtime.commands(text),
  });

  const hooks = {
    onEvents(pairs) {
      subs.deliver(pairs);
    },
    onStatus(_from, to, code, message) {
      if (runtime.phase !== "closed") status.set(to, { code: String(code), message: String(message ?? "") });
    },
    onSubStates(batch) {
      subs.applyStates(batch);
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
      return openSocket(url, sink, runtime.go, settings.WebSocket ?? globalThis.WebSocket);
    },
  };

  // Everything close() and a runtime exit have in common.
  const shutDown = (readyError) => {
    runtime.stop();
    stopWatchingSignals();
    subs.closeAll();
    queuedPublishes = [];
    queuedBytes = 0;
    runtime.rejectReady(readyError);
    status.set("closed", closedReason(readyError));
  };

  const runtime = createRuntime({
    settings,
    report,
    debug,
    callGo,
    // In the page, or in a worker (options.worker) that falls back to the page.
    load: runtimeLoader(settings, () => (settings.loadRuntime ?? loadRuntime)(settings.wasmURL), report, debug),
    hooks,
    started() {
      subs.sendAll();
      const publishes = queuedPublishes;
      queuedPublishes = [];
      queuedBytes = 0;
      for (const request of publishes) sendPublish(request);
      // Go starts idle; it tells every change from there through onStatus.
    },
    restarted(reason) {
      debug(`registering every subscription again: ${reason}`);
      subs.registerAgain("worker_restart");
    },
    loadFailed: status.loadFailed,
    shutDown,
  });

  // The first subscribe or publish is what makes the client want a
  // connection; a client that can load no runtime wants none.
  const wantConnection = () => {
    if (runtime.phase !== "waiting") status.wantConnection();
  };

  const sendPublish = (request) => {
    subs.command(publishCommand(request.channel, request.type, request.payloadJSON, request.metaJSON));
  };

  const client = {
    get ready() {
      return runtime.ready;
    },
    get status() {
      return status.current;
    },
    onStatusChange(listener) {
      return status.onChange(listener);
    },
    subscriptions() {
      return subs.list();
    },
    onSubscriptionState(listener) {
      return subs.onState(listener);
    },
    subscribe(options) {
      try {
        const request = parseSubscribe(options, settings.filterIds);
        if (runtime.phase === "closed") {
          report(liveError(ErrorCodes.CLOSED, `subscribe to ${request.channel ?? "?"}: the client is closed`));
          return subs.inert(request.channel);
        }
        if (request.kind === "error") {
          report(request.error);
          return subs.inert(request.channel);
        }
        if (request.kind === "inert") return subs.inert(request.channel);
        const { sub, handle } = subs.add(request);
        wantConnection();
        if (runtime.phase === "running") subs.send(sub);
        else runtime.retryOnUse();
        return handle;
      } catch (err) {
        report(liveError(ErrorCodes.INTERNAL, `subscribe failed: ${err?.message ?? err}`, err));
        return subs.inert("");
      }
    },
    unsubscribe(handle) {
      try {
        subs.remove(handle);
      } catch (err) {
        report(liveError(ErrorCodes.INTERNAL, `unsubscribe failed: ${err?.message ?? err}`, err));
      }
    },
    publish(event) {
      try {
        if (runtime.phase === "closed") {
          report(liveError(ErrorCodes.CLOSED, "publish: the client is closed"));
          return;
        }
        const request = parsePublish(event, settings.queueMaxBytes, report);
        if (request.kind === "error") {
          report(request.error);
          return;
        }
        wantConnection();
        if (runtime.phase === "running") {
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
        runtime.retryOnUse();
      } catch (err) {
        report(liveError(ErrorCodes.INTERNAL, `publish failed: ${err?.message ?? err}`, err));
      }
    },
    reconnect() {
      if (runtime.phase === "running") subs.command(RECONNECT_COMMAND);
      else if (runtime.phase === "load-failed") runtime.retry();
    },
    stats() {
      return runtime.stats();
    },
    close() {
      if (closing !== null) return closing;
      subs.flush();
      const { goClient: closingGo, gone } = runtime.detach();
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
    runtime.start();
  } else {
    // Server-side rendering: stay idle; effects (and so subscribe) never run.
    runtime.rejectReady(liveError(ErrorCodes.UNSUPPORTED_ENVIRONMENT, "live.wasm only loads in a browser"));
  }
  return client;
}

function isBrowser() {
  return typeof window !== "undefined" && typeof document !== "undefined" && typeof WebAssembly !== "undefined";
}

// Why the shim closed the client, as onStatusChange reports it.
function closedReason(error) {
  const codes = { [ErrorCodes.CLOSED]: "closed_by_app", [ErrorCodes.WASM_EXITED]: "wasm_exited" };
  return { code: codes[error?.code] ?? "invalid_config", message: String(error?.message ?? "") };
}
