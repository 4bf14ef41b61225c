// worker: "shared": several tabs (clients of one process here) talking to
// one worker.js over real MessagePorts, as a SharedWorker's tabs do, with
// a fake Go inside and a small Web Locks stand-in.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { createLiveClient } from "../../index.js";
import { modeChain } from "../../worker-runtime.js";
import { PING_INTERVAL_MS } from "../../worker-shared.js";
import { serveSharedWorker } from "../../worker.js";
import { CLIENT_LINGER_MS } from "../../worker-hub.js";
import { errorSink, fakeRuntime, until } from "./fake-runtime.js";

const URL_ = "ws://h/live";

/**
 * navigator.locks, enough for worker-shared.js and the hub: exclusive and
 * queued; drop(name) takes a lock from its holder, as the browser does
 * when the page holding it dies.
 */
function fakeLocks() {
  const queues = new Map();
  const run = (name) => {
    const q = queues.get(name);
    if (q.holder !== null || q.waiting.length === 0) return;
    const holder = q.waiting.shift();
    q.holder = holder;
    Promise.resolve()
      .then(holder.fn)
      .then(holder.resolve, holder.reject)
      .finally(() => {
        if (q.holder !== holder) return;
        q.holder = null;
        run(name);
      });
  };
  return {
    request(name, fn) {
      if (!queues.has(name)) queues.set(name, { holder: null, waiting: [] });
      return new Promise((resolve, reject) => {
        queues.get(name).waiting.push({ fn, resolve, reject });
        run(name);
      });
    },
    held: () => [...queues].filter(([, q]) => q.holder !== null).map(([name]) => name),
    drop(name) {
      queues.get(name).holder = null;
      run(name);
    },
  };
}

// The worker's end of a tab's port, which a restart hands to the new worker.
// Like a MessagePort, it holds what arrives until start().
class WorkerSidePort {
  constructor(port) {
    this.port = port;
    this.listeners = [];
    this.held = [];
    port.onmessage = (ev) => {
      if (this.held !== null) this.held.push(ev);
      else for (const fn of this.listeners) fn(ev);
    };
  }
  postMessage(message) {
    this.port.postMessage(message);
  }
  addEventListener(_type, fn) {
    this.listeners.push(fn);
  }
  start() {
    const held = this.held ?? [];
    this.held = null;
    for (const ev of held) for (const fn of this.listeners) fn(ev);
  }
}

/** A SharedWorker class: every instance connects a new port to one worker scope. */
function fakeSharedWorkers() {
  const engine = fakeRuntime();
  const locks = fakeLocks();
  const connects = [];
  const ports = [];
  const workerSides = [];
  let hub = null;
  const boot = () => {
    hub = serveSharedWorker({ addEventListener() {} }, { load: engine.loadRuntime, locks });
  };
  boot();
  class FakeSharedWorker {
    constructor(url, options) {
      connects.push({ url: String(url), options });
      const channel = new MessageChannel();
      this.port = channel.port1;
      this.onerror = null;
      ports.push(channel.port1, channel.port2);
      const side = new WorkerSidePort(channel.port2);
      workerSides.push(side);
      setImmediate(() => hub.attach(side));
    }
  }
  return {
    FakeSharedWorker,
    engine,
    locks,
    connects,
    /** A worker with fresh state behind the same ports, as WebKit may start. */
    restart() {
      boot();
      for (const side of workerSides) {
        side.listeners = [];
        hub.attach(side);
      }
    },
    closeAll() {
      for (const port of ports) port.close();
    },
  };
}

let saved;
let world;
beforeEach(() => {
  saved = { SharedWorker: globalThis.SharedWorker, locks: Object.getOwnPropertyDescriptor(globalThis, "navigator") };
  world = fakeSharedWorkers();
  globalThis.SharedWorker = world.FakeSharedWorker;
  Object.defineProperty(globalThis, "navigator", { value: { locks: world.locks }, configurable: true });
});
afterEach(() => {
  world.closeAll();
  if (saved.SharedWorker === undefined) delete globalThis.SharedWorker;
  else globalThis.SharedWorker = saved.SharedWorker;
  if (saved.locks) Object.defineProperty(globalThis, "navigator", saved.locks);
  else delete globalThis.navigator;
});

function tab(options = {}) {
  const page = fakeRuntime();
  const sink = errorSink();
  const client = createLiveClient({ url: URL_, worker: "shared", loadRuntime: page.loadRuntime, onError: sink.onError, ...options });
  return { client, sink, page };
}

async function tabs(n, options) {
  const list = Array.from({ length: n }, () => tab(options));
  await until(() => world.engine.loads.length === 1);
  world.engine.finishLoad();
  await Promise.all(list.map((t) => t.client.ready));
  return list;
}

