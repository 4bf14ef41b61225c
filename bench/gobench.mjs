// The engine's Go benchmarks (go test -bench -benchmem), medians of a few counts.
import { execFileSync } from "node:child_process";
import { root } from "./env.mjs";

export const GO_BENCH_ARGS = ["test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "5", "-benchtime", "0.5s", "./provider/", "./protocol/"];

export function runGoBenchmarks() {
  const out = execFileSync("go", GO_BENCH_ARGS, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const byName = new Map();
  let pkg = "";
  for (const line of out.split("\n")) {
    const p = /^pkg: (\S+)/.exec(line);
    if (p) pkg = p[1].replace(/^.*refine-live-wasm\//, "");
    const m = /^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns\/op(?:\s+([\d.]+) B\/op)?(?:\s+([\d.]+) allocs\/op)?/.exec(line);
    if (!m) continue;
    const key = `${pkg}.${m[1]}`;
    if (!byName.has(key)) byName.set(key, { name: m[1], pkg, ns: [], bytes: [], allocs: [] });
    const b = byName.get(key);
    b.ns.push(Number(m[2]));
    b.bytes.push(Number(m[3] ?? 0));
    b.allocs.push(Number(m[4] ?? 0));
  }
  return { command: `go ${GO_BENCH_ARGS.join(" ")}`, benchmarks: [...byName.values()] };
}
