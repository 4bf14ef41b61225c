// Leak check of live.wasm in headless Chromium: 10,000 subscribe/unsubscribe
// cycles and 100 client create/close cycles, after which the wasm memory,
// the JS heap (after a forced GC), the JS functions Go holds and the Go
// goroutines are back within 10% of their baseline, taken after two
// identical rounds. Figures are printed
// (run with REFINE_LIVE_LEAK_FIGURES=1 to see them outside the runner).
// Run in the page (worker: "none"), where the page's Go runtime is
// measured, and in the shared worker, where the worker's is (read through
// stats(): its wasm memory, functions, goroutines, and the subscriptions
// its tab bookkeeping holds) beside the page's JS heap.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { failWithoutWasmInCI, liveServerURL, needsChromium, needsServer, needsWasm, useBrowser } from "./harness.js";

failWithoutWasmInCI(test);

const SUB_CYCLES = 10000;
const CLIENT_CYCLES = 100;

// Keeps a handle on every WebAssembly memory the page instantiates.
function captureWasmMemory() {
  window.wasmMemories = [];
  const keep = (result) => {
    const instance = result.instance ?? result;
    for (const value of Object.values(instance.exports ?? {})) {
      if (value instanceof WebAssembly.Memory) window.wasmMemories.push(value);
    }
    return result;
  };
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = (...args) => instantiate.apply(WebAssembly, args).then(keep);
  if (instantiateStreaming) WebAssembly.instantiateStreaming = (...args) => instantiateStreaming.apply(WebAssembly, args).then(keep);
}

