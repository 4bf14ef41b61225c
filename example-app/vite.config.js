import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The Go backend (example-app/server) serves the REST API and the live hub.
// `npm run dev` proxies both to it, so the app behaves as when served by it.
const backend = process.env.BACKEND ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": backend,
      "/live": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
  build: { chunkSizeWarningLimit: 1000 },
});
