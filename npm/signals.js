// Browser signals that mean "the network may be back": each one asks Go to
// probe at once instead of waiting out its backoff.

const MIN_INTERVAL_MS = 1000;

/**
 * Listens for online, pageshow and visibilitychange-to-visible, calling
 * `probe` at most once per second. Returns a function removing the listeners.
 * Outside a page it does nothing.
 * @param {() => void} probe
 * @param {{ window?: any, document?: any, now?: () => number }} [env]
 */
export function watchBrowserSignals(probe, env = {}) {
  const win = env.window ?? (typeof window === "undefined" ? undefined : window);
  const doc = env.document ?? (typeof document === "undefined" ? undefined : document);
  const now = env.now ?? Date.now;
  if (win === undefined || typeof win.addEventListener !== "function") return () => {};

  let lastProbe = -Infinity;
  const onSignal = () => {
    const t = now();
    if (t - lastProbe < MIN_INTERVAL_MS) return;
    lastProbe = t;
    probe();
  };
  const onVisibility = () => {
    if (doc?.visibilityState === "visible") onSignal();
  };
  win.addEventListener("online", onSignal);
  win.addEventListener("pageshow", onSignal);
  doc?.addEventListener?.("visibilitychange", onVisibility);
  return () => {
    win.removeEventListener("online", onSignal);
    win.removeEventListener("pageshow", onSignal);
    doc?.removeEventListener?.("visibilitychange", onVisibility);
  };
}
