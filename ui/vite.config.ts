// Builds the UI into the Python package (weir/web/static), with relative asset URLs: the
// server sets <base href> to its base path, so one bundle works under any prefix.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../weir/web/static",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npm run dev` against a running `weir ui` (WEIR_UI_BACKEND, default 127.0.0.1:9080).
    proxy: { "/api": `http://${process.env.WEIR_UI_BACKEND ?? "127.0.0.1:9080"}` },
  },
});
