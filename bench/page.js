// The benchmark page. ?impl=baseline|ours|ours-basic|ours-worker|ours-shared&ws=<url> picks the
// provider, created at load time the way an app creates it before its first
// render. bench/run.mjs drives everything else through window.bench.
import { createLiveClient, liveProvider } from "/npm/index.js";
import { baselineLiveProvider, createBaselineClient } from "/bench/baseline.js";

const query = new URLSearchParams(location.search);
const impl = query.get("impl") ?? "baseline";
const wsURL = query.get("ws") ?? "";

// Long tasks, kept from the start; each measurement filters by time.
const longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longTasks.push({ start: e.startTime, duration: e.duration });
}).observe({ type: "longtask", buffered: true });

// The Go instance's memory, caught when the loader instantiates live.wasm.
let wasmMemory = null;
for (const name of ["instantiateStreaming", "instantiate"]) {
  const original = WebAssembly[name];
  WebAssembly[name] = async (...args) => {
    const result = await original.apply(WebAssembly, args);
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    if (instance?.exports?.mem instanceof WebAssembly.Memory) wasmMemory = instance.exports.mem;
    return result;
  };
}

// Frames the provider sends, counted per socket and action (not kept: the
// memory figure must not include them).
const sockets = [];
class CountingWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    const record = { index: sockets.length, created: Date.now(), opened: 0, byAction: {}, channels: 0, last: 0 };
    sockets.push(record);
    this._record = record;
    this.addEventListener("open", () => (record.opened = Date.now()));
  }
  send(data) {
    const record = this._record;
    const action = typeof data === "string" ? (/"action":"([a-z]+)"/.exec(data)?.[1] ?? "other") : "binary";
    record.byAction[action] = (record.byAction[action] ?? 0) + 1;
    // An extended subscribe may list many channels in one frame.
    if (action === "subscribe") record.channels += data.match(/"channel":/g)?.length ?? 0;
    record.last = Date.now();
    super.send(data);
  }
}

const timings = { start: performance.now() };
let provider;
let liveClient = null; // ours only: its stats carry Go's live heap
let ready;
let opened;
if (impl === "baseline") {
  const client = createBaselineClient(wsURL, { WebSocket: CountingWebSocket });
  provider = baselineLiveProvider(client);
  ready = client.ready;
  opened = client.ready;
} else {
  // In a worker the socket is the worker's: the page cannot count its
  // frames, so the reconnect and memory figures leave that variant out.
  const workers = { "ours-worker": "dedicated", "ours-shared": "shared" };
  const client = createLiveClient(
    impl in workers
      ? { url: wsURL, worker: workers[impl] }
      : { url: wsURL, protocol: impl === "ours-basic" ? "basic" : "auto", WebSocket: CountingWebSocket },
  );
  provider = liveProvider(client);
  liveClient = client;
  ready = client.ready;
  opened = new Promise((resolve) => {
    if (client.status === "open") resolve();
    const stop = client.onStatusChange((to) => {
      if (to === "open") {
        stop();
        resolve();
      }
    });
  });
}

// A mounted hook subscribes at once, as in an app: the client connects
// lazily, on its first subscription.
provider.subscribe({ channel: "resources/load", types: ["*"], params: {}, callback: () => {} });

// The app's first render, right after the provider exists.
const heading = document.createElement("h1");
heading.textContent = `first render (${impl})`;
document.body.append(heading);
timings.rendered = performance.now();
requestAnimationFrame(() => (timings.firstFrame = performance.now()));
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.name === "first-contentful-paint") timings.fcp = e.startTime;
}).observe({ type: "paint", buffered: true });
ready.then(() => (timings.ready = performance.now()));
opened.then(() => (timings.open = performance.now()));

// Delivery counters shared by every benchmark callback.
const counts = { events: 0, target: -1, sum: 0, probes: 0, resyncs: 0, tLast: 0, trackChannels: false, byChannel: new Map() };
const waiters = new Map(); // id → resolve, for the latency loop

