// Shared set-up of the browser tests: what to skip, the static server and a
// headless browser from Debian's packages (no browser download): Chromium,
// or Firefox or WebKit with BROWSER_ENGINE (engines.js).
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ENGINES, launch } from "./engines.js";
import { startStaticServer } from "./static-server.js";

export const packageRoot = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const scripts = join(dirname(packageRoot), "scripts");
const inCI = process.env.CI === "true";

export const liveServerURL = process.env.REFINE_LIVE_TEST_WS || "";
export const restartURL = process.env.REFINE_LIVE_TEST_RESTART_URL || "";
export const proxyURL = process.env.REFINE_LIVE_TEST_PROXY_WS || "";
const controlURL = process.env.REFINE_LIVE_TEST_CONTROL_URL || "";

/** Skip reason when there is no proxy to drop connections with. */
export const needsProxy = proxyURL && controlURL ? false : "REFINE_LIVE_TEST_PROXY_WS is unset: no proxy to drop connections with";

/** Drops (cut), holds (offline) or lets through again (online) the proxy's connections. */
export async function proxyControl(action) {
  const res = await fetch(`${controlURL}/${action}`, { method: "POST" });
  if (!res.ok) throw new Error(`proxy ${action}: HTTP ${res.status}`);
}

const missingFiles = ["live.wasm", "wasm_exec.js"].filter((f) => !existsSync(join(packageRoot, f)));

/** Why the wasm tests cannot run (a skip reason), or false when they can. */
export const needsWasm = missingFiles.length === 0 ? false : `npm/${missingFiles.join(" and npm/")} missing: run \`make wasm\` first`;

/** In CI a missing live.wasm is a failure, not a skip. */
export function failWithoutWasmInCI(test) {
  if (needsWasm && inCI) {
    test("live.wasm and wasm_exec.js are built", () => {
      throw new Error(`${needsWasm} (CI=true: not skipping)`);
    });
  }
}

export const needsServer = liveServerURL ? false : "REFINE_LIVE_TEST_WS is unset: no live server to test against";
export const needsRestart = !liveServerURL
  ? needsServer
  : restartURL
    ? false
    : "REFINE_LIVE_TEST_RESTART_URL is unset: cannot restart the live server";

/** Where the engine runs (the worker option): each suite that takes it runs once per mode. */
export const WORKER_MODES = ["none", "dedicated", "shared"];

/** A skip reason for a test whose WebSocket override cannot run in a worker, or false. */
export const needsInPageSocket = (worker) =>
  worker === "none" ? false : `a WebSocket override stays in the page: not with worker "${worker}"`;

/** The engine this run tests in (BROWSER_ENGINE; Chromium by default). */
export const engine = process.env.BROWSER_ENGINE || "chromium";
if (!ENGINES.includes(engine)) throw new Error(`BROWSER_ENGINE=${engine}: want one of ${ENGINES.join(", ")}`);

/**
 * A skip reason for a test that needs something only Chromium has (the
 * DevTools protocol), or false in Chromium: the runner counts and names
 * such skips, they are never silent.
 */
export const needsChromium = (what) => (engine === "chromium" ? false : `${what} needs Chromium's DevTools protocol; not available in ${engine}`);

/** Starts the static server and a browser with a fresh profile. */
export async function startBrowser() {
  const server = await startStaticServer(packageRoot);
  let browser;
  try {
    browser = await launch(engine, scripts);
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    server,
    engine,
    version: browser.version,
    consoleLines: browser.consoleLines,
    /** A fresh page (so a fresh Go runtime) with the package imported. */
    async newPage() {
      const page = await browser.newPage(`${server.origin}/test/browser/page.html`);
      const deadline = Date.now() + 15000;
      while (!(await page.evaluate(() => window.pageReady === true))) {
        if (Date.now() > deadline) throw new Error(`the test page did not get ready in ${engine}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * The browser of a test file: started before its tests (unless skip, after
 * setUp), closed after them, with the console printed when
 * DEBUG_BROWSER_TESTS is set. Pass node:test's before and after.
 */
export function useBrowser({ before, after }, skip, setUp) {
  let browser;
  before(async () => {
    if (skip) return;
    await setUp?.();
    browser = await startBrowser();
  });
  after(async () => {
    if (process.env.DEBUG_BROWSER_TESTS) console.log(browser?.consoleLines.join("\n"));
    await browser?.close();
  });
  return {
    newPage: () => browser.newPage(),
    get server() {
      return browser.server;
    },
    get consoleLines() {
      return browser.consoleLines;
    },
  };
}

/** A ws:// URL on a loopback port that was free a moment ago (nothing listens). */
export async function closedPortURL() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(resolve));
  return `ws://127.0.0.1:${port}/live`;
}
