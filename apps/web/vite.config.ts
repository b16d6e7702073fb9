import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The API (default port 3847) serves the built SPA; in development Vite serves it
// and forwards the API paths so the session cookie stays same-origin.
const api = process.env.OPS_API_ORIGIN ?? "http://127.0.0.1:3847";

/**
 * Writes a brotli and a gzip copy beside every text asset: the API serves
 * them to browsers that accept them (@fastify/static preCompressed), so the
 * sign-in page's JavaScript crosses the wire at about a third of its size
 * without the API compressing anything per request.
 */
function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "ops-precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const path = join(dir, name);
          return statSync(path).isDirectory() ? walk(path) : [path];
        });
      for (const file of walk(outDir).filter((f) => /\.(js|css|html|svg|json)$/.test(f))) {
        const source = readFileSync(file);
        if (source.length < 1024) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(source, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        writeFileSync(`${file}.gz`, gzipSync(source, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
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
    // Pages load as their own chunks (Routes.tsx); the first chunk is React,
    // TanStack Query and the tRPC client, about 340 kB before compression.
    chunkSizeWarningLimit: 400,
  },
});
