// The app bundlers.test.js drives: one client in the mode the URL names,
// against the server it names; what happened is left on window.
import { createLiveClient } from "refine-live-wasm";

const params = new URLSearchParams(location.search);
window.errors = [];
const client = createLiveClient({
  url: params.get("ws"),
  worker: params.get("worker") ?? undefined,
  onError: (e) => window.errors.push(`${e.code}: ${e.message}`),
});
client.subscribe({ channel: "bundled", callback: () => {} });
client.ready.then(
  () => (document.getElementById("out").textContent = `ready ${client.stats().mode}`),
  (err) => (document.getElementById("out").textContent = `failed ${err.message}`),
);
