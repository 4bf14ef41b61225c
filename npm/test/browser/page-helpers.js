// Helpers the browser tests use inside the page.

/** A WebSocket subclass recording every frame the client sends. */
export function countingWebSocket() {
  const sent = [];
  class CountingWebSocket extends WebSocket {
    send(data) {
      sent.push(data);
      super.send(data);
    }
  }
  const frames = (action, channel) =>
    sent
      .map((text) => {
        try {
          return JSON.parse(text);
        } catch {
          return null;
        }
      })
      .filter((m) => m !== null && m.action === action && (channel === undefined || m.channel === channel));
  return { WebSocket: CountingWebSocket, sent, frames };
}

/**
 * Counts the WebSockets the page itself opens (a client whose engine runs
 * in a worker opens none) until restore().
 */
export function countPageSockets() {
  const Native = window.WebSocket;
  const counter = { count: 0, restore: () => (window.WebSocket = Native) };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      counter.count++;
    }
  };
  return counter;
}

/** Resolves once `condition()` holds; rejects after `timeoutMs`. */
export async function until(condition, timeoutMs = 10000, what = String(condition)) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects errors passed to onError. */
export function errorSink() {
  const errors = [];
  return { errors, onError: (err) => errors.push({ code: err.code, message: err.message }) };
}

/**
 * Publishes through `publisher` every 200 ms until `received()` holds, so a
 * test does not depend on when the server registered a subscription.
 */
export async function publishUntil(publisher, event, received, timeoutMs = 10000) {
  const deadline = performance.now() + timeoutMs;
  while (!received()) {
    if (performance.now() > deadline) throw new Error(`no event on ${event.channel} within ${timeoutMs} ms`);
    publisher.publish(event);
    await sleep(200);
  }
}

export function uniqueChannel(prefix) {
  return `${prefix}/${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * A WebSocket stand-in that plays an extended server inside the page: it
 * answers the hello, confirms subscribes, and refuses (forbidden) those to
 * a channel in `refuse`. The engine and the bridge run for real.
 */
export function scriptedServer({ refuse = [] } = {}) {
  const received = [];
  class ScriptedWebSocket {
    constructor(url) {
      this.url = url;
      this.bufferedAmount = 0;
      this.readyState = 0;
      this.onopen = this.onmessage = this.onerror = this.onclose = null;
      setTimeout(() => {
        if (this.readyState !== 0) return;
        this.readyState = 1;
        this.onopen?.({});
      }, 0);
    }
    send(text) {
      const m = JSON.parse(text);
      received.push(m);
      const reply = (obj) => setTimeout(() => this.readyState === 1 && this.onmessage?.({ data: JSON.stringify(obj) }), 0);
      if (m.action === "hello") reply({ action: "hello", protocol: "refine-live.v1", session: "scripted", heartbeat: 0, maxMessage: 65536 });
      if (m.action === "subscribe") {
        reply(
          refuse.includes(m.channel)
            ? { action: "error", code: "forbidden", message: "not allowed to subscribe", channel: m.channel }
            : { action: "subscribed", channel: m.channel, epoch: "e1", seq: 0 },
        );
      }
    }
    close(code = 1000, reason = "") {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setTimeout(() => this.onclose?.({ code, reason }), 0);
    }
  }
  return { WebSocket: ScriptedWebSocket, received };
}

/** The status changes a client may make: forward only, closed for good. */
export const ALLOWED_STATUS_CHANGES = new Set([
  "idle>connecting",
  "idle>reconnecting",
  "idle>closed",
  "connecting>open",
  "connecting>reconnecting",
  "connecting>closed",
  "open>reconnecting",
  "open>closed",
  "reconnecting>open",
  "reconnecting>closed",
]);
