// A stand-in for live.wasm's API, recording every call the shim makes.
import { VERSION } from "../../version.js";

export class FakeGoClient {
  constructor(config, hooks) {
    this.config = config;
    this.hooks = hooks;
    this.calls = [];
    this.currentStatus = "idle";
    this.closed = false;
  }
  subscribe(...args) {
    this.calls.push(["subscribe", ...args]);
  }
  unsubscribe(id) {
    this.calls.push(["unsubscribe", id]);
  }
  publish(...args) {
    this.calls.push(["publish", ...args]);
  }
  reconnect() {
    this.calls.push(["reconnect"]);
  }
  status() {
    return this.currentStatus;
  }
  stats() {
    return { subscriptions: 0 };
  }
  funcCount() {
    return this.closed ? 0 : 3;
  }
  close() {
    this.calls.push(["close"]);
    this.closed = true;
    return Promise.resolve();
  }
  /** Delivers a batch the way Go does: `[[ids], event, ...]` as JSON. */
  deliver(...pairs) {
    this.hooks.onEvents(JSON.stringify(pairs));
  }
  setStatus(to) {
    const from = this.currentStatus;
    this.currentStatus = to;
    this.hooks.onStatus(from, to);
  }
  ops(kind) {
    return this.calls.filter((c) => c[0] === kind);
  }
}

/** A runtime whose load the test completes (or fails) when it wants. */
export function fakeRuntime({ version = VERSION } = {}) {
  const goClients = [];
  const exitListeners = new Set();
  let state = "running";
  const runtime = {
    api: {
      version,
      newClient(config, hooks) {
        const client = new FakeGoClient(config, hooks);
        goClients.push(client);
        return client;
      },
    },
    state: () => state,
    onExit(fn) {
      exitListeners.add(fn);
      return () => exitListeners.delete(fn);
    },
  };
  let pending = [];
  const loads = [];
  return {
    runtime,
    goClients,
    loads,
    /** Pass as the `loadRuntime` option. */
    loadRuntime(wasmURL) {
      loads.push(wasmURL);
      return new Promise((resolve, reject) => pending.push({ resolve, reject }));
    },
    finishLoad() {
      for (const p of pending) p.resolve(runtime);
      pending = [];
    },
    failLoad(err = Object.assign(new Error("HTTP 404"), { code: "ERR_WASM_LOAD" })) {
      for (const p of pending) p.reject(err);
      pending = [];
    },
    exit() {
      state = "exited";
      for (const fn of [...exitListeners]) fn();
    },
  };
}

/** Collects errors passed to onError. */
export function errorSink() {
  const errors = [];
  const onError = (err) => errors.push(err);
  return { errors, onError, codes: () => errors.map((e) => e.code) };
}

export const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** An EventTarget stand-in that counts its listeners. */
export function fakeTarget(extra = {}) {
  const listeners = new Map();
  return {
    ...extra,
    listeners,
    addEventListener(type, fn) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(fn);
    },
    removeEventListener(type, fn) {
      listeners.get(type)?.delete(fn);
    },
    fire(type) {
      for (const fn of [...(listeners.get(type) ?? [])]) fn({ type });
    },
    count() {
      let n = 0;
      for (const set of listeners.values()) n += set.size;
      return n;
    },
  };
}

/** Waits until `condition()` holds (a few event-loop turns at most). */
export async function until(condition, timeoutMs = 1000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
