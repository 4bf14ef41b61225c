// Bundlers: apps with no bundler configuration at all (bundlers/<name>/,
// each a package.json and its committed lockfile, around bundlers/main.js)
// install the packed tarball and run in Chromium in every worker mode:
// under Vite 7's and Vite 8's dev servers, which pre-bundle the package
// away from its files, from their production builds (Vite 7's default
// worker format refuses a worker that would be split), and from a webpack 5
// build with its defaults.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { childServer, freePort } from "../../scripts/child-server.mjs";
import { launch } from "./browser/engines.js";
import { startStaticServer } from "./browser/static-server.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const repo = join(root, "..");
const fixtures = join(root, "test", "bundlers");
const binary = join(repo, "bin", "liveserver");
const missing = ["live.wasm", "wasm_exec.js"].filter((f) => !existsSync(join(root, f)));
const skip = missing.length > 0 ? `npm/${missing.join(" and npm/")} missing: run \`make wasm\` first` : existsSync(binary) ? false : "bin/liveserver is missing";
const MODES = ["none", "dedicated", "shared"];

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const page = (script) => `<!doctype html>\n<meta charset="utf-8">\n<div id="out">loading</div>\n${script}\n`;

/** Runs `vite <args>` in app until the returned stop(); resolves once it answers on port. */
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

describe("bundlers with no configuration", () => {
  let dir;
  let tarball;
  let server;
  let browser;
  let ws;
  before(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), "refine-live-bundlers-"));
    const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", dir], root));
    tarball = join(dir, packed.filename);
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

  // The fixture's app in a folder of its own, its dependencies from its lockfile, the package from the tarball.
  function install(name) {
    const app = join(dir, name);
    cpSync(join(fixtures, name), app, { recursive: true, filter: (src) => !src.includes("node_modules") });
    run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], app);
    run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", tarball], app);
    return app;
  }

  // Each mode in a page of its own: ready, where it was asked to run, with no error.
  async function expectEveryMode(origin, path = "/") {
    for (const worker of MODES) {
      const tab = await browser.newPage(`${origin}${path}?ws=${encodeURIComponent(ws)}&worker=${worker}`);
      const deadline = Date.now() + 30000;
      let out;
      while ((out = await tab.evaluate(() => document.getElementById("out")?.textContent ?? "loading")) === "loading") {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const errors = await tab.evaluate(() => window.errors);
      assert.deepEqual({ out, errors }, { out: `ready ${worker}`, errors: [] }, `worker: "${worker}"`);
      await tab.close();
    }
  }

  for (const name of ["vite7", "vite8"]) {
    test(`${name}: the dev server (the package pre-bundled into node_modules/.vite/deps/) and a production build`, { skip, timeout: 240000 }, async () => {
      const app = install(name);
      copyFileSync(join(fixtures, "main.js"), join(app, "main.js"));
      writeFileSync(join(app, "index.html"), page('<script type="module" src="/main.js"></script>'));
      const devPort = await freePort();
      let stop = await vite(app, [], devPort);
      try {
        await expectEveryMode(`http://127.0.0.1:${devPort}`);
        assert.ok(existsSync(join(app, "node_modules", ".vite", "deps", "refine-live-wasm.js")), "the dev server pre-bundled the package");
      } finally {
        await stop();
      }
      run(join(app, "node_modules", ".bin", "vite"), ["build", "--logLevel", "warn"], app);
      const port = await freePort();
      stop = await vite(app, ["preview"], port);
      try {
        await expectEveryMode(`http://127.0.0.1:${port}`);
      } finally {
        await stop();
      }
    });
  }

  test("webpack5: a production build with webpack's defaults", { skip, timeout: 240000 }, async () => {
    const app = install("webpack5");
    mkdirSync(join(app, "src"));
    copyFileSync(join(fixtures, "main.js"), join(app, "src", "index.js"));
    run(join(app, "node_modules", ".bin", "webpack"), ["--mode", "production"], app);
    writeFileSync(join(app, "dist", "index.html"), page('<script src="/main.js"></script>'));
    const statics = await startStaticServer(join(app, "dist"));
    try {
      await expectEveryMode(statics.origin, "/index.html");
    } finally {
      await statics.close();
    }
  });
});
