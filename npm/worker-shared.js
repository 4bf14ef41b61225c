// A tab's connection to the shared worker, as the endpoint worker-runtime.js
// talks through: { ready, post, setHandlers, end }. The tab holds a Web
// Lock of its own for as long as the connection lasts; the worker asks for
// the same lock, which it is granted once the tab is gone, however it went
// (closed, crashed, discarded): MessagePort has no close event but in
// Chromium. Without Web Locks the worker goes by the tab's pings instead.

import { randomId } from "./loader.js";
import { installedFile, preBundled } from "./package-files.js";

/** Every tab of an origin joins the shared worker of this name (and script URL). */
export const SHARED_WORKER_NAME = "refine-live-wasm";

/**
 * @param {string | URL | undefined} workerURL the workerURL option
 * @param {{ locks?: { request(name: string, fn: () => Promise<void>): Promise<any> } }} [env]
 */
export function connectShared(workerURL, { locks = globalThis.navigator?.locks } = {}) {
  if (typeof SharedWorker !== "function") throw new Error("this environment has no SharedWorker");
  // Written out in full so that bundlers find the worker and its files.
  const url = workerURL ?? (preBundled() ? installedFile("worker.js") : undefined);
  const worker =
    url === undefined
      ? new SharedWorker(new URL("./worker.js", import.meta.url), { type: "module", name: SHARED_WORKER_NAME })
      : new SharedWorker(url, { type: "module", name: SHARED_WORKER_NAME });
  const port = worker.port;
  const lock = `${SHARED_WORKER_NAME}:tab:${randomId()}`;
  let releaseLock = () => {};
  let ended = false;
  // Resolves once the lock is held (at once without Web Locks), so that the
  // worker's request for it, sent with the load, waits for the tab to go.
  const held =
    typeof locks?.request === "function"
      ? new Promise((resolve, reject) => {
          locks
            .request(lock, () => {
              resolve();
              return new Promise((release) => (releaseLock = release));
            })
            .catch(reject);
        })
      : Promise.resolve();
  let onMessage = null;
  port.onmessage = ({ data }) => onMessage?.(data);
  return {
    ready: held,
    post(message) {
      if (ended) return;
      port.postMessage(message.t === "load" && typeof locks?.request === "function" ? { ...message, lock } : message);
    },
    setHandlers({ message, error }) {
      onMessage = message ?? null;
      worker.onerror = errorEventHandler(error);
      port.onmessageerror = error ? () => error("a message could not be read") : null;
    },
    end() {
      if (ended) return;
      ended = true;
      onMessage = null;
      // The SharedWorker object may outlive this connection (the browser
      // keeps it while the worker runs for other tabs): it must hold
      // nothing of this client.
      worker.onerror = null;
      port.onmessage = port.onmessageerror = null;
      port.close();
      releaseLock();
    },
  };
}

/**
 * A worker's onerror: the event's message to `error`, with the event kept
 * from the console (it is reported); null without `error`.
 * @param {((message: string) => void) | undefined} error
 */
export function errorEventHandler(error) {
  if (!error) return null;
  return (ev) => {
    ev?.preventDefault?.();
    error(ev?.message || "error event");
  };
}

/** How often a shared worker's tab pings it. */
export const PING_INTERVAL_MS = 5000;
/** A ping unanswered this long means the worker is gone. */
export const PONG_DEADLINE_MS = 20000;

/** The watch of a dedicated worker, which cannot restart unseen. */
export const idleWatch = { start() {}, stop() {}, pong() {} };

// Pings the shared worker; a pong from another instance, one that does not
// know this tab, or none within the deadline restarts the connection. The
// deadline counts from the ping, not from the last pong, so that a hidden
// tab's throttled timers do not look like a dead worker. A page restored
// from the back-forward cache connects again too: it left on pagehide.
export function watchConnection({ post, connected, instance, restart, suspend }) {
  let timer = null;
  let pingAt = null;
  const tick = () => {
    if (!connected()) pingAt = null;
    else if (pingAt !== null && Date.now() - pingAt > PONG_DEADLINE_MS) restart("no answer to a ping");
    else if (pingAt === null) {
      pingAt = Date.now();
      post({ t: "ping" });
    }
  };
  const onPageShow = (ev) => {
    if (ev.persisted) restart("the page came back from the back-forward cache");
  };
  const onPageHide = (ev) => {
    if (ev.persisted) suspend();
  };
  return {
    start() {
      pingAt = null;
      clearInterval(timer);
      timer = setInterval(tick, PING_INTERVAL_MS);
      globalThis.addEventListener?.("pageshow", onPageShow);
      globalThis.addEventListener?.("pagehide", onPageHide);
    },
    stop() {
      clearInterval(timer);
      globalThis.removeEventListener?.("pageshow", onPageShow);
      globalThis.removeEventListener?.("pagehide", onPageHide);
    },
    pong(data) {
      pingAt = null;
      if (data.instance !== instance() || data.known === false) restart("the shared worker was restarted");
    },
  };
}
