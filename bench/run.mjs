// The browser benchmark: the baseline provider (bench/baseline.js) against
// refine-live-wasm, in one headless Chromium, against one reference server,
// runs alternating between the variants. Writes docs/benchmarks.md (between
// its bench markers) and docs/bench-chart.svg.
//
//   node bench/run.mjs            (make bench: builds live.wasm and liveserver first)
//
// Environment: BENCH_RUNS (rounds, default 5), BENCH_EVENTS (default
// 100000), BENCH_VARIANTS (default baseline,ours,ours-basic,ours-worker,ours-shared), BENCH_OUT
// (raw results, default bench/out), BENCH_REPORT=0 (leave docs/ alone),
// BENCH_PROFILE=0 (skip the CPU profiles: one extra 10-subscriber run per
// variant, not counted in the figures), BENCH_FIGURES (default
// throughput,latency,reconnect,memory; a subset is for local checks, with
// BENCH_REPORT=0), BENCH_CACHE=1 (serve the files cacheable, as a
// deployment would, instead of no-store: repeat loads reuse the download).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import { launchChromium } from "./cdp.mjs";
import { buildPublisher, publish, root, sleep, startLiveServer, startStaticServer } from "./env.mjs";
import { runGoBenchmarks } from "./gobench.mjs";
import { summarizeProfile } from "./profile.mjs";
import { tabsRun } from "./tabs.mjs";
import { writeReport } from "./report.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100000);
const VARIANTS = (process.env.BENCH_VARIANTS ?? "baseline,ours,ours-basic,ours-worker,ours-shared").split(",");
// The page holds neither the socket nor the wasm memory of these.
const IN_WORKER = new Set(["ours-worker", "ours-shared"]);
const OUT = process.env.BENCH_OUT ?? join(root, "bench", "out");
const PROFILE = process.env.BENCH_PROFILE !== "0";
const FIGURES = new Set((process.env.BENCH_FIGURES ?? "throughput,latency,reconnect,memory,tabs").split(","));
const DEBUG = process.env.BENCH_DEBUG === "1";
const debug = (...args) => DEBUG && log(...args);
const LATENCY_ROUND_TRIPS = 1000;
const MEMORY_SUBSCRIPTIONS = 10000;
const MEMORY_WARMUP = 1000;
const RECONNECT_CHANNELS = 100;
const PAD = 28; // filler length that makes a basic frame about 110 bytes

const started = Date.now();
const log = (...args) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s]`, ...args);

for (const f of ["npm/live.wasm", "npm/wasm_exec.js", "bin/liveserver"]) {
  if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run make wasm bin/liveserver (make bench does)`);
}
mkdirSync(OUT, { recursive: true });

const results = {
  date: new Date().toISOString(),
  machine: machine(),
  command: "make bench",
  config: { runs: RUNS, events: EVENTS, variants: VARIANTS, latencyRoundTrips: LATENCY_ROUND_TRIPS },
  size: wasmSize(),
  throughput: [], // {variant, subscribers, round, ...}
  latency: [],
  load: [],
  memory: [],
  reconnect: [],
  tabs: [],
  profiles: {},
};

if (process.env.BENCH_REPORT !== "0") {
  log("Go benchmarks");
  results.go = runGoBenchmarks();
}

const publisher = buildPublisher();
const barriers = new Map(); // id → async function run before the page is released
let server = null;
let statics = null;
let browser = null;
let runId = 0;

const cleanUp = async () => {
  await browser?.close();
  await statics?.close();
  await server?.stop();
  publisher.remove();
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => cleanUp().finally(() => process.exit(130)));
}

