// The server side of the end-to-end suite: the Go backend as a child
// process, its REST API and metrics, a TCP proxy the tests can cut, an
// HTTP proxy that holds chosen requests, and waits on conditions with
// deadlines.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { startTcpProxy } from "../../scripts/tcp-proxy.mjs";

export const appDir = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
export const repoDir = join(appDir, "..");
const distDir = join(appDir, "dist");

/** The default deadline of a wait, in ms. */
export const DEADLINE = 20_000;

/**
 * Polls fn until it returns a truthy value (which is returned) or the
 * deadline passes (which throws, with the last value or error).
 */
export async function waitFor(what, fn, { timeout = DEADLINE, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// ---------------------------------------------------------------- backend

let builtServer = null;
// Backends still running, killed if the test process exits without
// stopping them.
const running = new Set();
process.on("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

/** Builds the backend once per test process (E2E_SERVER_BIN skips it). */
export function serverBinary() {
  if (process.env.E2E_SERVER_BIN) return process.env.E2E_SERVER_BIN;
  if (builtServer === null) {
    const dir = mkdtempSync(join(tmpdir(), "refine-live-e2e-"));
    const bin = join(dir, "server");
    execFileSync("go", ["build", "-o", bin, "./example-app/server"], { cwd: repoDir, stdio: "inherit" });
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    builtServer = bin;
  }
  return builtServer;
}

function checkAppBuilt() {
  if (!existsSync(join(distDir, "index.html"))) {
    throw new Error(`${distDir}/index.html is missing: run \`npm run build\` in example-app first`);
  }
}

/**
 * Starts the backend on a free port (or the given one) and resolves once
 * it listens. stop() ends it with SIGTERM, kill() with SIGKILL.
 */
export async function startBackend({ port = 0, seedPosts = 8, args = [] } = {}) {
  checkAppBuilt();
  const proc = spawn(
    serverBinary(),
    ["--addr", `127.0.0.1:${port}`, "--dist", distDir, "--seed-posts", String(seedPosts), "--quiet", ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(proc);
  proc.on("exit", () => running.delete(proc));
  let stderr = "";
  proc.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = once(proc, "exit");
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`backend did not start: ${stderr}`)), 15_000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`backend exited with ${code} before listening: ${stderr}`));
    });
  });
  const end = async (signal) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    stderr: () => stderr,
  };
}

/** The backend's posts, in id order, as {id, title}. */
export async function serverPosts(baseUrl) {
  const res = await fetch(`${baseUrl}/api/posts?_sort=id&_order=asc`);
  if (!res.ok) throw new Error(`GET /api/posts: ${res.status}`);
  return (await res.json()).map((p) => ({ id: String(p.id), title: p.title }));
}

/** Sends a REST request to the backend, as curl would. */
export async function rest(baseUrl, method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Reads one unlabelled gauge or counter from the backend's /metrics. */
export async function metric(baseUrl, name) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      found = true;
    }
  }
  if (!found) throw new Error(`metric ${name} not found`);
  return sum;
}

// ---------------------------------------------------------------- proxy

/**
 * A TCP proxy on loopback in front of target. cut() drops every open
 * connection and refuses new ones (they are closed at once), as a network
 * drop looks to the browser; restore() lets connections through again.
 */
export async function startProxy(targetPort) {
  const proxy = await startTcpProxy(targetPort);
  return {
    port: proxy.port,
    url: `http://127.0.0.1:${proxy.port}`,
    cut() {
      proxy.refuse(true);
      proxy.drop({ reset: true });
    },
    restore() {
      proxy.refuse(false);
    },
    close: () => proxy.close(),
  };
}

/** Publishes an event through the hub's POST /publish, as a backend would. */
export async function publishHttp(baseUrl, event) {
  const res = await fetch(`${baseUrl}/publish`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(event),
  });
  if (!res.ok) throw new Error(`POST /publish: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * An HTTP proxy on loopback in front of targetPort that holds every
 * request whose path matches pathPattern until release(), as a slow
 * network would; everything else, WebSocket upgrades included, passes
 * straight through. It does in any engine what Chromium's request
 * interception does. requestedAt() is when the first held request came.
 */
export async function startHoldingProxy(targetPort, pathPattern) {
  let requestedAt = 0;
  let release;
  const released = new Promise((resolve) => (release = resolve));
  const server = http.createServer(async (req, res) => {
    if (pathPattern.test(new URL(req.url, "http://x").pathname)) {
      requestedAt ||= Date.now();
      await released;
    }
    const upstream = http.request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req, client, head) => {
    const upstream = net.connect(targetPort, "127.0.0.1", () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", drop).on("close", drop);
    client.on("error", drop).on("close", drop);
    sockets.add(upstream);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    requestedAt: () => requestedAt,
    release: () => release(),
    async close() {
      release();
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}
