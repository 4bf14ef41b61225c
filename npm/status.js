// The client's connection status as the page sees it, and the app's
// listeners: the status listeners here, the subscription state listeners
// in subscriptions.js, both through listenerSet.
import { ErrorCodes, liveError } from "./errors.js";
import { invalid } from "./options.js";

const STATUSES = ["idle", "connecting", "open", "reconnecting", "closed"];

/**
 * The listeners an app registers with `method` (onStatusChange, …). One
 * that throws is reported as a `what` listener, never rethrown into Go or
 * the client.
 * @param {(err: Error) => void} report
 * @param {string} method
 * @param {string} what
 */
export function listenerSet(report, method, what) {
  const listeners = new Set();
  return {
    get size() {
      return listeners.size;
    },
    add(listener) {
      if (typeof listener !== "function") {
        report(invalid(`${method} expects a function`));
        return () => {};
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(value, previous, reason) {
      for (const listener of [...listeners]) {
        try {
          listener(value, previous, reason);
        } catch (err) {
          report(liveError(ErrorCodes.CALLBACK, `${what} listener threw: ${err?.message ?? err}`, err));
        }
      }
    },
  };
}

/**
 * The status of one client and its listeners.
 * @param {(err: Error) => void} report
 * @param {(...args: any[]) => void} debug
 */
export function createStatus(report, debug) {
  /** @type {import("./index.js").LiveStatus} */
  let status = "idle";
  // A load of live.wasm failed: until a connection opens, every attempt
  // is a retry ("reconnecting"), whichever side makes it.
  let failedBeforeOpen = false;
  const listeners = listenerSet(report, "onStatusChange", "status");

  // Status moves forward only: idle → connecting → open ⇄ reconnecting,
  // and closed from anywhere, for good. Go starts idle when it takes over
  // from the queue here, and dials "connecting" after a load that failed;
  // neither goes back on what the page was already told.
  /**
   * @param {import("./index.js").LiveStatus} next
   * @param {import("./index.js").LiveStatusReason} reason
   */
  const set = (next, reason) => {
    if (next === status || !STATUSES.includes(next) || status === "closed") return;
    if (next === "idle") return;
    if (next === "connecting" && status !== "idle") return;
    if (next === "open") failedBeforeOpen = false;
    const previous = status;
    status = next;
    debug(`status ${previous} → ${next} (${reason.code}${reason.message ? `: ${reason.message}` : ""})`);
    listeners.emit(next, previous, reason);
  };

  return {
    get current() {
      return status;
    },
    set,
    onChange: listeners.add,
    // The first subscribe or publish is what makes the client want a
    // connection (Go dials on first use, not before).
    wantConnection() {
      if (status === "idle") {
        set(failedBeforeOpen ? "reconnecting" : "connecting", { code: failedBeforeOpen ? "wasm_load_failed" : "connect_called", message: "" });
      }
    },
    // A load of live.wasm failed: a client already past idle shows it.
    loadFailed(error) {
      failedBeforeOpen = true;
      if (status !== "idle") set("reconnecting", { code: "wasm_load_failed", message: String(error?.message ?? "") });
    },
  };
}