describe('worker: "shared"', () => {
  test("tabs with one config share one Go client; each tab's callbacks get each event once", async () => {
    const [a, b, c] = await tabs(3);
    assert.equal(world.engine.goClients.length, 1, "one Go client, so one socket");
    assert.equal(world.connects.length, 3);
    assert.deepEqual(world.connects[0].options, { type: "module", name: "refine-live-wasm" });
    const got = { a: [], b: [], c: [] };
    a.client.subscribe({ channel: "posts", callback: (e) => got.a.push(e.payload.n) });
    a.client.subscribe({ channel: "posts", types: ["created"], callback: (e) => got.a.push(`created ${e.payload.n}`) });
    b.client.subscribe({ channel: "posts", callback: (e) => got.b.push(e.payload.n) });
    c.client.subscribe({ channel: "other", callback: (e) => got.c.push(e.payload.n) });
    const go = world.engine.goClients[0];
    await until(() => go.ops("subscribe").length === 4);
    const ids = go.ops("subscribe").map((op) => op[1]);
    assert.equal(new Set(ids).size, 4, "client-wide ids");
    assert.deepEqual(
      go.ops("subscribe").map((op) => [op[2], go.origins.get(op[1])]).sort(),
      [["other", 3], ["posts", 1], ["posts", 1], ["posts", 2]],
      "each tab's origin",
    );
    const posts = go.ops("subscribe").filter((op) => op[2] === "posts").map((op) => op[1]);
    go.deliver([posts[0], posts[1], posts[2]], { channel: "posts", type: "created", payload: { n: 1 }, date: 0 });
    await until(() => got.a.length === 2 && got.b.length === 1);
    assert.deepEqual(got, { a: [1, "created 1"], b: [1], c: [] });
    assert.equal(a.client.stats().mode, "shared");
    for (const t of [a, b, c]) assert.deepEqual(t.sink.errors, []);
    await Promise.all([a, b, c].map((t) => t.client.close()));
  });

  test("a publish carries its tab's origin; subscription states reach the tab they belong to", async () => {
    const [a, b] = await tabs(2);
    const states = { a: [], b: [] };
    a.client.onSubscriptionState((info) => states.a.push(`${info.id}:${info.state}`));
    b.client.onSubscriptionState((info) => states.b.push(`${info.id}:${info.state}`));
    a.client.subscribe({ channel: "c", callback() {} });
    b.client.subscribe({ channel: "c", callback() {} });
    const go = world.engine.goClients[0];
    await until(() => go.ops("subscribe").length === 2);
    const idOf = (origin) => go.ops("subscribe").find((op) => go.origins.get(op[1]) === origin)[1];
    const [ida, idb] = [idOf(1), idOf(2)];
    go.setSubStates([idb, "subscribed"], [ida, "refused"]);
    await until(() => states.a.length === 2 && states.b.length === 2);
    assert.deepEqual(states, { a: ["1:subscribing", "1:refused"], b: ["1:subscribing", "1:subscribed"] });
    b.client.publish({ channel: "c", type: "created", payload: { x: "é" } });
    await until(() => go.ops("publish").length === 1);
    assert.deepEqual(go.ops("publish")[0], ["publish", "c", "created", '{"x":"é"}', null, 2]);
    await Promise.all([a, b].map((t) => t.client.close()));
  });

  test("every tab sees the shared status, and a tab that joins later sees it at once", async () => {
    const [a] = await tabs(1);
    a.client.subscribe({ channel: "c", callback() {} });
    const go = world.engine.goClients[0];
    go.setStatus("connecting", "connecting");
    go.setStatus("open", "opened");
    await until(() => a.client.status === "open");
    const b = tab();
    await b.client.ready;
    await until(() => b.client.status === "open");
    assert.equal(world.engine.loads.length, 1, "live.wasm loaded once");
    go.setStatus("reconnecting", "connection_lost", "closed 1006");
    await until(() => a.client.status === "reconnecting" && b.client.status === "reconnecting");
    await Promise.all([a, b].map((t) => t.client.close()));
  });

  test("getToken is asked of one tab, and of another when that tab leaves before answering", async () => {
    let answerA = null;
    const a = tab({ getToken: () => new Promise((resolve) => (answerA = resolve)) });
    const b = tab({ getToken: () => "from-b" });
    await until(() => world.engine.loads.length === 1);
    world.engine.finishLoad();
    await Promise.all([a.client.ready, b.client.ready]);
    const go = world.engine.goClients[0];
    const token = go.hooks.getToken();
    await until(() => answerA !== null);
    await a.client.close();
    assert.equal(await token, "from-b");
    await b.client.close();
  });

  test("a tab that closes ends its subscriptions in Go; the others keep theirs", async () => {
    const [a, b] = await tabs(2);
    a.client.subscribe({ channel: "c", callback() {} });
    a.client.subscribe({ channel: "d", callback() {} });
    const got = [];
    b.client.subscribe({ channel: "c", callback: (e) => got.push(e.payload.n) });
    const go = world.engine.goClients[0];
    await until(() => go.ops("subscribe").length === 3);
    const ofTab = (origin) => go.ops("subscribe").filter((op) => go.origins.get(op[1]) === origin).map((op) => op[1]);
    const [c1, d1] = ofTab(1);
    const [c2] = ofTab(2);
    await a.client.close();
    await until(() => go.ops("unsubscribe").length === 2);
    assert.deepEqual(go.ops("unsubscribe").map((op) => op[1]).sort(), [c1, d1].sort());
    go.deliver([c1, c2], { channel: "c", type: "t", payload: { n: 5 }, date: 0 });
    await until(() => got.length === 1);
    assert.equal(go.closed, false, "the Go client stays for the other tab");
    await b.client.close();
    assert.equal(go.closed, false, `and for ${CLIENT_LINGER_MS} ms after the last tab, for a reload`);
  });

  test("a tab that vanishes without closing (its lock released) has its subscriptions ended", async () => {
    const [a, b] = await tabs(2);
    a.client.subscribe({ channel: "c", callback() {} });
    const go = world.engine.goClients[0];
    await until(() => go.ops("subscribe").length === 1);
    const held = world.locks.held();
    assert.equal(held.length, 2, "each tab holds its lock");
    // What a crash does: the page's lock goes, and no close message comes.
    world.locks.drop(held[0]);
    await until(() => go.ops("unsubscribe").length === 1);
    assert.equal(go.ops("unsubscribe")[0][1], go.ops("subscribe")[0][1]);
    await Promise.all([a, b].map((t) => t.client.close()));
  });

  test("a restarted worker is noticed: the tab registers its subscriptions there again and gets a resync for each", async () => {
    const [a] = await tabs(1, { debug: false });
    const got = [];
    a.client.subscribe({ channel: "c", callback: (e) => got.push(e) });
    const first = world.engine.goClients[0];
    await until(() => first.ops("subscribe").length === 1);
    // A fresh worker answers the next ping of a tab it does not know
    // with known: false.
    world.restart();
    await until(() => world.engine.loads.length === 2, PING_INTERVAL_MS * 3);
    world.engine.finishLoad();
    await until(() => world.engine.goClients.length === 2);
    const second = world.engine.goClients[1];
    await until(() => second.ops("subscribe").length === 1);
    assert.equal(second.ops("subscribe")[0][2], "c");
    await until(() => got.length === 1);
    assert.equal(got[0].type, "*");
    assert.deepEqual(got[0].payload, { resync: true, reason: "worker_restart" });
    await a.client.close();
  });

  test("different configs get different Go clients", async () => {
    const a = tab();
    const b = tab({ url: "ws://other/live" });
    await until(() => world.engine.loads.length === 1);
    world.engine.finishLoad();
    await Promise.all([a.client.ready, b.client.ready]);
    assert.equal(world.engine.goClients.length, 2);
    await Promise.all([a, b].map((t) => t.client.close()));
  });
});

