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