function callback(event) {
  if (event.type === "probe") {
    counts.probes++;
    return;
  }
  if (event.type === "*") {
    counts.resyncs++;
    return;
  }
  const id = event.payload.ids[0];
  counts.sum += id;
  if (counts.trackChannels) counts.byChannel.set(event.channel, (counts.byChannel.get(event.channel) ?? 0) + 1);
  if (++counts.events === counts.target) counts.tLast = performance.now();
  const wake = waiters.get(id);
  if (wake !== undefined) {
    waiters.delete(id);
    wake();
  }
}

let handles = [];

window.bench = {
  impl,
  timings,
  counts,
  ready: () => Promise.all([ready, opened]).then(() => true),

  /** Subscribes `subscribers` callbacks to each channel. */
  subscribe(channels, subscribers = 1) {
    for (const channel of channels) {
      for (let i = 0; i < subscribers; i++) {
        handles.push(provider.subscribe({ channel, types: ["*"], params: { subscriptionType: "useList", resource: channel }, callback }));
      }
    }
    return handles.length;
  },
  unsubscribeAll() {
    for (const handle of handles) provider.unsubscribe(handle);
    const n = handles.length;
    handles = [];
    return n;
  },
  reset(target) {
    counts.events = 0;
    counts.sum = 0;
    counts.target = target;
    counts.tLast = 0;
    counts.byChannel.clear();
  },
  done: () => counts.target >= 0 && counts.events >= counts.target,

  /**
   * Blocks the main thread on a synchronous request until the server has
   * queued the whole stream, so that delivery is measured from a backlog:
   * the figure is the page's rate, not the publisher's.
   */
  barrier(url) {
    const t0 = performance.now();
    const xhr = new XMLHttpRequest();
    xhr.open("GET", url, false);
    xhr.send();
    const released = performance.now();
    return { waited: released - t0, released };
  },

  /** Round trips: a plain socket publishes, the provider's callback hears it. */
  async latency(channel, n, pad) {
    const pub = new WebSocket(wsURL);
    await new Promise((resolve, reject) => {
      pub.onopen = resolve;
      pub.onerror = reject;
    });
    const filler = "x".repeat(pad);
    const frame = (id, type = "updated") => JSON.stringify({ action: "publish", channel, type, payload: { ids: [id], title: filler } });
    // The subscription is live once a probe comes back.
    const deadline = performance.now() + 10000;
    while (counts.probes === 0) {
      if (performance.now() > deadline) throw new Error("no probe came back");
      pub.send(frame(0, "probe"));
      await new Promise((r) => setTimeout(r, 50));
    }
    const rtts = [];
    for (let i = 1; i <= n; i++) {
      const heard = new Promise((resolve) => waiters.set(i, resolve));
      const t0 = performance.now();
      pub.send(frame(i));
      await heard;
      rtts.push(performance.now() - t0);
    }
    pub.close();
    return rtts;
  },

  longTasksSince(t) {
    const tasks = longTasks.filter((e) => e.start >= t);
    return { count: tasks.length, total: tasks.reduce((s, e) => s + e.duration, 0), max: tasks.reduce((m, e) => Math.max(m, e.duration), 0) };
  },
  wasmBytes: () => (wasmMemory === null ? 0 : wasmMemory.buffer.byteLength),
  /** The Go heap live at the last collection (0 for the baseline). */
  goLiveHeap: () => liveClient?.stats()?.goLiveHeapBytes ?? 0,
  workerMemory: () => liveClient?.stats()?.workerMemoryBytes ?? 0,
  sockets: () => sockets.map(({ index, created, opened }) => ({ index, created, opened })),
  /** Frames sent per action ("subscribe", "hello"…) and channels subscribed, on sockets >= socket. */
  sentActions(socket = 0) {
    const byAction = {};
    let last = 0;
    let channels = 0;
    for (const record of sockets.slice(socket)) {
      for (const [action, n] of Object.entries(record.byAction)) byAction[action] = (byAction[action] ?? 0) + n;
      last = Math.max(last, record.last);
      channels += record.channels;
    }
    return { byAction, channels, total: Object.values(byAction).reduce((a, b) => a + b, 0), last };
  },
  channelsHeard: () => counts.byChannel.size,
};
window.benchLoaded = true;
