// The client's subscription table: the record behind each handle the app
// holds, the state the app sees, the events and states Go hands back, and
// the subscribes and unsubscribes sent to Go, batched per task.
import { ErrorCodes, liveError } from "./errors.js";
import { joinCommands, subscribeCommand, unsubscribeCommand } from "./contract.js";
import { invalid } from "./options.js";
import { listenerSet } from "./status.js";

// What Go may say about a subscription; "queued" and the final
// "unsubscribed" of an app's unsubscribe are the shim's own.
const GO_SUB_STATES = ["subscribing", "subscribed", "refused", "unsubscribed"];
const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

/**
 * @param {object} parts
 * @param {any} parts.settings the client's normalized options
 * @param {(err: Error) => void} parts.report
 * @param {(what: string, fn: () => any) => any} parts.callGo
 * @param {() => boolean} parts.isRunning whether the Go client is there
 * @param {(text: string) => boolean} parts.sendCommands hands Go a command batch
 */
export function createSubscriptions({ settings, report, callGo, isRunning, sendCommands }) {
  /** @type {Map<number, Subscription>} subscriptions not yet unsubscribed */
  const subscriptions = new Map();
  const stateListeners = listenerSet(report, "onSubscriptionState", "subscription state");
  // A handle's record (null: inert) is kept on the handle under this
  // client's symbol, not in a WeakMap: V8 does not shrink a WeakMap's table
  // when its keys die, so a mass unsubscribe would leave its table behind.
  const handles = Symbol("refine-live-wasm subscription");
  const bind = (handle, sub) => Object.freeze(Object.defineProperty(handle, handles, { value: sub }));
  let nextId = 1;

  const setSubState = (sub, next) => {
    if (sub.state === next) return;
    const previous = sub.state;
    sub.state = next;
    if (stateListeners.size === 0) return;
    const info = { id: sub.id, channel: sub.channel, state: next };
    stateListeners.emit(info, previous);
  };

  // Subscribes, unsubscribes and publishes made in one task reach Go in
  // one command batch (contract.js). A subscribe is held as its record and
  // written when flushed, with how long ago the app asked for it (a
  // subscribe queued while live.wasm loaded carries the whole wait, so Go
  // can ask the server for what it accepted meanwhile).
  /** @type {Array<string | Subscription>} */
  let ops = [];
  const flushOps = () => {
    if (ops.length === 0) return;
    const at = now();
    const text = joinCommands(ops.map((op) => (typeof op === "string" ? op : subscribeRecord(op, at))));
    ops = [];
    callGo("commands", () => sendCommands(text));
  };
  const queueOp = (op) => {
    if (ops.length === 0) queueMicrotask(flushOps);
    ops.push(op);
  };
  const subscribeRecord = (sub, at) =>
    subscribeCommand(sub.id, sub.channel, sub.types, sub.ids, settings.coalesceMs, ageOf(sub, at));
  const ageOf = (sub, at) => Math.max(0, Math.floor(at - sub.calledAt));
  const sendSubscribe = (sub) => {
    sub.inGo = true;
    setSubState(sub, "subscribing");
    queueOp(sub);
  };
  const sendUnsubscribe = (id) => queueOp(unsubscribeCommand(id));
  // The app's callback; one that throws is reported, and the others still run.
  const runCallback = (sub, event) => {
    try {
      sub.callback(event);
    } catch (err) {
      report(liveError(ErrorCodes.CALLBACK, `callback for ${sub.channel} threw: ${err?.message ?? err}`, err));
    }
  };

  return {
    /** Records a subscribe the app made; Go hears of it through send. */
    add(request) {
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
      return { sub, handle };
    },
    /** A handle that unsubscribes nothing: a refused or a closed subscribe. */
    inert(channel) {
      const handle = bind({ channel: typeof channel === "string" ? channel : "", id: 0 }, null);
      return handle;
    },
    send: sendSubscribe,
    /** Hands Go every subscription, once its runtime runs. */
    sendAll() {
      for (const sub of subscriptions.values()) sendSubscribe(sub);
    },
    /**
     * Hands a Go client with fresh state (a restarted shared worker) every
     * subscription, as new, and tells each callback it may have missed
     * events: what happened between the two workers is not replayed.
     */
    registerAgain(reason) {
      for (const sub of subscriptions.values()) {
        sub.calledAt = now();
        sendSubscribe(sub);
      }
      const date = new Date();
      for (const sub of [...subscriptions.values()]) {
        if (!sub.removed) runCallback(sub, { channel: sub.channel, type: "*", payload: { resync: true, reason }, date });
      }
    },
    /** Sends what this task queued for Go now, before a call that must follow it. */
    flush: flushOps,
    /** Queues another command (a publish, a reconnect) behind those of this task. */
    command: queueOp,
    /** The app's unsubscribe(handle). */
    remove(handle) {
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
      if (sub.inGo && isRunning()) sendUnsubscribe(sub.id);
    },
    /** Every subscription ends with the client. */
    closeAll() {
      for (const sub of subscriptions.values()) {
        sub.removed = true;
        setSubState(sub, "unsubscribed");
      }
      subscriptions.clear();
    },
    list() {
      return Array.from(subscriptions.values(), (sub) => ({ id: sub.id, channel: sub.channel, state: sub.state }));
    },
    onState: stateListeners.add,
    /**
     * hooks.onEvents: one batch of events for the subscriptions named in
     * it, as decodeBatch's `[ids, event]` pairs (runtime.js decodes).
     */
    deliver(pairs) {
      if (!isRunning()) return;
      for (const [ids, event] of pairs) {
        for (const id of ids) {
          const sub = subscriptions.get(id);
          if (sub === undefined || !isRunning()) continue;
          runCallback(sub, event);
        }
      }
    },
    /** hooks.onSubStates: the subscriptions whose state Go changed. */
    applyStates(batch) {
      if (!isRunning()) return;
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
  };
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
