// The browser side of the end-to-end suite: headless Chromium (or, with
// BROWSER_ENGINE, Firefox or WebKit) from Debian's packages, the app's
// pages and what they show and send, and the per-file set-up of browser,
// backends and cleanups.
import { join } from "node:path";
import { CHROMIUM_ARGS, chromiumPath, launch } from "../../npm/test/browser/engines.js";
import { AnyPage } from "./anypage.js";
import { DEADLINE, repoDir, startBackend, startProxy, waitFor } from "./backend.js";

/** The engine the suite drives (BROWSER_ENGINE; Chromium by default). */
export const engine = process.env.BROWSER_ENGINE || "chromium";

/**
 * Launches the engine's browser. Playwright gives every launched Chromium a
 * fresh temporary profile (user-data-dir) and deletes it on close.
 */
export async function launchBrowser() {
  if (engine !== "chromium") return launch(engine, join(repoDir, "scripts"));
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: chromiumPath(join(repoDir, "scripts")), args: CHROMIUM_ARGS });
}

/**
 * Opens the app in a new browser context (its own cookies, storage and
 * network state) and records what the page does: requests to the API,
 * WebSocket frames sent, page errors. beforeLoad(page) runs before the
 * page is loaded (to route its requests, say).
 */
export async function openApp(browser, baseUrl, path = "/posts", params = {}, { beforeLoad } = {}) {
  if (engine !== "chromium") return openAnyApp(browser, baseUrl, path, params, { beforeLoad });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const app = {
    context,
    page,
    requests: [],
    sentFrames: [],
    sockets: 0,
    errors: [],
    async sync() {},
    async close() {
      await context.close();
    },
  };
  page.on("websocket", () => app.sockets++);
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
  if (beforeLoad) await beforeLoad(page);
  const query = new URLSearchParams(params).toString();
  await page.goto(`${baseUrl}${path}${query ? `?${query}` : ""}`);
  return app;
}

/**
 * openApp in Firefox or WebKit: the page records what Playwright would see
 * (?record=1, src/record.js) and AnyPage reads it with every call. It has
 * no hook before the page loads, and no engine-level offline emulation but
 * Chromium's: context.setOffline tells the page it went offline or online.
 */
async function openAnyApp(browser, baseUrl, path, params, { beforeLoad }) {
  if (beforeLoad) throw new Error(`beforeLoad needs Chromium's request interception; not available in ${engine}`);
  const query = new URLSearchParams({ ...params, record: "1" }).toString();
  const driverPage = await browser.newPage(`${baseUrl}${path}?${query}`);
  const app = {
    requests: [],
    sentFrames: [],
    sockets: 0,
    errors: [],
    async sync() {
      await app.page.evaluate(() => null);
    },
    async close() {
      await driverPage.close();
    },
  };
  app.page = new AnyPage(driverPage, app);
  app.context = {
    setOffline: (offline) =>
      driverPage.setOffline ? driverPage.setOffline(offline) : app.page.evaluate((name) => window.dispatchEvent(new Event(name)), offline ? "offline" : "online"),
  };
  await app.sync();
  return app;
}

/** Waits until the page's connection badge shows the given status. */
export async function waitForStatus(app, status, timeout = DEADLINE) {
  await app.page.locator(`[data-testid="connection-badge"][data-status="${status}"]`).waitFor({ timeout });
}

/** Waits until an edit page shows its record and the form holds its title. */
export async function waitForForm(app, id) {
  const current = app.page.locator(`[data-testid="post-current"][data-id="${id}"]`);
  await current.waitFor();
  const title = await current.getAttribute("data-title");
  await waitFor(`the form of post ${id} to be filled`, async () => (await app.page.getByTestId("post-title-input").inputValue()) === title);
}

/** The rows of the posts list, as {id, title}. */
export async function listedPosts(app) {
  // Pairs, made objects here: WebDriver hands objects back with their keys
  // in its own order, and the tests compare the JSON text.
  const rows = await app.page.$$eval('[data-testid="post-row"]', (rows) =>
    rows.map((r) => [r.dataset.id, r.querySelector('[data-testid="post-title"]').textContent]),
  );
  return rows.map(([id, title]) => ({ id, title }));
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
  await waitFor("the page's requests to finish", async () => {
    await app.sync();
    return app.requests.every((r) => r.state !== "pending");
  });
}

/** Requests of the page matching a predicate, counted. */
export function countRequests(app, pred) {
  return app.requests.filter(pred).length;
}

/** GET requests of the posts table (the useTable query). */
export const isTableFetch = (r) => r.method === "GET" && r.path === "/api/posts" && r.search.includes("_end=20");

/** How many times the page sent the given action for each channel. */
export function framesByChannel(app, action) {
  const counts = {};
  const count = (channel) => {
    if (typeof channel === "string") counts[channel] = (counts[channel] ?? 0) + 1;
  };
  for (const f of app.sentFrames) {
    if (f?.action !== action) continue;
    // An extended subscribe may list several channels.
    if (Array.isArray(f.channels)) for (const c of f.channels) count(c?.channel);
    else count(f.channel);
  }
  return counts;
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
  /**
   * Opens the app and waits until it is live (unless live is false);
   * after the test, checks it threw nothing. beforeLoad as in openApp.
   */
  s.open = async (url, path, params, { beforeLoad, live = true } = {}) => {
    const app = await openApp(s.browser, url, path, params, { beforeLoad });
    s.defer(async () => {
      const errors = [...app.errors];
      await app.close();
      if (errors.length) throw new Error(`page ${path} threw: ${errors.join("; ")}`);
    });
    if (live) await waitForStatus(app, "open");
    return app;
  };
  return s;
}
