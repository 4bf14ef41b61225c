// The cost of crossing into Go, measured in Node against the reference
// server: a call into Go that does nothing, and one event's round trip
// (publish on a plain WebSocket → server → the provider's callback) beside
// the same round trip heard by a plain WebSocket. It shows the floor under
// figure 2 of make bench: what any Go-in-wasm engine pays per entry.
//
//   node --experimental-websocket bench/gocall.mjs   (after make wasm bin/liveserver)
//
// Environment: GOCALL_N (round trips, default 3000; the first third warms up).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLiveClient } from "../npm/index.js";
import { startRuntime } from "../npm/loader.js";
import { goConfig, normalizeOptions } from "../npm/options.js";
import { root, startLiveServer } from "./env.mjs";

const N = Number(process.env.GOCALL_N ?? 3000);
const wasm = join(root, "npm", "live.wasm");
const server = await startLiveServer(join(root, "bin", "liveserver"));
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const frame = (channel, id, type = "updated") => JSON.stringify({ action: "publish", channel, type, payload: { ids: [id], title: "x".repeat(28) } });
const opened = (ws) => new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));

try {
  let runtime;
  const loadRuntime = () =>
    (runtime ??= startRuntime({ wasmURL: wasm, instantiate: async (_url, imports) => (await WebAssembly.instantiate(readFileSync(wasm), imports)).instance }));

  // 1. Calls into Go that do nothing: a js.FuncOf (api.funcCount), a resume
  // with no event (what the shim does after a task's exports), and an export
  // (an empty command batch for a client that never connects).
  const client = createLiveClient({ url: server.ws, loadRuntime });
  await client.ready;
  const { api, go } = await runtime;
  const perCall = (call) => {
    const rounds = [];
    for (let round = 0; round < 5; round++) {
      const t0 = performance.now();
      for (let i = 0; i < 5000; i++) call();
      rounds.push(((performance.now() - t0) / 5000) * 1000);
    }
    return median(rounds).toFixed(2);
  };
  const silent = api.newClient(goConfig(normalizeOptions({ url: server.ws, protocol: "basic" }, () => {})), { openSocket() {}, onEvents() {} });
  console.log(`empty js.FuncOf call into Go: ${perCall(() => api.funcCount())} µs (median of 5 × 5,000)`);
  console.log(`resume with no event: ${perCall(() => go.idle())} µs (median of 5 × 5,000)`);
  console.log(`empty export call into Go: ${perCall(() => go.commands(silent.handle, "[]"))} µs (median of 5 × 5,000)`);

  // 2. Round trips: the provider's callback, then a plain WebSocket.
  const waiters = new Map();
  const hear = (id) => waiters.get(id)?.();
  let probes = 0;
  client.subscribe({ channel: "gocall", types: ["*"], callback: (ev) => (ev.type === "probe" ? probes++ : hear(ev.payload.ids[0])) });
  const pub = new WebSocket(server.ws);
  await opened(pub);
  while (probes === 0) {
    pub.send(frame("gocall", 0, "probe"));
    await new Promise((r) => setTimeout(r, 50));
  }
  const plain = new WebSocket(server.ws);
  await opened(plain);
  plain.send(JSON.stringify({ action: "subscribe", channel: "plain" }));
  plain.onmessage = (m) => hear(JSON.parse(m.data).payload.ids[0]);
  await new Promise((r) => setTimeout(r, 200));

  for (const [label, channel] of [["refine-live-wasm", "gocall"], ["plain WebSocket", "plain"]]) {
    const rtts = [];
    for (let i = 1; i <= N; i++) {
      const heard = new Promise((resolve) => waiters.set(i, resolve));
      const t0 = performance.now();
      pub.send(frame(channel, i));
      await heard;
      waiters.delete(i);
      rtts.push((performance.now() - t0) * 1000);
    }
    const warm = rtts.slice(Math.floor(N / 3));
    console.log(`round trip, ${label}: p50 ${median(warm).toFixed(0)} µs after warm-up (${median(rtts.slice(0, 500)).toFixed(0)} µs over the first 500)`);
  }
  pub.close();
  plain.close();
  await silent.close();
  await client.close();
} finally {
  await server.stop();
}
