// A stand-in for live.wasm's API, recording every call the shim makes.
import { VERSION } from "../../version.js";

export class FakeGoClient {
  constructor(config, hooks) {
    this.config = config;
    this.hooks = hooks;
    this.calls = [];
    /** @type {Map<number, number>} subscription id → ageMs it arrived with */
    this.ages = new Map();
    /** @type {Map<number, number>} subscription id → origin (a shared worker's tab) */
    this.origins = new Map();
    /** The raw apply batches. */
    this.applied = [];
    this.currentStatus = "idle";
    this.closed = false;
  }
  subscribe(id, channel, types, ids, disabled, coalesceMs, ageMs) {
    this.calls.push(["subscribe", id, channel, types, ids, disabled, coalesceMs]);
    this.ages.set(id, ageMs);
  }
  /**
   * Runs a command batch as jsbridge's parseCommands reads it (the fixtures
   * of jsbridge/testdata/contract/ hold both halves to one format), into
   * the same records as the calls.
   */
  commands(text) {
    this.applied.push(text);
    for (const cmd of JSON.parse(text)) {
      switch (cmd[0]) {
        case "s":
          this.subscribe(cmd[1], cmd[2], cmd[3], cmd[4], false, cmd[5], cmd[6]);
          if (cmd[7] !== undefined) this.origins.set(cmd[1], cmd[7]);
          break;
        case "u":
          this.unsubscribe(cmd[1]);
          break;
        case "p":
          this.publish(cmd[1], cmd[2], JSON.stringify(cmd[3]), cmd[4] === null ? null : JSON.stringify(cmd[4]), ...cmd.slice(5));
          break;
        case "r":
          this.reconnect();
          break;
        default:
          throw new Error(`malformed command ${JSON.stringify(cmd)}`);
      }
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
    return JSON.stringify({ subscriptions: 0 });
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
  setStatus(to, code = "opened", reason = "") {
    const from = this.currentStatus;
    this.currentStatus = to;
    this.hooks.onStatus(from, to, code, reason);
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
  const receivers = new Map();
  const runtime = {
    api: {
      version,
      newClient(config, hooks) {
        const client = new FakeGoClient(config, hooks);
        client.handle = goClients.push(client);
        return client;
      },
      funcCount() {
        return goClients.filter((c) => !c.closed).length * 3;
      },
    },
    // contract.js's bindExports, over the fake clients.
    go: {
      hook: (fn) => fn,
      register(handle, onEvents) {
        receivers.set(handle, onEvents);
        return () => receivers.delete(handle);
      },
      commands(handle, text) {
        goClients[handle - 1].commands(text);
      },
      frames() {},
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