try {
  server = await startLiveServer(join(root, "bin", "liveserver"));
  statics = await startStaticServer({
    onBarrier: async (id) => {
      const fn = barriers.get(id);
      barriers.delete(id);
      if (fn) await fn();
    },
  });
  browser = await launchChromium(root);
  results.machine.chromium = browser.version;
  for (let round = 0; round < RUNS; round++) {
    for (const subscribers of FIGURES.has("throughput") ? [1, 10] : []) {
      for (const variant of VARIANTS) {
        const r = await throughputRun(variant, subscribers, round, false);
        results.throughput.push(r);
        log(`throughput ${variant} ×${subscribers} round ${round + 1}: ${Math.round(r.eventsPerSec)} events/s`);
      }
    }
    for (const variant of FIGURES.has("latency") ? VARIANTS : []) {
      const r = await latencyRun(variant, round);
      results.latency.push(r);
      log(`latency ${variant} round ${round + 1}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
    }
  }
  for (let round = 0; round < (VARIANTS.includes("ours-shared") && FIGURES.has("tabs") ? Math.min(RUNS, 3) : 0); round++) {
    const r = await tabsRun({ server, openPage, probe, channel: () => `resources/tabs-${++runId}` }, round);
    results.tabs.push(r);
    log(`tabs round ${round + 1}: ${r.connections.join(" → ")} connections, tab 2 ready in ${r.ready[1].toFixed(0)} ms`);
  }
  for (let round = 0; round < (FIGURES.has("reconnect") ? Math.min(RUNS, 3) : 0); round++) {
    for (const variant of VARIANTS.filter((v) => !IN_WORKER.has(v))) {
      const r = await reconnectRun(variant, round);
      results.reconnect.push(r);
      log(`reconnect ${variant} round ${round + 1}: ${r.upToResubscribedMs} ms after the server was up, ${r.framesSent} frames`);
    }
  }
  if (PROFILE && FIGURES.has("throughput")) {
    for (const variant of VARIANTS) {
      await throughputRun(variant, 10, -1, true);
      log(`profiled ${variant} ×10`);
    }
  }
  // Not with basic frames: at the basic level the engine paces subscribes
  // under a basic server's rate limit (a burst of 50, then 25 a second), so
  // 11,000 of them would take over seven minutes.
  // Nor in a worker: the page holds neither the socket nor the wasm memory.
  for (const variant of FIGURES.has("memory") ? VARIANTS.filter((v) => v !== "ours-basic" && !IN_WORKER.has(v)) : []) {
    const r = await memoryRun(variant);
    results.memory.push(r);
    log(`memory ${variant}: JS ${mb(r.before.js)} → ${mb(r.subscribed.js)} → ${mb(r.removed.js)} MB, wasm ${mb(r.removed.wasm)} MB`);
  }
} finally {
  await cleanUp();
}

writeFileSync(join(OUT, "results.json"), JSON.stringify(results, null, 2));
if (process.env.BENCH_REPORT !== "0") {
  writeReport(results, root);
  log(`wrote docs/benchmarks.md and docs/bench-chart.svg (raw results in ${OUT}/results.json)`);
} else {
  log(`raw results in ${OUT}/results.json`);
}

// ---------------------------------------------------------------------------

async function openPage(variant) {
  const url = `${statics.origin}/bench/page.html?impl=${variant}&ws=${encodeURIComponent(server.ws)}`;
  const page = await browser.newPage(url);
  await page.waitFor("window.benchLoaded === true", { intervalMs: 10 });
  await page.evaluate(() => window.bench.ready());
  const t = await page.evaluate(() => window.bench.timings);
  results.load.push({ variant, ready: t.ready, open: t.open, fcp: t.fcp ?? null, rendered: t.rendered, firstFrame: t.firstFrame ?? null });
  const cdp = page;
  return { page, cdp };
}

/** Publishes probes through POST /publish until the page heard one. */
async function probe(page, channel) {
  const deadline = Date.now() + 15000;
  while ((await page.evaluate(() => window.bench.counts.probes)) === 0) {
    if (Date.now() > deadline) throw new Error(`no probe reached the page on ${channel}`);
    await server.publish({ channel, type: "probe", payload: { ids: [0] } });
    await sleep(30);
  }
}

async function metrics(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

async function throughputRun(variant, subscribers, round, profile) {
  const { page, cdp } = await openPage(variant);
  const channel = `resources/bench-${++runId}`;
  await page.evaluate(([c, s]) => window.bench.subscribe([c], s), [channel, subscribers]);
  debug("subscribed", variant, channel);
  await probe(page, channel);
  debug("probed");
  await page.evaluate((target) => window.bench.reset(target), EVENTS * subscribers);
  await cdp.send("Performance.enable");
  if (profile) {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  }
  let published = null;
  const id = `run-${runId}`;
  barriers.set(id, async () => {
    published = await publish(publisher.path, ["-url", server.ws, "-channel", channel, "-n", String(EVENTS), "-pad", String(PAD)]);
  });
  if (profile) await cdp.send("Profiler.start");
  const { waited, released } = await page.evaluate((url) => window.bench.barrier(url), `/barrier/${id}`);
  // Taken right after the release (a round trip of the drain is missed),
  // so that the blocked barrier task is not counted.
  const before = await metrics(cdp);
  debug("released after", waited, "ms", published);
  await page.waitFor("window.bench.done()", { intervalMs: 100, timeoutMs: 180000 });
  const after = await metrics(cdp);
  if (profile) {
    const { profile: cpuProfile } = await cdp.send("Profiler.stop");
    writeFileSync(join(OUT, `${variant}-x${subscribers}.cpuprofile`), JSON.stringify(cpuProfile));
    results.profiles[`${variant}-x${subscribers}`] = summarizeProfile(cpuProfile, released);
  }
  const page_ = await page.evaluate((t) => {
    const b = window.bench;
    return { tLast: b.counts.tLast, events: b.counts.events, sum: b.counts.sum, longTasks: b.longTasksSince(t) };
  }, released);
  await page.close();
  const expectedSum = (subscribers * EVENTS * (EVENTS + 1)) / 2;
  if (page_.events !== EVENTS * subscribers || page_.sum !== expectedSum) {
    throw new Error(`${variant}: delivered ${page_.events} callbacks (sum ${page_.sum}), expected ${EVENTS * subscribers} (sum ${expectedSum})`);
  }
  const drainMs = page_.tLast - released;
  return {
    variant,
    subscribers,
    round,
    events: EVENTS,
    drainMs,
    eventsPerSec: EVENTS / (drainMs / 1000),
    callbacksPerSec: (EVENTS * subscribers) / (drainMs / 1000),
    publisherMs: published?.closedMs ?? null,
    frameBytes: published?.frameBytes ?? null,
    barrierMs: waited,
    scriptMs: (after.ScriptDuration - before.ScriptDuration) * 1000,
    taskMs: (after.TaskDuration - before.TaskDuration) * 1000,
    longTasks: page_.longTasks,
  };
}

async function latencyRun(variant, round) {
  const { page } = await openPage(variant);
  const channel = `resources/latency-${++runId}`;
  await page.evaluate((c) => window.bench.subscribe([c], 1), channel);
  const rtts = await page.evaluate(([c, n, pad]) => window.bench.latency(c, n, pad), [channel, LATENCY_ROUND_TRIPS, PAD]);
  await page.close();
  const sorted = [...rtts].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { variant, round, n: rtts.length, p50: q(0.5), p99: q(0.99), mean: rtts.reduce((a, b) => a + b, 0) / rtts.length };
}

async function memoryRun(variant) {
  const { page, cdp } = await openPage(variant);
  const measure = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    const { usedSize } = await cdp.send("Runtime.getHeapUsage");
    const [wasm, goHeap] = await page.evaluate(() => [window.bench.wasmBytes(), window.bench.goLiveHeap()]);
    return { js: usedSize, wasm, goHeap };
  };
  // Subscribes count channels: an extended subscribe lists many in a frame.
  const sentCount = (sent, action) => (action === "subscribe" ? sent.channels : (sent.byAction[action] ?? 0));
  const waitSent = async (action, n) => {
    const deadline = Date.now() + 60000;
    while (sentCount(await page.evaluate(() => window.bench.sentActions()), action) < n) {
      if (Date.now() > deadline) throw new Error(`${variant}: fewer than ${n} ${action} sent`);
      await sleep(100);
    }
  };
  // A warm-up cycle first, the same for every variant: what the engine
  // (V8's or Go's) keeps once it has seen the workload is not a leak.
  const warm = Array.from({ length: MEMORY_WARMUP }, (_, i) => `resources/warmup-${i}`);
  await page.evaluate((cs) => window.bench.subscribe(cs, 1), warm);
  await waitSent("subscribe", MEMORY_WARMUP);
  await page.evaluate(() => window.bench.unsubscribeAll());
  await waitSent("unsubscribe", MEMORY_WARMUP);
  await sleep(500);
  const before = await measure();
  const channels = Array.from({ length: MEMORY_SUBSCRIPTIONS }, (_, i) => `resources/memory-${i}`);
  const t0 = Date.now();
  await page.evaluate((cs) => window.bench.subscribe(cs, 1), channels);
  await waitSent("subscribe", MEMORY_WARMUP + MEMORY_SUBSCRIPTIONS);
  const subscribeMs = Date.now() - t0;
  await sleep(500);
  const subscribed = await measure();
  const t1 = Date.now();
  await page.evaluate(() => window.bench.unsubscribeAll());
  await waitSent("unsubscribe", MEMORY_WARMUP + MEMORY_SUBSCRIPTIONS);
  const unsubscribeMs = Date.now() - t1; // includes the provider's linger
  await sleep(500);
  const removed = await measure();
  await page.close();
  return { variant, subscriptions: MEMORY_SUBSCRIPTIONS, before, subscribed, removed, subscribeMs, unsubscribeMs };
}

async function reconnectRun(variant, round) {
  const { page } = await openPage(variant);
  const channels = Array.from({ length: RECONNECT_CHANNELS }, (_, i) => `resources/reconnect-${runId}-${i}`);
  runId++;
  await page.evaluate((cs) => window.bench.subscribe(cs, 1), channels);
  await probe(page, channels.at(-1));
  await page.evaluate(() => {
    window.bench.counts.trackChannels = true;
    window.bench.reset(-1);
    window.bench.counts.resyncs = 0;
  });
  const socketsBefore = (await page.evaluate(() => window.bench.sockets())).length;
  const tDown = Date.now();
  await server.stop();
  await server.start();
  const tUp = Date.now();
  const deadline = Date.now() + 30000;
  let sent;
  for (;;) {
    sent = await page.evaluate((s) => window.bench.sentActions(s), socketsBefore);
    if (sent.channels >= RECONNECT_CHANNELS + 1) break; // + the page's load-time channel
    if (Date.now() > deadline) throw new Error(`${variant}: only ${sent.channels} channels resubscribed`);
    await sleep(20);
  }
  // Every channel delivers again: one event each, republished until heard.
  for (;;) {
    const heard = await page.evaluate(() => window.bench.channelsHeard());
    if (heard >= RECONNECT_CHANNELS) break;
    if (Date.now() > deadline) throw new Error(`${variant}: only ${heard} channels deliver after the restart`);
    await Promise.all(channels.map((channel, i) => server.publish({ channel, type: "updated", payload: { ids: [i + 1] } })));
    await sleep(100);
  }
  const tVerified = Date.now();
  await sleep(200);
  const after = await page.evaluate((s) => ({ sent: window.bench.sentActions(s), sockets: window.bench.sockets(), resyncs: window.bench.counts.resyncs }), socketsBefore);
  await page.close();
  return {
    variant,
    round,
    channels: RECONNECT_CHANNELS,
    restartMs: tUp - tDown,
    upToResubscribedMs: sent.last - tUp,
    downToResubscribedMs: sent.last - tDown,
    upToVerifiedMs: tVerified - tUp,
    attempts: after.sockets.length - socketsBefore,
    framesSent: sent.total,
    framesByAction: sent.byAction,
    resyncEvents: after.resyncs,
  };
}

function wasmSize() {
  const bytes = readFileSync(join(root, "npm", "live.wasm"));
  return {
    raw: bytes.length,
    gzip9: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length,
  };
}

function machine() {
  const model = (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? cpus()[0]?.model ?? "unknown";
  const nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  const go = execFileSync("go", ["version"], { encoding: "utf8" }).trim().replace(/^go version /, "");
  return { nproc: Number(nproc), cpu: model.trim(), node: process.version, go };
}

function mb(bytes) {
  return (bytes / 1048576).toFixed(1);
}
