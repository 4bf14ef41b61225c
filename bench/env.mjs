// The benchmark's surroundings: the reference server (restartable on the
// same port), a static server with a barrier endpoint and the Go
// publisher. Chromium is in cdp.mjs.
import { execFileSync, spawn } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

import { childServer, freePort } from "../scripts/child-server.mjs";

export const root = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

export { freePort };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Limits opened wide so that neither the rate limit nor the send queue
// throttles or cuts a benchmark stream.
const SERVER_FLAGS = [
  "--any-origin",
  "--history-grace", "1h",
  "--rate", "1e9",
  "--burst", "1000000000",
  "--send-queue", "1000000",
  "--max-subscriptions", "20000",
  "--write-timeout", "60s",
  "--log-level", "error",
];

/** The reference server on a fixed loopback port; restart keeps the port. */
export async function startLiveServer(binary) {
  const port = await freePort();
  const { base, start, stop } = childServer(binary, port, SERVER_FLAGS);
  await start();
  return {
    ws: `ws://127.0.0.1:${port}/live`,
    base,
    start,
    stop,
    /** The server's gauge refine_live_<name>, summed over its labels. */
    async gauge(name) {
      const text = await (await fetch(`${base}/metrics`)).text();
      let sum = 0;
      for (const line of text.split("\n")) {
        if (line.startsWith(`refine_live_${name}{`) || line.startsWith(`refine_live_${name} `)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
      return sum;
    },
    /** POST /publish one event. */
    async publish(event) {
      const res = await fetch(`${base}/publish`, { method: "POST", body: JSON.stringify(event) });
      if (!res.ok) throw new Error(`POST /publish: ${res.status} ${await res.text()}`);
    },
  };
}

const MIME = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm" };

/**
 * Serves npm/ and bench/ from the repository, plus GET /barrier/<id>, which
 * answers once release(id) is called (see bench.barrier in page.js).
 */
export async function startStaticServer({ onBarrier }) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    if (path.startsWith("/barrier/")) {
      try {
        await onBarrier(path.slice("/barrier/".length));
        res.writeHead(204, { "cache-control": "no-store" }).end();
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
      return;
    }
    const file = normalize(join(root, path));
    const allowed = [join(root, "npm") + sep, join(root, "bench") + sep];
    if (!allowed.some((dir) => file.startsWith(dir)) || file.includes(`${sep}node_modules${sep}`)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error("not a file");
      res.writeHead(200, {
        "content-type": MIME[extname(file)] ?? "application/octet-stream",
        "content-length": info.size,
        "cache-control": process.env.BENCH_CACHE === "1" ? "public, max-age=3600" : "no-store",
        // Cross-origin isolation: performance.now() at 5 µs instead of 100 µs.
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
      });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Builds the Go publisher into a temporary folder. */
export function buildPublisher() {
  const dir = mkdtempSync(join(tmpdir(), "refine-live-publisher-"));
  const out = join(dir, "publisher");
  execFileSync("go", ["build", "-o", out, "./bench/publisher"], { cwd: root, stdio: "inherit" });
  return { path: out, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the publisher once; resolves to its JSON summary. */
export function publish(binary, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`publisher exited with ${code}`));
      else resolve(JSON.parse(out));
    });
  });
}
