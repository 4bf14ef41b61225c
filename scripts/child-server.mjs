// A server binary run as a child process on a fixed loopback port, so that
// it can be stopped and started again on the same port: for
// scripts/live-harness.mjs and bench/env.mjs.
import { spawn } from "node:child_process";
import { createServer as createNetServer } from "node:net";

/** A loopback port nothing listened on a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once base (http://host:port) answers GET /healthz with 2xx. */
export async function waitHealthy(base, deadlineMs = 15000) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`server did not become healthy on ${base}`);
}

/**
 * binary with --addr 127.0.0.1:<port> and flags. start() runs it and waits
 * until it is healthy; stop() sends SIGTERM (SIGKILL after 10 s) and waits
 * for the exit.
 */
export function childServer(binary, port, flags) {
  const base = `http://127.0.0.1:${port}`;
  let child = null;
  return {
    base,
    async start() {
      child = spawn(binary, ["--addr", `127.0.0.1:${port}`, ...flags], { stdio: ["ignore", "inherit", "inherit"] });
      child.exited = new Promise((resolve) => child.once("exit", resolve));
      await waitHealthy(base);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = null;
      c.kill("SIGTERM");
      const timer = setTimeout(() => c.kill("SIGKILL"), 10000);
      await c.exited;
      clearTimeout(timer);
    },
  };
}
