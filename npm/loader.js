// Loads live.wasm once per page and hands out its API. A failed load can be
// retried; a successful one is shared by every client on the page.
import { HTML_ANSWER_FIX, installedFile, preBundled } from "./package-files.js";
import { bindExports } from "./contract.js";
import { ErrorCodes, liveError } from "./errors.js";
import { VERSION } from "./version.js";

// Globals wasm_exec.js defines (fs, process and path only when absent). Go's
// syscall package captures them during init, so they can go afterwards.
const GO_GLOBALS = ["fs", "process", "path"];
const INIT_TIMEOUT_MS = 15000;

/**
 * @typedef {object} Runtime
 * @property {any} api the object Go registered (version, newClient, funcCount)
 * @property {ReturnType<typeof bindExports>} go the exports of contract.js
 * @property {() => "running" | "exited"} state
 * @property {(fn: () => void) => () => void} onExit
 */

/** @type {Promise<Runtime> | null} */
let shared = null;
let failedVersionCheck = false;

/**
 * Returns the page's Go runtime, loading it on first use. The first caller's
 * wasmURL wins: there is one Go instance per page.
 * @param {string | URL} [wasmURL]
 * @returns {Promise<Runtime>}
 */
export function loadRuntime(wasmURL) {
  if (shared === null) {
    // After a version mismatch the cached .wasm is stale: bypass the cache.
    const cache = failedVersionCheck ? "no-cache" : "default";
    const loading = startRuntime({ wasmURL: wasmURL ?? defaultWasmURL(), cache });
    const forget = () => {
      if (shared === loading) shared = null;
    };
    loading.then(
      (runtime) => runtime.onExit(forget),
      (err) => {
        forget();
        if (err?.code === ErrorCodes.VERSION_MISMATCH) failedVersionCheck = true;
      },
    );
    shared = loading;
  }
  return shared;
}

/**
 * Starts one Go instance. Every part is injectable so that the handshake
 * can be tested without a browser.
 * @param {object} parts
 * @param {string | URL} parts.wasmURL
 * @param {RequestCache} [parts.cache]
 * @param {() => Promise<{ Go: any, globals: Record<string, unknown> }>} [parts.importGo]
 *   resolves to the Go class and the fs/process/path stand-ins wasm_exec.js made
 * @param {(url: string | URL, imports: object, cache: RequestCache) => Promise<WebAssembly.Instance>} [parts.instantiate]
 *   default: fetches and compiles live.wasm while wasm_exec.js loads
 * @param {string} [parts.expectedVersion]
 * @returns {Promise<Runtime>}
 */
export async function startRuntime({
  wasmURL,
  cache = "default",
  importGo = importGoClass,
  instantiate,
  expectedVersion = VERSION,
}) {
  // The download and the compilation need nothing from wasm_exec.js: they
  // start before it is imported instead of after.
  const instantiateNow = instantiate ?? compileEarly(wasmURL, cache);
  let exec;
  try {
    exec = await importGo();
  } catch (err) {
    throw liveError(ErrorCodes.WASM_LOAD, `failed to load wasm_exec.js: ${messageOf(err)}`, err);
  }
  // Lend the stand-ins to the page only while Go initializes.
  const lent = GO_GLOBALS.filter((name) => !(name in globalThis) && exec.globals[name] !== undefined);
  for (const name of lent) globalThis[name] = exec.globals[name];
  const go = new exec.Go();
  keepRuntimeOutputWorking(go, globalThis.fs);

  let instance;
  try {
    instance = await instantiateNow(wasmURL, go.importObject, cache);
  } catch (err) {
    removeGlobals(lent);
    if (err?.code === ErrorCodes.WASM_LOAD) throw err;
    throw liveError(ErrorCodes.WASM_LOAD, `failed to load ${String(wasmURL)}: ${messageOf(err)}`, err);
  }

  /** @type {"running" | "exited"} */
  const exit = exitSignal();
  const key = `__refineLiveInit_${randomId()}`;
  let settle;
  const registered = new Promise((resolve, reject) => (settle = { resolve, reject }));
  const timer = setTimeout(
    () => settle.reject(liveError(ErrorCodes.WASM_LOAD, `live.wasm did not initialize within ${INIT_TIMEOUT_MS} ms`)),
    INIT_TIMEOUT_MS,
  );
  globalThis[key] = (api) => {
    delete globalThis[key];
    settle.resolve(api);
  };
  go.argv = ["live.wasm", key];

  let exited;
  try {
    exited = Promise.resolve(go.run(instance));
  } catch (err) {
    exited = Promise.reject(err);
  }
  exited.then(
    () => markExited(),
    (err) => {
      markExited();
      settle.reject(liveError(ErrorCodes.WASM_EXITED, `live.wasm failed to run: ${messageOf(err)}`, err));
    },
  );
  function markExited() {
    clearTimeout(timer);
    delete globalThis[key];
    settle.reject(liveError(ErrorCodes.WASM_EXITED, "live.wasm exited before it initialized"));
    exit.fire();
  }

  let api;
  try {
    api = await registered;
  } finally {
    clearTimeout(timer);
    removeGlobals(lent);
  }
  if (api === null || typeof api !== "object" || api.version !== expectedVersion) {
    const got = api?.version;
    throw liveError(
      ErrorCodes.VERSION_MISMATCH,
      `live.wasm is version ${JSON.stringify(got)} but this package is ${expectedVersion}: a stale cached live.wasm?`,
    );
  }
  return {
    api,
    // Resuming Go with no event is what a Go timer firing does: the scheduler
    // runs what is runnable, arms its timers and returns.
    go: bindExports(instance.exports, () => go._resume()),
    state: () => (exit.exited ? "exited" : "running"),
    onExit: exit.onExit,
    /** The size of Go's linear memory (its peak: it never shrinks). */
    memoryBytes: () => instance.exports.mem?.buffer.byteLength ?? 0,
  };
}

