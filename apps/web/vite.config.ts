import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API (default port 3847) serves the built SPA; in development Vite serves it
// and forwards the API paths so the session cookie stays same-origin.
const api = process.env.OPS_API_ORIGIN ?? "http://127.0.0.1:3847";

export default defineConfig({
  plugins: [react()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: { "/api": api, "/trpc": api },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No inline assets in the HTML: the API's CSP allows same-origin files only.
    assetsInlineLimit: 0,
    // One chunk of about 470 kB (React, TanStack Query, and zod for validating
    // settings as the API does); the SPA is served from the same host.
    chunkSizeWarningLimit: 700,
  },
});
