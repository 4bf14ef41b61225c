// What an end-to-end test reads from a page in any browser engine, when the
// URL has ?record=1: the page's API requests, the WebSocket frames its
// client sends, the sockets it opens and the errors it throws. Chromium's
// driver sees all of that from outside; the drivers of Firefox and WebKit
// (WebDriver) see none of it, so the page keeps it in window.__e2eRecord.

/** Starts recording; returns the WebSocket class the live client must use. */
export function startRecording() {
  const rec = { requests: [], frames: [], sockets: 0, errors: [] };
  window.__e2eRecord = rec;
  window.addEventListener("error", (e) => rec.errors.push(String(e.message)));
  window.addEventListener("unhandledrejection", (e) => rec.errors.push(String(e.reason?.message ?? e.reason)));

  // The data provider talks to /api through XMLHttpRequest (axios).
  const { open, send } = XMLHttpRequest.prototype;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.__e2eRequest = { method: String(method).toUpperCase(), url: String(url) };
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    const info = this.__e2eRequest;
    const url = info && new URL(info.url, window.location.href);
    if (url?.pathname.startsWith("/api/")) {
      const entry = { method: info.method, path: url.pathname, search: url.search, state: "pending" };
      rec.requests.push(entry);
      this.addEventListener("loadend", () => {
        entry.state = this.status > 0 ? "finished" : "failed";
      });
    }
    return send.apply(this, args);
  };

  return class RecordingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      rec.sockets++;
    }
    send(data) {
      try {
        const msg = JSON.parse(data);
        rec.frames.push(...(Array.isArray(msg) ? msg : [msg]));
      } catch {
        // not JSON
      }
      super.send(data);
    }
  };
}
