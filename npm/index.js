// refine-live-wasm: a Refine liveProvider whose engine runs in Go/WebAssembly.
// Importing this module touches no browser global; live.wasm is fetched on
// the first createLiveClient in a page.
export { createLiveClient } from "./client.js";
export { liveProvider } from "./provider.js";
export { isResyncEvent } from "./events.js";
export { ErrorCodes } from "./errors.js";
export { VERSION } from "./version.js";
