// Everything the end-to-end tests use: backend.js (the Go backend, its
// API, the TCP proxy, waits) and pages.js (Chromium and the app's pages).
export * from "./backend.js";
export * from "./pages.js";
