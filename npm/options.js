// Option defaults and validation. A bad option value is reported through
// onError and replaced by its default: setting up a client never throws.
import { ErrorCodes, liveError } from "./errors.js";

/**
 * The one source of the browser's defaults: goConfig sends every value to
 * Go, which refuses a config missing one. index.d.ts documents each of
 * them with `@default` (test/unit/contract.test.js compares).
 */
export const DEFAULTS = Object.freeze({
  protocol: "auto",
  minDelay: 500,
  maxDelay: 20000,
  heartbeatGrace: 10000,
  queueMaxCount: 100,
  queueMaxBytes: 1048576,
  filterIds: false,
  coalesceMs: 0,
  resyncSpreadMs: 250,
  lateResyncMs: 1000,
  debug: false,
});

const PROTOCOLS = ["auto", "basic", "extended"];

/** Where the engine runs; the page's own choice, never sent to Go. */
export const WORKER_DEFAULT = "auto";
const WORKER_MODES = ["auto", "shared", "dedicated", "none"];

/**
 * Turns user options into the settings the client runs with.
 * @param {any} options
 * @param {(err: Error) => void} report
 */
export function normalizeOptions(options, report) {
  const opts = options !== null && typeof options === "object" ? options : {};
  if (opts !== options) report(invalid("options must be an object"));

  const pick = (value, fallback, isValid, what) => {
    if (value === undefined) return fallback;
    if (isValid(value)) return value;
    report(invalid(`${what} is invalid (${describe(value)}); using ${JSON.stringify(fallback)}`));
    return fallback;
  };
  const isDelay = (v) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  // Go reads a zero delay as "use the default", and a zero backoff floor
  // would reconnect in a tight loop.
  const isPositive = (v) => isDelay(v) && v > 0;
  const isCount = (v) => Number.isInteger(v) && v > 0;
  const isFn = (v) => typeof v === "function";
  const reconnect = opts.reconnect !== null && typeof opts.reconnect === "object" ? opts.reconnect : {};
  const queue = opts.publishQueue !== null && typeof opts.publishQueue === "object" ? opts.publishQueue : {};

  const minDelay = pick(reconnect.minDelay, DEFAULTS.minDelay, isPositive, "reconnect.minDelay");
  let maxDelay = pick(reconnect.maxDelay, DEFAULTS.maxDelay, isPositive, "reconnect.maxDelay");
  if (maxDelay < minDelay) {
    report(invalid(`reconnect.maxDelay (${maxDelay}) is below reconnect.minDelay (${minDelay}); using ${minDelay}`));
    maxDelay = minDelay;
  }

  const WebSocket = pick(opts.WebSocket, undefined, isFn, "WebSocket");
  let worker = pickWorker(opts.worker, report);
  if (worker !== "none" && WebSocket !== undefined) {
    // The worker owns the socket, and a constructor cannot be sent to it.
    if (opts.worker !== undefined) {
      report(invalid(`worker ${JSON.stringify(worker)} cannot use the WebSocket option, which stays in the page; using "none"`));
    }
    worker = "none";
  }

  return {
    urls: normalizeUrls(opts.url, report),
    protocol: pick(opts.protocol, DEFAULTS.protocol, (v) => PROTOCOLS.includes(v), "protocol"),
    getToken: pick(opts.getToken, undefined, isFn, "getToken"),
    minDelay,
    maxDelay,
    heartbeatGrace: pick(opts.heartbeatGrace, DEFAULTS.heartbeatGrace, isPositive, "heartbeatGrace"),
    queueMaxCount: pick(queue.maxCount, DEFAULTS.queueMaxCount, isCount, "publishQueue.maxCount"),
    queueMaxBytes: pick(queue.maxBytes, DEFAULTS.queueMaxBytes, isCount, "publishQueue.maxBytes"),
    filterIds: pick(opts.filterIds, DEFAULTS.filterIds, (v) => typeof v === "boolean", "filterIds"),
    coalesceMs: pick(opts.coalesceMs, DEFAULTS.coalesceMs, isDelay, "coalesceMs"),
    resyncSpreadMs: pick(opts.resyncSpreadMs, DEFAULTS.resyncSpreadMs, isDelay, "resyncSpreadMs"),
    lateResyncMs: pick(opts.lateResyncMs, DEFAULTS.lateResyncMs, isDelay, "lateResyncMs"),
    wasmURL: pick(opts.wasmURL, undefined, isURL, "wasmURL"),
    worker,
    workerURL: pick(opts.workerURL, undefined, isURL, "workerURL"),
    onError: pick(opts.onError, undefined, isFn, "onError"),
    debug: pick(opts.debug, DEFAULTS.debug, (v) => typeof v === "boolean", "debug"),
    WebSocket,
    loadRuntime: pick(opts.loadRuntime, undefined, isFn, "loadRuntime"),
  };
}

const isURL = (v) => typeof v === "string" || v instanceof URL;

function pickWorker(value, report) {
  if (value === undefined || WORKER_MODES.includes(value)) return value ?? WORKER_DEFAULT;
  report(invalid(`worker ${describe(value)} is invalid; using ${JSON.stringify(WORKER_DEFAULT)}`));
  return WORKER_DEFAULT;
}

/** The plain config object handed to Go's api.newClient: every field, always. */
export function goConfig(settings) {
  return {
    urls: settings.urls,
    protocol: settings.protocol,
    minDelay: settings.minDelay,
    maxDelay: settings.maxDelay,
    heartbeatGrace: settings.heartbeatGrace,
    queueMaxCount: settings.queueMaxCount,
    queueMaxBytes: settings.queueMaxBytes,
    filterIds: settings.filterIds,
    coalesceMs: settings.coalesceMs,
    resyncSpreadMs: settings.resyncSpreadMs,
    lateResyncMs: settings.lateResyncMs,
    debug: settings.debug,
    hasToken: settings.getToken !== undefined,
  };
}

// Accepts ws(s):// URLs, http(s):// URLs (mapped to ws(s)) and, in a page,
// URLs relative to the page. An empty result means the client cannot connect.
function normalizeUrls(url, report) {
  const list = typeof url === "string" ? [url] : Array.isArray(url) ? url : [];
  if (list.length === 0) {
    report(invalid(`url must be a WebSocket URL or a non-empty array of them (got ${describe(url)})`));
    return [];
  }
  const urls = [];
  for (const item of list) {
    const resolved = typeof item === "string" ? resolveUrl(item) : null;
    if (resolved === null) report(invalid(`url ${describe(item)} is not a valid WebSocket URL`));
    else urls.push(resolved);
  }
  return urls;
}

function resolveUrl(text) {
  try {
    const base = globalThis.location?.href;
    const parsed = base === undefined ? new URL(text) : new URL(text, base);
    if (parsed.protocol === "http:") parsed.protocol = "ws:";
    else if (parsed.protocol === "https:") parsed.protocol = "wss:";
    if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") return null;
    return parsed.href;
  } catch {
    return null;
  }
}

export function invalid(message) {
  return liveError(ErrorCodes.INVALID_ARGUMENT, message);
}

/** A short description of a value for error messages. */
export function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
