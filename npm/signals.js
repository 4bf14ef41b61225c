// Browser signals that mean "the network may be back": each one asks Go to
// probe at once instead of waiting out its backoff. Every signal is passed
// on: the engine rate-limits probes to one a second and defers, rather than
// drops, a signal that comes sooner, so that an "online" arriving just after
// a "pageshow" still cuts the backoff short.

/**
 * Listens for online, offline, pageshow and visibilitychange-to-visible, calling
 * `probe` for each. Returns a function removing the listeners. Outside a
 * page it does nothing.
 * @param {() => void} probe
 * @param {{ window?: any, document?: any }} [env]
 */
export function watchBrowserSignals(probe, env = {}) {
  const win = env.window ?? (typeof window === "undefined" ? undefined : window);
  const doc = env.document ?? (typeof document === "undefined" ? undefined : document);
  if (win === undefined || typeof win.addEventListener !== "function") return () => {};

  const onSignal = () => probe();
  const onVisibility = () => {
    if (doc?.visibilityState === "visible") onSignal();
  };
  win.addEventListener("online", onSignal);
  // Going offline may have killed an open socket silently: the engine's
  // probe (a ping on an extended connection) finds out in seconds instead
  // of waiting for the heartbeat to lapse.
  win.addEventListener("offline", onSignal);
  win.addEventListener("pageshow", onSignal);
  doc?.addEventListener?.("visibilitychange", onVisibility);
  return () => {
    win.removeEventListener("online", onSignal);
    win.removeEventListener("offline", onSignal);
    win.removeEventListener("pageshow", onSignal);
    doc?.removeEventListener?.("visibilitychange", onVisibility);
  };
}
