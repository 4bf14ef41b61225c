// Bundlers: an app with no bundler configuration (bundlers/vite7, its
// lockfile committed) installs the packed tarball and runs in Chromium in
// every worker mode under Vite 7's dev server, which pre-bundles the
// package away from its files, and from Vite 7's production build, whose
// default worker format refuses a worker that would be split.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { childServer, freePort } from "../../scripts/child-server.mjs";
import { launch } from "./browser/engines.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const repo = join(root, "..");
const binary = join(repo, "bin", "liveserver");
const missing = ["live.wasm", "wasm_exec.js"].filter((f) => !existsSync(join(root, f)));
const skip = missing.length > 0 ? `npm/${missing.join(" and npm/")} missing: run \`make wasm\` first` : existsSync(binary) ? false : "bin/liveserver is missing";
const MODES = ["none", "dedicated", "shared"];

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Runs `vite <args>` in app until stop(); resolves once it answers on port. */
async function vite(app, args, port) {
  const child = spawn(join(app, "node_modules", ".bin", "vite"), [...args, "--port", String(port), "--strictPort"], { cwd: app, stdio: "ignore" });
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`vite ${args.join(" ")} did not answer on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", resolve), child.kill("SIGTERM"))));
}

describe("under Vite 7 with no configuration", () => {
  let dir;
  let app;
  let server;
  let browser;
  let ws;
  before(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), "refine-live-bundlers-"));
    const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", dir], root));
    app = join(dir, "vite7");
    cpSync(join(root, "test", "bundlers", "vite7"), app, { recursive: true, filter: (src) => !src.includes("node_modules") });
    run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], app);
    run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", join(dir, packed.filename)], app);
    const port = await freePort();
    server = childServer(binary, port, ["--any-origin", "--log-level", "warn"]);
    await server.start();
    ws = `ws://127.0.0.1:${port}/live`;
    browser = await launch("chromium", join(repo, "scripts"));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Each mode in a page of its own: ready, where it was asked to run, with no error.
  async function expectEveryMode(origin) {
    for (const worker of MODES) {
      const page = await browser.newPage(`${origin}/?ws=${encodeURIComponent(ws)}&worker=${worker}`);
      const deadline = Date.now() + 30000;
      let out;
      while ((out = await page.evaluate(() => document.getElementById("out")?.textContent ?? "loading")) === "loading") {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const errors = await page.evaluate(() => window.errors);
      assert.deepEqual({ out, errors }, { out: `ready ${worker}`, errors: [] }, `worker: "${worker}"`);
      await page.close();
    }
  }

  test("the dev server (the package pre-bundled into node_modules/.vite/deps/)", { skip, timeout: 180000 }, async () => {
    const port = await freePort();
    const stop = await vite(app, [], port);
    try {
      await expectEveryMode(`http://127.0.0.1:${port}`);
      assert.ok(existsSync(join(app, "node_modules", ".vite", "deps", "refine-live-wasm.js")), "the dev server pre-bundled the package");
    } finally {
      await stop();
    }
  });

  test("a production build, served by vite preview", { skip, timeout: 180000 }, async () => {
    run(join(app, "node_modules", ".bin", "vite"), ["build", "--logLevel", "warn"], app);
    const port = await freePort();
    const stop = await vite(app, ["preview"], port);
    try {
      await expectEveryMode(`http://127.0.0.1:${port}`);
    } finally {
      await stop();
    }
  });
});
