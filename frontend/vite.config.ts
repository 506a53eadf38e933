import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The build goes into the Python package: the server serves /assets/* from there and falls back
// to index.html for every other non-API path (client-side routing).
const outDir = fileURLToPath(new URL("../src/zhengtong/static", import.meta.url));
const backend = process.env.ZT_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 700,
    sourcemap: false,
    rolldownOptions: {
      output: {
        // React and the router change rarely: their own chunk stays cached across our releases.
        codeSplitting: {
          groups: [{ name: "react", test: /node_modules[\\/](react|react-dom|scheduler|react-router)[\\/]/ }],
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": { target: backend, ws: true },
      "/healthz": backend,
    },
  },
});
