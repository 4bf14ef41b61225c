// Shared set-up of the browser tests: what to skip, the static server and a
// headless Chromium from Debian's package (no browser download).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startStaticServer } from "./static-server.js";

export const packageRoot = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const scripts = join(dirname(packageRoot), "scripts");
const inCI = process.env.CI === "true";

export const liveServerURL = process.env.REFINE_LIVE_TEST_WS || "";
export const restartURL = process.env.REFINE_LIVE_TEST_RESTART_URL || "";

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

/** Finds Chromium, installing Debian's package when running as root. */
function chromiumPath() {
  return execFileSync("bash", [join(scripts, "ensure-chromium.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

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

/** Starts the static server and a browser with a fresh profile. */
export async function startBrowser() {
  const { chromium } = await import("playwright-core");
  const server = await startStaticServer(packageRoot);
  const profile = mkdtempSync(join(tmpdir(), "refine-live-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (err) {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const consoleLines = [];
  return {
    server,
    consoleLines,
    /** A fresh page (so a fresh Go runtime) with the package imported. */
    async newPage() {
      const page = await context.newPage();
      page.on("console", (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
      page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));
      await page.goto(`${server.origin}/test/browser/page.html`);
      await page.waitForFunction(() => window.pageReady === true);
      return page;
    },
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
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
