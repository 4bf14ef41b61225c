// The second-tab figure of make bench (bench/run.mjs drives it): two pages
// of one browser, worker: "shared".

// A second tab beside a first, worker: "shared": what it adds at the
// server (connections) and in the page (JS heap, wasm memory), and how
// soon it is ready with the worker already running.
export async function tabsRun({ server, openPage, probe, channel: nextChannel }, round) {
  // The sockets of the pages before close as the server notices.
  const deadline = Date.now() + 10000;
  while ((await server.gauge("connections")) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const before = await server.gauge("connections");
  const tabs = [];
  const connections = [before];
  for (let i = 0; i < 2; i++) {
    const { page, cdp } = await openPage("ours-shared");
    const channel = nextChannel();
    await page.evaluate((c) => window.bench.subscribe([c], 1), channel);
    await probe(page, channel);
    connections.push(await server.gauge("connections"));
    tabs.push({ page, cdp });
  }
  const measured = [];
  for (const { page, cdp } of tabs) {
    await cdp.send("HeapProfiler.collectGarbage");
    const { usedSize } = await cdp.send("Runtime.getHeapUsage");
    // stats() answers with the counters the worker posted last.
    await page.evaluate(async () => {
      const deadline = performance.now() + 5000;
      while (!(window.bench.workerMemory() > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    });
    const [wasm, workerWasm, ready] = await page.evaluate(() => [window.bench.wasmBytes(), window.bench.workerMemory(), window.bench.timings.ready]);
    measured.push({ js: usedSize, wasm, workerWasm, ready });
  }
  for (const { page } of tabs) await page.close();
  return {
    round,
    connections,
    ready: measured.map((m) => m.ready),
    pageJS: measured.map((m) => m.js),
    pageWasm: measured.map((m) => m.wasm),
    workerWasm: measured.map((m) => m.workerWasm),
  };
}
