// liveProvider: the object handed to <Refine liveProvider={...}>.
import { createLiveClient, isLiveClient } from "./client.js";

/**
 * Returns, synchronously, the `{ subscribe, unsubscribe, publish }` object
 * Refine expects. Pass a client from createLiveClient, or its options as a
 * shorthand (the client made for them is available as `.client`).
 * @param {import("./index.js").LiveClient | import("./index.js").LiveClientOptions} clientOrOptions
 */
export function liveProvider(clientOrOptions) {
  const client = isLiveClient(clientOrOptions) ? clientOrOptions : createLiveClient(clientOrOptions);
  return {
    subscribe: (options) => client.subscribe(options),
    unsubscribe: (handle) => client.unsubscribe(handle),
    publish: (event) => client.publish(event),
    client,
  };
}
