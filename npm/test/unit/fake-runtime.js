// A stand-in for live.wasm's API, recording every call the shim makes.
import { VERSION } from "../../version.js";

export class FakeGoClient {
  constructor(config, hooks) {
    this.config = config;
    this.hooks = hooks;
    this.calls = [];
    /** @type {Map<number, number>} subscription id → ageMs it arrived with */
    this.ages = new Map();
    /** The raw apply batches. */
    this.applied = [];
    this.currentStatus = "idle";
    this.closed = false;
  }
  subscribe(id, channel, types, ids, disabled, coalesceMs, ageMs) {
    this.calls.push(["subscribe", id, channel, types, ids, disabled, coalesceMs]);
    this.ages.set(id, ageMs);
  }
  /** Decodes the batch as jsbridge's parseApply does, into the same records as the calls. */
  apply(text) {
    this.applied.push(text);
    for (const record of text.split("\x1e")) {
      const f = record.split("\x1f");
      if (f[0] === "u" && f.length === 2) {
        this.unsubscribe(Number(f[1]));
        continue;
      }
      if (f[0] !== "s") throw new Error(`malformed apply record ${JSON.stringify(record)}`);
      const nTypes = Number(f[6]);
      const types = f.slice(7, 7 + nTypes);
      const nIds = Number(f[7 + nTypes]);
      const ids = nIds < 0 ? null : f.slice(8 + nTypes);
      if (f.length !== 8 + nTypes + Math.max(nIds, 0)) throw new Error(`malformed apply record ${JSON.stringify(record)}`);
      this.subscribe(Number(f[1]), f[5], types, ids, f[3] === "1", Number(f[2]), Number(f[4]));
    }
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
  /** Reports subscription states the way Go does: `[id, "state", ...]` as JSON. */
  setSubStates(...pairs) {
    this.hooks.onSubStates(JSON.stringify(pairs.flat()));
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

/** Resolves after the microtasks queued so far: the shim's batched calls to Go have run. */
export const flushed = () => new Promise((resolve) => queueMicrotask(resolve));

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
