// The three lines a Refine app adds: create one client for the page and
// hand Refine a provider built on it (see App.jsx).
import { createLiveClient, liveProvider } from "refine-live-wasm";
import { config } from "./config.js";
import { startRecording } from "./record.js";

export const client = createLiveClient({
  url: config.liveUrl,
  protocol: config.protocol,
  debug: config.debug,
  ...(config.worker === undefined ? {} : { worker: config.worker }),
  ...(config.record ? { WebSocket: startRecording() } : {}),
  ...(config.minDelay === undefined
    ? {}
    : { reconnect: { minDelay: config.minDelay, maxDelay: Math.max(config.minDelay, 20000) } }),
});

// This app's backend publishes every REST change itself (so that changes
// made with curl are live too). Refine's own publish after each mutation
// would announce the same change a second time, so resource channels are
// left to the backend; custom channels (usePublish) still go through.
const base = liveProvider(client);
export const provider = {
  ...base,
  publish: (event) => {
    if (typeof event?.channel === "string" && event.channel.startsWith("resources/")) return;
    base.publish?.(event);
  },
};

// Handy from the browser console.
window.liveClient = client;