describe("the modes tried", () => {
  test('"auto" skips what the environment lacks; named modes fall back in order', () => {
    const worker = globalThis.Worker;
    try {
      globalThis.Worker = class {};
      assert.deepEqual(modeChain("auto"), ["shared", "dedicated", "none"]);
      delete globalThis.SharedWorker;
      assert.deepEqual(modeChain("auto"), ["dedicated", "none"]);
      delete globalThis.Worker;
      assert.deepEqual(modeChain("auto"), ["none"]);
      assert.deepEqual(modeChain("shared"), ["shared", "dedicated", "none"]);
      assert.deepEqual(modeChain("dedicated"), ["dedicated", "none"]);
      assert.deepEqual(modeChain("none"), ["none"]);
    } finally {
      if (worker !== undefined) globalThis.Worker = worker;
    }
  });

  test('"shared" without SharedWorker (nor Worker, in Node) is reported and the next modes are used', async () => {
    delete globalThis.SharedWorker;
    const t = tab();
    await until(() => t.page.loads.length === 1);
    assert.deepEqual(t.sink.codes(), ["ERR_WASM_LOAD", "ERR_WASM_LOAD"]);
    assert.match(t.sink.errors[0].message, /shared worker .*worker\.js failed to load: this environment has no SharedWorker/);
    assert.match(t.sink.errors[1].message, /dedicated worker .*worker\.js failed to load: this environment has no Worker/);
    t.page.finishLoad();
    await t.client.ready;
    assert.equal(t.client.stats().mode, "none");
    await t.client.close();
  });
});
