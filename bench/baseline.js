// The baseline: a live provider in plain JavaScript, written the way the
// custom WebSocket provider in Refine's documentation is (basic protocol,
// one socket, a map of channel → callbacks, JSON.parse per message, the
// date stamped on receipt). The only addition is a fixed-delay reconnect
// that resubscribes every channel, so that the reconnect figure has
// something to compare with; the documented provider has none.

/**
 * @param {string} url
 * @param {{ WebSocket?: typeof WebSocket, reconnectDelay?: number }} [options]
 */
export function createBaselineClient(url, { WebSocket: WS = globalThis.WebSocket, reconnectDelay = 500 } = {}) {
  /** @type {Map<string, Set<(event: any) => void>>} */
  const channels = new Map();
  let ws = null;
  let closed = false;
  let onOpen = () => {};
  const ready = new Promise((resolve) => (onOpen = resolve));

  const send = (message) => {
    if (ws !== null && ws.readyState === 1) ws.send(JSON.stringify(message));
  };

  const connect = () => {
    ws = new WS(url);
    ws.onopen = () => {
      for (const channel of channels.keys()) send({ action: "subscribe", channel });
      onOpen();
    };
    ws.onmessage = (message) => {
      const event = JSON.parse(message.data);
      const callbacks = channels.get(event.channel);
      if (callbacks === undefined) return;
      event.date = new Date();
      for (const callback of callbacks) callback(event);
    };
    ws.onclose = () => {
      if (!closed) setTimeout(connect, reconnectDelay);
    };
  };
  connect();

  return {
    ready,
    subscribe(channel, callback) {
      let callbacks = channels.get(channel);
      if (callbacks === undefined) {
        callbacks = new Set();
        channels.set(channel, callbacks);
        send({ action: "subscribe", channel });
      }
      callbacks.add(callback);
    },
    unsubscribe(channel, callback) {
      const callbacks = channels.get(channel);
      if (callbacks === undefined) return;
      callbacks.delete(callback);
      if (callbacks.size === 0) {
        channels.delete(channel);
        send({ action: "unsubscribe", channel });
      }
    },
    publish(channel, type, payload) {
      send({ action: "publish", channel, type, payload });
    },
    close() {
      closed = true;
      ws?.close();
    },
  };
}

/** The Refine liveProvider over the baseline client. */
export function baselineLiveProvider(client) {
  return {
    subscribe: ({ channel, types, callback }) => {
      const listener = (event) => {
        if (types.includes("*") || types.includes(event.type)) callback(event);
      };
      client.subscribe(channel, listener);
      return { channel, listener };
    },
    unsubscribe: ({ channel, listener }) => client.unsubscribe(channel, listener),
    publish: ({ channel, type, payload }) => client.publish(channel, type, payload),
  };
}
