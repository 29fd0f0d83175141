import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The reference web client. `npm run build:web` (at the repository root) builds it into dist/,
 * which the server serves at /app; `npx vite --config examples/web/vite.config.ts` serves it
 * with reload on change at http://localhost:5173/app/, proxying the API to a server on :4000.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/app/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The whole client is small: one script and one stylesheet, no inline assets (the page's CSP has no data: scripts).
    assetsInlineLimit: 0,
    target: "es2022",
  },
  server: {
    proxy: { "/graphql": { target: "http://localhost:4000", ws: true } },
  },
});
