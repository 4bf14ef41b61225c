// Summarizes a Chrome CPU profile (CDP Profiler): self time by function and
// by category (wasm, the shim, the baseline, the browser's own work).

/** @param {any} profile a Profiler.Profile @param {number} [_since] */
export function summarizeProfile(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const dt = (deltas[i + 1] ?? 0) / 1000; // the sample's time runs until the next one
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const byFunction = new Map();
  const byCategory = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    const n = nodes.get(id);
    const cf = n.callFrame;
    const file = cf.url.replace(/^.*\/(npm|bench)\//, "$1/");
    const name = cf.functionName || "(anonymous)";
    const key = cf.url ? `${name} ${file}:${cf.lineNumber + 1}` : name;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    const cat = category(cf, name);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + ms);
    total += ms;
  }
  const top = (m, k) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([key, ms]) => ({ key, ms: Math.round(ms * 10) / 10, share: Math.round((ms / total) * 1000) / 10 }));
  return { totalMs: Math.round(total), categories: top(byCategory, 20), functions: top(byFunction, 30) };
}

function category(cf, name) {
  if (name === "(idle)") return "idle";
  if (name === "barrier" && cf.url.includes("/bench/")) return "idle"; // blocked on the barrier before the drain
  if (name === "(program)") return "browser (program: IPC, message dispatch)";
  if (name === "(garbage collector)") return "garbage collector";
  if (name === "JSON.parse" || name === "parse") return "JSON.parse";
  if (cf.url.includes("wasm://") || cf.url.endsWith(".wasm") || /^\$?[a-z_./]+\.\w+/.test(name) && cf.url === "") return "Go (wasm)";
  if (cf.url.includes("wasm_exec.js")) return "wasm_exec.js (Go↔JS glue)";
  if (cf.url.includes("/npm/")) return `shim ${cf.url.replace(/^.*\/npm\//, "")}`;
  if (cf.url.includes("/bench/")) return `bench ${cf.url.replace(/^.*\/bench\//, "")}`;
  return name.startsWith("(") ? name : `native ${name}`;
}

// node bench/profile.mjs file.cpuprofile: print the summary.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import("node:fs");
  for (const file of process.argv.slice(2)) {
    const s = summarizeProfile(JSON.parse(readFileSync(file, "utf8")));
    console.log(`\n${file}: ${s.totalMs} ms sampled`);
    for (const c of s.categories) console.log(`  ${String(c.ms).padStart(8)} ms ${String(c.share).padStart(5)}%  ${c.key}`);
    console.log("  top functions:");
    for (const f of s.functions) console.log(`  ${String(f.ms).padStart(8)} ms ${String(f.share).padStart(5)}%  ${f.key}`);
  }
}
