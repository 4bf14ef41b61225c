// Packaging: the tarball `npm pack` makes installs into a fresh project next
// to @refinedev/core 5, resolves through its exports map, imports without a
// browser, and type-checks as Refine's LiveProvider under strict tsc.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// The versions the tests use live in the test package, not the published one.
const testPkg = JSON.parse(readFileSync(join(root, "test", "package.json"), "utf8"));
const missing = ["live.wasm", "wasm_exec.js"].filter((f) => !existsSync(join(root, f)));
const needsWasm = missing.length === 0 ? false : `npm/${missing.join(" and npm/")} missing: run \`make wasm\` first`;

if (needsWasm && process.env.CI === "true") {
  test("live.wasm and wasm_exec.js are built", () => {
    throw new Error(`${needsWasm} (CI=true: not skipping)`);
  });
}

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("the packed tarball", () => {
  // Skips are per test so that the runner counts them.
  const skip = needsWasm;
  let dir;
  let packed;
  before(() => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), "refine-live-pack-"));
    [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", dir], root));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("holds the package files and nothing else", { skip }, () => {
    const files = packed.files.map((f) => f.path).sort();
    for (const expected of [
      "index.js",
      "index.d.ts",
      "client.js",
      "loader.js",
      "socket.js",
      "version.js",
      "worker.js",
      "worker-runtime.js",
      "worker-hub.js",
      "worker-shared.js",
      "package-files.js",
      "live.wasm",
      "wasm_exec.js",
      "package.json",
      "README.md",
      "LICENSE",
    ]) {
      assert.ok(files.includes(expected), `${expected} is packed`);
    }
    assert.deepEqual(files.filter((f) => f.includes("/") || f.startsWith("test")), [], "no tests or folders");
    assert.equal(packed.version, pkg.version);
  });

  test("ships a lean package.json and the license it names", { skip }, () => {
    const listing = run("tar", ["-xzOf", join(dir, packed.filename), "package/package.json"], dir);
    const shipped = JSON.parse(listing);
    for (const key of ["scripts", "devDependencies", "dependencies", "peerDependencies", "optionalDependencies"]) {
      assert.equal(shipped[key], undefined, `the published package.json has no ${key}`);
    }
    assert.equal(shipped.license, "MIT");
    const license = run("tar", ["-xzOf", join(dir, packed.filename), "package/LICENSE"], dir);
    assert.match(license, /^MIT License/);
    assert.equal(license, readFileSync(join(root, "..", "LICENSE"), "utf8"), "npm/LICENSE is the repository's LICENSE");
  });

  test("installs beside @refinedev/core 5 and satisfies LiveProvider under tsc --strict", { skip, timeout: 300000 }, () => {
    const dev = testPkg.devDependencies;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "pack-check", private: true, type: "module" }, null, 2));
    const deps = ["@refinedev/core", "@tanstack/react-query", "react", "react-dom", "@types/react", "@types/react-dom", "typescript"].map(
      (name) => `${name}@${dev[name]}`,
    );
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", join(dir, packed.filename), ...deps], dir);

    const probe = `
      const m = await import("refine-live-wasm");
      const wasm = import.meta.resolve("refine-live-wasm/live.wasm");
      console.log(JSON.stringify({ exports: Object.keys(m).sort(), version: m.VERSION, wasm: wasm.endsWith("/node_modules/refine-live-wasm/live.wasm") }));
    `;
    const loaded = JSON.parse(run(process.execPath, ["--input-type=module", "-e", probe], dir));
    assert.deepEqual(loaded, {
      exports: ["ErrorCodes", "VERSION", "createLiveClient", "isResyncEvent", "liveProvider"],
      version: pkg.version,
      wasm: true,
    });

    writeFileSync(join(dir, "check.ts"), readFileSync(join(root, "test/types/check.ts"), "utf8"));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "bundler",
          // @refinedev/core's own .d.ts files reference modules it does not
          // ship types for; our index.d.ts is checked on its own (test/unit/types.test.js).
          skipLibCheck: true,
          types: [],
        },
        files: ["check.ts"],
      }),
    );
    try {
      run(join(dir, "node_modules/.bin/tsc"), ["--noEmit", "-p", "tsconfig.json"], dir);
    } catch (err) {
      assert.fail(`tsc rejected check.ts:\n${err.stdout}${err.stderr}`);
    }
  });
});
