// Vite builds the web view into dist/web, which the API process serves at `/`. No CDN:
// every script and style is a file of the build, allowed by the page's CSP ('self' only).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    // The polyfill would be an inline script, which the CSP refuses.
    modulePreload: { polyfill: false },
    // No data: URIs for assets: img-src and font-src stay 'self'.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
});
