// Headless Chromium driven over the DevTools protocol through a pipe, with
// nothing enabled that the benchmark does not ask for. (Playwright enables
// the Network domain on every page; Chromium then reports every WebSocket
// frame to it, which cost more than the page's own work and capped both
// providers at the same rate.)
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--mute-audio",
  "--enable-precise-memory-info",
  "--remote-debugging-pipe",
];

/** Starts Chromium (Debian's package, found by scripts/ensure-chromium.sh). */
export async function launchChromium(root) {
  const executable = execFileSync("bash", [join(root, "scripts", "ensure-chromium.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  const profile = mkdtempSync(join(tmpdir(), "refine-live-bench-"));
  const child = spawn(executable, [...ARGS, `--user-data-dir=${profile}`, "about:blank"], {
    stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const conn = new Connection(child.stdio[3], child.stdio[4]);
  const { product } = await conn.send("Browser.getVersion");
  return {
    version: product.replace(/^(Headless)?Chrome\//, ""),
    /** Opens a page at url and returns its session. */
    async newPage(url) {
      const { targetId } = await conn.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await conn.send("Target.attachToTarget", { targetId, flatten: true });
      const page = new Page(conn, sessionId, targetId);
      await page.send("Page.enable");
      await page.send("Page.bringToFront"); // a background page would not paint
      const loaded = page.once("Page.loadEventFired");
      await page.send("Page.navigate", { url });
      await loaded;
      return page;
    },
    async close() {
      try {
        await Promise.race([conn.send("Browser.close"), new Promise((r) => setTimeout(r, 5000))]);
      } catch {
        // already gone
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

class Connection {
  constructor(write, read) {
    this.write = write;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Set();
    let buffer = "";
    read.setEncoding("utf8");
    read.on("data", (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\0")) >= 0) {
        const message = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        this.dispatch(message);
      }
    });
    read.on("close", () => {
      for (const { reject } of this.pending.values()) reject(new Error("browser closed"));
      this.pending.clear();
    });
  }
  dispatch(message) {
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!p) return;
      if (message.error) p.reject(new Error(`${p.method}: ${message.error.message}`));
      else p.resolve(message.result);
      return;
    }
    for (const fn of this.listeners) fn(message);
  }
  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.write.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
    });
  }
}

class Page {
  constructor(conn, sessionId, targetId) {
    this.conn = conn;
    this.sessionId = sessionId;
    this.targetId = targetId;
  }
  send(method, params) {
    return this.conn.send(method, params, this.sessionId);
  }
  once(method) {
    return new Promise((resolve) => {
      const fn = (m) => {
        if (m.sessionId === this.sessionId && m.method === method) {
          this.conn.listeners.delete(fn);
          resolve(m.params);
        }
      };
      this.conn.listeners.add(fn);
    });
  }
  /**
   * Evaluates an expression, or a function called with arg (JSON), awaiting
   * a promise, and returns its value.
   */
  async evaluate(expression, arg) {
    if (typeof expression === "function") expression = `(${expression})(${arg === undefined ? "" : JSON.stringify(arg)})`;
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`page: ${d.exception?.description ?? d.text}`);
    }
    return r.result.value;
  }
  /** Polls expression every intervalMs until it is truthy. */
  async waitFor(expression, { intervalMs = 100, timeoutMs = 60000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.evaluate(expression)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
  close() {
    return this.conn.send("Target.closeTarget", { targetId: this.targetId });
  }
}
