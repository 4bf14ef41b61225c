// index.d.ts compiles under --strict and satisfies @refinedev/core 5's
// LiveProvider (test/types/check.ts), without needing live.wasm.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// The tooling is npm/test's own (npm/test/package.json), not the package's.
const root = fileURLToPath(new URL("..", import.meta.url));
const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));

for (const project of ["types/tsconfig.json", "types/tsconfig.dts.json"]) {
  test(`tsc -p ${project}`, () => {
    try {
      execFileSync(process.execPath, [tsc, "-p", project], { cwd: root, encoding: "utf8", stdio: "pipe" });
    } catch (err) {
      assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`);
    }
  });
}
