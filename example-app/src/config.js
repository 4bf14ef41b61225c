// The app's settings, read from the page URL so that a test (or a curious
// user) can pick them: ?protocol=basic|extended|auto, ?liveMode=auto|manual|off,
// ?strict=1, ?live=<WebSocket URL>, ?minDelay=<ms> (the reconnect floor) and
// ?debug=1 (the client logs to the console), ?worker=auto|shared|dedicated|none
// (where the engine runs; the package's default, "auto", when absent) and
// ?record=1 (src/record.js keeps what an end-to-end test reads). They are remembered for the tab, so a
// reload or an in-app redirect keeps them.

const KEY = "refine-live-example:config";
const PROTOCOLS = ["auto", "basic", "extended"];
const LIVE_MODES = ["auto", "manual", "off"];
const WORKERS = ["auto", "shared", "dedicated", "none"];

function defaultLiveUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/live`;
}

function readConfig() {
  const params = new URLSearchParams(window.location.search);
  const known = ["protocol", "liveMode", "strict", "live", "minDelay", "debug", "record", "worker"].some((k) => params.has(k));
  let stored = {};
  try {
    stored = JSON.parse(window.sessionStorage.getItem(KEY) ?? "{}") ?? {};
  } catch {
    stored = {};
  }
  const source = known ? Object.fromEntries(params) : stored;
  const config = {
    protocol: PROTOCOLS.includes(source.protocol) ? source.protocol : "auto",
    liveMode: LIVE_MODES.includes(source.liveMode) ? source.liveMode : "auto",
    strict: source.strict === "1" || source.strict === "true",
    debug: source.debug === "1" || source.debug === "true",
    record: source.record === "1" || source.record === "true",
    live: typeof source.live === "string" && source.live !== "" ? source.live : undefined,
    minDelay: /^\d+$/.test(source.minDelay ?? "") ? Number(source.minDelay) : undefined,
    worker: WORKERS.includes(source.worker) ? source.worker : undefined,
  };
  try {
    window.sessionStorage.setItem(KEY, JSON.stringify({ ...config, strict: config.strict ? "1" : "0", debug: config.debug ? "1" : "0", record: config.record ? "1" : "0", minDelay: config.minDelay?.toString() }));
  } catch {
    // Storage may be disabled; the settings then last until the next reload.
  }
  return { ...config, liveUrl: config.live ?? defaultLiveUrl() };
}

export const config = readConfig();
