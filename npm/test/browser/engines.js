// One small driver per browser engine, so that every scenario is written
// once: launch(engine) returns { consoleLines, newPage(url), close() }, and a
// page has evaluate(fn, arg), goto(url), setOffline(offline) and close(). Chromium
// runs through playwright-core, Firefox ESR through puppeteer-core (WebDriver
// BiDi) and WebKitGTK's MiniBrowser through selenium-webdriver against
// WebKitWebDriver under Xvfb: each engine's own Debian package, no
// download. setOffline is null where the engine cannot emulate it.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ENGINES = ["chromium", "firefox", "webkit"];

/** Chromium's flags: headless as root, no background traffic. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Runs a repository script that prints a path (or NAME=PATH lines). */
function scriptOutput(scripts, name) {
  return execFileSync("bash", [join(scripts, name)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/** Debian's Chromium, installed when missing and root (scripts/ensure-chromium.sh). */
export function chromiumPath(scripts) {
  return scriptOutput(scripts, "ensure-chromium.sh");
}

function browserPaths(scripts) {
  return Object.fromEntries(scriptOutput(scripts, "ensure-browsers.sh").split("\n").map((l) => l.split("=")));
}

/**
 * Launches engine with a fresh profile.
 * @param {"chromium" | "firefox" | "webkit"} engine
 * @param {string} scripts the repository's scripts folder
 */
export async function launch(engine, scripts) {
  if (engine === "chromium") return launchChromium(chromiumPath(scripts));
  if (engine === "firefox") return launchFirefox(browserPaths(scripts));
  if (engine === "webkit") return launchWebKit(browserPaths(scripts));
  throw new Error(`unknown browser engine ${engine}: want one of ${ENGINES.join(", ")}`);
}

// A Playwright or Puppeteer page (their page APIs agree on what is used
// here), its console collected, loaded at url.
async function openPage(page, url, consoleLines, setOffline) {
  page.on("console", (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));
  await page.goto(url);
  return {
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    goto: (to) => page.goto(to).then(() => {}),
    setOffline,
    close: () => page.close(),
    native: page,
  };
}

async function launchChromium(executablePath) {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "refine-live-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS }).catch((err) => {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  });
  const consoleLines = [];
  return {
    engine: "chromium",
    version: context.browser()?.version() ?? "",
    consoleLines,
    newPage: async (url) => openPage(await context.newPage(), url, consoleLines, (offline) => context.setOffline(offline)),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function launchFirefox(paths) {
  const { default: puppeteer } = await import("puppeteer-core");
  // Firefox writes caches under XDG_CACHE_HOME: keep them out of ~/.cache.
  const cache = mkdtempSync(join(tmpdir(), "refine-live-firefox-cache-"));
  const browser = await puppeteer
    .launch({ browser: "firefox", executablePath: paths.FIREFOX, headless: true, env: { ...process.env, XDG_CACHE_HOME: cache } })
    .catch((err) => {
      rmSync(cache, { recursive: true, force: true });
      throw err;
    });
  const consoleLines = [];
  return {
    engine: "firefox",
    version: await browser.version(),
    consoleLines,
    newPage: async (url) => openPage(await browser.newPage(), url, consoleLines, null),
    async close() {
      await browser.close();
      rmSync(cache, { recursive: true, force: true });
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

async function until(what, cond, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts Xvfb on a free display; WebKitGTK hangs without one. */
async function startXvfb(xvfb) {
  for (let n = 90 + Math.floor(Math.random() * 100); n < 400; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    const proc = spawn(xvfb, [`:${n}`, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], { stdio: "ignore" });
    let exited = false;
    proc.once("exit", () => (exited = true));
    await until(`Xvfb on :${n}`, () => exited || existsSync(`/tmp/.X11-unix/X${n}`), 10000);
    if (!exited) return { display: `:${n}`, proc };
  }
  throw new Error("failed to start Xvfb: no free display");
}

// In WebKit, executeScript waits for a returned promise; a console that
// WebDriver cannot read is copied into the page, read after each call.
const CAPTURE_CONSOLE = `if (!window.__consoleLines) { window.__consoleLines = [];
  for (const level of ["log", "info", "warn", "error", "debug"]) { const original = console[level].bind(console);
    console[level] = (...args) => { window.__consoleLines.push(level + ": " + args.map(String).join(" ")); original(...args); }; } }`;

async function launchWebKit(paths) {
  const { Builder } = await import("selenium-webdriver");
  const xvfb = await startXvfb(paths.XVFB);
  const port = await freePort();
  const driverProc = spawn(paths.WEBKITDRIVER, [`--port=${port}`], { stdio: "ignore", env: { ...process.env, DISPLAY: xvfb.display } });
  const stopProcesses = () => {
    driverProc.kill("SIGTERM");
    xvfb.proc.kill("SIGTERM");
  };
  let driver;
  try {
    await until("WebKitWebDriver", async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/status`)).ok;
      } catch {
        return false;
      }
    });
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: "MiniBrowser", "webkitgtk:browserOptions": { binary: paths.MINIBROWSER, args: ["--automation"] } })
      .build();
    await driver.manage().setTimeouts({ script: 120000, pageLoad: 30000 });
  } catch (err) {
    await driver?.quit().catch(() => {});
    stopProcesses();
    throw err;
  }
  const caps = await driver.getCapabilities();
  const home = await driver.getWindowHandle(); // kept open: closing the last window ends the session
  const consoleLines = [];
  // One WebDriver session drives one window at a time: calls take turns.
  let turn = Promise.resolve();
  const inTurn = (fn) => {
    const next = turn.then(fn, fn);
    turn = next.catch(() => {});
    return next;
  };
  return {
    engine: "webkit",
    version: String(caps.get("browserVersion") ?? ""),
    consoleLines,
    newPage: (url) =>
      inTurn(async () => {
        // A window each, not a tab: a background tab runs no animation frames.
        await driver.switchTo().newWindow("window");
        const handle = await driver.getWindowHandle();
        await driver.get(url);
        await driver.executeScript(CAPTURE_CONSOLE);
        const drain = async () => {
          const lines = await driver.executeScript("const l = window.__consoleLines || []; window.__consoleLines = []; return l;");
          consoleLines.push(...lines);
        };
        return {
          evaluate: (fn, arg) =>
            inTurn(async () => {
              await driver.switchTo().window(handle);
              try {
                return await driver.executeScript(`return (${fn})(arguments[0]);`, arg === undefined ? null : arg);
              } finally {
                await drain().catch(() => {});
              }
            }),
          goto: (to) =>
            inTurn(async () => {
              await driver.switchTo().window(handle);
              await driver.get(to);
              await driver.executeScript(CAPTURE_CONSOLE);
            }),
          setOffline: null,
          close: () =>
            inTurn(async () => {
              await driver.switchTo().window(handle);
              await driver.close();
              await driver.switchTo().window(home);
            }),
          native: driver,
        };
      }),
    async close() {
      await driver.quit().catch(() => {});
      stopProcesses();
    },
  };
}