for (const worker of ["none", "shared"]) describe(`live.wasm leaks nothing in Chromium (worker: "${worker}")`, () => {
  const skip = needsWasm || needsServer || needsChromium("the leak check (heap snapshots)");
  const browser = useBrowser({ before, after }, skip);

  test(`${SUB_CYCLES} subscribe/unsubscribe and ${CLIENT_CYCLES} create/close cycles return to baseline`, { skip, timeout: 120000 }, async () => {
    const page = (await browser.newPage()).native;
    await page.addInitScript(captureWasmMemory);
    await page.reload();
    await page.waitForFunction(() => window.pageReady === true);
    const cdp = await page.context().newCDPSession(page);

    await page.evaluate(async ({ url, worker }) => {
      const reconnect = { minDelay: 100, maxDelay: 400 };
      window.leak = {
        url,
        reconnect,
        // The probe stays open throughout: stats() needs a running client.
        probe: live.createLiveClient({ url, worker, reconnect }),
        churner: live.createLiveClient({ url, worker, reconnect }),
        async subCycles(n) {
          const { churner } = window.leak;
          for (let i = 0; i < n; i++) {
            const handle = churner.subscribe({ channel: `leak/${i % 50}`, types: ["*"], callback() {} });
            churner.unsubscribe(handle);
            if (i % 500 === 499) await helpers.sleep(0); // let Go run
          }
        },
        async clientCycles(n) {
          for (let i = 0; i < n; i++) {
            const c = live.createLiveClient({ url, worker, reconnect });
            c.subscribe({ channel: `leak/client/${i % 10}`, types: ["*"], callback() {} });
            await c.ready;
            await helpers.until(() => c.status === "open", 10000, "a client to open");
            await c.close();
          }
        },
        sample() {
          const st = window.leak.probe.stats();
          const mem = worker === "none" ? window.wasmMemories.reduce((sum, m) => sum + m.buffer.byteLength, 0) : st.workerMemoryBytes;
          return { funcCount: st.funcCount, goroutines: st.goroutines, wasmBytes: mem, workerSubscriptions: st.workerSubscriptions ?? 0 };
        },
        // A worker's stats() answers with the counters it posted last: wait for some read after now.
        async refresh() {
          const asked = Date.now();
          await helpers.until(() => (window.leak.probe.stats().workerStatsAt ?? Infinity) >= asked, 5000, "fresh stats from the worker");
        },
      };
      await window.leak.probe.ready;
      await window.leak.churner.ready;
    }, { url: liveServerURL, worker });
    const measure = async () => {
      // Let the engine's linger (1 s) unsubscribe on the server and every
      // closing goroutine end, then collect garbage before reading.
      await page.evaluate(async () => {
        const base = window.leak.baseline;
        if (base) {
          await helpers.until(() => {
            const s = window.leak.sample();
            return s.funcCount <= base.funcCount && s.goroutines <= base.goroutines * 1.1;
          }, 15000, "functions and goroutines to settle");
        }
        await helpers.sleep(1500);
      });
      // One collection can leave garbage a later one frees (what V8 kept
      // for a weak reference or a cache): the smallest of three readings,
      // each after a full collection, is what the page really holds.
      // A task of the page's between collections lets the finalizers that
      // a collection scheduled run, so that the next one frees what they let go.
      let jsHeap = Infinity;
      for (let i = 0; i < 5; i++) {
        await cdp.send("HeapProfiler.collectGarbage");
        jsHeap = Math.min(jsHeap, (await cdp.send("Runtime.getHeapUsage")).usedSize);
        await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
      }
      const sample = await page.evaluate(async () => {
        await window.leak.refresh();
        return window.leak.sample();
      });
      return { ...sample, jsHeap };
    };
    const cold = await measure();
    // Warm-up: two full rounds first. WebAssembly memory never shrinks, so
    // the Go heap's high-water mark (reached while garbage waits for the
    // collector) and V8's compiled and optimized code belong to the
    // baseline; one more identical round must then not grow anything. The
    // baseline is the higher of the readings after each warm-up round: the
    // page's heap after a collection varies by up to 10% between readings
    // with no leak, while a leak raises the second reading above the first,
    // so it stays the baseline and the third round still shows the growth.
    const round = () =>
      page.evaluate(
        async ({ subs, clients }) => {
          await window.leak.subCycles(subs);
          await window.leak.clientCycles(clients);
        },
        { subs: SUB_CYCLES, clients: CLIENT_CYCLES },
      );
    await round();
    const first = await measure();
    await round();
    const second = await measure();
    const baseline = Object.fromEntries(Object.keys(second).map((k) => [k, Math.max(first[k], second[k])]));
    await page.evaluate((b) => {
      window.leak.baseline = b;
    }, baseline);
    const started = Date.now();
    await page.evaluate((n) => window.leak.subCycles(n), SUB_CYCLES);
    const subMs = Date.now() - started;
    await page.evaluate((n) => window.leak.clientCycles(n), CLIENT_CYCLES);
    const clientMs = Date.now() - started - subMs;
    const final = await measure();
    await page.evaluate(() => Promise.all([window.leak.probe.close(), window.leak.churner.close()]));
    await cdp.detach();
    await page.close();

    const rows = ["funcCount", "goroutines", "wasmBytes", "workerSubscriptions", "jsHeap"].map((k) => `| ${k} | ${cold[k]} | ${baseline[k]} | ${final[k]} | ${(((final[k] - baseline[k]) / baseline[k]) * 100).toFixed(1)}% |`);
    const figures = [
      `${SUB_CYCLES} subscribe/unsubscribe cycles in ${subMs} ms, ${CLIENT_CYCLES} create/close cycles in ${clientMs} ms`,
      "| measure | before any cycle | baseline (the higher after round 1 and after round 2) | after round 3 | change in round 3 |",
      "|---|---|---|---|---|",
      ...rows,
    ].join("\n");
    if (process.env.REFINE_LIVE_LEAK_FIGURES) console.log(figures);
    for (const k of ["funcCount", "goroutines", "wasmBytes", "workerSubscriptions", "jsHeap"]) {
      assert.ok(final[k] <= baseline[k] * 1.1, `${k} grew beyond 10%:\n${figures}`);
    }
  });
});
