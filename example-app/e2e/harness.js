// Shared parts of the end-to-end suite: the Go backend as a child process,
// a headless Chromium from Debian's package, a TCP proxy the tests can cut,
// and waits on conditions with deadlines.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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
  const open = new Set();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream };
    open.add(pair);
    const drop = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cut() {
      down = true;
      for (const { client, upstream } of open) {
        client.resetAndDestroy?.() ?? client.destroy();
        upstream.destroy();
      }
      open.clear();
    },
    restore() {
      down = false;
    },
    async close() {
      this.cut();
      server.close();
      await once(server, "close");
    },
  };
}

// ---------------------------------------------------------------- browser

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Finds Debian's Chromium (installing it when root), via the repository's script. */
function chromiumPath() {
  try {
    return execFileSync("bash", [join(repoDir, "scripts", "ensure-chromium.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
  } catch {
    throw new Error("no Chromium: install Debian's package (apt-get install chromium) or set CHROME_PATH");
  }
}

/**
 * Launches headless Chromium. Playwright gives every launched browser a
 * fresh temporary profile (user-data-dir) and deletes it on close.
 */
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

/**
 * Opens the app in a new browser context (its own cookies, storage and
 * network state) and records what the page does: requests to the API,
 * WebSocket frames sent, page errors.
 */
export async function openApp(browser, baseUrl, path = "/posts", params = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const app = {
    context,
    page,
    requests: [],
    sentFrames: [],
    errors: [],
    async close() {
      await context.close();
    },
  };
  const tracked = new Map();
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (!url.pathname.startsWith("/api/")) return;
    const entry = { method: req.method(), path: url.pathname, search: url.search, state: "pending" };
    tracked.set(req, entry);
    app.requests.push(entry);
  });
  const done = (state) => (req) => {
    const entry = tracked.get(req);
    if (entry) entry.state = state;
    tracked.delete(req);
  };
  page.on("requestfinished", done("finished"));
  page.on("requestfailed", done("failed"));
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => {
      try {
        const msg = JSON.parse(typeof f.payload === "string" ? f.payload : f.payload.toString());
        app.sentFrames.push(...(Array.isArray(msg) ? msg : [msg]));
      } catch {
        // not JSON
      }
    });
  });
  page.on("pageerror", (err) => app.errors.push(err.message));
  const query = new URLSearchParams(params).toString();
  await page.goto(`${baseUrl}${path}${query ? `?${query}` : ""}`);
  return app;
}

/** Waits until the page's connection badge shows the given status. */
export async function waitForStatus(app, status, timeout = DEADLINE) {
  await app.page.locator(`[data-testid="connection-badge"][data-status="${status}"]`).waitFor({ timeout });
}

/** The rows of the posts list, as {id, title}. */
export function listedPosts(app) {
  return app.page.$$eval('[data-testid="post-row"]', (rows) =>
    rows.map((r) => ({ id: r.dataset.id, title: r.querySelector('[data-testid="post-title"]').textContent })),
  );
}

/** Waits until the page's list shows exactly rows. */
export async function waitForList(app, rows, what = "the list to match", timeout = DEADLINE) {
  const want = JSON.stringify(rows);
  let got;
  await waitFor(
    `${what}: ${want}`,
    async () => {
      got = JSON.stringify(await listedPosts(app));
      return got === want;
    },
    { timeout },
  ).catch((err) => {
    throw new Error(`${err.message}; page shows ${got}`);
  });
}

/** The live events the page's <Refine onLiveEvent> received, oldest first. */
export async function liveEvents(app) {
  const events = await app.page.$$eval('[data-testid="live-event"]', (items) =>
    items.map((li) => ({ channel: li.dataset.channel, type: li.dataset.type, ids: li.dataset.ids })),
  );
  return events.reverse();
}

/**
 * Makes sure everything the page had started is visible to the test: a
 * request the page sends now is recorded after every request it sent
 * before.
 */
export async function settle(app) {
  await app.page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    await fetch("/healthz", { cache: "no-store" });
  });
}

/** Waits until none of the page's API requests is in flight. */
export async function waitForIdle(app) {
  await waitFor("the page's requests to finish", () => app.requests.every((r) => r.state !== "pending"));
}

/** Requests of the page matching a predicate, counted. */
export function countRequests(app, pred) {
  return app.requests.filter(pred).length;
}

/** GET requests of the posts table (the useTable query). */
export const isTableFetch = (r) => r.method === "GET" && r.path === "/api/posts" && r.search.includes("_end=20");

/** How many frames with the given action the page sent, per channel. */
export function framesByChannel(app, action) {
  const counts = {};
  for (const f of app.sentFrames) {
    if (f?.action === action && typeof f.channel === "string") counts[f.channel] = (counts[f.channel] ?? 0) + 1;
  }
  return counts;
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

/** Waits until the page's notifications panel received a message with text. */
export async function waitForNotification(app, text, timeout = DEADLINE) {
  await app.page.locator(`[data-testid="notification-received"][data-text="${text}"]`).waitFor({ timeout });
}

/** Sends a message from the page's notifications panel (usePublish). */
export async function sendNotification(app, text) {
  await app.page.getByTestId("notification-input").fill(text);
  await app.page.getByTestId("notification-send").click();
  await app.page.locator(`[data-testid="notification-sent"][data-text="${text}"]`).waitFor();
}

/**
 * Sets up a test file: one browser for the file, and per test a list of
 * cleanups (pages, proxies, backends) run after it, all of them even when
 * one fails. Pass node:test's before, after and afterEach.
 */
export function useSuite({ before, after, afterEach }) {
  const s = { browser: null };
  const cleanups = [];
  before(async () => {
    s.browser = await launchBrowser();
  });
  after(async () => {
    await s.browser?.close();
  });
  afterEach(async () => {
    const errors = [];
    while (cleanups.length) {
      try {
        await cleanups.pop()();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw errors[0];
  });
  /** Runs fn after the current test. */
  s.defer = (fn) => cleanups.push(fn);
  /** A fresh backend, stopped after the test. */
  s.backend = async (opts) => {
    const b = await startBackend(opts);
    s.defer(() => b.stop());
    return b;
  };
  /** A proxy in front of a backend, closed after the test. */
  s.proxyTo = async (be) => {
    const p = await startProxy(be.port);
    s.defer(() => p.close());
    return p;
  };
  /** Opens the app and waits until it is live; after the test, checks it threw nothing. */
  s.open = async (url, path, params) => {
    const app = await openApp(s.browser, url, path, params);
    s.defer(async () => {
      const errors = [...app.errors];
      await app.close();
      if (errors.length) throw new Error(`page ${path} threw: ${errors.join("; ")}`);
    });
    await waitForStatus(app, "open");
    return app;
  };
  return s;
}