// The module import runs wasm_exec.js once per page; keep what it defined
// so that a retry after a failed .wasm fetch still has it.
let execCache = null;
async function importGoClass() {
  if (execCache === null) {
    const absent = ["Go", ...GO_GLOBALS].filter((name) => !(name in globalThis));
    // Another Go program on the page may own globalThis.Go: give it back.
    const pagesGo = globalThis.Go;
    // Loaded by URL, not bundled: a bundler that followed a dynamic import
    // would split the worker's bundle, which a classic-script worker build
    // (Vite's default) refuses. Bundlers copy the file for new URL(…).
    await import(/* @vite-ignore */ /* webpackIgnore: true */ String(wasmExecURL()));
    const Go = globalThis.Go;
    if (typeof Go !== "function") throw new Error("wasm_exec.js did not define Go");
    const globals = {};
    for (const name of GO_GLOBALS) if (absent.includes(name)) globals[name] = globalThis[name];
    removeGlobals(absent);
    if (!absent.includes("Go")) globalThis.Go = pagesGo;
    execCache = { Go, globals };
  }
  return execCache;
}

// wasm_exec.js looks up the global `fs` each time Go's runtime prints (panic
// messages, println). Keep the fs object it saw and lend it back only for
// the duration of each write, so the page's global object stays clean.
function keepRuntimeOutputWorking(go, fs) {
  if (fs === undefined) return;
  for (const module of Object.values(go.importObject ?? {})) {
    const write = module?.["runtime.wasmWrite"];
    if (typeof write !== "function") continue;
    module["runtime.wasmWrite"] = (sp) => {
      const had = "fs" in globalThis;
      const previous = globalThis.fs;
      globalThis.fs = fs;
      try {
        write(sp);
      } finally {
        if (had) globalThis.fs = previous;
        else delete globalThis.fs;
      }
    };
  }
}

// Beside this module, or in the installed package when a dev server
// pre-bundled this module away from it.
const defaultWasmURL = () => (preBundled() ? installedFile("live.wasm") : new URL("./live.wasm", import.meta.url));
const wasmExecURL = () => (preBundled() ? installedFile("wasm_exec.js") : new URL("./wasm_exec.js", import.meta.url));

/**
 * Starts fetching and compiling now; the returned function instantiates
 * the module once it is compiled. A failure surfaces there, not before.
 */
function compileEarly(url, cache) {
  const compiled = compileWasm(url, cache);
  compiled.catch(() => {});
  return async (_url, imports) => WebAssembly.instantiate(await compiled, imports);
}

/** Streaming compile when served as application/wasm, else from a buffer. */
async function compileWasm(url, cache) {
  const response = await fetch(url, { cache, credentials: "same-origin" });
  if (!response.ok) {
    throw liveError(ErrorCodes.WASM_LOAD, `failed to fetch ${String(url)}: HTTP ${response.status}`);
  }
  const type = response.headers.get("content-type") ?? "";
  if (typeof WebAssembly.compileStreaming === "function" && type.startsWith("application/wasm")) {
    return WebAssembly.compileStreaming(response);
  }
  // Wrong MIME type (a common static-server default): compile from bytes,
  // once they are known to be WebAssembly at all.
  const bytes = await response.arrayBuffer();
  const head = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0x61 || head[2] !== 0x73 || head[3] !== 0x6d) {
    const text = new TextDecoder().decode(new Uint8Array(bytes, 0, Math.min(64, bytes.byteLength))).trimStart();
    const html = type.startsWith("text/html") || /^<(!doctype|html|head|script)/i.test(text);
    throw liveError(
      ErrorCodes.WASM_LOAD,
      html
        ? `failed to load ${String(url)}: ${HTML_ANSWER_FIX}`
        : `failed to load ${String(url)}: not WebAssembly (${bytes.byteLength} bytes of ${type || "no content type"})`,
    );
  }
  return WebAssembly.compile(bytes);
}

function removeGlobals(names) {
  for (const name of names) delete globalThis[name];
}

/** 16 random hex digits. */
export function randomId() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A runtime's exit, told once to every listener: `onExit(fn)` returns a
 * remover, and a listener added after the exit runs in a microtask. A
 * listener that throws does not stop the others.
 */
export function exitSignal() {
  const listeners = new Set();
  let exited = false;
  return {
    get exited() {
      return exited;
    },
    fire() {
      if (exited) return;
      exited = true;
      for (const fn of [...listeners]) {
        try {
          fn();
        } catch {
          // an exit listener must not stop the others
        }
      }
      listeners.clear();
    },
    onExit(fn) {
      if (exited) {
        queueMicrotask(fn);
        return () => {};
      }
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
