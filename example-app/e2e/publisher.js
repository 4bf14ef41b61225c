// A second process that keeps changing post 1 through the REST API, as
// another backend or a script would, whether or not the server is up.
// Prints "ok <n>" after each change that succeeded and "fail <n>" after
// each that did not. Stops on SIGTERM, or by itself after a bounded time.
//
//   node e2e/publisher.js <base URL> [interval ms] [max seconds]
const [base, intervalArg = "150", maxArg = "90"] = process.argv.slice(2);
const interval = Number(intervalArg);
const stopAt = Date.now() + Number(maxArg) * 1000;
let running = true;
process.on("SIGTERM", () => {
  running = false;
});

for (let n = 1; running && Date.now() < stopAt; n++) {
  try {
    const res = await fetch(`${base}/api/posts/1`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: `Publisher edit ${n}` }),
      signal: AbortSignal.timeout(2000),
    });
    process.stdout.write(`${res.ok ? "ok" : "fail"} ${n}\n`);
  } catch {
    process.stdout.write(`fail ${n}\n`);
  }
  await new Promise((r) => setTimeout(r, interval));
}
